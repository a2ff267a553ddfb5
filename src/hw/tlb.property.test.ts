/**
 * Model-based property test of the Tlb: random geometries and operation sequences (lookups,
 * fills, walks, hit runs, flushes) run on the real Tlb and on the naive reference
 * (tlb_reference.testutil.ts), which must agree on results, counters and contents after every
 * step. Apart from the unit tests (tlb.test.ts, tlb_hit_run.test.ts) because of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arch, type TlbLevelSpec } from './arch.js';
import { Tlb, type TlbAccess } from './tlb.js';
import {
  FillCmd,
  FlushCmd,
  HitRunCmd,
  LookupCmd,
  type RunRecord,
  TranslateCmd,
} from './tlb_commands.testutil.js';
import { G1, K4, K16, M2, RefTlb, vaArb, vaIn } from './tlb_reference.testutil.js';

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
