/**
 * The per-CPU job machinery of the IRQ simulation (the driver is `irq_sim.ts`): job codes, the fixed
 * cost of each and the FIFO a CPU keeps its jobs in. Kept apart because it is the allocation-free
 * hot-path layer and knows nothing of devices or handler threads.
 */

import type { CostModel } from './cost.js';

// Job codes. Kernel jobs (< J_WORK) run before user jobs on a CPU.
/** direct: irqEntry + signalDelivery on the routed CPU (arg irq). */
export const J_DELIVER = 0;
/** core-thread: irqEntry on the routed CPU (arg irq). */
export const J_ENTRY = 1;
/** core-thread: IPI receipt on CPU 0 (arg irq). */
export const J_IPI_CORE = 2;
/** core-thread: core thread work on CPU 0 (arg irq). */
export const J_CORE = 3;
/** IPI receipt on the handler's CPU (arg thread). */
export const J_IPI_WAKE = 4;
/** One unit of handler work (arg thread). */
export const J_WORK = 5;
/** The handler's ack syscall (arg thread). */
export const J_ACK = 6;

/** Cycles a job takes, for every code but `J_WORK` (handler work costs its thread's `workCycles`). */
export function jobCost(code: number, costs: CostModel): number {
  switch (code) {
    case J_DELIVER:
      return costs.irqEntry + costs.signalDelivery;
    case J_ENTRY:
      return costs.irqEntry;
    case J_CORE:
      return costs.kernelEntryExit + costs.signalDelivery;
    case J_ACK:
      return costs.kernelEntryExit + costs.irqAck;
    default:
      return costs.ipi;
  }
}

/** A growable FIFO of (code, arg) pairs; allocation-free once grown. Capacity is a power of two. */
export class JobQueue {
  private buf = new Int32Array(64);
  private mask = 31; // pairs - 1
  private head = 0;
  /** Pairs queued. */
  size = 0;

  /** Appends (code, arg), doubling the capacity when full. */
  push(code: number, arg: number): void {
    if (this.size > this.mask) {
      const b = new Int32Array(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) {
        const j = ((this.head + i) & this.mask) * 2;
        b[i * 2] = this.buf[j]!;
        b[i * 2 + 1] = this.buf[j + 1]!;
      }
      this.buf = b;
      this.mask = b.length / 2 - 1;
      this.head = 0;
    }
    const j = ((this.head + this.size) & this.mask) * 2;
    this.buf[j] = code;
    this.buf[j + 1] = arg;
    this.size++;
  }

  /** Pops the head into `out[0..1]`. */
  pop(out: Int32Array): void {
    const j = this.head * 2;
    out[0] = this.buf[j]!;
    out[1] = this.buf[j + 1]!;
    this.head = (this.head + 1) & this.mask;
    this.size--;
  }
}
