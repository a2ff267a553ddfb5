import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { HISTOGRAM_RELATIVE_ERROR, Histogram, Metrics, metricKey, nearestRank } from './metrics.js';

/** Exact nearest-rank percentile with q given in per-mille (integer arithmetic, no rounding doubt). */
function exactPerMille(sorted: readonly number[], perMille: number): number {
  if (perMille === 0) return sorted[0]!;
  const rank = Math.max(1, Math.ceil((perMille * sorted.length) / 1000));
  return sorted[rank - 1]!;
}

function withinError(reported: number, exact: number): boolean {
  const bound = exact >= 1 ? exact * HISTOGRAM_RELATIVE_ERROR : HISTOGRAM_RELATIVE_ERROR;
  return Math.abs(reported - exact) <= bound * (1 + 1e-12);
}

const perMilles = fc.constantFrom(0, 1, 10, 70, 250, 500, 900, 990, 999, 1000);

describe('Histogram', () => {
  it('reports integer percentiles within the stated relative error of the exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(300), fc.nat(1_000_000), fc.integer({ min: 0, max: 2 ** 53 - 1 })), {
          minLength: 1,
          maxLength: 300,
        }),
        perMilles,
        (values, pm) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = exactPerMille(sorted, pm);
          const got = h.percentile(pm / 1000);
          expect(withinError(got, exact), `p${pm / 10}: got ${got}, exact ${exact}`).toBe(true);
        },
      ),
    );
  });

  it('reports fractional percentiles within the stated error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }), {
          minLength: 1,
          maxLength: 200,
        }),
        perMilles,
        (values, pm) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = exactPerMille(sorted, pm);
          const got = h.percentile(pm / 1000);
          expect(withinError(got, exact), `p${pm / 10}: got ${got}, exact ${exact}`).toBe(true);
        },
      ),
    );
  });

  it('is exact for small integers and exact for min, max, count, mean', () => {
    const h = new Histogram();
    for (const v of [0, 1, 2, 3, 4, 5, 100, 255]) h.record(v);
    expect(h.percentile(0)).toBe(0);
    expect(h.percentile(0.5)).toBe(3);
    expect(h.percentile(0.75)).toBe(5);
    expect(h.percentile(1)).toBe(255);
    expect(h.summary()).toEqual({
      count: 8,
      max: 255,
      mean: 370 / 8,
      min: 0,
      p50: 3,
      p90: 255,
      p99: 255,
      p999: 255,
      sum: 370,
    });
  });

  it('records repeated values with a count', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(1000, 5);
    for (let i = 0; i < 5; i++) b.record(1000);
    expect(a.summary()).toEqual(b.summary());
  });

  it('merge gives the same summary as recording everything in one histogram', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(10_000_000)), fc.array(fc.nat(10_000_000)), (xs, ys) => {
        const a = new Histogram();
        const b = new Histogram();
        const all = new Histogram();
        for (const v of xs) {
          a.record(v);
          all.record(v);
        }
        for (const v of ys) {
          b.record(v);
          all.record(v);
        }
        a.merge(b);
        expect(a.summary()).toEqual(all.summary());
        for (const q of [0.001, 0.33, 0.5, 0.77, 1]) expect(a.percentile(q)).toBe(all.percentile(q));
      }),
    );
  });

  it('reports zeros when empty', () => {
    const h = new Histogram();
    expect(h.summary()).toEqual({
      count: 0,
      max: 0,
      mean: 0,
      min: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      sum: 0,
    });
    h.merge(new Histogram());
    expect(h.count).toBe(0);
  });

  it('rejects negative, non-finite values and bad quantiles', () => {
    const h = new Histogram();
    expect(() => h.record(-1)).toThrow(InvariantError);
    expect(() => h.record(Number.NaN)).toThrow(InvariantError);
    expect(() => h.record(Number.POSITIVE_INFINITY)).toThrow(InvariantError);
    expect(() => h.record(1, 0)).toThrow(InvariantError);
    expect(() => h.percentile(1.5)).toThrow(InvariantError);
    expect(h.count).toBe(0);
  });

  it('uses nearest rank without float artefacts', () => {
    expect(nearestRank(0.07, 100)).toBe(7);
    expect(nearestRank(0.5, 3)).toBe(2);
    expect(nearestRank(0.001, 10)).toBe(1);
    expect(nearestRank(1, 10)).toBe(10);
  });
});

