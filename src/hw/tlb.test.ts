import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { arch, type TlbLevelSpec } from './arch.js';
import { Tlb, type TlbAccess, type TlbMapping } from './tlb.js';

const K4 = 12;
const K16 = 14;
const M2 = 21;
const G1 = 30;

// ---------------------------------------------------------------------------------------------
// Naive reference: BigInt arithmetic, one array per set ordered most recently used first.

interface RefEntry {
  asid: number;
  base: bigint;
  sizeLog2: number;
  pa: bigint;
  w: boolean;
  x: boolean;
}

class RefLevel {
  readonly classes: number[];
  readonly nsets: number;
  readonly sets: RefEntry[][];
  hits = 0;
  misses = 0;
  evictions = 0;
  invalidations = 0;
  readonly classHits = new Map<number, number>();
  /** Misses by log2 of the size of the translation that resolved them (a deeper entry, a walk). */
  readonly classMisses = new Map<number, number>();

  constructor(readonly spec: TlbLevelSpec) {
    this.classes = [...spec.pageSizesLog2].sort((a, b) => a - b);
    this.nsets = spec.entries / spec.ways;
    this.sets = Array.from({ length: this.nsets }, () => []);
    for (const c of this.classes) this.classHits.set(c, 0);
  }

  set(base: bigint, c: number): RefEntry[] {
    return this.sets[Number((base >> BigInt(c)) % BigInt(this.nsets))]!;
  }

  find(asid: number, va: bigint): RefEntry | undefined {
    for (const c of this.classes) {
      const block = (va >> BigInt(c)) << BigInt(c);
      const e = this.set(block, c).find((e) => e.asid === asid && e.sizeLog2 === c && e.base === block);
      if (e) return e;
    }
    return undefined;
  }

  resolved(sizeLog2: number): void {
    this.classMisses.set(sizeLog2, (this.classMisses.get(sizeLog2) ?? 0) + 1);
  }

  touch(e: RefEntry): void {
    const s = this.set(e.base, e.sizeLog2);
    s.splice(s.indexOf(e), 1);
    s.unshift(e);
  }

  /** The class this level would hold a mapping of size 2^eLog2 in (split rule), or undefined. */
  fit(eLog2: number): number | undefined {
    return this.classes.filter((c) => c <= eLog2).at(-1);
  }

  insert(asid: number, va: bigint, eBase: bigint, eLog2: number, ePa: bigint, w: boolean, x: boolean): void {
    const c = this.fit(eLog2);
    if (c === undefined) return;
    const base = (va >> BigInt(c)) << BigInt(c);
    const pa = ePa + (base - eBase);
    const s = this.set(base, c);
    const old = s.find((e) => e.asid === asid && e.sizeLog2 === c && e.base === base);
    if (old) {
      Object.assign(old, { pa, w, x });
      this.touch(old);
      return;
    }
    if (s.length === this.spec.ways) {
      s.pop();
      this.evictions++;
    }
    s.unshift({ asid, base, sizeLog2: c, pa, w, x });
  }

  flush(pred: (e: RefEntry) => boolean): void {
    for (let i = 0; i < this.sets.length; i++) {
      const keep = this.sets[i]!.filter((e) => !pred(e));
      this.invalidations += this.sets[i]!.length - keep.length;
      this.sets[i] = keep;
    }
  }
}

class RefTlb {
  readonly levels: RefLevel[];
  last: RefEntry | undefined;
  lastPa = 0n;
  /** The last operation was a lookup missing everywhere: a fill of the same translation resolves it. */
  pending: { asid: number; va: bigint; kind: TlbAccess } | undefined;

  constructor(specs: readonly TlbLevelSpec[]) {
    this.levels = specs.map((s) => new RefLevel(s));
  }

  /**
   * The path of `kind` as stages. In the full list, `a|b|c` (b and c marked parallel) is one stage;
   * a path keeps the stage's levels that serve its kind.
   */
  stages(kind: TlbAccess): RefLevel[][] {
    const groups: RefLevel[][] = [];
    for (const l of this.levels) {
      if (l.spec.parallel && groups.length > 0) groups.at(-1)!.push(l);
      else groups.push([l]);
    }
    return groups
      .map((g) => g.filter((l) => l.spec.kind === kind || l.spec.kind === 'unified'))
      .filter((g) => g.length > 0);
  }

  /** The first level of a stage holding va, with its entry. */
  static probe(stage: RefLevel[], asid: number, va: bigint): [RefLevel, RefEntry] | undefined {
    for (const l of stage) {
      const e = l.find(asid, va);
      if (e) return [l, e];
    }
    return undefined;
  }

  /** A stage takes a mapping in its one level with the largest fitting class (the first on a tie). */
  static insert(stage: RefLevel[], asid: number, va: bigint, e: Omit<RefEntry, 'asid'>): void {
    let best: RefLevel | undefined;
    for (const l of stage) if ((l.fit(e.sizeLog2) ?? -1) > (best?.fit(e.sizeLog2) ?? -1)) best = l;
    best?.insert(asid, va, e.base, e.sizeLog2, e.pa, e.w, e.x);
  }

  lookup(asid: number, va: bigint, kind: TlbAccess): number {
    this.pending = undefined;
    const stages = this.stages(kind);
    for (let p = 0; p < stages.length; p++) {
      const hit = RefTlb.probe(stages[p]!, asid, va);
      if (!hit) {
        for (const l of stages[p]!) l.misses++;
        continue;
      }
      const [l, e] = hit;
      l.hits++;
      l.classHits.set(e.sizeLog2, l.classHits.get(e.sizeLog2)! + 1);
      l.touch(e);
      this.last = e;
      this.lastPa = e.pa + (va - e.base);
      for (const up of stages.slice(0, p)) {
        for (const x of up) x.resolved(e.sizeLog2);
        RefTlb.insert(up, asid, va, { ...e });
      }
      return this.levels.indexOf(l);
    }
    this.pending = { asid, va, kind };
    return -1;
  }

