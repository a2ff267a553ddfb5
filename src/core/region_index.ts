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
 * regions in order, and in the block's last six doubles their record numbers as int32s (the
 * regions' fields by number are in region_records.ts). A lookup tries each level that holds
 * regions (usually one or two): one block, then the record's arrays, never the Region object.
 */
import type { Region } from './region_map.js';
import { RegionRecords } from './region_records.js';

/** Regions one slot meets at most (see the file comment). */
const PER_SLOT = 9;
/** Doubles per table entry: the slot number, PER_SLOT bases, record numbers, padding. */
const BLOCK = 16;
/** Where in an entry, counted in int32s, its record numbers start (after 10 doubles). */
const RECS = 20;
const EMPTY = -1;
const DELETED = -2;

/** One level: a hash table from slot number to the bases and record numbers of its regions. */
class Level {
  /** Per entry: [slot, base 0..8 (Infinity when unused), record numbers]. */
  blocks: Float64Array;
  /** The same memory as int32s: record j of entry e is at e * 2 * BLOCK + RECS + j. */
  recs: Int32Array;
  /** log2 of the number of entries. */
  bits: number;
  /** Entries holding a slot, and entries holding a slot or a deletion mark. */
  used = 0;
  taken = 0;
  /** Regions at this level. */
  regions = 0;

  constructor(
    readonly slotSize: number,
    private readonly records: RegionRecords,
  ) {
    this.bits = 4;
    this.blocks = Level.emptyBlocks(1 << this.bits);
    this.recs = new Int32Array(this.blocks.buffer);
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

  /** The record of the region holding `addr` among this level's, or -1. */
  lookup(addr: number): number {
    const e = this.find(Math.floor(addr / this.slotSize));
    if (e < 0) return -1;
    const blocks = this.blocks;
    const at = e * BLOCK + 1;
    let j = 0;
    while (j < PER_SLOT && blocks[at + j]! <= addr) j++;
    if (j === 0) return -1;
    const rec = this.recs[e * 2 * BLOCK + RECS + j - 1]!;
    return addr < this.records.ends[rec]! ? rec : -1;
  }

  add(r: Region, rec: number): void {
    const first = Math.floor(r.base / this.slotSize);
    const last = Math.floor((r.base + r.size - 1) / this.slotSize);
    this.insert(first, r.base, rec);
    if (last !== first) this.insert(last, r.base, rec);
    this.regions++;
  }

  remove(r: Region, rec: number): void {
    const first = Math.floor(r.base / this.slotSize);
    const last = Math.floor((r.base + r.size - 1) / this.slotSize);
    this.delete(first, rec);
    if (last !== first) this.delete(last, rec);
    this.regions--;
  }

  private insert(s: number, base: number, rec: number): void {
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
    const recs = this.recs;
    const at = e * BLOCK + 1;
    const rat = e * 2 * BLOCK + RECS;
    // Sorted insertion; by construction a slot never holds more than PER_SLOT regions.
    let j = PER_SLOT - 1;
    if (blocks[at + j] !== Number.POSITIVE_INFINITY) throw new Error('internal: region index slot overflow');
    while (j > 0 && blocks[at + j - 1]! > base) {
      blocks[at + j] = blocks[at + j - 1]!;
      recs[rat + j] = recs[rat + j - 1]!;
      j--;
    }
    blocks[at + j] = base;
    recs[rat + j] = rec;
  }

  private delete(s: number, rec: number): void {
    const e = this.find(s);
    if (e < 0) return;
    const blocks = this.blocks;
    const recs = this.recs;
    const at = e * BLOCK + 1;
    const rat = e * 2 * BLOCK + RECS;
    let j = 0;
    while (j < PER_SLOT && !(blocks[at + j]! < Number.POSITIVE_INFINITY && recs[rat + j] === rec)) j++;
    if (j === PER_SLOT) return;
    for (; j < PER_SLOT - 1; j++) {
      blocks[at + j] = blocks[at + j + 1]!;
      recs[rat + j] = recs[rat + j + 1]!;
    }
    blocks[at + j] = Number.POSITIVE_INFINITY;
    if (blocks[at] === Number.POSITIVE_INFINITY) {
      blocks[e * BLOCK] = DELETED;
      this.used--;
    }
  }

  /** Rebuilds the table with room for `need` slots at a load of at most one half. */
  private rehash(need: number): void {
    const old = this.blocks;
    const entries = 1 << this.bits;
    while (1 << this.bits < need * 2) this.bits++;
    this.blocks = Level.emptyBlocks(1 << this.bits);
    this.recs = new Int32Array(this.blocks.buffer);
    this.used = 0;
    this.taken = 0;
    const mask = (1 << this.bits) - 1;
    for (let o = 0; o < entries; o++) {
      const s = old[o * BLOCK]!;
      if (s < 0) continue;
      let e = this.home(s);
      while (this.blocks[e * BLOCK] !== EMPTY) e = (e + 1) & mask;
      // Copies the bases and the record numbers: a typed-array copy of the same type keeps bits.
      this.blocks.set(old.subarray(o * BLOCK, (o + 1) * BLOCK), e * BLOCK);
      this.used++;
      this.taken++;
    }
  }
}

/** Region lookup by address in a few memory accesses (see the file comment). */
export class RegionIndex {
  /** The indexed regions' fields by record number (what fault resolution reads). */
  readonly records = new RegionRecords();
  private readonly levels: Level[] = [];
  /** Levels holding regions, finest first (a lookup tries only these). */
  private active: Level[] = [];

  /** An index of regions whose bases and sizes are multiples of 2^pageLog2. */
  constructor(pageLog2: number) {
    for (let l = pageLog2 + 3; l < 53 + 3; l += 3)
      this.levels.push(new Level(2 ** Math.min(l, 53), this.records));
  }

  private levelOf(r: Region): Level {
    let i = 0;
    while (i < this.levels.length - 1 && r.size > this.levels[i]!.slotSize) i++;
    return this.levels[i]!;
  }

  add(r: Region): void {
    const level = this.levelOf(r);
    level.add(r, this.records.alloc(r));
    if (level.regions === 1) this.active = this.levels.filter((l) => l.regions > 0);
  }

  /** Removes r (nothing if r is not in the index). */
  remove(r: Region): void {
    const rec = this.find(r.base);
    if (rec < 0 || this.records.regions[rec] !== r) return;
    const level = this.levelOf(r);
    level.remove(r, rec);
    this.records.release(rec);
    if (level.regions === 0) this.active = this.levels.filter((l) => l.regions > 0);
  }

  /** r became a reserved hole (its dataspace was destroyed): lookups see it without dataspace. */
  reserve(r: Region): void {
    const rec = this.find(r.base);
    if (rec >= 0 && this.records.regions[rec] === r) this.records.dataspaces[rec] = null;
  }

  /** The record of the region containing `addr` (see {@link records}), or -1. */
  find(addr: number): number {
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      const rec = active[i]!.lookup(addr);
      if (rec >= 0) return rec;
    }
    return -1;
  }

  /** The region containing `addr`, or null. */
  lookup(addr: number): Region | null {
    const rec = this.find(addr);
    return rec < 0 ? null : this.records.regions[rec]!;
  }
}
