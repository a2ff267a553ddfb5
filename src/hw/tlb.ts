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
 * Storage (tlb_level.ts) is typed arrays: narrow sets are scanned and wide ones found through a
 * hash index from (ASID, class, page) to slot; an intrusive doubly linked recency list per set
 * (invalid slots at the tail) makes hits, fills and evictions O(1) and allocation-free for any
 * associativity; flushes scan every slot, so they are exact. {@link Tlb.hitRun} replays runs of
 * trace records that hit without a call per record.
 */

import { hex, sizeName } from '../util/hex.js';
import { invariant } from '../util/result.js';
import type { TlbLevelSpec } from './arch.js';
import { TlbLevel as Level, NONE, W, X } from './tlb_level.js';
import type { PageSink, TlbAccess, TlbLevelStats, TlbMapping } from './tlb_types.js';
import { TlbEntryView } from './tlb_types.js';

export {
  type PageSink,
  type TlbAccess,
  TlbEntryView,
  type TlbLevelStats,
  type TlbMapping,
} from './tlb_types.js';

/**
 * The TLB hierarchy of one CPU. After a hit, {@link Tlb.lastPa}, {@link Tlb.lastWriteable},
 * {@link Tlb.lastExecutable} and {@link Tlb.lastSizeLog2} describe the translation (no allocation).
 */
export class Tlb {
  private readonly lv: readonly Level[];
  private readonly iPath: readonly Level[];
  private readonly dPath: readonly Level[];
  /**
   * The last hit: physical address, rights, log2 size. A typed array because a double stored in
   * an object field may allocate a heap number on every hit; an element store never does.
   */
  private readonly hit = new Float64Array(3);
  /** Cycles spent by the last hit run. */
  private readonly runUsed = new Float64Array(1);
  /**
   * The last first-level hit per access kind (0 instruction, 1 data): its slot and the block of
   * the level's smallest class that contained the access (every access in that block resolves to
   * the same slot). Valid while the level's epoch is unchanged: no insert or invalidation since.
   */
  private readonly rEpoch = new Float64Array([-1, -1]);
  private readonly rAsid = new Int32Array(2);
  private readonly rSlot = new Int32Array(2);
  private readonly rLo = new Float64Array(2);
  private readonly rLevel: Level[] = [];
  /** First level of each kind's path (0 instruction, 1 data), if any. */
  private readonly first: ReadonlyArray<Level | undefined>;
  /** An empty level standing in for a missing first level in {@link Tlb.hitRun}. */
  private readonly none = new Level(
    { name: 'none', kind: 'unified', entries: 1, ways: 1, pageSizesLog2: [0] },
    -1,
  );

  /** Builds empty levels from specs; the list order is the lookup order. */
  constructor(levels: readonly TlbLevelSpec[]) {
    this.lv = levels.map((s, i) => new Level(s, i));
    this.iPath = this.lv.filter((l) => l.spec.kind !== 'data');
    this.dPath = this.lv.filter((l) => l.spec.kind !== 'instruction');
    const iFirst = this.iPath[0];
    const dFirst = this.dPath[0];
    this.first = [iFirst, dFirst];
    this.rLevel.push(this.lv[0]!, this.lv[0]!);
  }

  /** Index (into {@link Tlb.levels}) of the first level an access of `kind` probes, or -1. */
  firstLevel(kind: TlbAccess): number {
    return this.first[kind === 'instruction' ? 0 : 1]?.index ?? NONE;
  }

  /** The level specs, in lookup order. */
  get levels(): readonly TlbLevelSpec[] {
    return this.lv.map((l) => l.spec);
  }

  /** Physical address of the last hit. */
  get lastPa(): number {
    return this.hit[0]!;
  }

  /** Whether the last hit's translation permits writes. */
  get lastWriteable(): boolean {
    return (this.hit[1]! & W) !== 0;
  }

  /** Whether the last hit's translation permits instruction fetches. */
  get lastExecutable(): boolean {
    return (this.hit[1]! & X) !== 0;
  }

