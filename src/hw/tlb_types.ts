/**
 * The vocabulary of the TLB model: what lookups, fills and hit runs take and what statistics and
 * dumps give back. The model itself is {@link Tlb} in tlb.ts.
 */

import { hex, sizeName } from '../util/hex.js';
import type { TlbLevelSpec } from './arch.js';

/** Where {@link Tlb.hitRun} reports the pages its accesses touched. */
export interface PageSink {
  add(va: number): void;
}

/** The kind of access that consults the TLB. */
export type TlbAccess = 'instruction' | 'data';

/** A translation produced by a page walk, as handed to {@link Tlb.fill}. */
export interface TlbMapping {
  /** Virtual base, aligned to the mapping size. */
  readonly vaBase: number;
  /** log2 of the mapping size. */
  readonly sizeLog2: number;
  /** Physical base, aligned to the mapping size. */
  readonly paBase: number;
  /** Writes are permitted. */
  readonly writeable: boolean;
  /** Instruction fetches are permitted. */
  readonly executable: boolean;
}

/** Counters of one level (a snapshot). */
export interface TlbLevelStats {
  /** The level's display name. */
  readonly name: string;
  /** Which accesses use the level. */
  readonly kind: TlbLevelSpec['kind'];
  /** Lookups that hit in this level. */
  readonly hits: number;
  /** Lookups that probed this level and missed. */
  readonly misses: number;
  /** Valid entries displaced by an insertion. */
  readonly evictions: number;
  /** Entries removed by flushes. */
  readonly invalidations: number;
  /** Hits keyed by log2 of the hit entry's size, one key per size class of the level. */
  readonly hitsBySizeLog2: Readonly<Record<number, number>>;
  /**
   * Misses keyed by log2 of the size of the translation that resolved them: the entry a later
   * stage of the path hit in, or the mapping a walk filled in right after the lookup (see
   * {@link Tlb.fill}). Only sizes with misses appear; `misses` minus their sum were not resolved
   * by the lookup or its walk (the walk found no usable mapping: a page fault).
   */
  readonly missesBySizeLog2: Readonly<Record<number, number>>;
  /** Valid entries now. */
  readonly valid: number;
}

/** A read-only copy of one TLB entry (for tests, dumps and reports). */
export class TlbEntryView {
  constructor(
    /** Index of the set holding the entry. */
    readonly set: number,
    /** Address-space tag. */
    readonly asid: number,
    /** Virtual base of the block the entry covers. */
    readonly vaBase: number,
    /** log2 of the entry's size (one of the level's classes). */
    readonly sizeLog2: number,
    /** Physical base of the block. */
    readonly paBase: number,
    /** Writes permitted. */
    readonly writeable: boolean,
    /** Instruction fetches permitted. */
    readonly executable: boolean,
  ) {}

  /** E.g. `asid 1 0x400000+4K -> 0x9000 rw- (set 3)`. */
  toString(): string {
    const r = `r${this.writeable ? 'w' : '-'}${this.executable ? 'x' : '-'}`;
    return `asid ${this.asid} ${hex(this.vaBase)}+${sizeName(2 ** this.sizeLog2)} -> ${hex(this.paBase)} ${r} (set ${this.set})`;
  }
}
