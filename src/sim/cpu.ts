/**
 * One simulated CPU: its TLBs, its run queue, the address space it has loaded, and the time up
 * to which it is busy. Counters are plain fields on the hot path and go to the metrics registry
 * at the end of a run.
 */
import type { TlbLevelSpec } from '../hw/arch.js';
import { Tlb } from '../hw/tlb.js';
import type { SimThread } from './sim_thread.js';

/** A simulated CPU. */
export class Cpu {
  readonly tlb: Tlb;
  /** Simulated time up to which the CPU is busy (user slices, kernel, pager or handler work). */
  freeAt = 0;
  /** A run event for this CPU is pending in the engine. */
  scheduled = false;
  /** Runnable user threads pinned here; the head runs (round robin on every tick). */
  readonly ready: SimThread[] = [];
  /** The thread that ran last, and the ASID loaded. */
  current: SimThread | null = null;
  loadedAsid = -1;
  /** Next timer tick (end of quantum). */
  nextTick: number;
  /** ASIDs that may have entries in this CPU's TLBs (who needs a shootdown). */
  readonly asids = new Set<number>();

  // Counters.
  userCycles = 0;
  kernelCycles = 0;
  pagerCycles = 0;
  handlerCycles = 0;
  ticks = 0;
  contextSwitches = 0;
  asSwitches = 0;
  tlbFlushes = 0;
  shootdownsReceived = 0;

  constructor(
    readonly id: number,
    tlb: readonly TlbLevelSpec[],
    quantum: number,
  ) {
    this.tlb = new Tlb(tlb);
    this.nextTick = quantum;
  }

  /** Flushes every TLB entry (an address-space switch without tags). */
  flushTlb(): void {
    this.tlb.flushAll();
    this.asids.clear();
    this.tlbFlushes++;
  }

  /** Removes a thread from the run queue (blocked, done or starved). */
  unqueue(t: SimThread): void {
    const i = this.ready.indexOf(t);
    if (i >= 0) this.ready.splice(i, 1);
    t.queued = false;
  }

  toString(): string {
    return `cpu ${this.id} (${this.ready.length} ready, busy until ${this.freeAt})`;
  }
}
