/**
 * The lookup index of a region map: which region holds an address, in two or three memory
 * accesses at any number of regions. The map's B+tree (ordered, for iteration and placement)
 * needs a cache miss or more per level, about 13 at a million regions, which made a fault there
 * several times slower than at a thousand (docs/BENCHMARKS.md).
 *
 * Levels cut the address space into slots: level L's slots are 8^(L+1) pages long, and a region
 * goes to the first level whose slots are at least as long as the region, so it meets at most
 * two of its slots, and a slot meets at most 9 regions of its level (each is longer than an
 * eighth of the slot, or at least a page at level 0). Each level is an open-addressing hash table
 * of slots; an entry is one block of 16 doubles, the slot number and the bases of the slot's
 * regions in order, beside their references. A lookup tries each level that holds regions
 * (usually one or two): one block, one reference, the region.
 */
import type { Region } from './region_map.js';

/** Regions one slot meets at most (see the file comment). */
const PER_SLOT = 9;
/** Doubles per table entry: the slot number, PER_SLOT bases, padding to two cache lines. */
const BLOCK = 16;
const EMPTY = -1;
const DELETED = -2;

/** One level: a hash table from slot number to the bases and references of its regions. */
class Level {
  /** Per entry: [slot, base 0..8 (Infinity when unused), padding]. */
  blocks: Float64Array;
  refs: Array<Region | undefined>;
  /** log2 of the number of entries. */
  bits: number;
  /** Entries holding a slot, and entries holding a slot or a deletion mark. */
  used = 0;
  taken = 0;
  /** Regions at this level. */
  regions = 0;

  constructor(readonly slotSize: number) {
    this.bits = 4;
    this.blocks = Level.emptyBlocks(1 << this.bits);
    this.refs = new Array((1 << this.bits) * PER_SLOT).fill(undefined);
  }

  private static emptyBlocks(entries: number): Float64Array {
    const b = new Float64Array(entries * BLOCK).fill(Number.POSITIVE_INFINITY);
    for (let e = 0; e < entries; e++) b[e * BLOCK] = EMPTY;
    return b;
  }

