/**
 * Storage of one TLB level: set-associative slots in typed arrays with a true-LRU recency list per
 * set. The policy (lookup order, fills, statistics) lives in {@link Tlb}; this file is the data
 * layout and its O(1) operations. Internal to hw/: not part of the public API.
 */

import { invariant } from '../util/result.js';
import type { TlbLevelSpec } from './arch.js';

/** Rights bits of an entry. */
export const W = 1;
export const X = 2;
export const NONE = -1;
/** Widest set searched by scanning its slots; wider sets (fully associative levels) use a hash index. */
const SCAN_WAYS = 16;

/**
 * One level's storage. Slot i of set s is s * ways + i; `asid < 0` marks an invalid slot. A probe
 * scans the set when it has at most {@link SCAN_WAYS} ways; wider sets keep an open-addressing hash
 * index (linear probing, backward-shift deletion) from (asid, class, page) to slot, so a probe costs
 * O(1) whatever the associativity. The per-set recency lists decide victims.
 */
export class TlbLevel {
  readonly sets: number;
  readonly ways: number;
  /** sets - 1 when sets is a power of two, else -1. */
  readonly mask: number;
  /** Size classes as log2, ascending; `recip[k] = 2^-classes[k]` (exact), `pow[k] = 2^classes[k]`. */
  readonly classes: Int32Array;
  readonly recip: Float64Array;
  readonly pow: Float64Array;
  /** For a mapping of size 2^n: index of the largest class <= n, or -1. */
  readonly classFor: Int8Array = new Int8Array(64).fill(NONE);
  readonly asid: Int32Array;
  readonly base: Float64Array;
  readonly pa: Float64Array;
  readonly cls: Uint8Array;
  readonly rights: Uint8Array;
  /** The set of each slot (a table: integer division is slow in the hot path). */
  readonly setOfSlot: Int32Array;
  /** Recency lists: most recently used at head, invalid slots at the tail. */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  /** Sets are searched by scanning (narrow sets) rather than through the hash index. */
  readonly scan: boolean;
  /** Hash index (wide sets only): slot + 1, 0 = empty; `home[i]` is slot i's home bucket. */
  private readonly table: Int32Array;
  private readonly tmask: number;
  private readonly home: Int32Array;
  /** Bumped by every insert, invalidation or clear: a cached position in this level is stale. */
  epoch = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  invalidations = 0;
  readonly classHits: Float64Array;
  /**
   * Misses by log2 of the size of the translation that resolved them: the entry a later stage hit
   * in, or the mapping a walk filled in right after the lookup ({@link Tlb.fill}).
   */
  readonly missLog2 = new Float64Array(64);
  /**
   * Valid entries per class. A hit run may treat a whole large entry as one block only while no
   * smaller entry could shadow part of it; these counts answer that without a scan.
   */
  readonly validInClass: Int32Array;
  /**
   * What the last {@link TlbLevel.insert} changed, so a hit run can forget only the blocks it cached
   * there: the replaced slot's old block (size 0 when the slot was free) and the block it holds now.
   */
  insertOldBase = 0;
  insertOldSize = 0;
  insertBase = 0;
  insertSize = 0;

  constructor(
    readonly spec: TlbLevelSpec,
    readonly index: number,
  ) {
    const { entries, ways } = spec;
    invariant(
      Number.isInteger(entries) && Number.isInteger(ways) && ways > 0 && entries > 0 && entries % ways === 0,
      () => `TLB level ${spec.name}: ${entries} entries must be a positive multiple of ${ways} ways`,
    );
    const sizes = [...new Set(spec.pageSizesLog2)].sort((a, b) => a - b);
    invariant(
      sizes.length > 0 && sizes.every((s) => Number.isInteger(s) && s >= 0 && s < 53),
      () => `TLB level ${spec.name}: page sizes must be a non-empty list of log2 values below 53`,
    );
    this.ways = ways;
    this.sets = entries / ways;
    this.scan = ways <= SCAN_WAYS;
    this.mask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : NONE;
    this.classes = Int32Array.from(sizes);
    this.recip = Float64Array.from(sizes, (s) => 2 ** -s);
    this.pow = Float64Array.from(sizes, (s) => 2 ** s);
    for (let n = 0; n < 64; n++) {
      for (let k = 0; k < sizes.length; k++) if (sizes[k]! <= n) this.classFor[n] = k;
    }
    this.classHits = new Float64Array(sizes.length);
    this.validInClass = new Int32Array(sizes.length);
    this.asid = new Int32Array(entries);
    this.base = new Float64Array(entries);
    this.pa = new Float64Array(entries);
    this.cls = new Uint8Array(entries);
    this.rights = new Uint8Array(entries);
    this.setOfSlot = Int32Array.from({ length: entries }, (_, i) => Math.floor(i / ways));
    this.next = new Int32Array(entries);
    this.prev = new Int32Array(entries);
    this.head = new Int32Array(this.sets);
    this.tail = new Int32Array(this.sets);
    this.home = new Int32Array(entries);
    let t = 8;
    while (!this.scan && t < 2 * entries) t *= 2;
    this.table = new Int32Array(t);
    this.tmask = t - 1;
    this.clear();
  }

  /** Invalidates everything and restores slot-order recency lists. */
  clear(): void {
    this.epoch++;
    const ways = this.ways;
    this.asid.fill(NONE);
    this.table.fill(0);
    this.validInClass.fill(0);
    for (let s = 0; s < this.sets; s++) {
      const first = s * ways;
      const last = first + ways - 1;
      this.head[s] = first;
      this.tail[s] = last;
      for (let i = first; i <= last; i++) {
        this.prev[i] = i === first ? NONE : i - 1;
        this.next[i] = i === last ? NONE : i + 1;
      }
    }
  }

