/**
 * Per-CPU TLB model: a hierarchy of set-associative levels with true LRU replacement, ASID tags
 * and several page-size classes per level (DESIGN.md §2).
 *
 * Semantics, fixed so that a naive reference model can reproduce them exactly:
 * - An access walks the levels of its path in list order: instruction fetches use the instruction and
 *   unified levels, data accesses the data and unified levels. The first level that hits ends the walk;
 *   every level probed before it counts a miss.
 * - Split rule: a level holds a mapping as one entry of the largest size class it holds that is <= the
 *   mapping size, covering the naturally aligned block that contains the accessed address. A mapping
 *   smaller than every class of a level is not cached there.
 * - Fill policy ("inclusive at fill, not enforced"): {@link Tlb.fill} inserts into every level of the
 *   path; a hit in a lower level refills the upper levels of the path that missed, from the hit entry.
 *   Evictions are never propagated between levels (no back-invalidation, no victim writeback).
 * - A level holds at most one entry per (ASID, size class, block): a set is set = floor(va / size) mod
 *   sets for the entry's class. A lookup probes the level's classes smallest first and the first class
 *   with an entry for the block containing `va` hits (this only matters for stale overlapping entries).
 * - Inserting an entry whose key the level already holds updates it in place (no eviction); otherwise
 *   the least recently used valid entry of the set is evicted when the set has no free way.
 *
 * Storage is typed arrays: a hash index from (ASID, class, page) to slot and an intrusive doubly
 * linked recency list per set (invalid slots at the tail), so hits, fills and evictions are O(1) and
 * allocation-free for any associativity; flushes scan every slot, so they are exact.
 */

import { hex, sizeName } from '../util/hex.js';
import { invariant } from '../util/result.js';
import type { TlbLevelSpec } from './arch.js';

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

const W = 1;
const X = 2;
const NONE = -1;

/**
 * One level's storage. Slot i of set s is s * ways + i; `asid < 0` marks an invalid slot. An
 * open-addressing hash index (linear probing, backward-shift deletion) maps (asid, class, page) to
 * the slot, so a probe costs O(1) whatever the associativity; the per-set recency lists decide victims.
 */
class Level {
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
  /** Recency lists: most recently used at head, invalid slots at the tail. */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  /** Hash index: slot + 1, 0 = empty; `home[i]` is slot i's home bucket. */
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
    this.mask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : NONE;
    this.classes = Int32Array.from(sizes);
    this.recip = Float64Array.from(sizes, (s) => 2 ** -s);
    this.pow = Float64Array.from(sizes, (s) => 2 ** s);
    for (let n = 0; n < 64; n++) {
      for (let k = 0; k < sizes.length; k++) if (sizes[k]! <= n) this.classFor[n] = k;
    }
    this.classHits = new Float64Array(sizes.length);
    this.asid = new Int32Array(entries);
    this.base = new Float64Array(entries);
    this.pa = new Float64Array(entries);
    this.cls = new Uint8Array(entries);
    this.rights = new Uint8Array(entries);
    this.next = new Int32Array(entries);
    this.prev = new Int32Array(entries);
    this.head = new Int32Array(this.sets);
    this.tail = new Int32Array(this.sets);
    this.home = new Int32Array(entries);
    let t = 8;
    while (t < 2 * entries) t *= 2;
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
    const table = this.table;
    const base = vpn * this.pow[k]!;
    let b = this.bucket(asid, k, vpn);
    for (;;) {
      const e = table[b]! - 1;
      if (e < 0) return NONE;
      if (this.asid[e] === asid && this.cls[e] === k && this.base[e] === base) return e;
      b = (b + 1) & this.tmask;
    }
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
    let b = this.bucket(this.asid[i]!, k, this.base[i]! * this.recip[k]!);
    this.home[i] = b;
    while (this.table[b] !== 0) b = (b + 1) & this.tmask;
    this.table[b] = i + 1;
  }

  private unlink(i: number): void {
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
    const s = (i / this.ways) | 0;
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
    this.asid[i] = NONE;
    this.invalidations++;
    const s = (i / this.ways) | 0;
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
   */
  insert(asid: number, va: number, eBase: number, eLog2: number, ePa: number, rights: number): void {
    const k = this.classFor[eLog2]!;
    if (k < 0) return;
    this.epoch++;
    const vpn = Math.floor(va * this.recip[k]!);
    const base = vpn * this.pow[k]!;
    let i = this.probe(asid, k, vpn);
    if (i < 0) {
      i = this.tail[this.setOf(vpn)]!;
      if (this.asid[i]! >= 0) {
        this.evictions++;
        this.unlink(i);
      }
      this.asid[i] = asid;
      this.base[i] = base;
      this.cls[i] = k;
      this.link(i, k);
    }
    this.pa[i] = ePa + (base - eBase);
    this.rights[i] = rights;
    this.touch(i);
  }
}

