/**
 * Per-CPU TLB model: a hierarchy of set-associative levels with true LRU replacement, ASID tags
 * and several page-size classes per level (DESIGN.md §2).
 *
 * Semantics, fixed so that a naive reference model can reproduce them exactly:
 * - An access walks the stages of its path in list order: instruction fetches use the instruction and
 *   unified levels, data accesses the data and unified levels. A stage is one level, or several looked
 *   up in parallel (a level marked `parallel` joins the stage of the level before it in the list, like
 *   an L1 DTLB's arrays for 4K and 2M pages). In a stage the first level, in list order, that holds the
 *   translation hits and ends the walk; a stage that misses counts a miss in each of its levels.
 * - Split rule: a level holds a mapping as one entry of the largest size class it holds that is <= the
 *   mapping size, covering the naturally aligned block that contains the accessed address. A mapping
 *   smaller than every class of a level is not cached there.
 * - Fill policy ("inclusive at fill, not enforced"): {@link Tlb.fill} inserts into every stage of the
 *   path; a hit in a later stage refills the earlier stages, from the hit entry. A stage takes an entry
 *   into one level: the one whose fitting class is largest (the earlier on a tie), so a 2M page goes to
 *   the 2M array and is not split into the 4K one. Evictions are never propagated between levels (no
 *   back-invalidation, no victim writeback).
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
import { TlbLevel as Level, W, X } from './tlb_level.js';
import { TlbRun } from './tlb_run.js';
import { pathStages, searchPath, TlbStage } from './tlb_stage.js';
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
  /** Lookup stages of each class's path (0 instruction, 1 data). */
  private readonly stages: ReadonlyArray<readonly TlbStage[]>;
  /**
   * The last hit: physical address, rights, log2 size. A typed array because a double stored in
   * an object field may allocate a heap number on every hit; an element store never does.
   */
  private readonly hit = new Float64Array(3);
  /** The hit-run machinery (tlb_run.ts). */
  private readonly runner: TlbRun;
  /** First stage of each class's path; an empty level stands in for a missing one. */
  private readonly first: readonly TlbStage[];
  /**
   * The last operation was a lookup that missed every stage: its class (0 instruction, 1 data),
   * asid and address, so that a fill right after it (the walk's result) resolves its misses; -1
   * otherwise. Statistics only.
   */
  private missClass = -1;
  private missAsid = 0;
  private missVa = 0;

  /** Builds empty levels from specs; the list order is the lookup order. */
  constructor(levels: readonly TlbLevelSpec[]) {
    this.lv = levels.map((s, i) => new Level(s, i));
    this.stages = [pathStages(this.lv, 'instruction'), pathStages(this.lv, 'data')];
    const none = new Level({ name: 'none', kind: 'unified', entries: 1, ways: 1, pageSizesLog2: [0] }, -1);
    this.first = this.stages.map((p) => p[0] ?? new TlbStage([none]));
    this.runner = new TlbRun(this.stages, this.first, this.lv);
  }

  /**
   * Whether level `level` (an index into {@link Tlb.levels}) belongs to the first stage an access of
   * `kind` probes: a hit there costs nothing beyond the access.
   */
  inFirstStage(kind: TlbAccess, level: number): boolean {
    return this.first[kind === 'instruction' ? 0 : 1]!.levels.some((l) => l.index === level);
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
    const c = kind === 'instruction' ? 0 : 1;
    const lvl = searchPath(this.stages[c]!, asid, va, this.hit);
    this.missClass = lvl < 0 ? c : -1;
    this.missAsid = asid;
    this.missVa = va;
    return lvl;
  }

  /**
   * Replays the accesses `kinds/addrs/sizes[pos..end)` of `asid` for as long as each one hits some
   * level of its path with the rights it needs, stays inside one page of `page` bytes, and the
   * cycles spent stay below `budget`: an access costs `access` cycles, plus `deeper` when it hits
   * a stage after the first of its path. The effect is exactly that of {@link Tlb.lookup} on each
   * (LRU order, statistics, refills, `last*` fields). Returns the index of the first access not
   * replayed; {@link Tlb.runCycles} gives the cycles spent. `kinds` holds trace record kinds:
   * 0 instruction fetch, 1 load, 2 store, 3 modify (a write). `touched.add(va)` is called at least
   * once in the run for every page of `page` bytes the replayed accesses touch.
   *
   * This is the replay hot loop (tlb_run.ts). A direct-mapped cache of recently hit pages per
   * record kind names the first-stage slot that serves each; an access inside its entry's range
   * costs two loads, two compares and a count, and the slots' LRU touches are replayed in order of
   * last use before anything reads the recency lists. Cache misses take a slow step: a first-stage
   * search, or a deeper hit with its refills. Costs must be exact sums, so the fast loop counts
   * records and multiplies only when `access` is an integer.
   *
   * `written`, when given, gets `add(va)` for every page a replayed store or modify record wrote,
   * at least once since the page's TLB entries were last flushed (on the slow step that fills the
   * page cache entry for writes), so the owner keeps dirty bits without a call per access. As with
   * the hardware's dirty bit, whoever clears one must flush the page's TLB entries.
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
    written: PageSink | null = null,
  ): number {
    this.missClass = -1;
    return this.runner.run(
      asid,
      kinds,
      addrs,
      sizes,
      pos,
      end,
      page,
      touched,
      access,
      deeper,
      budget,
      this.hit,
      written,
    );
  }

  /** Cycles spent by the last {@link Tlb.hitRun}. */
  get runCycles(): number {
    return this.runner.used;
  }

  /**
   * Inserts a walked translation for an access to `va` into each stage of the kind's path, in the
   * stage's level that holds it best (split per the level's classes), evicting the LRU entry of the
   * target set when it is full. When the operation just before was a {@link Tlb.lookup} of the same
   * kind, asid and address that missed every stage, the walk resolved those misses: each level of
   * the path counts one under the mapping's size ({@link TlbLevelStats.missesBySizeLog2}).
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
    const c = kind === 'instruction' ? 0 : 1;
    const walked = this.missClass === c && this.missAsid === asid && this.missVa === va;
    this.missClass = -1;
    for (const st of this.stages[c]!) {
      if (walked) st.resolved(m.sizeLog2);
      st.insert(asid, va, m.vaBase, m.sizeLog2, m.paBase, rights, false);
    }
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
    this.missClass = -1;
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
      const missesBySizeLog2: Record<number, number> = {};
      l.missLog2.forEach((n, s) => {
        if (n > 0) missesBySizeLog2[s] = n;
      });
      const { name, kind } = l.spec;
      const valid = l.asid.reduce((n, a) => (a >= 0 ? n + 1 : n), 0);
      const { hits, misses, evictions, invalidations } = l;
      return { name, kind, hits, misses, evictions, invalidations, hitsBySizeLog2, missesBySizeLog2, valid };
    });
  }

  /** Zeroes every counter; contents stay. */
  resetStats(): void {
    for (const l of this.lv) {
      l.hits = l.misses = l.evictions = l.invalidations = 0;
      l.classHits.fill(0);
      l.missLog2.fill(0);
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
