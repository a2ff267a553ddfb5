/**
 * Hit runs (tlb_run.ts) under churn, against the reference model: first stages of one or two slots
 * behind a larger level that already holds every page, so most runs meet first-stage misses that
 * the deeper level serves. Each such refill evicts a slot that blocks cached by the run may name,
 * while the blocks of other slots stay cached.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TlbLevelSpec } from './arch.js';
import { Tlb } from './tlb.js';
import { FillCmd, HitRunCmd, LookupCmd, type RunRecord, TranslateCmd } from './tlb_commands.testutil.js';
import { M2, RefTlb } from './tlb_reference.testutil.js';

const PAGES = 12;
/** A 4K page of the pool (the last one is 2M-aligned, for the large classes), plus an offset. */
const vaArb = fc
  .tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.constantFrom(0, 8, 0x408, 0xff0))
  .map(([p, off]) => (p < PAGES - 1 ? 0x10000 + p * 0x1000 : 2 ** M2) + off);

/**
 * Tiny first stages before a 64-entry unified L2: a 4K level, sometimes with a parallel 2M one, or
 * (`shadow`) a 16K level probed before a parallel 4K one, where a refilled 16K entry takes over
 * blocks that a 4K entry served until then, or (`mixed`) one level of both sizes, whose two classes
 * may index different sets.
 */
const geometryArb = fc
  .record({
    sets: fc.constantFrom(1, 2),
    ways: fc.constantFrom(1, 2),
    big: fc.boolean(),
    split: fc.boolean(),
    shadow: fc.boolean(),
    mixed: fc.boolean(),
  })
  .map(({ sets, ways, big, split, shadow, mixed }) => {
    const small = (kind: TlbLevelSpec['kind'], name: string, parallel: boolean): TlbLevelSpec => ({
      name,
      kind,
      entries: sets * ways,
      ways,
      pageSizesLog2: mixed ? [12, 14] : [12],
      ...(parallel ? { parallel } : {}),
    });
    const first = (kind: TlbLevelSpec['kind'], name: string): TlbLevelSpec[] =>
      shadow
        ? [{ name: `${name}-16k`, kind, entries: 2, ways: 1, pageSizesLog2: [14] }, small(kind, name, true)]
        : [
            small(kind, name, false),
            ...(big
              ? [{ name: `${name}-big`, kind, entries: 2, ways: 2, pageSizesLog2: [21], parallel: true }]
              : []),
          ];
    return [
      ...(split ? [...first('instruction', 'L1i'), ...first('data', 'L1d')] : first('unified', 'L1')),
      { name: 'L2', kind: 'unified', entries: 64, ways: 4, pageSizesLog2: [12, 14, 21] },
    ] satisfies TlbLevelSpec[];
  });

const recordArb = fc.tuple(
  fc.integer({ min: 0, max: 3 }),
  vaArb,
  fc.constantFrom(1, 8, 16),
) as fc.Arbitrary<RunRecord>;

const commandsArb = fc.commands(
  [
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .tuple(
            fc.array(recordArb, { minLength: 4, maxLength: 30 }),
            fc.constantFrom(0, 1),
            fc.constantFrom(0, 9),
          )
          .map(
            ([records, access, deeper]) =>
              new HitRunCmd(0, records, access, deeper, Number.POSITIVE_INFINITY),
          ),
      },
      { weight: 1, arbitrary: vaArb.map((va) => new LookupCmd(0, va, 'data')) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(vaArb, fc.constantFrom(12, 21))
          .map(([va, s]) => new TranslateCmd(0, va, 'instruction', s)),
      },
    ),
  ],
  { maxCommands: 60 },
);

/**
 * Fills the pool's pages into both models, writeable and executable: 4K each, but a 16K mapping for
 * pages 1 and 5, so the other pages of their aligned groups of four resolve through a 4K entry and
 * these two through a 16K one.
 */
function warm(m: RefTlb, r: Tlb): void {
  for (let p = 0; p < PAGES; p++) {
    const va = p < PAGES - 1 ? 0x10000 + p * 0x1000 : 2 ** M2;
    const sizeLog2 = p === 1 || p === 5 ? 14 : 12;
    const vaBase = va - (va % 2 ** sizeLog2);
    const mapping = { vaBase, sizeLog2, paBase: 2 ** 40 + vaBase, writeable: true, executable: true };
    new FillCmd(0, va, p % 2 === 0 ? 'data' : 'instruction', mapping).run(m, r);
  }
}

describe('Tlb hit runs under first-stage churn', () => {
  it('agree with looking each record up while deeper hits keep refilling one- and two-slot first stages', () => {
    let deeperHits = 0;
    fc.assert(
      fc.property(geometryArb, commandsArb, (geom, cmds) => {
        const real = new Tlb(geom);
        fc.modelRun(() => {
          const model = new RefTlb(geom);
          warm(model, real);
          return { model, real };
        }, cmds);
        deeperHits += real.stats().at(-1)!.hits;
      }),
      { numRuns: 150 },
    );
    // The property is about refills inside runs: make sure they happened, many times.
    expect(deeperHits).toBeGreaterThan(2_000);
  });

  it('a deeper hit that refills a 16K entry moves the 4K blocks it covers, cached in the run, to it', () => {
    // The 16K level is probed before the 4K one, so once the refill puts 0x10000+16K there, pages
    // 0x10000 and 0x12000 hit it (other physical pages) instead of their 4K entries.
    const geom: TlbLevelSpec[] = [
      { name: 'L1d-16k', kind: 'data', entries: 2, ways: 1, pageSizesLog2: [14] },
      { name: 'L1d', kind: 'data', entries: 4, ways: 4, pageSizesLog2: [12], parallel: true },
      { name: 'L2', kind: 'unified', entries: 64, ways: 4, pageSizesLog2: [12, 14] },
    ];
    const model = new RefTlb(geom);
    const real = new Tlb(geom);
    const map = (vaBase: number, sizeLog2: number, paBase: number) =>
      ({ vaBase, sizeLog2, paBase, writeable: true, executable: true }) as const;
    new FillCmd(0, 0x10000, 'data', map(0x10000, 12, 2 ** 40)).run(model, real);
    new FillCmd(0, 0x12000, 'data', map(0x12000, 12, 2 ** 40 + 0x2000)).run(model, real);
    new FillCmd(0, 0x11000, 'data', map(0x10000, 14, 2 ** 41)).run(model, real);
    // Another 16K entry in the same set takes the 16K level's slot: now only L2 holds 0x10000+16K.
    new FillCmd(0, 0x18000, 'data', map(0x18000, 14, 2 ** 42)).run(model, real);
    const recs = (vas: number[]): RunRecord[] => vas.map((va) => [1, va + 8, 8] as const);
    new HitRunCmd(0, recs([0x10000, 0x12000, 0x11000, 0x10000, 0x12000]), 1, 9, Infinity).run(model, real);
    expect(real.stats()[0]!.hits).toBe(2);
  });
});