  fill(asid: number, va: bigint, kind: TlbAccess, m: TlbMapping): void {
    const e = {
      base: BigInt(m.vaBase),
      sizeLog2: m.sizeLog2,
      pa: BigInt(m.paBase),
      w: m.writeable,
      x: m.executable,
    };
    const p = this.pending;
    const walked = p !== undefined && p.asid === asid && p.va === va && p.kind === kind;
    this.pending = undefined;
    for (const stage of this.stages(kind)) {
      if (walked) for (const l of stage) l.resolved(m.sizeLog2);
      RefTlb.insert(stage, asid, va, e);
    }
  }
}

/** Compares every counter and every entry (set by set, MRU first) of the two models. */
function expectSameState(model: RefTlb, real: Tlb): void {
  const stats = real.stats();
  model.levels.forEach((l, i) => {
    const s = stats[i]!;
    expect([s.hits, s.misses, s.evictions, s.invalidations]).toEqual([
      l.hits,
      l.misses,
      l.evictions,
      l.invalidations,
    ]);
    expect(s.hitsBySizeLog2).toEqual(Object.fromEntries(l.classHits));
    expect(s.missesBySizeLog2).toEqual(Object.fromEntries(l.classMisses));
    const want = l.sets.flatMap((set, si) =>
      set.map((e) => [si, e.asid, e.base, e.sizeLog2, e.pa, e.w, e.x].join(' ')),
    );
    const got = real
      .entries(i)
      .map((e) =>
        [e.set, e.asid, BigInt(e.vaBase), e.sizeLog2, BigInt(e.paBase), e.writeable, e.executable].join(' '),
      );
    expect(got).toEqual(want);
    expect(s.valid).toBe(want.length);
    // Every entry must be reachable through the index, not only present in the recency lists.
    for (const set of l.sets)
      for (const e of set) expect(real.translates(e.asid, Number(e.base), i)).toBe(true);
  });
}

/** The `last*` fields describe the same translation as the model's last hit. */
function expectSameLastHit(model: RefTlb, real: Tlb): void {
  expect(BigInt(real.lastPa)).toBe(model.lastPa);
  expect([real.lastWriteable, real.lastExecutable, real.lastSizeLog2]).toEqual([
    model.last!.w,
    model.last!.x,
    model.last!.sizeLog2,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Model-based property test over random geometries and operation sequences.

type Cmd = fc.Command<RefTlb, Tlb>;

class LookupCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const held = m.levels.some((l) => l.find(this.asid, BigInt(this.va)) !== undefined);
    expect(r.translates(this.asid, this.va)).toBe(held);
    const want = m.lookup(this.asid, BigInt(this.va), this.kind);
    expect(r.lookup(this.asid, this.va, this.kind)).toBe(want);
    if (want >= 0) expectSameLastHit(m, r);
    expectSameState(m, r);
  }
  toString = () => `lookup(${this.asid}, 0x${this.va.toString(16)}, ${this.kind})`;
}

class FillCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
    readonly m: TlbMapping,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    m.fill(this.asid, BigInt(this.va), this.kind, this.m);
    r.fill(this.asid, this.va, this.kind, this.m);
    expectSameState(m, r);
  }
  toString = () => `fill(${this.asid}, 0x${this.va.toString(16)}, ${this.kind}, ${JSON.stringify(this.m)})`;
}

/**
 * What the machine does per slow-path record: a lookup and, when every stage missed, a walk that
 * fills the mapping (of size 2^sizeLog2 around va) at once, which resolves the lookup's misses.
 */
class TranslateCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
    readonly sizeLog2: number,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const want = m.lookup(this.asid, BigInt(this.va), this.kind);
    expect(r.lookup(this.asid, this.va, this.kind)).toBe(want);
    if (want < 0) {
      const size = 2 ** this.sizeLog2;
      const vaBase = this.va - (this.va % size);
      const mapping = { vaBase, sizeLog2: this.sizeLog2, paBase: 2 ** 44, writeable: true, executable: true };
      m.fill(this.asid, BigInt(this.va), this.kind, mapping);
      r.fill(this.asid, this.va, this.kind, mapping);
    }
    expectSameState(m, r);
  }
  toString = () => `translate(${this.asid}, 0x${this.va.toString(16)}, ${this.kind}, 2^${this.sizeLog2})`;
}

/** One record of a hit run: trace kind (0 fetch, 1 load, 2 store, 3 modify), address, size. */
type RunRecord = readonly [kind: number, va: number, size: number];

/** Per TLB under test: the page sink its hit runs share, and the pages runs touched since it was new. */
const sinks = new WeakMap<Tlb, { got: Set<number>; want: Set<number> }>();
/**
 * Pages reported written (`asid:page`) and pages a replayed store or modify wrote, per TLB, both
 * forgetting what a flush removed: the dirty-bit contract (reported again after a flush).
 */
const writeSinks = new WeakMap<Tlb, { got: Set<string>; want: Set<string> }>();

/**
 * A hit run against the reference: the model looks records up one by one while each would hit
 * some level of its path with the rights it needs, stays inside one 4K page and the cycles spent
 * (`access` each, plus `deeper` for a hit after the path's first stage) stay below the budget.
 * Runs share one page sink (a run may skip pages it handed to that sink before) unless `fresh`.
 */
class HitRunCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly records: readonly RunRecord[],
    readonly access: number,
    readonly deeper: number,
    readonly budget: number,
    readonly fresh = false,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    m.pending = undefined;
    const page = 4096;
    let sink = sinks.get(r);
    if (!sink || this.fresh) {
      sink = { got: new Set(), want: new Set() };
      sinks.set(r, sink);
    }
    const { got, want } = sink;
    let ws = writeSinks.get(r);
    if (!ws) {
      ws = { got: new Set(), want: new Set() };
      writeSinks.set(r, ws);
    }
    let n = 0;
    let used = 0;
    for (const [kind, va, size] of this.records) {
      if (used >= this.budget || (va % page) + size > page) break;
      const access: TlbAccess = kind === 0 ? 'instruction' : 'data';
      const stages = m.stages(access);
      const p = stages.findIndex((st) => RefTlb.probe(st, this.asid, BigInt(va)) !== undefined);
      const [l, e] = (p >= 0 && RefTlb.probe(stages[p]!, this.asid, BigInt(va))) || [];
      if (!e || (kind === 0 && !e.x) || (kind >= 2 && !e.w)) break;
      expect(m.lookup(this.asid, BigInt(va), access)).toBe(m.levels.indexOf(l!));
      used += this.access + (p > 0 ? this.deeper : 0);
      want.add(va - (va % page));
      if (kind >= 2) ws.want.add(`${this.asid}:${va - (va % page)}`);
      n++;
    }
    const kinds = Uint8Array.from(this.records, (x) => x[0]);
    const addrs = Float64Array.from(this.records, (x) => x[1]);
    const sizes = Uint32Array.from(this.records, (x) => x[2]);
    const add = { add: (va: number) => got.add(va - (va % page)) };
    const { access, deeper, budget } = this;
    const wgot = ws.got;
    const written = { add: (va: number) => wgot.add(`${this.asid}:${va - (va % page)}`) };
    expect(
      r.hitRun(this.asid, kinds, addrs, sizes, 0, kinds.length, page, add, access, deeper, budget, written),
    ).toBe(n);
    expect(r.runCycles).toBe(used);
    expect([...got].sort()).toEqual([...want].sort());
    for (const w of ws.want) expect(ws.got).toContain(w);
    if (n > 0) expectSameLastHit(m, r);
    expectSameState(m, r);
  }
  toString = () =>
    `hitRun(${this.asid}, [${this.records.map(([k, va, s]) => `${k}:0x${va.toString(16)},${s}`).join(' ')}], ${this.access}, ${this.deeper}, ${this.budget}${this.fresh ? ', fresh sink' : ''})`;
}

class FlushCmd implements Cmd {
  constructor(
    readonly what: 'all' | 'asid' | 'range',
    readonly asid: number,
    readonly start: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const s = BigInt(this.start);
    const e = s + BigInt(this.size);
    const pred =
      this.what === 'all'
        ? () => true
        : this.what === 'asid'
          ? (x: RefEntry) => x.asid === this.asid
          : (x: RefEntry) => x.asid === this.asid && x.base < e && x.base + (1n << BigInt(x.sizeLog2)) > s;
    m.pending = undefined;
    const before = m.levels.reduce((n, l) => n + l.invalidations, 0);
    for (const l of m.levels) l.flush(pred);
    const removed = m.levels.reduce((n, l) => n + l.invalidations, 0) - before;
    const got =
      this.what === 'all'
        ? r.flushAll()
        : this.what === 'asid'
          ? r.flushAsid(this.asid)
          : r.flushRange(this.asid, this.start, this.size);
    expect(got).toBe(removed);
    if (this.what === 'range') expect(r.translates(this.asid, this.start)).toBe(false);
    const ws = writeSinks.get(r);
    for (const set of ws ? [ws.got, ws.want] : []) {
      for (const key of [...set]) {
        const [asid, page] = key.split(':').map(Number) as [number, number];
        const hit =
          this.what === 'all' ||
          (asid === this.asid &&
            (this.what === 'asid' || (page < this.start + this.size && page + 4096 > this.start)));
        if (hit) set.delete(key);
      }
    }
    expectSameState(m, r);
  }
  toString = () =>
    `flush(${this.what}, ${this.asid}, 0x${this.start.toString(16)}, 0x${this.size.toString(16)})`;
}

/** Virtual addresses around 0, the 4 GiB boundary and 2^47, so 32-bit truncation bugs show. */
const vaIn = (blocks2M: number, pages4K: number) =>
  fc
    .tuple(
      fc.constantFrom(0, 2 ** 32 - 2 ** 22, 2 ** 47 - 2 ** 22),
      fc.integer({ min: 0, max: blocks2M - 1 }),
      fc.integer({ min: 0, max: pages4K - 1 }),
      fc.constantFrom(0, 8, 4095),
    )
    .map(([r, hi, lo, off]) => r + hi * 2 ** M2 + lo * 2 ** K4 + off);
/** A small universe (many hits) and a wide one (churn in the hash index). */
const vaArb = vaIn(4, 8);
/** 256 fixed pseudo-random addresses below 2^48 (xorshift), so the hash index sees collisions. */
const scattered = (() => {
  let x = 0x2545f491;
  return Array.from({ length: 256 }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 2 ** 16) * 2 ** 32 + ((Math.imul(x, 0x9e3779b1) >>> 0) & ~0xfff) + 8;
  });
})();
const wideVaArb = fc.oneof(vaIn(64, 64), fc.constantFrom(...scattered));
const asidArb = fc.integer({ min: 0, max: 2 });
const kindArb = fc.constantFrom<TlbAccess>('instruction', 'data');
/** 1K is below the 4K page of hit runs: then one page holds several blocks of different entries. */
const SIZES = [10, K4, K16, M2, G1];

