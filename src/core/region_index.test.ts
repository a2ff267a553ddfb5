/**
 * The region lookup index against a naive reference (a list scanned for the region containing
 * the address): random attaches and detaches of non-overlapping page-granular regions of every
 * size class, with lookups at region edges, inside and in the gaps, after every change; the
 * records the resolver reads must hold the found region's own fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dataspace } from './dataspace.js';
import { RegionIndex } from './region_index.js';
import type { Region } from './region_map.js';
import { EXECUTABLE, WRITEABLE } from './region_records.js';

const PAGE_LOG2 = 12;
const PAGE = 2 ** PAGE_LOG2;

type Fake = {
  readonly base: number;
  readonly size: number;
  readonly offset: number;
  readonly writeable: boolean;
  readonly executable: boolean;
  dataspace: Dataspace | null;
};

/** Two stand-in dataspaces (the index only stores and returns them). */
const DS = [{ id: 1 }, { id: 2 }] as unknown as Dataspace[];

function fake(base: number, size: number, n: number): Fake {
  return {
    base,
    size,
    offset: (n % 5) * PAGE,
    writeable: n % 2 === 0,
    executable: n % 3 === 0,
    dataspace: DS[n % 2]!,
  };
}

/** The record found for addr holds exactly the fields of the region found there. */
function expectRecord(index: RegionIndex, addr: number, r: Fake): void {
  const rec = index.find(addr);
  const x = index.records;
  expect(x.regions[rec]).toBe(r);
  expect([x.bases[rec], x.ends[rec], x.offsets[rec], x.dataspaces[rec]]).toEqual([
    r.base,
    r.base + r.size,
    r.offset,
    r.dataspace,
  ]);
  expect(x.rights[rec]).toBe((r.writeable ? WRITEABLE : 0) | (r.executable ? EXECUTABLE : 0));
}

function naive(regions: readonly Fake[], addr: number): Fake | null {
  return regions.find((r) => addr >= r.base && addr < r.base + r.size) ?? null;
}

/** A change: add a region of `pages` pages at page `at` (if free there), or remove the i-th region. */
const op = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.oneof(
      fc.nat({ max: 4096 }),
      fc.nat({ max: 2 ** 36 }),
      fc.constantFrom(0, 7, 8, 9, 511, 512, 4095),
    ),
    pages: fc.oneof(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(8, 9, 64, 65, 512, 513, 2 ** 18, 2 ** 27 + 1),
    ),
  }),
  fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
);

describe('RegionIndex', () => {
  it('finds the region containing an address exactly as a scan of every region does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.array(fc.nat(), { maxLength: 20 }), (ops, probes) => {
        const index = new RegionIndex(PAGE_LOG2);
        const regions: Fake[] = [];
        for (const o of ops) {
          if (o.kind === 'add') {
            const r = fake(o.at * PAGE, o.pages * PAGE, o.at + o.pages);
            const overlaps = regions.some((x) => r.base < x.base + x.size && x.base < r.base + r.size);
            if (overlaps || r.base + r.size > 2 ** 53) continue;
            regions.push(r);
            index.add(r as Region);
          } else if (regions.length > 0) {
            const [r] = regions.splice(o.i % regions.length, 1);
            index.remove(r as Region);
          }
          // Every edge of every region, and a few addresses around them and elsewhere.
          const addrs = regions.flatMap((r) => [
            r.base - 1,
            r.base,
            r.base + 8,
            r.base + r.size - 1,
            r.base + r.size,
          ]);
          for (const p of probes) addrs.push(p * 977, (p % 4096) * PAGE + (p % PAGE));
          for (const a of addrs) {
            if (a < 0) continue;
            const want = naive(regions, a);
            expect(index.lookup(a)).toBe(want);
            if (want) expectRecord(index, a, want);
            else expect(index.find(a)).toBe(-1);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every region findable through table growth and deletions', () => {
    const index = new RegionIndex(PAGE_LOG2);
    const regions: Fake[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = fake(2 ** 32 + i * 2 * PAGE, PAGE, i);
      regions.push(r);
      index.add(r as Region);
    }
    for (let i = 0; i < 20_000; i += 3) index.remove(regions[i] as Region);
    for (let i = 0; i < 20_000; i++) {
      const r = regions[i]!;
      expect(index.lookup(r.base + 5)).toBe(i % 3 === 0 ? null : r);
      expect(index.lookup(r.base + PAGE)).toBeNull();
      if (i % 3 !== 0) expectRecord(index, r.base + 5, r);
    }
  });

  it('shows a reserved region without its dataspace and keeps the others', () => {
    const index = new RegionIndex(PAGE_LOG2);
    const regions = [0, 1, 2].map((i) => fake((8 + i * 3) * PAGE, 2 * PAGE, i));
    for (const r of regions) index.add(r as Region);
    regions[1]!.dataspace = null;
    index.reserve(regions[1] as Region);
    for (const r of regions) expectRecord(index, r.base + 1, r);
    expect(index.records.dataspaces[index.find(regions[0]!.base)]).toBe(DS[0]);
  });
});