/**
 * The TLB hierarchy of one CPU. After a hit, {@link Tlb.lastPa}, {@link Tlb.lastWriteable},
 * {@link Tlb.lastExecutable} and {@link Tlb.lastSizeLog2} describe the translation (no allocation).
 */
export class Tlb {
  private readonly lv: readonly Level[];
  private readonly iPath: readonly Level[];
  private readonly dPath: readonly Level[];
  private pa = 0;
  private rights = 0;
  private sizeLog2 = 0;
  /** The last first-level hit per access kind (0 instruction, 1 data), valid while its level's epoch is unchanged. */
  private readonly rEpoch = new Float64Array([-1, -1]);
  private readonly rAsid = new Int32Array(2);
  private readonly rSlot = new Int32Array(2);
  private readonly rLevel: Level[] = [];
  /** Per kind: its path contains the other kind's first level (so its searches may reorder it). */
  private readonly crossTouch: readonly boolean[];

  /** Builds empty levels from specs; the list order is the lookup order. */
  constructor(levels: readonly TlbLevelSpec[]) {
    this.lv = levels.map((s, i) => new Level(s, i));
    this.iPath = this.lv.filter((l) => l.spec.kind !== 'data');
    this.dPath = this.lv.filter((l) => l.spec.kind !== 'instruction');
    const iFirst = this.iPath[0];
    const dFirst = this.dPath[0];
    this.crossTouch = [
      dFirst !== undefined && this.iPath.includes(dFirst),
      iFirst !== undefined && this.dPath.includes(iFirst),
    ];
    this.rLevel.push(this.lv[0]!, this.lv[0]!);
  }

  /** The level specs, in lookup order. */
  get levels(): readonly TlbLevelSpec[] {
    return this.lv.map((l) => l.spec);
  }

  /** Physical address of the last hit. */
  get lastPa(): number {
    return this.pa;
  }

  /** Whether the last hit's translation permits writes. */
  get lastWriteable(): boolean {
    return (this.rights & W) !== 0;
  }

  /** Whether the last hit's translation permits instruction fetches. */
  get lastExecutable(): boolean {
    return (this.rights & X) !== 0;
  }

  /** log2 of the size of the entry that served the last hit. */
  get lastSizeLog2(): number {
    return this.sizeLog2;
  }

  /**
   * Translates `va` (integer below 2^53) for `asid` (integer 0..2^31-1). Returns the index (into
   * {@link Tlb.levels}) of the level that hit, or -1 when every level of the path missed. A hit updates
   * LRU and the `last*` fields and refills the levels of the path that missed. Allocation-free.
   */
  lookup(asid: number, va: number, kind: TlbAccess): number {
    return this.search(asid, va, kind, kind === 'instruction' ? 0 : 1);
  }

