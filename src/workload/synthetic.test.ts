import { xoroshiro128plus } from 'pure-rand';
import { describe, expect, it } from 'vitest';
import { INSTR, LOAD, MODIFY, STORE, TraceBatch, type TraceRecord } from '../sim/trace_batch.js';
import { unwrap } from '../util/result.js';
import {
  createThreadedWorkload,
  createWorkload,
  type SyntheticTrace,
  type ThreadedWorkloadSpec,
  type WorkloadSpec,
  ZipfSampler,
} from './synthetic.js';

function records(t: SyntheticTrace, cap = 1000): TraceRecord[] {
  const out: TraceRecord[] = [];
  t.run((b) => {
    out.push(...b.toRecords());
  }, new TraceBatch(cap));
  return out;
}

const gen = (spec: WorkloadSpec) => records(unwrap(createWorkload(spec)));
const data = (rs: TraceRecord[]) => rs.filter((r) => r.kind !== INSTR);
const distinct = (xs: number[]) => new Set(xs).size;

describe('single-stream generators', () => {
  it('sequential sweeps the region in order and wraps', () => {
    const rs = gen({
      pattern: 'sequential',
      records: 6,
      footprint: 32,
      seed: 1,
      base: 0x1000,
      accessSize: 8,
    });
    expect(rs.map((r) => r.addr)).toEqual([0x1000, 0x1008, 0x1010, 0x1018, 0x1000, 0x1008]);
    expect(rs.every((r) => r.size === 8)).toBe(true);
  });

  it('strided steps by the stride modulo the footprint, aligned down to the access size', () => {
    const rs = gen({
      pattern: 'strided',
      stride: 4100,
      records: 4,
      footprint: 8192,
      seed: 1,
      base: 0,
      accessSize: 8,
    });
    expect(rs.map((r) => r.addr)).toEqual([0, 4096, 8200 - 8192, 4104]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const spec: WorkloadSpec = { pattern: 'uniform', records: 5000, footprint: 1 << 20, seed: 42 };
    const a = gen(spec);
    expect(gen(spec)).toEqual(a);
    // The batch size does not change the stream.
    expect(records(unwrap(createWorkload(spec)), 7)).toEqual(a);
    expect(gen({ ...spec, seed: 43 })).not.toEqual(a);
  });

  it.each<WorkloadSpec>([
    { pattern: 'uniform', records: 20000, footprint: 1 << 16, seed: 3 },
    { pattern: 'zipf', skew: 1.2, records: 20000, footprint: 1 << 20, seed: 3, scatter: true },
    { pattern: 'phased', phases: 3, workingSet: 8192, records: 20000, footprint: 1 << 18, seed: 3 },
    { pattern: 'strided', stride: 4096 + 64, records: 20000, footprint: 1 << 18, seed: 3 },
  ])('$pattern respects the footprint and alignment', (spec) => {
    const base = 0x20000000;
    const rs = gen({ ...spec, base, accessSize: 16 });
    expect(rs).toHaveLength(20000);
    const outside = rs.filter(
      (r) => r.addr < base || r.addr + r.size > base + spec.footprint || r.addr % 16 !== 0,
    );
    expect(outside).toEqual([]);
    expect(Math.max(...rs.map((r) => r.addr))).toBeGreaterThan(base + spec.footprint / 2);
  });

  it('uniform covers the region', () => {
    const rs = gen({ pattern: 'uniform', records: 20000, footprint: 64 * 4096, seed: 5 });
    expect(distinct(rs.map((r) => Math.floor(r.addr / 4096)))).toBe(64);
  });

  it('mixes loads, stores and modifies in the requested ratios', () => {
    const rs = gen({
      pattern: 'uniform',
      records: 40000,
      footprint: 1 << 20,
      seed: 9,
      writeRatio: 0.25,
      modifyRatio: 0.1,
    });
    const share = (k: number) => rs.filter((r) => r.kind === k).length / rs.length;
    expect(share(STORE)).toBeCloseTo(0.25, 1);
    expect(share(MODIFY)).toBeCloseTo(0.1, 1);
    expect(share(LOAD)).toBeCloseTo(0.65, 1);
    expect(
      gen({ pattern: 'uniform', records: 100, footprint: 4096, seed: 9, writeRatio: 0 }).every(
        (r) => r.kind === LOAD,
      ),
    ).toBe(true);
    expect(
      gen({ pattern: 'uniform', records: 100, footprint: 4096, seed: 9, writeRatio: 1 }).every(
        (r) => r.kind === STORE,
      ),
    ).toBe(true);
  });

  it('interleaves instruction fetches walking the code region', () => {
    const rs = gen({
      pattern: 'uniform',
      records: 9,
      footprint: 4096,
      seed: 1,
      instrPerAccess: 2,
      codeBase: 0x400000,
      codeFootprint: 8,
    });
    expect(rs.map((r) => (r.kind === INSTR ? 'I' : 'D')).join('')).toBe('IIDIIDIID');
    expect(rs.filter((r) => r.kind === INSTR).map((r) => r.addr)).toEqual([
      0x400000, 0x400004, 0x400000, 0x400004, 0x400000, 0x400004,
    ]);
    expect(rs.filter((r) => r.kind === INSTR).every((r) => r.size === 4)).toBe(true);
  });

  it('zipf: more skew concentrates accesses on fewer, hotter pages', () => {
    const hot = (skew: number) => {
      const pages = data(
        gen({ pattern: 'zipf', skew, records: 30000, footprint: 1024 * 4096, seed: 11, base: 0 }),
      ).map((r) => Math.floor(r.addr / 4096));
      const top = pages.filter((p) => p === 0).length / pages.length;
      return { top, distinct: distinct(pages) };
    };
    const [a, b, c] = [hot(0.5), hot(1), hot(2)];
    expect(a.top).toBeLessThan(b.top);
    expect(b.top).toBeLessThan(c.top);
    expect(a.distinct).toBeGreaterThan(b.distinct);
    expect(b.distinct).toBeGreaterThan(c.distinct);
    // s = 1 over 1024 items: P(rank 1) = 1 / H(1024) = 0.1331
    expect(b.top).toBeCloseTo(0.133, 2);
  });

  it('zipf scatter moves hot items away from the lowest address but keeps the skew', () => {
    const spec: WorkloadSpec = {
      pattern: 'zipf',
      skew: 1.5,
      records: 20000,
      footprint: 1000 * 4096,
      seed: 2,
      base: 0,
    };
    const pagesOf = (rs: TraceRecord[]) => rs.map((r) => Math.floor(r.addr / 4096));
    const plain = pagesOf(gen(spec));
    const scattered = pagesOf(gen({ ...spec, scatter: true }));
    const histogram = (ps: number[]) => [...countBy(ps).values()].sort((x, y) => y - x);
    expect(mode(plain)).toBe(0);
    expect(mode(scattered)).not.toBe(0);
    // Same random stream, items permuted: identical popularity histogram.
    expect(histogram(scattered)).toEqual(histogram(plain));
  });

  it('phased: each phase stays in its own working set, phases cycle', () => {
    const rs = gen({
      pattern: 'phased',
      phases: 3,
      workingSet: 4096,
      phaseLength: 100,
      records: 600,
      footprint: 3 * 4096 * 4,
      seed: 4,
      base: 0,
    });
    const setOf = (r: TraceRecord) => Math.floor(r.addr / 4096);
    const phases = [0, 1, 2, 3, 4, 5].map((p) => distinct(rs.slice(p * 100, p * 100 + 100).map(setOf)));
    expect(phases).toEqual([1, 1, 1, 1, 1, 1]);
    const starts = [0, 1, 2, 3, 4, 5].map((p) => setOf(rs[p * 100]!));
    expect(starts).toEqual([0, 5, 11, 0, 5, 11]); // sets spread evenly over 12 pages
  });
});

function countBy(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function mode(xs: number[]): number {
  return [...countBy(xs)].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

describe('ZipfSampler', () => {
  it.each([0, 0.8, 1, 2])('matches the exact pmf over 10 ranks for s=%f', (s) => {
    const n = 10;
    const sampler = new ZipfSampler(n, s);
    const rng = xoroshiro128plus(7);
    const counts = new Array<number>(n + 1).fill(0);
    const draws = 200000;
    for (let i = 0; i < draws; i++) counts[sampler.sample(rng)]!++;
    const h = Array.from({ length: n }, (_, k) => (k + 1) ** -s).reduce((x, y) => x + y, 0);
    expect(counts[0]).toBe(0);
    for (let k = 1; k <= n; k++) expect(counts[k]! / draws).toBeCloseTo(k ** -s / h, 2);
  });
});

describe('threaded workloads', () => {
  const spec: ThreadedWorkloadSpec = {
    threads: 3,
    recordsPerThread: 6000,
    sharedFootprint: 64 * 1024,
    privateFootprint: 100 * 1000, // not page-sized: private regions start 4K-aligned
    shareRatio: 0.3,
    seed: 99,
    base: 0x10000000,
  };

  it('gives each thread a private region, all share one region, in the share ratio', () => {
    const threads = unwrap(createThreadedWorkload(spec)).map((t) => records(t));
    const sharedEnd = 0x10000000 + 64 * 1024;
    const privStart = (t: number) => sharedEnd + t * 102400; // 100000 rounded up to 4K
    threads.forEach((rs, t) => {
      const shared = rs.filter((r) => r.addr < sharedEnd);
      expect(shared.length / rs.length).toBeCloseTo(0.3, 1);
      for (const r of rs) {
        if (r.addr >= sharedEnd) {
          expect(r.addr).toBeGreaterThanOrEqual(privStart(t));
          expect(r.addr + r.size).toBeLessThanOrEqual(privStart(t) + 100000);
        } else expect(r.addr).toBeGreaterThanOrEqual(0x10000000);
      }
    });
    expect(threads[0]).not.toEqual(threads[1]);
    expect(unwrap(createThreadedWorkload(spec)).map((t) => records(t))).toEqual(threads);
  });

  it('supports all-private and all-shared extremes', () => {
    const priv = unwrap(createThreadedWorkload({ ...spec, shareRatio: 0, sharedFootprint: 0 }));
    expect(records(priv[1]!).every((r) => r.addr >= 0x10000000 + 102400)).toBe(true);
    const shared = unwrap(createThreadedWorkload({ ...spec, shareRatio: 1, privateFootprint: 0, skew: 1 }));
    expect(records(shared[2]!).every((r) => r.addr < 0x10000000 + 65536)).toBe(true);
  });
});

describe('validation', () => {
  const base: WorkloadSpec = { pattern: 'uniform', records: 10, footprint: 4096, seed: 1 };
  it.each<[string, Partial<WorkloadSpec> & Record<string, unknown>, string]>([
    ['records', { records: 0 }, 'records 0 must be an integer >= 1'],
    ['seed', { seed: -1 }, 'seed -1 must be an integer 0..2^32-1'],
    ['accessSize', { accessSize: 12 }, 'accessSize 12 must be a power of two 1..4096'],
    ['footprint', { footprint: 100 }, 'footprint 100 must be a positive multiple of accessSize 8'],
    [
      'ratios',
      { writeRatio: 0.7, modifyRatio: 0.5 },
      'writeRatio 0.7 and modifyRatio 0.5 must be in 0..1 with a sum of at most 1',
    ],
    ['instrPerAccess', { instrPerAccess: 1.5 }, 'instrPerAccess 1.5 must be an integer 0..64'],
    ['range', { base: 2 ** 53 - 2048 }, 'data region 0x1ffffffffff800 + 4K must lie below 2^53'],
    [
      'code overlap',
      { instrPerAccess: 1, base: 0x400000 },
      'code region 0x400000+16K overlaps the data region 0x400000+4K',
    ],
    [
      'pattern',
      { pattern: 'random' } as never,
      "unknown pattern 'random' (expected sequential, strided, uniform, zipf or phased)",
    ],
    ['stride', { pattern: 'strided', stride: 0 } as never, 'stride 0 must be an integer 1..footprint (4096)'],
    ['skew', { pattern: 'zipf', skew: -1 } as never, 'skew -1 must be a number 0..10'],
    [
      'granule',
      { pattern: 'zipf', skew: 1, granule: 3000 } as never,
      'granule 3000 must be a multiple of accessSize 8 that divides the footprint 4096',
    ],
    [
      'phases',
      { pattern: 'phased', phases: 0, workingSet: 4096 } as never,
      'phases 0 must be an integer 1..4096',
    ],
    [
      'workingSet',
      { pattern: 'phased', phases: 2, workingSet: 8192 } as never,
      'workingSet 8192 exceeds the footprint 4096',
    ],
  ])('%s', (_, patch, message) => {
    expect(createWorkload({ ...base, ...patch } as WorkloadSpec)).toEqual({
      ok: false,
      code: 'INVALID_WORKLOAD',
      message,
    });
  });

  it('threaded parameters', () => {
    const t: ThreadedWorkloadSpec = {
      threads: 2,
      recordsPerThread: 10,
      sharedFootprint: 4096,
      privateFootprint: 4096,
      shareRatio: 0.5,
      seed: 1,
    };
    expect(createThreadedWorkload({ ...t, threads: 0 })).toMatchObject({
      message: 'threads 0 must be an integer 1..1024',
    });
    expect(createThreadedWorkload({ ...t, shareRatio: 2 })).toMatchObject({
      message: 'shareRatio 2 must be in 0..1',
    });
    expect(createThreadedWorkload({ ...t, sharedFootprint: 0 })).toMatchObject({
      code: 'INVALID_WORKLOAD',
      message: 'sharedFootprint must be positive when shareRatio > 0',
    });
    expect(createThreadedWorkload({ ...t, privateFootprint: 10 })).toMatchObject({
      message: 'privateFootprint 10 must be a non-negative multiple of accessSize 8',
    });
  });
});
