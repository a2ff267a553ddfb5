/**
 * Model-based property test of the Tlb: random geometries and operation sequences (lookups,
 * fills, walks, hit runs, flushes) run on the real Tlb and on the naive reference
 * (tlb_reference.testutil.ts), which must agree on results, counters and contents after every
 * step. Apart from the unit tests (tlb.test.ts, tlb_hit_run.test.ts) because of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arch, type TlbLevelSpec } from './arch.js';
import { Tlb, type TlbAccess, type TlbMapping } from './tlb.js';
import {
  expectSameLastHit,
  expectSameState,
  G1,
  K4,
  K16,
  M2,
  type RefEntry,
  RefTlb,
  vaArb,
  vaIn,
} from './tlb_reference.testutil.js';

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
/** A wide universe of addresses (churn in the hash index). */
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