  /**
   * The address range [lo, hi) of the first-level entry that a repeat lookup of kind c (0
   * instruction, 1 data) for `asid` would hit without a search, or an empty range. Callers may
   * replay hits inside it themselves and must report them with {@link Tlb.creditRepeatHits}
   * before any other call, which keeps statistics and LRU order exactly as if they had looked up.
   */
  repeatWindowLo(c: number, asid: number): number {
    const l = this.rLevel[c]!;
    return this.rEpoch[c] === l.epoch && this.rAsid[c] === asid ? l.base[this.rSlot[c]!]! : 1;
  }

  /** End of the repeat window (see {@link Tlb.repeatWindowLo}); 0 when empty. */
  repeatWindowHi(c: number, asid: number): number {
    const l = this.rLevel[c]!;
    if (this.rEpoch[c] !== l.epoch || this.rAsid[c] !== asid) return 0;
    const i = this.rSlot[c]!;
    return l.base[i]! + l.pow[l.cls[i]!]!;
  }

  /** Rights of the repeat window's entry (W = 1, X = 2). */
  repeatWindowRights(c: number): number {
    return this.rLevel[c]!.rights[this.rSlot[c]!]!;
  }

  /** Counts `n` hits made inside kind c's repeat window by the caller. */
  creditRepeatHits(c: number, n: number): void {
    if (n === 0) return;
    invariant(this.rEpoch[c] === this.rLevel[c]!.epoch, 'repeat hits credited after the TLB changed');
    const l = this.rLevel[c]!;
    l.hits += n;
    l.classHits[l.cls[this.rSlot[c]!]!]! += n;
  }

  private search(asid: number, va: number, kind: TlbAccess, c: number): number {
    const path = kind === 'instruction' ? this.iPath : this.dPath;
    // A search may touch or refill the other kind's first level when it lies on this path:
    // then that level's recency order may change and the other kind's shortcut is void.
    if (this.crossTouch[c]) this.rEpoch[1 - c] = -1;
    this.rEpoch[c] = -1;
    for (let p = 0; p < path.length; p++) {
      const l = path[p]!;
      const i = l.find(asid, va);
      if (i < 0) {
        l.misses++;
        continue;
      }
      const k = l.cls[i]!;
      l.hits++;
      l.classHits[k]!++;
      l.touch(i);
      const base = l.base[i]!;
      const ePa = l.pa[i]!;
      this.pa = ePa + (va - base);
      this.rights = l.rights[i]!;
      this.sizeLog2 = l.classes[k]!;
      if (p > 0) {
        for (let q = 0; q < p; q++) path[q]!.insert(asid, va, base, this.sizeLog2, ePa, this.rights);
      } else {
        this.rEpoch[c] = l.epoch;
        this.rAsid[c] = asid;
        this.rSlot[c] = i;
        this.rLevel[c] = l;
      }
      return l.index;
    }
    return NONE;
  }

  /**
   * Inserts a walked translation for an access to `va` into every level of the kind's path that can
   * hold it (split per the level's classes), evicting the LRU entry of the target set when it is full.
   */
  fill(asid: number, va: number, kind: TlbAccess, m: TlbMapping): void {
    const size = 2 ** m.sizeLog2;
    invariant(
      Number.isInteger(asid) && asid >= 0 && asid < 2 ** 31,
      () => `TLB fill: asid ${asid} must be an integer in 0..2^31-1`,
    );
    invariant(
      Number.isInteger(m.sizeLog2) && m.sizeLog2 >= 0 && m.sizeLog2 < 53,
      () => `TLB fill: size log2 ${m.sizeLog2} out of range`,
    );
    invariant(
      m.vaBase >= 0 &&
        m.paBase >= 0 &&
        m.vaBase % size === 0 &&
        m.paBase % size === 0 &&
        va >= m.vaBase &&
        va < m.vaBase + size,
      () =>
        `TLB fill: mapping ${hex(m.vaBase)}+${sizeName(size)} -> ${hex(m.paBase)} must be aligned and contain ${hex(va)}`,
    );
    const rights = (m.writeable ? W : 0) | (m.executable ? X : 0);
    const path = kind === 'instruction' ? this.iPath : this.dPath;
    for (const l of path) l.insert(asid, va, m.vaBase, m.sizeLog2, m.paBase, rights);
  }