  /** log2 of the size of the entry that served the last hit. */
  get lastSizeLog2(): number {
    return this.hit[2]!;
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
   * Replays the accesses `kinds/addrs/sizes[pos..end)` of `asid` for as long as each one hits some
   * level of its path with the rights it needs, stays inside one page of `page` bytes, and the
   * cycles spent stay below `budget`: an access costs `access` cycles, plus `deeper` when it hits
   * a level after the first of its path. The effect is exactly that of {@link Tlb.lookup} on each
   * (LRU order, statistics, refills, `last*` fields). Returns the index of the first access not
   * replayed; {@link Tlb.runCycles} gives the cycles spent. `kinds` holds trace record kinds:
   * 0 instruction fetch, 1 load, 2 store, 3 modify (a write). `touched.add(va)` is called for the
   * first access and whenever the page differs from the previous replayed access of the same kind.
   *
   * This is the replay hot loop. Per kind it remembers the block (of the first level's smallest
   * size class) of its last first-level hit: every access in that block resolves to the same slot
   * while nothing is inserted, so a repeat needs no search, only an LRU touch when another kind may
   * have reordered the set. Hits there are credited per block. A deeper hit refills the first
   * levels, so it forgets both blocks.
   */
  hitRun(
    asid: number,
    kinds: Uint8Array,
    addrs: Float64Array,
    sizes: Uint32Array,
    pos: number,
    end: number,
    page: number,
    touched: PageSink,
    access: number,
    deeper: number,
    budget: number,
  ): number {
    // A path without levels never hits; a stand-in empty level keeps the loop monomorphic.
    const li = this.first[0] ?? this.none;
    const ld = this.first[1] ?? this.none;
    const shared = li === ld;
    const invPage = 1 / page;
    // Per kind: the block [lo, hi), slot and rights of the last first-level hit, hits in it not
    // yet credited, and whether the slot is known to be its set's most recent.
    let iLo = 1;
    let iHi = 0;
    let iSlot = NONE;
    let iN = 0;
    let iMru = false;
    let dLo = 1;
    let dHi = 0;
    let dSlot = NONE;
    let dR = 0;
    let dN = 0;
    let dMru = false;
    if (this.rLevel[0] === li && this.rEpoch[0] === li.epoch && this.rAsid[0] === asid) {
      iSlot = this.rSlot[0]!;
      if ((li.rights[iSlot]! & X) !== 0) {
        iLo = this.rLo[0]!;
        iHi = iLo + li.pow[0]!;
      }
    }
    if (this.rLevel[1] === ld && this.rEpoch[1] === ld.epoch && this.rAsid[1] === asid) {
      dSlot = this.rSlot[1]!;
      dLo = this.rLo[1]!;
      dHi = dLo + ld.pow[0]!;
      dR = ld.rights[dSlot]!;
    }
    const iSize = li.pow[0]!;
    const iRecip = li.recip[0]!;
    const dSize = ld.pow[0]!;
    const dRecip = ld.recip[0]!;
    let iPage = -1;
    let dPage = -1;
    // The kind of the last access if a first-level hit served it (then its block's slot did), else -1.
    let lastKind = -1;
    let used = 0;
    for (; pos < end && used < budget; pos++) {
      const va = addrs[pos]!;
      const pb = Math.floor(va * invPage) * page;
      if (va - pb + sizes[pos]! > page) break;
      const k = kinds[pos]!;
      const c = k === 0 ? 0 : 1;
      const need = k === 0 ? X : k === 1 ? 0 : W;
      if (c === 0 && va >= iLo && va < iHi) {
        if (!iMru) {
          li.touch(iSlot);
          iMru = true;
        }
        iN++;
        lastKind = 0;
        if (shared) dMru = false;
      } else if (c === 1 && va >= dLo && va < dHi && (dR & need) === need) {
        if (!dMru) {
          ld.touch(dSlot);
          dMru = true;
        }
        dN++;
        lastKind = 1;
        if (shared) iMru = false;
      } else {
        const l = c === 0 ? li : ld;
        const i = l.find(asid, va);
        if (i >= 0) {
          // The first level holds it: a hit, or a miss for lack of rights the caller handles.
          if ((l.rights[i]! & need) !== need) break;
          l.touch(i);
          lastKind = c;
          const lo = Math.floor(va * (c === 0 ? iRecip : dRecip)) * (c === 0 ? iSize : dSize);
          if (c === 0) {
            if (iN > 0) this.credit(li, iSlot, iN);
            iSlot = i;
            iN = 1;
            iMru = true;
            iLo = lo;
            iHi = lo + iSize;
            if (shared) dMru = false;
          } else {
            if (dN > 0) this.credit(ld, dSlot, dN);
            dSlot = i;
            dR = l.rights[i]!;
            dN = 1;
            dMru = true;
            dLo = lo;
            dHi = lo + dSize;
            if (shared) iMru = false;
          }
        } else {
          if (!this.deeperServes(c, asid, va, need)) break;
          // The refill may evict either block's slot: settle their hits and forget them.
          if (iN > 0) this.credit(li, iSlot, iN);
          if (dN > 0) this.credit(ld, dSlot, dN);
          iN = dN = 0;
          iLo = dLo = 1;
          iHi = dHi = 0;
          this.search(asid, va, c === 0 ? 'instruction' : 'data', c);
          used += deeper;
          lastKind = -1;
        }
      }
      used += access;
      if (c === 0) {
        if (pb !== iPage) {
          iPage = pb;
          touched.add(va);
        }
      } else if (pb !== dPage) {
        dPage = pb;
        touched.add(va);
      }
    }
    this.runUsed[0] = used;
    if (iN > 0) this.credit(li, iSlot, iN);
    if (dN > 0) this.credit(ld, dSlot, dN);
    if (lastKind >= 0) this.setHit(lastKind === 0 ? li : ld, lastKind === 0 ? iSlot : dSlot, addrs[pos - 1]!);
    if (iHi > iLo) this.remember(0, li, asid, iSlot, iLo);
    if (dHi > dLo) this.remember(1, ld, asid, dSlot, dLo);
    return pos;
  }

  /** Cycles spent by the last {@link Tlb.hitRun}. */
  get runCycles(): number {
    return this.runUsed[0]!;
  }

  /**
   * Whether the first level after the first of kind c's path that holds `va` exists and grants
   * `need`, i.e. a lookup would hit there; no side effects.
   */
  private deeperServes(c: number, asid: number, va: number, need: number): boolean {
    const path = c === 0 ? this.iPath : this.dPath;
    for (let p = 1; p < path.length; p++) {
      const l = path[p]!;
      const i = l.find(asid, va);
      if (i >= 0) return (l.rights[i]! & need) === need;
    }
    return false;
  }

  /** Records slot i of level l, hit by an access to va, as the last hit. */
  private setHit(l: Level, i: number, va: number): void {
    const hit = this.hit;
    hit[0] = l.pa[i]! + (va - l.base[i]!);
    hit[1] = l.rights[i]!;
    hit[2] = l.classes[l.cls[i]!]!;
  }

  /** Counts n hits on slot i of level l. */
  private credit(l: Level, i: number, n: number): void {
    l.hits += n;
    l.classHits[l.cls[i]!]! += n;
  }

  private remember(c: number, l: Level | undefined, asid: number, slot: number, lo: number): void {
    if (l === undefined || slot < 0) return;
    this.rEpoch[c] = l.epoch;
    this.rAsid[c] = asid;
    this.rSlot[c] = slot;
    this.rLo[c] = lo;
    this.rLevel[c] = l;
  }

  private search(asid: number, va: number, kind: TlbAccess, c: number): number {
    const path = kind === 'instruction' ? this.iPath : this.dPath;
    // Kind c's remembered block is replaced by this hit's, or forgotten. The other kind's stays
    // valid: a refill bumps the level's epoch, and hit runs touch a block's slot before trusting
    // its recency.
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
      this.setHit(l, i, va);
      if (p > 0) {
        const eLog2 = l.classes[k]!;
        for (let q = 0; q < p; q++) path[q]!.insert(asid, va, base, eLog2, ePa, l.rights[i]!);
      } else {
        this.rEpoch[c] = l.epoch;
        this.rAsid[c] = asid;
        this.rSlot[c] = i;
        this.rLo[c] = Math.floor(va * l.recip[0]!) * l.pow[0]!;
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
