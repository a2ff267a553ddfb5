/**
 * The replay hot loop's memory of recent first-stage TLB hits: per access class (0 instruction,
 * 1 data) up to {@link BLOCKS} address blocks, each served alone by one slot of one level of the
 * class's first stage (see {@link TlbStage.blockSize}). While the stage's epoch is unchanged
 * (nothing inserted or invalidated) every access in a block resolves to its slot, so a repeat
 * needs no set search. `cur[c]` is the class's current block, the others its most recently used
 * predecessors, so code, stack and heap blocks alternate without a search. Internal to hw/:
 * {@link Tlb.hitRun} reads and writes the arrays directly.
 */
import type { TlbLevel } from './tlb_level.js';
import type { TlbStage } from './tlb_stage.js';

/** Blocks remembered per class. */
export const BLOCKS = 4;

export class TlbBlocks {
  /** Block [lo, hi) per entry; empty when lo > hi. */
  readonly lo = new Float64Array(2 * BLOCKS).fill(1);
  readonly hi = new Float64Array(2 * BLOCKS);
  /** Level and slot serving the block, and the slot's rights. */
  readonly level: TlbLevel[];
  readonly slot = new Int32Array(2 * BLOCKS);
  readonly rights = new Int32Array(2 * BLOCKS);
  /** Hits in the block not yet credited to the level's counters (zero outside a hit run). */
  readonly pending = new Float64Array(2 * BLOCKS);
  /** Per class: the entry of the current block (entries of class c are c * BLOCKS + 0..BLOCKS-1). */
  readonly cur = Int32Array.from([0, BLOCKS]);
  /** When each entry last became current, for least-recently-used replacement. */
  private readonly usedAt = new Float64Array(2 * BLOCKS);
  private tick = 0;
  /** Per class: the stage epoch and address space the blocks belong to (-1: none). */
  private readonly epoch = new Float64Array(2).fill(-1);
  private readonly asid = new Int32Array(2).fill(-1);

  constructor(none: TlbLevel) {
    this.level = Array.from({ length: 2 * BLOCKS }, () => none);
  }

  /**
   * Empties class c's blocks unless they were validated for this stage state and asid. A hit run
   * changes a stage's epoch only through a deeper hit's refill, after which it validates again.
   */
  validate(c: number, stage: TlbStage, asid: number): void {
    if (this.epoch[c] === stage.epoch && this.asid[c] === asid) return;
    this.forget(c);
    this.epoch[c] = stage.epoch;
    this.asid[c] = asid;
  }

  /** Empties class c's blocks (their pending hits must have been credited). */
  forget(c: number): void {
    this.lo.fill(1, c * BLOCKS, (c + 1) * BLOCKS);
    this.hi.fill(0, c * BLOCKS, (c + 1) * BLOCKS);
  }

  /** Index of a block of class c other than the current one that contains va, or -1. */
  findOther(c: number, va: number): number {
    const cur = this.cur[c]!;
    for (let e = c * BLOCKS; e < (c + 1) * BLOCKS; e++) {
      if (e !== cur && va >= this.lo[e]! && va < this.hi[e]!) return e;
    }
    return -1;
  }

  /** Makes entry e class c's current block. */
  select(c: number, e: number): void {
    this.cur[c] = e;
    this.usedAt[e] = ++this.tick;
  }

  /**
   * Makes [lo, hi), served by slot i of level l, class c's current block, in place of an empty or
   * else the least recently current entry (whose pending hits are credited first).
   */
  push(c: number, l: TlbLevel, i: number, lo: number, hi: number): void {
    let victim = c * BLOCKS;
    for (let e = victim; e < (c + 1) * BLOCKS; e++) {
      if (this.lo[e]! > this.hi[e]!) {
        victim = e;
        break;
      }
      if (this.usedAt[e]! < this.usedAt[victim]!) victim = e;
    }
    this.credit(victim);
    this.lo[victim] = lo;
    this.hi[victim] = hi;
    this.level[victim] = l;
    this.slot[victim] = i;
    this.rights[victim] = l.rights[i]!;
    this.select(c, victim);
  }

  /** Credits every pending hit to its level's counters. */
  settle(): void {
    for (let e = 0; e < 2 * BLOCKS; e++) this.credit(e);
  }

  private credit(e: number): void {
    const n = this.pending[e]!;
    if (n === 0) return;
    const l = this.level[e]!;
    l.hits += n;
    l.classHits[l.cls[this.slot[e]!]!]! += n;
    this.pending[e] = 0;
  }
}