  /** The first entry to probe for slot number `s` (an integer below 2^53). */
  private home(s: number): number {
    const lo = s | 0;
    const hi = (s / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The entry holding slot `s`, or -1. */
  find(s: number): number {
    const blocks = this.blocks;
    const mask = (1 << this.bits) - 1;
    for (let e = this.home(s); ; e = (e + 1) & mask) {
      const k = blocks[e * BLOCK]!;
      if (k === s) return e;
      if (k === EMPTY) return -1;
    }
  }

  /** The region holding `addr` among this level's, or null. */
  lookup(addr: number): Region | null {
    const e = this.find(Math.floor(addr / this.slotSize));
    if (e < 0) return null;
    const blocks = this.blocks;
    const at = e * BLOCK + 1;
    let j = 0;
    while (j < PER_SLOT && blocks[at + j]! <= addr) j++;
    if (j === 0) return null;
    const r = this.refs[e * PER_SLOT + j - 1]!;
    return addr < r.base + r.size ? r : null;
  }

  add(r: Region): void {
    const first = Math.floor(r.base / this.slotSize);
    const last = Math.floor((r.base + r.size - 1) / this.slotSize);
    this.insert(first, r);
    if (last !== first) this.insert(last, r);
    this.regions++;
  }

  remove(r: Region): void {
    const first = Math.floor(r.base / this.slotSize);
    const last = Math.floor((r.base + r.size - 1) / this.slotSize);
    this.delete(first, r);
    if (last !== first) this.delete(last, r);
    this.regions--;
  }

  private insert(s: number, r: Region): void {
    let e = this.find(s);
    if (e < 0) {
      if ((this.taken + 1) * 4 > (1 << this.bits) * 3) this.rehash(this.used + 1);
      const mask = (1 << this.bits) - 1;
      e = this.home(s);
      while (this.blocks[e * BLOCK]! >= 0) e = (e + 1) & mask;
      if (this.blocks[e * BLOCK] === EMPTY) this.taken++;
      this.blocks[e * BLOCK] = s;
      this.used++;
    }
    const blocks = this.blocks;
    const at = e * BLOCK + 1;
    const refs = e * PER_SLOT;
    // Sorted insertion; by construction a slot never holds more than PER_SLOT regions.
    let j = PER_SLOT - 1;
    if (blocks[at + j] !== Number.POSITIVE_INFINITY) throw new Error('internal: region index slot overflow');
    while (j > 0 && blocks[at + j - 1]! > r.base) {
      blocks[at + j] = blocks[at + j - 1]!;
      this.refs[refs + j] = this.refs[refs + j - 1];
      j--;
    }
    blocks[at + j] = r.base;
    this.refs[refs + j] = r;
  }

  private delete(s: number, r: Region): void {
    const e = this.find(s);
    if (e < 0) return;
    const blocks = this.blocks;
    const at = e * BLOCK + 1;
    const refs = e * PER_SLOT;
    let j = 0;
    while (j < PER_SLOT && this.refs[refs + j] !== r) j++;
    if (j === PER_SLOT) return;
    for (; j < PER_SLOT - 1; j++) {
      blocks[at + j] = blocks[at + j + 1]!;
      this.refs[refs + j] = this.refs[refs + j + 1];
    }
    blocks[at + j] = Number.POSITIVE_INFINITY;
    this.refs[refs + j] = undefined;
    if (blocks[at] === Number.POSITIVE_INFINITY) {
      blocks[e * BLOCK] = DELETED;
      this.used--;
    }
  }

  /** Rebuilds the table with room for `need` slots at a load of at most one half. */
  private rehash(need: number): void {
    const old = this.blocks;
    const oldRefs = this.refs;
    const entries = 1 << this.bits;
    while (1 << this.bits < need * 2) this.bits++;
    this.blocks = Level.emptyBlocks(1 << this.bits);
    this.refs = new Array((1 << this.bits) * PER_SLOT).fill(undefined);
    this.used = 0;
    this.taken = 0;
    const mask = (1 << this.bits) - 1;
    for (let o = 0; o < entries; o++) {
      const s = old[o * BLOCK]!;
      if (s < 0) continue;
      let e = this.home(s);
      while (this.blocks[e * BLOCK] !== EMPTY) e = (e + 1) & mask;
      this.blocks.set(old.subarray(o * BLOCK, (o + 1) * BLOCK), e * BLOCK);
      for (let j = 0; j < PER_SLOT; j++) this.refs[e * PER_SLOT + j] = oldRefs[o * PER_SLOT + j];
      this.used++;
      this.taken++;
    }
  }
}

/** Region lookup by address in a few memory accesses (see the file comment). */
export class RegionIndex {
  private readonly levels: Level[] = [];
  /** Levels holding regions, finest first (a lookup tries only these). */
  private active: Level[] = [];

  /** An index of regions whose bases and sizes are multiples of 2^pageLog2. */
  constructor(pageLog2: number) {
    for (let l = pageLog2 + 3; l < 53 + 3; l += 3) this.levels.push(new Level(2 ** Math.min(l, 53)));
  }

  private levelOf(r: Region): Level {
    let i = 0;
    while (i < this.levels.length - 1 && r.size > this.levels[i]!.slotSize) i++;
    return this.levels[i]!;
  }

  add(r: Region): void {
    const level = this.levelOf(r);
    level.add(r);
    if (level.regions === 1) this.active = this.levels.filter((l) => l.regions > 0);
  }

  remove(r: Region): void {
    const level = this.levelOf(r);
    level.remove(r);
    if (level.regions === 0) this.active = this.levels.filter((l) => l.regions > 0);
  }

  /** The region containing `addr`, or null. */
  lookup(addr: number): Region | null {
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      const r = active[i]!.lookup(addr);
      if (r !== null) return r;
    }
    return null;
  }
}
