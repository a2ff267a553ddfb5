/**
 * Charts for reports: plain data in, an SVG document (string) out. Each function checks its
 * input first and returns INVALID_PLOT with a message naming the bad field; otherwise it builds a
 * vega-lite spec and renders it headless (see `vega_render.ts`). Output is deterministic: the
 * same input gives byte-identical SVG on every call. Series keep the order they are given in
 * (colours, legend and bar order follow it), and categories keep theirs.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ok } from '../util/result.js';
import {
  baseline,
  checkLabel,
  checkNames,
  checkNumbers,
  checkScale,
  invalid,
  LINEAR_FORMAT,
  PLOT_PALETTE,
  type PlotResult,
  renderSpec,
  type Series,
  valueScale,
  type YScale,
} from './vega_render.js';

export type { PlotErrorCode, PlotResult, Series, YScale } from './vega_render.js';

/** Input of `barChart`: grouped bars, one group per category, one bar per series in each group. */
export interface BarChartSpec {
  readonly title: string;
  /** Group labels along the x axis, in display order (e.g. the designs compared). */
  readonly categories: readonly string[];
  /** One value per category each; one colour per series. */
  readonly series: readonly Series[];
  readonly yLabel: string;
  /** Optional x-axis title (default: none). */
  readonly xLabel?: string;
  /** Value scale (default linear; log needs every value > 0). */
  readonly yScale?: YScale;
}

/** Input of `lineChart`: one line (with a point per x value) per series. */
export interface LineChartSpec {
  readonly title: string;
  /** The x positions, strictly increasing; `log2` puts them on a base-2 axis with a tick at each. */
  readonly x: {
    readonly label: string;
    readonly values: readonly number[];
    readonly scale?: 'linear' | 'log2';
  };
  /** One value per x position each. */
  readonly series: readonly Series[];
  readonly yLabel: string;
  readonly yScale?: YScale;
}

/** The percentiles a `percentileChart` can show, with their display labels. */
export const PERCENTILE_LABELS = { p50: 'p50', p90: 'p90', p99: 'p99', p999: 'p99.9' } as const;

/** A percentile key: `p50`, `p90`, `p99` or `p999` (the fields of a histogram summary). */
export type PercentileKey = keyof typeof PERCENTILE_LABELS;

/** One latency distribution: a name and its percentiles (a `HistogramSummary` plus a name fits). */
export type PercentileSeries = { readonly name: string } & { readonly [K in PercentileKey]?: number };

/** Input of `percentileChart`: per series, a rule spanning the percentiles and a dot at each. */
export interface PercentileChartSpec {
  readonly title: string;
  readonly series: readonly PercentileSeries[];
  readonly yLabel: string;
  /** Which percentiles to draw, ascending (default p50, p90, p99). */
  readonly percentiles?: readonly PercentileKey[];
  readonly yScale?: YScale;
}

/** One histogram bucket: `[lo, hi)` holding `count` samples. */
export interface HistogramBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/** Input of `histogramChart`: adjacent or gapped buckets, ascending and non-overlapping. */
export interface HistogramChartSpec {
  readonly title: string;
  readonly bins: readonly HistogramBin[];
  readonly xLabel: string;
  /** Default `count`. */
  readonly yLabel?: string;
  /** Bucket axis (default linear; log needs lo > 0, the usual case for log-linear latency buckets). */
  readonly xScale?: YScale;
  readonly yScale?: YScale;
}

const HEIGHT = 300;

function* edges(bins: readonly HistogramBin[]): Generator<number> {
  for (const b of bins) yield* [b.lo, b.hi];
}

function legendFor(n: number): object | null {
  return n > 1 ? { orient: 'top', title: null, direction: 'horizontal' } : null;
}

function valueAxis(yLabel: string, yScale: YScale | undefined, values: readonly number[]): object {
  return { title: yLabel, ...valueScale(yScale, values) };
}

