import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { arch, type TlbLevelSpec } from './arch.js';
import { Tlb, type TlbMapping } from './tlb.js';
import { G1, K4, M2, vaArb } from './tlb_reference.testutil.js';

// The model-based property test is in tlb.property.test.ts, hit runs and LRU order in tlb_hit_run.test.ts.

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