/** Random operation sequences over the addresses of `vaArb`. */
function commandsArb(vaArb: fc.Arbitrary<number>, runWeight = 3, size: fc.SizeForArbitrary = 'small') {
  const lookupArb = fc.tuple(asidArb, vaArb, kindArb).map(([a, va, k]) => new LookupCmd(a, va, k));
  const fillArb = fc
    .tuple(
      asidArb,
      vaArb,
      kindArb,
      fc.constantFrom(...SIZES),
      fc.integer({ min: 0, max: 15 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([a, va, k, sizeLog2, frame, writeable, executable]) => {
      const size = 2 ** sizeLog2;
      const mapping = {
        vaBase: va - (va % size),
        sizeLog2,
        paBase: 2 ** 45 + frame * 2 ** G1,
        writeable,
        executable,
      };
      return new FillCmd(a, va, k, mapping);
    });
  const translateArb = fc
    .tuple(asidArb, vaArb, kindArb, fc.constantFrom(...SIZES))
    .map(([a, va, k, s]) => new TranslateCmd(a, va, k, s));
  const flushArb = fc
    .tuple(
      fc.constantFrom('all', 'asid', 'range', 'range', 'range'),
      asidArb,
      vaArb,
      fc.constantFrom(1, 4096, 3 * 4096, 2 ** M2, 2 ** G1),
    )
    .map(([w, a, s, n]) => new FlushCmd(w as 'all' | 'asid' | 'range', a, s, n));
  // Runs mostly revisit a few addresses so that they get long before a miss ends them.
  const recordArb = fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    vaArb,
    fc.constantFrom(1, 4, 8, 8, 64),
  ) as fc.Arbitrary<RunRecord>;
  const runArb = fc
    .tuple(
      asidArb,
      fc.array(recordArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(5), { maxLength: 40 }),
      fc.constantFrom(0, 1, 3),
      fc.constantFrom(0, 9),
      fc.constantFrom(5, 40, Number.POSITIVE_INFINITY),
      fc.boolean(),
    )
    .map(
      ([a, pool, picks, access, deeper, budget, fresh]) =>
        new HitRunCmd(
          a,
          [...pool, ...picks.map((i) => pool[i % pool.length]!)],
          access,
          deeper,
          budget,
          fresh,
        ),
    );
  return fc.commands(
    [
      fc.oneof(
        { arbitrary: lookupArb, weight: 6 },
        { arbitrary: fillArb, weight: 4 },
        { arbitrary: translateArb, weight: 3 },
        { arbitrary: runArb, weight: runWeight },
        { arbitrary: flushArb, weight: 1 },
      ),
    ],
    { maxCommands: 120, size },
  );
}

const levelArb = fc.record({
  kind: fc.constantFrom<TlbLevelSpec['kind']>('instruction', 'data', 'unified'),
  sets: fc.integer({ min: 1, max: 5 }),
  ways: fc.integer({ min: 1, max: 4 }),
  pageSizesLog2: fc.subarray(SIZES, { minLength: 1 }),
  parallel: fc.boolean(),
});
const geometryArb = fc.oneof(
  fc.array(levelArb, { minLength: 1, maxLength: 4 }).map((ls) =>
    ls.map((l, i) => ({
      name: `L${i}`,
      kind: l.kind,
      entries: l.sets * l.ways,
      ways: l.ways,
      pageSizesLog2: l.pageSizesLog2,
      ...(l.parallel && i > 0 ? { parallel: true } : {}),
    })),
  ),
  fc.constantFrom(arch('x86_64').tlb, arch('armv8').tlb, arch('riscv-sv39').tlb),
);

describe('Tlb against the reference model', () => {
  it('agrees on results, counters and contents for random geometries and operations', () => {
    fc.assert(
      fc.property(geometryArb, commandsArb(vaArb), (geom, cmds) => {
        fc.modelRun(() => ({ model: new RefTlb(geom), real: new Tlb(geom) }), cmds);
      }),
      { numRuns: 300 },
    );
  });

  it('hit runs agree with looking each record up, over a few pages that the TLB mostly holds', () => {
    let consumed = 0;
    // Few addresses: fills and runs meet often. 0x2ff8 with 64 bytes crosses a page; 0x1408 shares
    // a page with 0x1000 but not a 1K block.
    const few = fc.constantFrom(
      0x1000,
      0x1008,
      0x1408,
      0x2ff8,
      0x3010,
      2 ** M2 + 0x1000,
      2 ** 47 - 2 ** 22 + 8,
    );
    fc.assert(
      fc.property(geometryArb, commandsArb(few, 8, 'large'), (geom, cmds) => {
        const real = new Tlb(geom);
        fc.modelRun(() => ({ model: new RefTlb(geom), real }), cmds);
        consumed += real.stats().reduce((n, s) => n + s.hits, 0);
      }),
      { numRuns: 200 },
    );
    expect(consumed).toBeGreaterThan(3000);
  });

  it('agrees for large associative levels under heavy churn', () => {
    const geom: TlbLevelSpec[] = [
      { name: 'L1d', kind: 'data', entries: 12, ways: 12, pageSizesLog2: [K4, M2] },
      { name: 'L2', kind: 'unified', entries: 36, ways: 6, pageSizesLog2: [K4, K16, M2] },
    ];
    fc.assert(
      fc.property(commandsArb(wideVaArb), (cmds) => {
        fc.modelRun(() => ({ model: new RefTlb(geom), real: new Tlb(geom) }), cmds);
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Unit tests.

const map = (
  vaBase: number,
  sizeLog2: number,
  paBase: number,
  writeable = true,
  executable = false,
): TlbMapping => ({
  vaBase,
  sizeLog2,
  paBase,
  writeable,
  executable,
});
const one = (
  entries: number,
  ways: number,
  sizes = [K4],
  kind: TlbLevelSpec['kind'] = 'unified',
): TlbLevelSpec => ({
  name: 'T',
  kind,
  entries,
  ways,
  pageSizesLog2: sizes,
});
const fillPage = (t: Tlb, asid: number, va: number) =>
  t.fill(asid, va, 'data', map(va, K4, va + 0x1_0000_0000));

describe('Tlb', () => {
  it('evicts the least recently used entry of a set', () => {
    const t = new Tlb([one(2, 2)]);
    fillPage(t, 1, 0x1000);
    fillPage(t, 1, 0x2000);
    expect(t.lookup(1, 0x1000, 'data')).toBe(0); // 0x2000 is now LRU
    fillPage(t, 1, 0x3000);
    expect([t.translates(1, 0x1000), t.translates(1, 0x2000), t.translates(1, 0x3000)]).toEqual([
      true,
      false,
      true,
    ]);
    expect(t.stats()[0]!.evictions).toBe(1);
    expect(t.entries(0).map((e) => e.vaBase)).toEqual([0x3000, 0x1000]);
  });

  it('indexes sets by page number modulo the set count; fully associative levels have no conflicts', () => {
    const setAssoc = new Tlb([one(8, 2)]); // 4 sets
    const full = new Tlb([one(8, 8)]);
    for (const va of [0x0000, 0x4000, 0x8000]) {
      fillPage(setAssoc, 1, va); // pages 0, 4, 8: all set 0
      fillPage(full, 1, va);
    }
    fillPage(setAssoc, 1, 0x1000);
    expect(setAssoc.translates(1, 0x0000)).toBe(false);
    expect(setAssoc.entries(0).map((e) => [e.set, e.vaBase])).toEqual([
      [0, 0x8000],
      [0, 0x4000],
      [1, 0x1000],
    ]);
    expect(full.translates(1, 0x0000)).toBe(true);
    expect(full.stats()[0]!.evictions).toBe(0);
    const three = new Tlb([one(6, 2)]); // 3 sets, not a power of two
    for (const va of [0x0000, 0x3000, 0x6000]) fillPage(three, 1, va);
    expect(three.translates(1, 0x0000)).toBe(false);
  });

  it('holds a 2M mapping as the 4K block containing the access in a 4K-only level', () => {
    const t = new Tlb([one(16, 4, [K4], 'data'), one(16, 4, [K4, M2])]);
    const va = 2 ** 40 + 0x13_4567;
    t.fill(3, va, 'data', map(2 ** 40, M2, 0x8000_0000));
    expect(t.entries(0).map((e) => [e.vaBase, e.sizeLog2, e.paBase])).toEqual([
      [2 ** 40 + 0x13_4000, K4, 0x8013_4000],
    ]);
    expect(t.entries(1).map((e) => [e.vaBase, e.sizeLog2])).toEqual([[2 ** 40, M2]]);
    expect(t.lookup(3, va, 'data')).toBe(0);
    expect(t.lastPa).toBe(0x8013_4567);
    expect(t.lookup(3, 2 ** 40 + 0x10_0008, 'data')).toBe(1); // another 4K block: L2 hit, L1 refilled
    expect([t.lastPa, t.lastSizeLog2]).toEqual([0x8010_0008, M2]);
    expect(t.lookup(3, 2 ** 40 + 0x10_0010, 'data')).toBe(0);
    expect(t.stats()[0]!.hitsBySizeLog2).toEqual({ [K4]: 2 });
  });

  it('looks up a stage of parallel arrays at once: a 2M page lives only in the 2M array', () => {
    const t = new Tlb(arch('x86_64').tlb); // L1i | L1i-big, L1d | L1d-big, L2
    const va = 2 ** 40 + 0x13_4567;
    t.fill(3, va, 'data', map(2 ** 40, M2, 0x8000_0000));
    expect(t.entries(2)).toEqual([]); // not split into a 4K piece in L1d
    expect(t.entries(3).map((e) => [e.vaBase, e.sizeLog2])).toEqual([[2 ** 40, M2]]);
    expect(t.lookup(3, 2 ** 40 + 0x1f_0008, 'data')).toBe(3);
    expect(t.inFirstStage('data', 3)).toBe(true);
    expect(t.inFirstStage('data', 4)).toBe(false);
    expect(t.inFirstStage('instruction', 3)).toBe(false);
    const [l1d, big] = [t.stats()[2]!, t.stats()[3]!];
    expect([l1d.hits, l1d.misses, big.hits, big.misses]).toEqual([0, 0, 1, 0]);
    // A miss of the whole stage counts in both arrays; the L2 hit refills the array that fits.
    t.fill(3, 0x7000, 'instruction', map(0x7000, K4, 0x9000));
    expect(t.lookup(3, 0x7008, 'data')).toBe(4);
    expect(t.stats().map((s) => s.misses)).toEqual([0, 0, 1, 1, 0]);
    expect(t.entries(2).map((e) => [e.vaBase, e.sizeLog2])).toEqual([[0x7000, K4]]);
    expect(t.entries(3)).toHaveLength(1);
    // A 1G mapping goes to the stage's array with the largest size that fits (2M), once.
    t.fill(3, 2 ** 30 + 5, 'data', map(2 ** 30, G1, 2 ** 33));
    expect(t.entries(2)).toHaveLength(1);
    expect(t.entries(3).map((e) => e.sizeLog2)).toEqual([M2, M2]);
  });

  it('does not cache a mapping smaller than every size of a level', () => {
    const t = new Tlb([one(4, 4, [M2])]);
    t.fill(1, 0x5000, 'data', map(0x5000, K4, 0x9000));
    expect(t.translates(1, 0x5000)).toBe(false);
    expect(t.lookup(1, 0x5000, 'data')).toBe(-1);
  });

  it('isolates address spaces by ASID', () => {
    const t = new Tlb([one(8, 8)]);
    fillPage(t, 1, 0x7000);
    expect(t.lookup(2, 0x7000, 'data')).toBe(-1);
    expect(t.flushAsid(2)).toBe(0);
    expect(t.lookup(1, 0x7000, 'data')).toBe(0);
    expect(t.flushAsid(1)).toBe(1);
    expect(t.translates(1, 0x7000)).toBe(false);
  });

  it('keeps instruction and data paths apart and reports rights of the hit', () => {
    const t = new Tlb(arch('x86_64').tlb);
    t.fill(1, 0x40_0000, 'instruction', map(0x40_0000, K4, 0x1000, false, true));
    expect(t.entries(2)).toHaveLength(0); // L1d untouched
    expect(t.lookup(1, 0x40_0010, 'data')).toBe(4); // unified L2, then L1d refilled
    expect([t.lastWriteable, t.lastExecutable]).toEqual([false, true]);
    expect(t.lookup(1, 0x40_0010, 'data')).toBe(2);
    expect(t.lookup(1, 0x40_0010, 'instruction')).toBe(0);
  });

  it('updates an entry with the same key in place instead of evicting', () => {
    const t = new Tlb([one(1, 1)]);
    t.fill(1, 0x1000, 'data', map(0x1000, K4, 0x5000, false));
    t.fill(1, 0x1000, 'data', map(0x1000, K4, 0x6000, true));
    expect(t.lookup(1, 0x1000, 'data')).toBe(0);
    expect([t.lastPa, t.lastWriteable, t.stats()[0]!.evictions]).toEqual([0x6000, true, 0]);
  });

  it('rejects a misaligned mapping or one not containing the access as a broken invariant', () => {
    const t = new Tlb([one(4, 4)]);
    expect(() => t.fill(1, 0x1000, 'data', map(0x1800, K4, 0))).toThrow(InvariantError);
    expect(() => t.fill(1, 0x9000, 'data', map(0x1000, K4, 0))).toThrow(InvariantError);
    expect(() => new Tlb([one(6, 4)])).toThrow(InvariantError);
  });

  it('counts misses by the size of the translation that resolved them, and leaves a fault’s unresolved', () => {
    const t = new Tlb(arch('x86_64').tlb); // L1i|L1i-big, L1d|L1d-big, L2
    const miss = (s: ReturnType<Tlb['stats']>) => s.map((l) => [l.misses, l.missesBySizeLog2]);
    // A walk right after the missing lookup resolves every level of the data path under 2M.
    expect(t.lookup(1, 0x20_0008, 'data')).toBe(-1);
    t.fill(1, 0x20_0008, 'data', map(0x20_0000, M2, 0x4000_0000));
    // Another 4K block of the same 2M page: L1d-big holds it (no miss).
    expect(t.lookup(1, 0x20_1008, 'data')).toBe(3);
    // A miss whose walk found nothing (a page fault): no fill follows, the misses stay unresolved.
    expect(t.lookup(1, 0x80_0000, 'data')).toBe(-1);
    // A fill of another address after a miss does not resolve it.
    expect(t.lookup(1, 0x90_0000, 'data')).toBe(-1);
    t.fill(1, 0xa0_0000, 'data', map(0xa0_0000, K4, 0x5000_0000));
    // A deeper hit resolves the first stage's miss with the deeper entry's size.
    t.flushAll();
    t.fill(1, 0x20_0008, 'instruction', map(0x20_0000, M2, 0x4000_0000));
    t.flushRange(1, 0, 2 ** 30); // leaves nothing; refill L2 only through the data path
    t.fill(1, 0x40_0000, 'data', map(0x40_0000, K4, 0x6000_0000));
    expect(t.lookup(1, 0x40_0000, 'instruction')).toBe(4); // L2 (unified) serves the fetch
    expect(miss(t.stats())).toEqual([
      [1, { [K4]: 1 }],
      [1, { [K4]: 1 }],
      [3, { [M2]: 1 }],
      [3, { [M2]: 1 }],
      [3, { [M2]: 1 }],
    ]);
  });

  it('counts and resets statistics and summarises itself', () => {
    const t = new Tlb([one(4, 2)]);
    fillPage(t, 1, 0x1000);
    t.lookup(1, 0x1000, 'data');
    t.lookup(1, 0x2000, 'data');
    expect(t.toString()).toBe(
      'T (unified, 4 entries, 2-way, 4K): 1 valid, 1 hits, 1 misses, 0 evictions, 0 invalidations',
    );
    t.resetStats();
    expect(t.stats()[0]).toMatchObject({ hits: 0, misses: 0, valid: 1, hitsBySizeLog2: { [K4]: 0 } });
    expect(t.entries(0)[0]!.toString()).toBe('asid 1 0x1000+4K -> 0x100001000 rw- (set 1)');
  });

  it('flushRange removes exactly the entries of that ASID overlapping the range', () => {
    const fills = fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), vaArb, fc.constantFrom(K4, M2, G1)), {
      minLength: 1,
      maxLength: 40,
    });
    // The range starts near a filled address (just below, at, inside or just past its page) or anywhere.
    const range = fc.tuple(
      fc.nat(),
      fc.option(fc.constantFrom(-1, 0, 8, 4095, 4096), { nil: undefined }),
      vaArb,
      fc.constantFrom(1, 0x1000, 0x3000, 2 ** M2 + 0x1000, 2 ** G1),
    );
    fc.assert(
      fc.property(fills, range, (fs, [pick, delta, anyVa, size]) => {
        const t = new Tlb(arch('x86_64').tlb);
        for (const [asid, va, s] of fs) t.fill(asid, va, 'data', map(va - (va % 2 ** s), s, 2 ** 44));
        const near = fs[pick % fs.length]![1];
        const start = delta === undefined ? anyVa : Math.max(0, near - (near % 0x1000) + delta);
        const before = t.levels.map((_, i) => t.entries(i));
        const hit = (e: { asid: number; vaBase: number; sizeLog2: number }) =>
          e.asid === 1 && e.vaBase < start + size && e.vaBase + 2 ** e.sizeLog2 > start;
        const removed = before.flat().filter(hit).length;
        expect(t.flushRange(1, start, size)).toBe(removed);
        t.levels.forEach((_, i) => {
          expect(t.entries(i).map(String)).toEqual(before[i]!.filter((e) => !hit(e)).map(String));
        });
        for (const va of [start, start + size - 1, start + Math.floor(size / 2)]) {
          expect(t.translates(1, va)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hit runs and repeated hits keep LRU exact', () => {
  const unified = (entries: number): TlbLevelSpec[] => [
    { name: 'U', kind: 'unified', entries, ways: entries, pageSizesLog2: [12] },
  ];
  const map = (va: number) => ({
    vaBase: va,
    sizeLog2: 12,
    paBase: va + 0x100000,
    writeable: true,
    executable: true,
  });

  it('a data hit between two instruction hits on a shared level still leaves the instruction entry most recent', () => {
    const t = new Tlb(unified(2));
    t.fill(1, 0x1000, 'instruction', map(0x1000));
    t.fill(1, 0x2000, 'data', map(0x2000));
    expect(t.lookup(1, 0x1008, 'instruction')).toBe(0);
    expect(t.lookup(1, 0x2008, 'data')).toBe(0);
    expect(t.lookup(1, 0x1010, 'instruction')).toBe(0); // the same entry again: must become MRU
    t.fill(1, 0x3000, 'data', map(0x3000)); // evicts the LRU entry, which is 0x2000's
    expect(t.translates(1, 0x1000)).toBe(true);
    expect(t.translates(1, 0x2000)).toBe(false);
    expect(t.stats()[0]!.hits).toBe(3);
  });

  /** Runs `records` ([kind, va]) of asid 1 with 8-byte accesses; returns how many were replayed. */
  const run = (t: Tlb, records: Array<[number, number]>) =>
    t.hitRun(
      1,
      Uint8Array.from(records, (r) => r[0]),
      Float64Array.from(records, (r) => r[1]),
      Uint32Array.from(records, () => 8),
      0,
      records.length,
      4096,
      { add: () => {} },
      1,
      0,
      Number.POSITIVE_INFINITY,
    );

  it('a run resuming in its last block touches the entry when another kind used the shared level since', () => {
    const t = new Tlb(unified(2));
    t.fill(1, 0x1000, 'instruction', map(0x1000));
    t.fill(1, 0x2000, 'data', map(0x2000));
    expect(run(t, [[0, 0x1000]])).toBe(1);
    expect(t.lookup(1, 0x2000, 'data')).toBe(0); // 0x2000 is now the most recent
    expect(run(t, [[0, 0x1008]])).toBe(1); // the same block again: must become most recent
    t.fill(1, 0x3000, 'data', map(0x3000));
    expect([t.translates(1, 0x1000), t.translates(1, 0x2000)]).toEqual([true, false]);
  });

  it('inside one run, hits of one kind on a shared level reorder the other kind’s block', () => {
    const t = new Tlb(unified(2));
    t.fill(1, 0x1000, 'instruction', map(0x1000));
    t.fill(1, 0x2000, 'data', map(0x2000));
    expect(
      run(t, [
        [1, 0x2000],
        [0, 0x1000],
        [1, 0x2010],
      ]),
    ).toBe(3);
    t.fill(1, 0x3000, 'data', map(0x3000)); // evicts the instruction entry, used least recently
    expect([t.translates(1, 0x1000), t.translates(1, 0x2000)]).toEqual([false, true]);
    expect(t.stats()[0]!.hits).toBe(3);
  });

  it('and the other way round: data hits reorder the instruction block', () => {
    const t = new Tlb(unified(2));
    t.fill(1, 0x1000, 'instruction', map(0x1000));
    t.fill(1, 0x2000, 'data', map(0x2000));
    expect(
      run(t, [
        [0, 0x1000],
        [1, 0x2000],
        [0, 0x1010],
      ]),
    ).toBe(3);
    t.fill(1, 0x3000, 'data', map(0x3000));
    expect([t.translates(1, 0x1000), t.translates(1, 0x2000)]).toEqual([true, false]);
  });

  it('a run treats a large entry as one block only while nothing smaller in its stage could shadow it', () => {
    const t = new Tlb(arch('x86_64').tlb);
    t.fill(1, 0x5000, 'data', { ...map(0x5000), paBase: 0x7_0000 }); // L1d: 4K inside the 2M page below
    t.fill(1, 0x1000, 'data', { ...map(0), sizeLog2: M2, paBase: 0x4000_0000 }); // L1d-big
    expect(
      run(t, [
        [1, 0x1000],
        [1, 0x5008],
      ]),
    ).toBe(2);
    expect([t.lastPa, t.lastSizeLog2]).toEqual([0x7_0008, K4]);
    t.flushRange(1, 0x5000, 0x1000); // both entries overlap it
    t.fill(1, 0x1000, 'data', { ...map(0), sizeLog2: M2, paBase: 0x4000_0000 });
    expect(
      run(t, [
        [1, 0x1000],
        [1, 0x5008],
        [1, 0x1f_f000],
      ]),
    ).toBe(3);
    expect([t.lastPa, t.lastSizeLog2]).toEqual([0x401f_f000, M2]);
    expect([t.stats()[2]!.hits, t.stats()[3]!.hits]).toEqual([1, 4]);
  });

  it('a run never serves an address from a large entry when a smaller one holds its block', () => {
    const t = new Tlb([{ name: 'U', kind: 'unified', entries: 4, ways: 4, pageSizesLog2: [12, 21] }]);
    t.fill(1, 0x5000, 'instruction', { ...map(0), sizeLog2: 21, paBase: 0x4000_0000 });
    t.fill(1, 0x1000, 'instruction', map(0x1000)); // a 4K entry inside the 2M one
    expect(
      run(t, [
        [0, 0x5000],
        [0, 0x1008],
      ]),
    ).toBe(2);
    expect([t.lastPa, t.lastSizeLog2]).toEqual([0x101008, 12]);
    expect(t.stats()[0]!.hitsBySizeLog2).toEqual({ 12: 1, 21: 1 });
  });

  it('a run goes on through a deeper hit, refilling the first level, and stops at its cycle budget', () => {
    const t = new Tlb([
      { name: 'D', kind: 'data', entries: 1, ways: 1, pageSizesLog2: [12] },
      { name: 'U', kind: 'unified', entries: 4, ways: 4, pageSizesLog2: [12] },
    ]);
    t.fill(1, 0x1000, 'data', map(0x1000));
    t.fill(1, 0x2000, 'data', map(0x2000)); // D now holds only 0x2000
    const kinds = Uint8Array.of(1, 1, 1, 1);
    const addrs = Float64Array.of(0x2000, 0x1008, 0x1010, 0x2010);
    const sizes = Uint32Array.of(8, 8, 8, 8);
    const sink = { add: () => {} };
    expect(t.hitRun(1, kinds, addrs, sizes, 0, 4, 4096, sink, 1, 9, Number.POSITIVE_INFINITY)).toBe(4);
    expect(t.runCycles).toBe(4 + 2 * 9); // 0x1008 and 0x2010 come from U
    expect(t.stats().map((s) => [s.hits, s.misses])).toEqual([
      [2, 2],
      [2, 0],
    ]);
    expect(t.lastPa).toBe(0x102010);
    // Budget 11: the second access's deeper hit reaches it, so the third waits.
    expect(t.hitRun(1, kinds, addrs, sizes, 0, 4, 4096, sink, 1, 9, 11)).toBe(2);
    expect(t.runCycles).toBe(11);
  });

  it('a run stops before an access crossing a page, one needing rights the entry lacks, or a miss', () => {
    const t = new Tlb(unified(4));
    t.fill(1, 0x1000, 'data', { ...map(0x1000), writeable: false, executable: false });
    expect(
      run(t, [
        [1, 0x1000],
        [1, 0x1ffc],
      ]),
    ).toBe(1); // 0x1ffc + 8 crosses into 0x2000
    expect(
      run(t, [
        [1, 0x1000],
        [2, 0x1008],
      ]),
    ).toBe(1); // a store to a read-only entry
    expect(run(t, [[0, 0x1000]])).toBe(0); // a fetch from a non-executable entry
    expect(run(t, [[1, 0x9000]])).toBe(0);
    expect(t.stats()[0]!.misses).toBe(0); // stopping has no side effect
  });

  it('a run never serves an address space from pages cached for another one', () => {
    const t = new Tlb(unified(4));
    t.fill(1, 0x1000, 'data', map(0x1000));
    const sink = { add: () => {} };
    const one = (asid: number) =>
      t.hitRun(asid, Uint8Array.of(1), Float64Array.of(0x1008), Uint32Array.of(8), 0, 1, 4096, sink, 1, 0, 9);
    expect(one(1)).toBe(1);
    expect(one(2)).toBe(0);
    expect(one(1)).toBe(1);
    expect(t.stats()[0]!.hits).toBe(2);
  });

  it('a run using many slots leaves them in order of last use', () => {
    const t = new Tlb(unified(48));
    const pageAt = (p: number) => 0x10_0000 + p * 4096;
    for (let p = 0; p < 48; p++) t.fill(1, pageAt(p), 'data', map(pageAt(p)));
    // A shuffled walk over all 48 pages, then a few again: 48 slots used in one run.
    const walk = Array.from({ length: 48 }, (_, i) => (i * 29) % 48);
    walk.push(5, 40, 17, 0);
    expect(
      run(
        t,
        walk.map((p) => [1, pageAt(p) + 8]),
      ),
    ).toBe(walk.length);
    const lastUse = new Map(walk.map((p, i) => [p, i]));
    const oldest = [...lastUse.keys()].sort((a, b) => lastUse.get(a)! - lastUse.get(b)!).slice(0, 20);
    for (let p = 48; p < 68; p++) t.fill(1, pageAt(p), 'data', map(pageAt(p)));
    const gone = Array.from({ length: 48 }, (_, p) => p).filter((p) => !t.translates(1, pageAt(p)));
    expect(gone.sort((a, b) => a - b)).toEqual(oldest.sort((a, b) => a - b));
  });

  it('a page holding entries smaller than itself is served block by block', () => {
    const t = new Tlb([{ name: 'U', kind: 'unified', entries: 4, ways: 4, pageSizesLog2: [10, 12] }]);
    t.fill(1, 0x1000, 'data', { ...map(0x1000), sizeLog2: 10, paBase: 0x8000 });
    expect(
      run(t, [
        [1, 0x1000],
        [1, 0x1408],
      ]),
    ).toBe(1); // 0x1400's 1K block has no entry
    t.fill(1, 0x1400, 'data', { ...map(0x1400), sizeLog2: 10, paBase: 0x9400 });
    expect(
      run(t, [
        [1, 0x1000],
        [1, 0x1408],
      ]),
    ).toBe(2);
    expect(t.lastPa).toBe(0x9408);
  });

  it('an instruction path through the data path’s first level voids the data shortcut', () => {
    // The data path is [D, U], the instruction path [U]: instruction hits reorder U.
    const t = new Tlb([
      { name: 'D', kind: 'data', entries: 1, ways: 1, pageSizesLog2: [12] },
      { name: 'U', kind: 'unified', entries: 2, ways: 2, pageSizesLog2: [12] },
    ]);
    t.fill(1, 0x1000, 'data', map(0x1000));
    t.fill(1, 0x5000, 'instruction', map(0x5000));
    expect(t.lookup(1, 0x1000, 'data')).toBe(0);
    expect(t.lookup(1, 0x5000, 'instruction')).toBe(1);
    expect(t.lookup(1, 0x1004, 'data')).toBe(0);
    expect(t.stats().map((s) => s.hits)).toEqual([2, 1]);
  });
});
