/**
 * The page cache of hit runs (tlb_run.ts): direct-mapped, per record kind, entry (page bits, kind)
 * holds an address range and the first-stage run slot that serves every access of that kind in it.
 * This file is its storage and the ways it forgets entries; which entries are valid is the run's
 * business. Internal to hw/.
 */

/** Page-number bits that index the page cache (1024 pages per kind). */
const PAGE_MASK = 1023;
const ENTRIES = 4 * (PAGE_MASK + 1);
/** A refill forgets the cached blocks of at most this many pages; a larger entry empties the cache. */
const FORGET_PAGES = 16;

/** Page cache entry of a record of kind k at va, for 1 / page = invPage. */
export function entryOf(va: number, k: number, invPage: number): number {
  return (((va * invPage) & PAGE_MASK) << 2) | k;
}

export class PageCache {
  /** Per entry e: its range [lo, hi) at 2e and 2e + 1; empty when lo > hi. */
  readonly range = new Float64Array(2 * ENTRIES);
  /** Per entry: the run slot that serves it. */
  readonly entrySlot = new Int32Array(ENTRIES);
  /** Entries filled since the cache was last emptied; past its length the cache is emptied whole. */
  private readonly filled = new Int32Array(ENTRIES);
  private nFilled = 0;
  /** Run slots some entry refers to, each once, since the cache was last emptied. */
  readonly live: Int32Array;
  private readonly isLive: Uint8Array;
  nLive = 0;

  /** For run slots 0 to slots - 1. */
  constructor(slots: number) {
    this.live = new Int32Array(slots);
    this.isLive = new Uint8Array(slots);
    this.emptyAll();
  }

  /** Entry e now covers [lo, hi), served by run slot s. */
  fill(e: number, lo: number, hi: number, s: number): void {
    this.range[2 * e] = lo;
    this.range[2 * e + 1] = hi;
    this.entrySlot[e] = s;
    if (this.nFilled < this.filled.length) this.filled[this.nFilled] = e;
    this.nFilled++;
    if (this.isLive[s] === 0) {
      this.isLive[s] = 1;
      this.live[this.nLive++] = s;
    }
  }

  /**
   * Forgets the entries overlapping [base, base + size), for pages of `page` bytes, of the record
   * kinds of the classes in `classes` (bit 0: kind 0, instruction; bit 1: kinds 1 to 3, data); false
   * (nothing decided, the cache must be emptied) when that spans more than {@link FORGET_PAGES} pages.
   */
  forget(base: number, size: number, classes: number, page: number): boolean {
    if (size === 0) return true;
    const invPage = 1 / page;
    const end = base + size;
    const first = Math.floor(base * invPage);
    const last = Math.floor((end - 1) * invPage);
    if (last - first >= FORGET_PAGES) return false;
    const range = this.range;
    const kFrom = (classes & 1) === 1 ? 0 : 1;
    const kTo = (classes & 2) === 2 ? 4 : 1;
    for (let p = first; p <= last; p++) {
      const e0 = entryOf(p * page, 0, invPage);
      for (let k = kFrom; k < kTo; k++) {
        const r = 2 * (e0 | k);
        if (range[r]! < end && range[r + 1]! > base) {
          range[r] = 1;
          range[r + 1] = 0;
        }
      }
    }
    return true;
  }

  /** Empties every entry. */
  empty(): void {
    if (this.nFilled > this.filled.length) this.emptyAll();
    else {
      for (let j = 0; j < this.nFilled; j++) {
        const e = this.filled[j]!;
        this.range[2 * e] = 1;
        this.range[2 * e + 1] = 0;
      }
    }
    this.nFilled = 0;
    for (let j = 0; j < this.nLive; j++) this.isLive[this.live[j]!] = 0;
    this.nLive = 0;
  }

  private emptyAll(): void {
    for (let e = 0; e < ENTRIES; e++) {
      this.range[2 * e] = 1;
      this.range[2 * e + 1] = 0;
    }
  }
}