describe('Metrics', () => {
  it('builds keys with sorted labels', () => {
    expect(metricKey('tlb.hits')).toBe('tlb.hits');
    expect(metricKey('tlb.hits', {})).toBe('tlb.hits');
    expect(metricKey('tlb.hits', { level: 'L1d', cpu: 0 })).toBe('tlb.hits{cpu=0,level=L1d}');
    expect(() => metricKey('1bad')).toThrow(InvariantError);
    expect(() => metricKey('ok', { cpu: 'a b' })).toThrow(InvariantError);
    expect(() => metricKey('ok', { 'x=y': 1 })).toThrow(InvariantError);
  });

  it('counts, gauges and records under labelled keys', () => {
    const m = new Metrics();
    m.inc('tlb.hits');
    m.inc('tlb.hits', 2);
    m.inc('tlb.hits', 1, { cpu: 1 });
    const hits0 = m.counter('tlb.hits', { cpu: 0 });
    hits0.inc();
    m.set('frames.free', 10);
    m.gauge('frames.free').add(-3);
    m.record('faults.latency', 1200);
    expect(m.snapshot()).toEqual({
      counters: { 'tlb.hits': 3, 'tlb.hits{cpu=0}': 1, 'tlb.hits{cpu=1}': 1 },
      gauges: { 'frames.free': 7 },
      histograms: {
        'faults.latency': {
          count: 1,
          max: 1200,
          mean: 1200,
          min: 1200,
          p50: 1200,
          p90: 1200,
          p99: 1200,
          p999: 1200,
          sum: 1200,
        },
      },
    });
    expect(m.size).toBe(5);
  });

  it('refuses to reuse a key as a different kind', () => {
    const m = new Metrics();
    m.inc('x');
    expect(() => m.record('x', 1)).toThrow(InvariantError);
    expect(() => m.set('x', 1)).toThrow(InvariantError);
    expect(() => m.inc('x', -1)).toThrow(InvariantError);
  });

  it('snapshots serialise identically regardless of insertion order', () => {
    const names = ['b.z', 'a.y', 'c', 'a.a', 'tlb.miss', 'A.upper'];
    fc.assert(
      fc.property(fc.shuffledSubarray(names, { minLength: names.length }), (order) => {
        const a = new Metrics();
        const b = new Metrics();
        for (const n of names) {
          a.inc(n, 1, { cpu: 2 });
          a.record(`${n}.lat`, n.length * 100);
          a.set(`${n}.g`, n.length);
        }
        for (const n of order) {
          b.set(`${n}.g`, n.length);
          b.record(`${n}.lat`, n.length * 100);
          b.inc(n, 1, { cpu: 2 });
        }
        const ja = JSON.stringify(a.snapshot());
        expect(JSON.stringify(b.snapshot())).toBe(ja);
        const keys = Object.keys(a.snapshot().counters);
        expect(keys).toEqual([...keys].sort());
      }),
    );
  });

  it('merges registries: counters and gauges add, histograms merge', () => {
    const a = new Metrics();
    const b = new Metrics();
    const all = new Metrics();
    for (const [m, v] of [
      [a, 10],
      [b, 2000],
      [b, 30],
    ] as const) {
      m.inc('ipc.calls');
      m.record('ipc.latency', v);
      m.gauge('queue.depth').add(1);
      all.inc('ipc.calls');
      all.record('ipc.latency', v);
      all.gauge('queue.depth').add(1);
    }
    b.inc('only.b', 4);
    all.inc('only.b', 4);
    a.merge(b);
    expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(all.snapshot()));
  });

  it('describes itself', () => {
    const m = new Metrics();
    m.inc('a');
    expect(m.toString()).toBe('Metrics(counters=1, gauges=0, histograms=0)');
    expect(m.counter('a').toString()).toBe('Counter(1)');
  });
});
