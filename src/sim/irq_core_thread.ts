/**
 * Core's IRQ thread (the core-thread delivery design): every IRQ of the machine is forwarded to
 * this one thread on CPU 0, which signals the IRQ session's handler, one IRQ per step, in arrival
 * order. With nothing to do it waits for the next forwarded IRQ (`in-ipc`).
 */
import type { Thread } from '../kernel/thread.js';
import type { Cpu, SimTask } from './cpu.js';
import type { Executor } from './executor.js';

/** What core's IRQ thread needs. */
export interface CoreIrqHost {
  readonly exec: Executor;
  /** Cycles of one step: receiving the IRQ and signalling its handler. */
  cost(cpu: Cpu): number;
  /** Accounts interrupt work. */
  work(cpu: Cpu, cycles: number): void;
  /** Signals the handler of `irq` (from CPU 0). */
  signal(irq: number): void;
}

/** Core's IRQ thread; see the module comment. */
export class CoreIrqThread implements SimTask {
  readonly category = 'core';
  index = -1;
  left = -1;
  private queue = new Int32Array(64);
  private head = 0;
  private size = 0;

  constructor(
    readonly kernel: Thread,
    private readonly host: CoreIrqHost,
  ) {
    kernel.state = 'in-ipc';
    host.exec.admit(this);
  }

  /** An IRQ was forwarded to this thread. */
  receive(irq: number): void {
    if (this.size === this.queue.length) {
      const q = new Int32Array(this.queue.length * 2);
      for (let i = 0; i < this.size; i++) q[i] = this.queue[(this.head + i) % this.queue.length]!;
      this.queue = q;
      this.head = 0;
    }
    this.queue[(this.head + this.size) % this.queue.length] = irq;
    this.size++;
    if (this.kernel.state === 'in-ipc') this.host.exec.wake(this);
  }

  begin(cpu: Cpu, _now: number): number {
    if (this.size === 0) {
      this.host.exec.block(this, 'in-ipc');
      return -1;
    }
    const c = this.host.cost(cpu);
    this.host.work(cpu, c);
    return c;
  }

  end(_cpu: Cpu, _now: number): void {
    const irq = this.queue[this.head]!;
    this.head = (this.head + 1) % this.queue.length;
    this.size--;
    this.host.signal(irq);
  }

  toString(): string {
    return `core IRQ thread (${this.size} IRQs queued)`;
  }
}
