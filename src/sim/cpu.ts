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
  /** The thread that ran last, and the ASID loaded. */
  current: SimThread | null = null;
  loadedAsid = -1;
  /** Start of the slice being run (for charging a thread that blocks in it). */
  sliceStart = 0;
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
  ) {
    this.tlb = new Tlb(tlb);
  }

  /** Flushes every TLB entry (an address-space switch without tags). */
  flushTlb(): void {
    this.tlb.flushAll();
    this.asids.clear();
    this.tlbFlushes++;
  }

  toString(): string {
    return `cpu ${this.id} (running ${this.current?.kernel.name ?? 'nothing'}, busy until ${this.freeAt})`;
  }
}