  /** Set of virtual page number `vpn` (of any class). */
  setOf(vpn: number): number {
    return this.mask >= 0 ? vpn & this.mask : vpn % this.sets;
  }

  /** Home bucket of (asid, class k, vpn); `>>> 0` and `| 0` of a double are exact modulo 2^32. */
  private bucket(asid: number, k: number, vpn: number): number {
    const hi = (vpn / 4294967296) | 0;
    let h = Math.imul((vpn >>> 0) ^ Math.imul(hi ^ (asid << 6) ^ k, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.tmask;
  }

  /** Slot holding the entry (asid, class k, vpn), or -1. */
  probe(asid: number, k: number, vpn: number): number {
    const base = vpn * this.pow[k]!;
    if (this.scan) {
      const first = this.setOf(vpn) * this.ways;
      const last = first + this.ways;
      for (let i = first; i < last; i++) {
        if (this.base[i] === base && this.asid[i] === asid && this.cls[i] === k) return i;
      }
      return NONE;
    }
    const table = this.table;
    let b = this.bucket(asid, k, vpn);
    for (;;) {
      const e = table[b]! - 1;
      if (e < 0) return NONE;
      if (this.asid[e] === asid && this.cls[e] === k && this.base[e] === base) return e;
      b = (b + 1) & this.tmask;
    }
  }

  /**
   * Whether a valid entry of asid smaller than `size` lies in the aligned block [base, base + size).
   * Counts first, so a level without smaller entries answers without a scan.
   */
  holdsInside(asid: number, base: number, size: number): boolean {
    let any = false;
    for (let k = 0; k < this.classes.length && this.pow[k]! < size; k++) any ||= this.validInClass[k]! > 0;
    if (!any) return false;
    const end = base + size;
    for (let s = 0; s < this.asid.length; s++) {
      const b = this.base[s]!;
      if (this.asid[s] === asid && b >= base && b < end && this.pow[this.cls[s]!]! < size) return true;
    }
    return false;
  }

  /** Slot translating va for asid (smallest class first), or -1; no side effects. */
  find(asid: number, va: number): number {
    const n = this.classes.length;
    for (let k = 0; k < n; k++) {
      const i = this.probe(asid, k, Math.floor(va * this.recip[k]!));
      if (i >= 0) return i;
    }
    return NONE;
  }

  private link(i: number, k: number): void {
    if (this.scan) return;
    let b = this.bucket(this.asid[i]!, k, this.base[i]! * this.recip[k]!);
    this.home[i] = b;
    while (this.table[b] !== 0) b = (b + 1) & this.tmask;
    this.table[b] = i + 1;
  }

  private unlink(i: number): void {
    if (this.scan) return;
    const { table, tmask } = this;
    let hole = this.home[i]!;
    while (table[hole] !== i + 1) hole = (hole + 1) & tmask;
    for (let j = (hole + 1) & tmask; table[j] !== 0; j = (j + 1) & tmask) {
      // An entry may fill the hole unless its home lies cyclically in (hole, j].
      const h = this.home[table[j]! - 1]!;
      if (((j - h) & tmask) >= ((j - hole) & tmask)) {
        table[hole] = table[j]!;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  private detach(i: number, s: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p >= 0) this.next[p] = n;
    else this.head[s] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[s] = p;
  }

  /** Makes slot i the most recently used of its set. */
  touch(i: number): void {
    const s = this.setOfSlot[i]!;
    const h = this.head[s]!;
    if (h === i) return;
    this.detach(i, s);
    this.prev[i] = NONE;
    this.next[i] = h;
    this.prev[h] = i;
    this.head[s] = i;
  }

  /** Invalidates valid slot i and moves it behind every valid entry of its set. */
  invalidate(i: number): void {
    this.epoch++;
    this.unlink(i);
    this.validInClass[this.cls[i]!]!--;
    this.asid[i] = NONE;
    this.invalidations++;
    const s = this.setOfSlot[i]!;
    if (this.tail[s] === i) return;
    this.detach(i, s);
    const t = this.tail[s]!;
    this.next[i] = NONE;
    this.prev[i] = t;
    this.next[t] = i;
    this.tail[s] = i;
  }

  /**
   * Inserts the block of a translation (entry base `eBase`, size 2^eLog2, physical `ePa`) that
   * contains `va`, split to this level's largest class <= eLog2; nothing when no class fits. An entry
   * with the same key is updated in place; otherwise the set's LRU (or a free) slot is replaced.
   * `absent`: the caller knows the level holds no entry for va (a lookup just missed), so no probe.
   */
  insert(
    asid: number,
    va: number,
    eBase: number,
    eLog2: number,
    ePa: number,
    rights: number,
    absent: boolean,
  ): void {
    const k = this.classFor[eLog2]!;
    if (k < 0) return;
    this.epoch++;
    const vpn = Math.floor(va * this.recip[k]!);
    const base = vpn * this.pow[k]!;
    let i = absent ? NONE : this.probe(asid, k, vpn);
    this.insertOldBase = base;
    this.insertOldSize = this.pow[k]!;
    if (i < 0) {
      i = this.tail[this.setOf(vpn)]!;
      this.insertOldSize = 0;
      if (this.asid[i]! >= 0) {
        this.evictions++;
        this.unlink(i);
        this.validInClass[this.cls[i]!]!--;
        this.insertOldBase = this.base[i]!;
        this.insertOldSize = this.pow[this.cls[i]!]!;
      }
      this.asid[i] = asid;
      this.base[i] = base;
      this.cls[i] = k;
      this.validInClass[k]!++;
      this.link(i, k);
    }
    this.pa[i] = ePa + (base - eBase);
    this.rights[i] = rights;
    this.touch(i);
    this.insertBase = base;
    this.insertSize = this.pow[k]!;
  }
}