/** Grouped bar chart, e.g. TLB misses per design for several workloads. */
export async function barChart(spec: BarChartSpec): Promise<PlotResult> {
  const { title, categories, series, yLabel, xLabel, yScale } = spec;
  const bad =
    checkLabel('title', title) ??
    checkLabel('yLabel', yLabel) ??
    (xLabel === undefined ? undefined : checkLabel('xLabel', xLabel)) ??
    checkScale('yScale', yScale, ['linear', 'log']) ??
    checkNames('categories', categories) ??
    checkNames(
      'series names',
      series.map((s) => s.name),
    ) ??
    series.reduce<string | undefined>(
      (m, s) => m ?? checkNumbers(`series "${s.name}" values`, s.values, categories.length, yScale === 'log'),
      undefined,
    );
  if (bad) return invalid(`barChart: ${bad}`);
  const names = series.map((s) => s.name);
  const all = series.flatMap((s) => s.values);
  const values = categories.flatMap((c, i) =>
    series.map((s) => ({ category: c, series: s.name, v: s.values[i] })),
  );
  const vl: TopLevelSpec = {
    title,
    width: Math.max(320, categories.length * (series.length * 22 + 18)),
    height: HEIGHT,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'category',
        type: 'nominal',
        title: xLabel ?? null,
        scale: { domain: [...categories], paddingInner: 0.25 },
        axis: { labelAngle: categories.length > 6 ? -30 : 0, labelLimit: 160 },
      },
      xOffset: { field: 'series', type: 'nominal', scale: { domain: names, paddingInner: 0.08 } },
      y: { field: 'v', type: 'quantitative', ...valueAxis(yLabel, yScale, all) },
      y2: baseline(yScale, all),
      color: { field: 'series', type: 'nominal', scale: { domain: names }, legend: legendFor(names.length) },
    },
  } as TopLevelSpec;
  return ok(await renderSpec(vl));
}

/** Line chart with a marker per point, e.g. fault throughput against CPU count 1..64 per design. */
export async function lineChart(spec: LineChartSpec): Promise<PlotResult> {
  const { title, x, series, yLabel, yScale } = spec;
  const log2 = x?.scale === 'log2';
  const bad =
    checkLabel('title', title) ??
    checkLabel('yLabel', yLabel) ??
    checkLabel('x.label', x?.label) ??
    checkScale('x.scale', x?.scale, ['linear', 'log2']) ??
    checkScale('yScale', yScale, ['linear', 'log']) ??
    (x.values.length === 0 ? 'x.values: expected at least one value' : undefined) ??
    checkNumbers('x.values', x.values, x.values.length, log2) ??
    x.values.reduce<string | undefined>(
      (m, v, i) =>
        m ??
        (i > 0 && v <= (x.values[i - 1] as number)
          ? `x.values[${i}] is ${v}: expected strictly increasing values`
          : undefined),
      undefined,
    ) ??
    checkNames(
      'series names',
      series.map((s) => s.name),
    ) ??
    series.reduce<string | undefined>(
      (m, s) => m ?? checkNumbers(`series "${s.name}" values`, s.values, x.values.length, yScale === 'log'),
      undefined,
    );
  if (bad) return invalid(`lineChart: ${bad}`);
  const names = series.map((s) => s.name);
  const all = series.flatMap((s) => s.values);
  const values = series.flatMap((s) => x.values.map((xv, i) => ({ x: xv, series: s.name, v: s.values[i] })));
  const series_ = {
    field: 'series',
    type: 'nominal',
    scale: { domain: names },
    legend: legendFor(names.length),
  };
  const vl: TopLevelSpec = {
    title,
    width: 480,
    height: HEIGHT,
    data: { values },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: x.label,
        scale: log2 ? { type: 'log', base: 2, nice: false } : { type: 'linear', zero: false, nice: true },
        axis: log2 ? { values: [...x.values], format: ',', grid: true } : { format: ',' },
      },
      y: { field: 'v', type: 'quantitative', ...valueAxis(yLabel, yScale, all) },
      color: series_,
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { shape: series_ } },
    ],
  } as TopLevelSpec;
  return ok(await renderSpec(vl));
}

