/**
 * Hit runs, the replay hot loop of a TLB ({@link Tlb.hitRun}): trace records that hit the first
 * stage of their path are replayed without a set search and without reordering recency lists.
 *
 * Two ideas make that exact:
 * - A direct-mapped page cache per record kind (tlb_page_cache.ts): entry (page bits, kind) holds an
 *   address range and the first-stage slot that serves every access of that kind in it with the
 *   rights the kind needs.
 *   The range is one aligned block of min(page, the stage's smallest class) bytes: such a block lies
 *   wholly inside or outside any entry of the stage, so one slot serves all of it. Entries stay
 *   valid while the first stages' contents (their epochs), the address space and the page sink are
 *   unchanged, across runs.
 * - Deferred LRU: a hit only records the slot's hit count and the position of its last use. Before
 *   anything reads or changes the recency lists (a deeper hit's refill, the end of the run) the used
 *   slots are touched in order of last use, which leaves every set's list exactly as touching on each
 *   access would have (a slot's final place depends only on its last touch).
 *
 * Internal to hw/.
 */
import { invariant } from '../util/result.js';
import { type TlbLevel, W, X } from './tlb_level.js';
import { entryOf, PageCache } from './tlb_page_cache.js';
import { recordHit, type searchPath, type TlbStage } from './tlb_stage.js';
import type { PageSink } from './tlb_types.js';

/** Access class of each trace record kind: 0 instruction, 1 data. */
const KIND_CLASS = Uint8Array.from([0, 1, 1, 1]);
/** Rights each trace record kind needs: fetch X, load none, store and modify W. */
const KIND_NEED = Uint8Array.from([X, 0, W, W]);
/** Outcomes of a run's slow step: no hit, a first-stage hit, a deeper hit. */
const MISS = 0;
const FIRST = 1;
const DEEPER = 2;
/** Used slots whose touches are ordered by insertion sort; more go to the typed array sort. */
const SMALL_SORT = 24;

export class TlbRun {
  /** The page cache (tlb_page_cache.ts), indexed by run slots, and its arrays the hot loop reads. */
  private readonly cache: PageCache;
  private readonly range: Float64Array;
  private readonly entrySlot: Int32Array;
  /** Run slots number every slot of the levels in the classes' first stages. */
  private readonly slotLevel: TlbLevel[] = [];
  /** Per level index: bit c set when the level is in class c's first stage. */
  private readonly inFirst: Uint8Array;
  /** Per class: 1 when a deeper stage of its path holds a level of a first stage. */
  private readonly sharedDeeper = new Uint8Array(2);
  private readonly slotIndex: Int32Array;
  /** Per level index: its first run slot, or -1 for a level outside the first stages. */
  private readonly slotBase: Int32Array;
  /** A power of two above every run slot, so (last use, slot) packs into one sortable number. */
  private readonly scale: number;
  /** Per run slot s: hits since the last {@link TlbRun.apply} at 2s, the position of the last at 2s + 1. */
  private readonly use: Float64Array;
  private readonly keys: Float64Array;
  /** What the cache's entries are valid for: first-stage epochs, address space, page size, sink. */
  private readonly epoch = Float64Array.from([-1, -1]);
  private asid = -1;
  private page = 0;
  private sink: PageSink | null = null;
  /** Where writes are reported (see {@link Tlb.hitRun}), or null. */
  private written: PageSink | null = null;
  /** Per class: the size of the blocks one cache entry covers. */
  private readonly unit = new Float64Array(2);
  /** Cycles spent by the last run. */
  used = 0;

  /**
   * `stages[c]` is class c's path (0 instruction, 1 data), `first[c]` its first stage; `levels` all
   * levels, indexed by {@link TlbLevel.index}.
   */
  constructor(
    private readonly stages: ReadonlyArray<readonly TlbStage[]>,
    private readonly first: readonly TlbStage[],
    levels: readonly TlbLevel[],
  ) {
    this.slotBase = new Int32Array(levels.length).fill(-1);
    this.inFirst = new Uint8Array(levels.length);
    const index: number[] = [];
    for (let c = 0; c < 2; c++) {
      for (const l of first[c]!.levels) {
        if (l.index < 0) continue;
        this.inFirst[l.index]! |= 1 << c;
        if (this.slotBase[l.index]! >= 0) continue;
        this.slotBase[l.index] = index.length;
        for (let i = 0; i < l.asid.length; i++) {
          this.slotLevel.push(l);
          index.push(i);
        }
      }
    }
    const n = index.length;
    invariant(n < 2 ** 21, () => `TLB first stages hold ${n} entries; hit runs support fewer than 2^21`);
    this.slotIndex = Int32Array.from(index);
    for (let c = 0; c < 2; c++) {
      const deeper = stages[c]!.slice(1).flatMap((st) => st.levels);
      this.sharedDeeper[c] = deeper.some((l) => l.index >= 0 && this.slotBase[l.index]! >= 0) ? 1 : 0;
    }
    this.scale = 2 ** Math.ceil(Math.log2(n + 1));
    this.use = new Float64Array(2 * n);
    this.cache = new PageCache(n);
    this.range = this.cache.range;
    this.entrySlot = this.cache.entrySlot;
    this.keys = new Float64Array(n);
  }