  /**
   * True when some level (or only level `level`, an index into {@link Tlb.levels}) holds a
   * translation of `va` for `asid`; touches neither LRU nor statistics.
   */
  translates(asid: number, va: number, level?: number): boolean {
    return this.lv.some((l) => (level === undefined || l.index === level) && l.find(asid, va) >= 0);
  }

  /** Invalidates every entry; returns how many were valid. */
  flushAll(): number {
    return this.flushWhere(() => true);
  }

  /** Invalidates every entry of `asid`; returns how many. */
  flushAsid(asid: number): number {
    return this.flushWhere((l, i) => l.asid[i] === asid);
  }

  /**
   * Invalidates every entry of `asid` overlapping [vaStart, vaStart + size) in every level (exact, a
   * full scan); returns how many.
   */
  flushRange(asid: number, vaStart: number, size: number): number {
    const vaEnd = vaStart + size;
    return this.flushWhere(
      (l, i) => l.asid[i] === asid && l.base[i]! < vaEnd && l.base[i]! + l.pow[l.cls[i]!]! > vaStart,
    );
  }

  private flushWhere(pred: (l: Level, i: number) => boolean): number {
    let n = 0;
    for (const l of this.lv) {
      for (let i = 0; i < l.asid.length; i++) {
        if (l.asid[i]! >= 0 && pred(l, i)) {
          l.invalidate(i);
          n++;
        }
      }
    }
    return n;
  }

  /** Per-level counters and occupancy. */
  stats(): TlbLevelStats[] {
    return this.lv.map((l) => {
      const hitsBySizeLog2: Record<number, number> = {};
      l.classes.forEach((c, k) => {
        hitsBySizeLog2[c] = l.classHits[k]!;
      });
      const { name, kind } = l.spec;
      const valid = l.asid.reduce((n, a) => (a >= 0 ? n + 1 : n), 0);
      const { hits, misses, evictions, invalidations } = l;
      return { name, kind, hits, misses, evictions, invalidations, hitsBySizeLog2, valid };
    });
  }

  /** Zeroes every counter; contents stay. */
  resetStats(): void {
    for (const l of this.lv) {
      l.hits = l.misses = l.evictions = l.invalidations = 0;
      l.classHits.fill(0);
    }
  }

  /** Valid entries of one level, set by set, most recently used first. */
  entries(level: number): TlbEntryView[] {
    const l = this.lv[level];
    invariant(l !== undefined, () => `TLB has no level ${level}`);
    const out: TlbEntryView[] = [];
    for (let s = 0; s < l.sets; s++) {
      for (let i = l.head[s]!; i >= 0 && l.asid[i]! >= 0; i = l.next[i]!) {
        const [r, c] = [l.rights[i]!, l.classes[l.cls[i]!]!];
        out.push(new TlbEntryView(s, l.asid[i]!, l.base[i]!, c, l.pa[i]!, (r & W) !== 0, (r & X) !== 0));
      }
    }
    return out;
  }

  /** One line per level: geometry, sizes and counters. */
  toString(): string {
    return this.stats()
      .map((s, i) => {
        const { entries, ways } = this.lv[i]!.spec;
        const assoc = ways === entries ? 'fully associative' : `${ways}-way`;
        const sizes = [...this.lv[i]!.classes].map((c) => sizeName(2 ** c)).join('+');
        return `${s.name} (${s.kind}, ${entries} entries, ${assoc}, ${sizes}): ${s.valid} valid, ${s.hits} hits, ${s.misses} misses, ${s.evictions} evictions, ${s.invalidations} invalidations`;
      })
      .join('\n');
  }
}