/** Latency percentiles per series: a rule from the lowest to the highest percentile, a dot at each. */
export async function percentileChart(spec: PercentileChartSpec): Promise<PlotResult> {
  const { title, series, yLabel, yScale } = spec;
  const keys = spec.percentiles ?? (['p50', 'p90', 'p99'] as const);
  const known = Object.keys(PERCENTILE_LABELS);
  const order = (k: PercentileKey) => known.indexOf(k);
  const bad =
    checkLabel('title', title) ??
    checkLabel('yLabel', yLabel) ??
    checkScale('yScale', yScale, ['linear', 'log']) ??
    (keys.length === 0 ? 'percentiles: expected at least one' : undefined) ??
    keys.reduce<string | undefined>(
      (m, k, i) =>
        m ??
        (!known.includes(k)
          ? `percentiles[${i}] is ${String(k)}: expected one of ${known.join(', ')}`
          : i > 0 && order(k) <= order(keys[i - 1] as PercentileKey)
            ? `percentiles[${i}] is ${k}: expected ascending, unique percentiles`
            : undefined),
      undefined,
    ) ??
    checkNames(
      'series names',
      series.map((s) => s.name),
    ) ??
    series.reduce<string | undefined>((m, s) => {
      if (m) return m;
      const vs = keys.map((k) => s[k]);
      const e = checkNumbers(`series "${s.name}" ${keys.join('/')}`, vs, keys.length, yScale === 'log');
      if (e) return e;
      const i = vs.findIndex((v, j) => j > 0 && (v as number) < (vs[j - 1] as number));
      return i > 0
        ? `series "${s.name}": ${keys[i]} < ${keys[i - 1]}, expected non-decreasing percentiles`
        : m;
    }, undefined);
  if (bad) return invalid(`percentileChart: ${bad}`);
  const names = series.map((s) => s.name);
  const labels = keys.map((k) => PERCENTILE_LABELS[k]);
  const values = series.flatMap((s) =>
    keys.map((k) => ({ series: s.name, percentile: PERCENTILE_LABELS[k], v: s[k] })),
  );
  const y = {
    type: 'quantitative',
    ...valueAxis(
      yLabel,
      yScale,
      values.map((r) => r.v as number),
    ),
  };
  const pct = { field: 'percentile', type: 'nominal', scale: { domain: labels }, title: 'percentile' };
  const vl: TopLevelSpec = {
    title,
    width: Math.max(240, names.length * 80),
    height: HEIGHT,
    data: { values },
    encoding: {
      x: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: names },
        axis: { labelAngle: names.length > 6 ? -30 : 0, labelLimit: 160 },
      },
    },
    layer: [
      {
        transform: [
          {
            aggregate: [
              { op: 'min', field: 'v', as: 'lo' },
              { op: 'max', field: 'v', as: 'hi' },
            ],
            groupby: ['series'],
          },
        ],
        mark: { type: 'rule', color: '#999', strokeWidth: 2 },
        encoding: { y: { field: 'lo', ...y }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 1 },
        encoding: {
          y: { field: 'v', ...y },
          color: { ...pct, legend: { orient: 'top', direction: 'horizontal' } },
          shape: pct,
        },
      },
    ],
  } as TopLevelSpec;
  return ok(await renderSpec(vl));
}

/** Histogram of pre-bucketed samples (e.g. a latency histogram's non-empty buckets): one bar per bin. */
export async function histogramChart(spec: HistogramChartSpec): Promise<PlotResult> {
  const { title, bins, xLabel, xScale, yScale } = spec;
  const yLabel = spec.yLabel ?? 'count';
  const flat = (f: (b: HistogramBin) => number) => (Array.isArray(bins) ? bins.map(f) : []);
  const bad =
    checkLabel('title', title) ??
    checkLabel('xLabel', xLabel) ??
    checkLabel('yLabel', yLabel) ??
    checkScale('xScale', xScale, ['linear', 'log']) ??
    checkScale('yScale', yScale, ['linear', 'log']) ??
    (!Array.isArray(bins) || bins.length === 0 ? 'bins: expected at least one bin' : undefined) ??
    checkNumbers(
      'bins lo',
      flat((b) => b.lo),
      bins.length,
      xScale === 'log',
    ) ??
    checkNumbers(
      'bins hi',
      flat((b) => b.hi),
      bins.length,
      xScale === 'log',
    ) ??
    checkNumbers(
      'bins count',
      flat((b) => b.count),
      bins.length,
      yScale === 'log',
    ) ??
    bins.reduce<string | undefined>(
      (m, b, i) =>
        m ??
        (b.count < 0
          ? `bins[${i}].count is ${b.count}: expected a count >= 0`
          : b.hi <= b.lo
            ? `bins[${i}] is [${b.lo}, ${b.hi}): expected lo < hi`
            : i > 0 && b.lo < (bins[i - 1] as HistogramBin).hi
              ? `bins[${i}] starts at ${b.lo}, before bins[${i - 1}] ends: expected ascending, non-overlapping bins`
              : undefined),
      undefined,
    );
  if (bad) return invalid(`histogramChart: ${bad}`);
  const counts = bins.map((b) => b.count);
  const vl: TopLevelSpec = {
    title,
    width: 480,
    height: HEIGHT,
    data: { values: bins.map((b) => ({ lo: b.lo, hi: b.hi, n: b.count })) },
    mark: { type: 'bar', color: PLOT_PALETTE[0], stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'lo',
        type: 'quantitative',
        title: xLabel,
        ...(xScale === 'log'
          ? valueScale('log', [...edges(bins)], true)
          : { scale: { type: 'linear', zero: false, nice: false }, axis: { format: LINEAR_FORMAT } }),
      },
      x2: { field: 'hi' },
      y: { field: 'n', type: 'quantitative', ...valueAxis(yLabel, yScale, counts) },
      y2: baseline(yScale, counts),
    },
  } as TopLevelSpec;
  return ok(await renderSpec(vl));
}