  /** See {@link Tlb.hitRun}; the last hit goes to `hit` (see {@link recordHit}). */
  run(
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
    hit: Float64Array,
    written: PageSink | null = null,
  ): number {
    this.validate(asid, page, touched, written);
    const { range, entrySlot, use } = this;
    const invPage = 1 / page;
    const whole = Number.isInteger(access);
    const start = pos;
    let used = 0;
    let lastDeeper = false;
    while (pos < end && used < budget) {
      // Records while the cycles spent before each stay below the budget.
      const room = access > 0 ? (whole ? Math.ceil((budget - used) / access) : 1) : end - pos;
      const stop = Math.min(end, pos + room);
      const from = pos;
      for (; pos < stop; pos++) {
        const va = addrs[pos]!;
        const e = entryOf(va, kinds[pos]!, invPage);
        if (va < range[2 * e]! || va + sizes[pos]! > range[2 * e + 1]!) break;
        const s = 2 * entrySlot[e]!;
        use[s]!++;
        use[s + 1] = pos;
      }
      if (pos > from) {
        used += (pos - from) * access;
        lastDeeper = false;
      }
      if (pos === stop) continue;
      const r = this.step(asid, kinds[pos]!, addrs[pos]!, sizes[pos]!, pos, invPage, touched, hit);
      if (r === MISS) break;
      used += r === DEEPER ? access + deeper : access;
      lastDeeper = r === DEEPER;
      pos++;
    }
    this.used = used;
    this.apply();
    if (pos > start && !lastDeeper) {
      const va = addrs[pos - 1]!;
      const s = entrySlot[entryOf(va, kinds[pos - 1]!, invPage)]!;
      recordHit(hit, this.slotLevel[s]!, this.slotIndex[s]!, va);
    }
    return pos;
  }

  /**
   * The slow step for the record at `pos` (kind k) that missed the page cache: a first-stage hit
   * fills the entry ({@link FIRST}), a deeper level's hit refills the first stages ({@link DEEPER}).
   * {@link MISS} when the access crosses a page or would not hit with the rights it needs; then
   * nothing changed.
   */
  private step(
    asid: number,
    k: number,
    va: number,
    size: number,
    pos: number,
    invPage: number,
    touched: PageSink,
    hit: Float64Array,
  ): number {
    const c = KIND_CLASS[k]!;
    const need = KIND_NEED[k]!;
    const page = this.page;
    if (va - Math.floor(va * invPage) * page + size > page) return MISS;
    const st = this.first[c]!;
    const i = st.find(asid, va);
    if (i < 0) return this.deeperStep(asid, c, va, need, touched, hit);
    const l = st.found;
    if ((l.rights[i]! & need) !== need) return MISS;
    const s = this.slotBase[l.index]! + i;
    const unit = this.unit[c]!;
    const lo = Math.floor(va / unit) * unit;
    this.cache.fill(entryOf(va, k, invPage), lo, lo + unit, s);
    touched.add(va);
    if (need === W && this.written !== null) this.written.add(va);
    this.use[2 * s]!++;
    this.use[2 * s + 1] = pos;
    return FIRST;
  }

