/**
 * A user-level interrupt handler thread on the machine (a NIC queue's or the timer's driver
 * thread): the Genode handler loop of `components/nic_driver.ts` — wait for the signal, do the
 * device work, ack — one piece per step. A packet's work may touch the driver's own memory (its
 * descriptor ring and packet buffers) through the CPU's TLB, and fault there like any thread.
 */

import type { HandlerStep, IrqHandlerThread } from '../components/nic_driver.js';
import type { AccessType } from '../core/events.js';
import type { Thread } from '../kernel/thread.js';
import type { Cpu } from './cpu.js';
import type { FaultingTask } from './machine_faults.js';

/** Where a driver's per-packet memory accesses go, if the driver has memory. */
export interface DriverMemory {
  /** Addresses a packet's work touches (descriptor, buffer) for the item `n` of its queue. */
  addresses(n: number, out: Float64Array): number;
}

/** What a driver task needs from the IRQ path. */
export interface DriverHost {
  /** Cycles of a page walk that ends in a fault. */
  readonly walkCycles: number;
  /** Cycles of a step other than packet work: the ack system call. */
  ackCost(cpu: Cpu): number;
  /** The thread took a signal (`wake`); its next step's start ends the IRQ's latency. */
  woke(d: DriverTask): void;
  /** The first step after a wake-up starts at `now`. */
  started(d: DriverTask, now: number): void;
  /** One translation of the driver's memory on `cpu`: extra cycles, or -1 on a fault. */
  translate(cpu: Cpu, d: DriverTask, va: number, kind: AccessType): number;
  /** The step's translation faulted: the kernel takes it. */
  fault(cpu: Cpu, d: DriverTask, now: number): void;
  /** Device work of `cycles` finished at `now`. */
  workDone(d: DriverTask, now: number, cycles: number): void;
  /** The driver acked at `now` (the IRQ unmasks). */
  acked(d: DriverTask, now: number): void;
  /** The driver has nothing to do until its next signal. */
  block(d: DriverTask): void;
  /** A step of interrupt work (not device work) ran on `cpu`. */
  interruptWork(cpu: Cpu, cycles: number): void;
}

/** A driver thread; see the module comment. */
export class DriverTask implements FaultingTask {
  readonly category = 'driver';
  index = -1;
  left = -1;
  // Translator and FaultingTask.
  translations = 0;
  tlbHits = 0;
  tlbMisses = 0;
  walks = 0;
  retry = false;
  faultVa = 0;
  faultKind: AccessType = 'read';
  faultStart = 0;
  reflected = false;
  faults = 0;
  /** Items of work done (packets, timer reads): numbers the ring slots. */
  items = 0;
  /** The step in progress, and whether its work already took its memory accesses. */
  private step: HandlerStep | null = null;
  private faulted = false;
  /** A wake-up happened: the next step's start ends the IRQ's latency, measured from `latencyFrom`. */
  measuring = false;
  latencyFrom = -1;
  private readonly addrs = new Float64Array(4);

  constructor(
    readonly kernel: Thread,
    readonly handler: IrqHandlerThread,
    private readonly host: DriverHost,
    /** The NIC queue this thread serves, or -1 (the timer's). */
    readonly queue: number,
    private readonly memory: DriverMemory | null,
  ) {}

  /** The error that killed the driver thread, if one did. */
  died: string | null = null;

  die(_va: number, _access: AccessType, error: string): void {
    this.died ??= error;
  }

  /** Drivers' misses and faults are not attributed (attribution covers the traced program). */
  noteMiss(_va: number): void {}
  noteFault(_va: number): void {}

  begin(cpu: Cpu, now: number): number {
    const h = this.host;
    if (this.step === null) {
      let s = this.handler.next();
      if (s === 'wake') {
        h.woke(this);
        s = this.handler.next();
      }
      if (s === 'block') {
        h.block(this);
        return -1;
      }
      this.step = s;
    }
    if (this.measuring) {
      this.measuring = false;
      h.started(this, now);
    }
    if (this.step === 'ack') {
      const c = h.ackCost(cpu);
      h.interruptWork(cpu, c);
      return c;
    }
    let cycles = 0;
    if (this.memory) {
      const n = this.memory.addresses(this.items, this.addrs);
      for (let i = 0; i < n; i++) {
        const c = h.translate(cpu, this, this.addrs[i]!, i === 0 ? 'read' : 'write');
        if (c < 0) {
          // The page walk that found nothing; the packet's work waits for the fault.
          this.faulted = true;
          return cycles + h.walkCycles;
        }
        cycles += c;
      }
    }
    return cycles + this.handler.workCycles;
  }

  end(cpu: Cpu, now: number): void {
    if (this.faulted) {
      // The packet's work waits for the fault: the same step runs again after the reply.
      this.faulted = false;
      this.host.fault(cpu, this, now);
      return;
    }
    const s = this.step;
    this.step = null;
    if (s === 'work') {
      this.items++;
      this.handler.workDone();
      this.host.workDone(this, now, this.handler.workCycles);
    } else if (s === 'ack') {
      this.host.acked(this, now);
      this.handler.ack();
    }
  }

  toString(): string {
    return `driver ${this.handler} (${this.kernel.state})`;
  }
}
