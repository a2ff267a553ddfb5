/**
 * Unit tests of the Tlb's hit runs (`hitRun`) and of LRU order under repeated hits: split from
 * tlb.test.ts, which holds the other unit tests, so each file stays one topic.
 */
import { describe, expect, it } from 'vitest';
import { arch, type TlbLevelSpec } from './arch.js';
import { Tlb } from './tlb.js';
import { K4, M2 } from './tlb_reference.testutil.js';

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