  /**
   * A record of class c that only a level after the first stage serves, or MISS (nothing changed):
   * the effects of {@link searchPath} for that hit, with the deeper level found once.
   */
  private deeperStep(
    asid: number,
    c: number,
    va: number,
    need: number,
    touched: PageSink,
    hit: Float64Array,
  ): number {
    const stages = this.stages[c]!;
    let p = 1;
    let i = -1;
    for (; p < stages.length; p++) {
      i = stages[p]!.find(asid, va);
      if (i >= 0) break;
    }
    if (i < 0) return MISS;
    const l = stages[p]!.found;
    const rights = l.rights[i]!;
    if ((rights & need) !== need) return MISS;
    const k = l.cls[i]!;
    const eLog2 = l.classes[k]!;
    this.applyBefore(c, va, eLog2);
    for (let q = 0; q < p; q++) stages[q]!.miss();
    l.hits++;
    l.classHits[k]!++;
    l.touch(i);
    recordHit(hit, l, i, va);
    const eBase = l.base[i]!;
    const ePa = l.pa[i]!;
    // Each earlier stage gets the entry in one level. In a first-stage level that replaces one slot:
    // cached blocks of the replaced entry, or ones the new entry could now shadow, are stale.
    let kept = true;
    for (let q = 0; q < p; q++) {
      const st = stages[q]!;
      st.resolved(eLog2);
      const x = st.insert(asid, va, eBase, eLog2, ePa, rights, true);
      if (x === null || x.index < 0 || this.slotBase[x.index]! < 0) continue;
      const f = this.inFirst[x.index]!;
      // The new entry can shadow only blocks inside it. When it is one block of class c's size, that
      // is va's block, which class c's first stage just missed: none of class c is cached there.
      const shadowed = x.insertSize <= this.unit[c]! ? f & ~(1 << c) : f;
      kept &&=
        this.cache.forget(x.insertOldBase, x.insertOldSize, f, this.page) &&
        (shadowed === 0 || this.cache.forget(x.insertBase, x.insertSize, shadowed, this.page));
      // A first stage's epoch is the sum of its levels', and the insert bumped x's by one.
      this.epoch[0]! += f & 1;
      this.epoch[1]! += f >> 1;
    }
    if (!kept) {
      // Touches still deferred are in sets the refill left alone, so applying them now keeps order.
      this.apply();
      this.epoch[0] = -1;
      this.validate(asid, this.page, touched, this.written);
    }
    touched.add(va);
    if (need === W && this.written !== null) this.written.add(va);
    return DEEPER;
  }

  /**
   * Before a deeper hit of class c at va by an entry of size 2^eLog2: applies the deferred touches
   * of the one set its refill of the first stage reads and reorders (every used slot when a deeper
   * stage of the path shares a level with a first stage, since the hit itself touches one there).
   */
  private applyBefore(c: number, va: number, eLog2: number): void {
    if (this.sharedDeeper[c] === 1) {
      this.apply();
      return;
    }
    const l = this.first[c]!.target(eLog2);
    if (l === null) return;
    const { use, keys, scale } = this;
    const from = this.slotBase[l.index]! + l.setOf(Math.floor(va * l.recip[l.classFor[eLog2]!]!)) * l.ways;
    let m = 0;
    for (let s = from; s < from + l.ways; s++) {
      if (use[2 * s]! > 0) keys[m++] = use[2 * s + 1]! * scale + s;
    }
    this.touchInOrder(m);
  }

  /**
   * Touches the slots used since the last apply in order of their last use and credits their hits,
   * so recency lists and counters are what a lookup per access would have left.
   */
  private apply(): void {
    const { use, keys, scale } = this;
    const { live, nLive } = this.cache;
    let m = 0;
    for (let j = 0; j < nLive; j++) {
      const s = live[j]!;
      if (use[2 * s]! > 0) keys[m++] = use[2 * s + 1]! * scale + s;
    }
    this.touchInOrder(m);
  }

  /** Touches the m used slots whose keys (last use, slot) fill the start of `keys`, oldest first. */
  private touchInOrder(m: number): void {
    const { use, keys, scale } = this;
    if (m > SMALL_SORT) keys.subarray(0, m).sort();
    else {
      for (let j = 1; j < m; j++) {
        const key = keys[j]!;
        let q = j - 1;
        for (; q >= 0 && keys[q]! > key; q--) keys[q + 1] = keys[q]!;
        keys[q + 1] = key;
      }
    }
    const inv = 1 / scale;
    for (let j = 0; j < m; j++) {
      const key = keys[j]!;
      const s = key - Math.floor(key * inv) * scale;
      const l = this.slotLevel[s]!;
      const i = this.slotIndex[s]!;
      const n = use[2 * s]!;
      l.touch(i);
      l.hits += n;
      l.classHits[l.cls[i]!]! += n;
      use[2 * s] = 0;
    }
  }

  /** Empties the cache unless it is valid for the first stages' contents, asid, page and sinks. */
  private validate(asid: number, page: number, sink: PageSink, written: PageSink | null): void {
    const e0 = this.first[0]!.epoch;
    const e1 = this.first[1]!.epoch;
    if (
      e0 === this.epoch[0] &&
      e1 === this.epoch[1] &&
      asid === this.asid &&
      page === this.page &&
      sink === this.sink &&
      written === this.written
    ) {
      return;
    }
    this.written = written;
    this.cache.empty();
    this.epoch[0] = e0;
    this.epoch[1] = e1;
    this.asid = asid;
    this.page = page;
    this.sink = sink;
    this.unit[0] = Math.min(page, this.first[0]!.smallest());
    this.unit[1] = Math.min(page, this.first[1]!.smallest());
  }
}
