/**
 * Metrics: counters, gauges and log-linear histograms, keyed by name plus optional labels,
 * with a snapshot whose keys are sorted so equal runs serialise to byte-identical JSON.
 *
 * Keys follow the Prometheus convention: `name{label=value,...}` with labels sorted by name,
 * e.g. `tlb.hits{cpu=0}`; a metric without labels is just its name, e.g. `faults.total`.
 *
 * Histograms (HdrHistogram-style): values >= 1 fall into one of {@link SUB_BUCKETS} equal-width
 * buckets per power of two; values in [0, 1) into {@link SUB_BUCKETS} equal-width buckets over
 * [0, 1). A percentile reports its bucket's midpoint (or the bucket's lower bound when the bucket
 * is at most one unit wide, so small integers are exact), clamped to the recorded [min, max].
 * Relative error is therefore <= 1/128 (0.79%) for values >= 1 and absolute error <= 1/128 below 1;
 * for values >= 256 it is <= 1/256. min, max, count and mean are exact.
 */
import { InvariantError, invariant } from '../util/result.js';

/** Sub-buckets per power of two (log2 = 7). */
export const SUB_BUCKETS = 128;
/** Guaranteed relative error of a reported percentile for values >= 1 (absolute error below 1). */
export const HISTOGRAM_RELATIVE_ERROR = 1 / SUB_BUCKETS;

const TWO32 = 4294967296;
/** 2^-e for e = 0..31: scaling by a power of two is exact, and a multiplication is cheaper than `2 ** e`. */
const INV_POW2 = Float64Array.from({ length: 32 }, (_, e) => 2 ** -e);

/** Bucket index of a finite value >= 0. */
function bucketOf(v: number): number {
  if (v < 1) return Math.floor(v * SUB_BUCKETS);
  if (v < TWO32) {
    const e = 31 - Math.clz32(v);
    // v * 2^-e is exact; the sub-bucket is the first 7 fraction bits of the mantissa.
    return SUB_BUCKETS * (e + 1) + Math.floor((v * INV_POW2[e]! - 1) * SUB_BUCKETS);
  }
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  return SUB_BUCKETS * (e + 1) + Math.floor((v / 2 ** e - 1) * SUB_BUCKETS);
}

/** Lower bound and width of a bucket. */
function bucketLow(i: number): number {
  if (i < SUB_BUCKETS) return i / SUB_BUCKETS;
  const e = Math.floor(i / SUB_BUCKETS) - 1;
  return 2 ** e * (1 + (i % SUB_BUCKETS) / SUB_BUCKETS);
}

function bucketWidth(i: number): number {
  if (i < SUB_BUCKETS) return 1 / SUB_BUCKETS;
  return 2 ** (Math.floor(i / SUB_BUCKETS) - 1) / SUB_BUCKETS;
}

/**
 * The 1-based nearest rank `ceil(q * n)` for n >= 1, at least 1. Products within 1e-9 (relative)
 * of an integer count as that integer, so `0.07 * 100` is rank 7, not 8.
 */
export function nearestRank(q: number, n: number): number {
  const x = q * n;
  const r = Math.round(x);
  return Math.max(1, Math.abs(x - r) <= 1e-9 * Math.max(1, x) ? r : Math.ceil(x));
}

/** Plain summary of a histogram. An empty histogram reports 0 everywhere. */
export interface HistogramSummary {
  readonly count: number;
  readonly max: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly sum: number;
}

/** A log-linear histogram of non-negative values. Recording allocates only when it grows. */
export class Histogram {
  private counts = new Float64Array(0);
  private n = 0;
  private total = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  /** Records `v` (finite, >= 0) `times` times (a positive integer). */
  record(v: number, times = 1): void {
    // Checked without building the message: record runs once per fault or interrupt.
    if (!(v >= 0 && v < Number.POSITIVE_INFINITY))
      throw new InvariantError(`histogram value ${v}: expected a finite number >= 0`);
    if (!(Number.isSafeInteger(times) && times > 0))
      throw new InvariantError(`histogram count ${times}: expected a positive integer`);
    const b = bucketOf(v);
    if (b >= this.counts.length) this.growTo(b + 1);
    this.counts[b]! += times;
    this.n += times;
    this.total += v * times;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  /** Adds every value recorded in `other` to this histogram. */
  merge(other: Histogram): void {
    if (other.n === 0) return;
    if (other.counts.length > this.counts.length) this.growTo(other.counts.length);
    const oc = other.counts;
    for (let i = 0; i < oc.length; i++) if (oc[i] !== 0) this.counts[i]! += oc[i]!;
    this.n += other.n;
    this.total += other.total;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** Forgets every recorded value (a statistics reset, e.g. after a warm-up). */
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.total = 0;
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.n;
  }

  /** Exact sum of recorded values (exact for integers while below 2^53). */
  get sum(): number {
    return this.total;
  }

  /** Smallest recorded value (0 when empty). */
  get min(): number {
    return this.n === 0 ? 0 : this.lo;
  }

  /** Largest recorded value (0 when empty). */
  get max(): number {
    return this.n === 0 ? 0 : this.hi;
  }

  /** Arithmetic mean (0 when empty). */
  get mean(): number {
    return this.n === 0 ? 0 : this.total / this.n;
  }

  /**
   * The value at quantile `q` in [0, 1] by the nearest-rank rule (the `ceil(q * count)`-th
   * smallest value; q = 0 gives min), within {@link HISTOGRAM_RELATIVE_ERROR}. 0 when empty.
   */
  percentile(q: number): number {
    invariant(q >= 0 && q <= 1, `percentile ${q}: expected a quantile in [0, 1]`);
    if (this.n === 0) return 0;
    if (q === 0) return this.lo;
    const rank = nearestRank(q, this.n);
    const c = this.counts;
    let seen = 0;
    let i = 0;
    for (; i < c.length; i++) {
      seen += c[i]!;
      if (seen >= rank) break;
    }
    const w = bucketWidth(i);
    const v = w <= 1 ? bucketLow(i) : bucketLow(i) + w / 2;
    return Math.min(this.hi, Math.max(this.lo, v));
  }

  /** Count, min, max, mean, sum and the standard percentiles (fields in alphabetical order). */
  summary(): HistogramSummary {
    return {
      count: this.n,
      max: this.max,
      mean: this.mean,
      min: this.min,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      sum: this.total,
    };
  }

  /** Describes the distribution. */
  toString(): string {
    const s = this.summary();
    return `Histogram(count=${s.count}, min=${s.min}, p50=${s.p50}, p99=${s.p99}, max=${s.max})`;
  }

  private growTo(len: number): void {
    const next = new Float64Array(Math.max(len, this.counts.length * 2, SUB_BUCKETS * 2));
    next.set(this.counts);
    this.counts = next;
  }
}

/** A monotonically increasing count. */
export class Counter {
  /** Current count. */
  value = 0;

  /** Adds `n` (finite, >= 0; default 1). */
  inc(n = 1): void {
    invariant(
      n >= 0 && n < Number.POSITIVE_INFINITY,
      `counter increment ${n}: expected a finite number >= 0`,
    );
    this.value += n;
  }

  /** Describes the counter. */
  toString(): string {
    return `Counter(${this.value})`;
  }
}

/** A value that goes up and down (e.g. free frames, queue depth). */
export class Gauge {
  /** Current value. */
  value = 0;

  /** Sets the value (finite). */
  set(v: number): void {
    invariant(Number.isFinite(v), `gauge value ${v}: expected a finite number`);
    this.value = v;
  }

  /** Adds `delta` (finite, may be negative). */
  add(delta: number): void {
    invariant(Number.isFinite(delta), `gauge delta ${delta}: expected a finite number`);
    this.value += delta;
  }

  /** Describes the gauge. */
  toString(): string {
    return `Gauge(${this.value})`;
  }
}

/** Label values attached to a metric, e.g. `{ cpu: 0 }`. */
export type Labels = Readonly<Record<string, string | number>>;

/** JSON-able snapshot; every object has its keys in ascending code-unit order. */
export interface MetricsSnapshot {
  readonly counters: Readonly<Record<string, number>>;
  readonly gauges: Readonly<Record<string, number>>;
  readonly histograms: Readonly<Record<string, HistogramSummary>>;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const LABEL_VALUE_RE = /^[A-Za-z0-9_.:/-]+$/;

/**
 * The key for a metric name and labels: `name` alone, or `name{a=1,b=x}` with labels sorted.
 * Names and label names start with a letter and use `[A-Za-z0-9_.:-]`; label values use
 * `[A-Za-z0-9_.:/-]` (numbers are written with `String()`). Invalid input is a model bug.
 */
export function metricKey(name: string, labels?: Labels): string {
  invariant(NAME_RE.test(name), `metric name '${name}': expected a letter then [A-Za-z0-9_.:-]`);
  if (labels === undefined) return name;
  const keys = Object.keys(labels).sort(compareCodeUnits);
  if (keys.length === 0) return name;
  const parts: string[] = [];
  for (const k of keys) {
    const v = String(labels[k]);
    invariant(
      NAME_RE.test(k),
      `label name '${k}' of metric '${name}': expected a letter then [A-Za-z0-9_.:-]`,
    );
    invariant(LABEL_VALUE_RE.test(v), `label ${k}='${v}' of metric '${name}': expected [A-Za-z0-9_.:/-]+`);
    parts.push(`${k}=${v}`);
  }
  return `${name}{${parts.join(',')}}`;
}

/** Plain code-unit order, independent of locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedRecord<V, R>(m: ReadonlyMap<string, V>, f: (v: V) => R): Record<string, R> {
  const out: Record<string, R> = {};
  for (const k of [...m.keys()].sort(compareCodeUnits)) out[k] = f(m.get(k)!);
  return out;
}

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * A registry of named metrics. For hot paths, fetch the metric object once
 * (`const hits = metrics.counter('tlb.hits', { cpu })`) and call `hits.inc()`; the name-based
 * shorthands build a key per call when labels are given.
 */
export class Metrics {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly kinds = new Map<string, Kind>();

  /** The counter for `name` and `labels`, created at 0 on first use. */
  counter(name: string, labels?: Labels): Counter {
    const key = metricKey(name, labels);
    return this.counters.get(key) ?? this.create(key, 'counter', this.counters, new Counter());
  }

  /** The gauge for `name` and `labels`, created at 0 on first use. */
  gauge(name: string, labels?: Labels): Gauge {
    const key = metricKey(name, labels);
    return this.gauges.get(key) ?? this.create(key, 'gauge', this.gauges, new Gauge());
  }

  /** The histogram for `name` and `labels`, created empty on first use. */
  histogram(name: string, labels?: Labels): Histogram {
    const key = metricKey(name, labels);
    return this.histograms.get(key) ?? this.create(key, 'histogram', this.histograms, new Histogram());
  }

  /** Adds `n` (default 1) to a counter. */
  inc(name: string, n = 1, labels?: Labels): void {
    this.counter(name, labels).inc(n);
  }

  /** Sets a gauge. */
  set(name: string, value: number, labels?: Labels): void {
    this.gauge(name, labels).set(value);
  }

  /** Records a value in a histogram. */
  record(name: string, value: number, labels?: Labels): void {
    this.histogram(name, labels).record(value);
  }

  /** Number of distinct metrics. */
  get size(): number {
    return this.kinds.size;
  }

  /**
   * Folds `other` into this registry: counters and gauges add, histograms merge. (Summing gauges
   * suits shards of one system, e.g. per-CPU registries; keep labels distinct otherwise.)
   */
  merge(other: Metrics): void {
    for (const [k, c] of other.counters)
      this.byKey(k, 'counter', this.counters, () => new Counter()).inc(c.value);
    for (const [k, g] of other.gauges) this.byKey(k, 'gauge', this.gauges, () => new Gauge()).add(g.value);
    for (const [k, h] of other.histograms)
      this.byKey(k, 'histogram', this.histograms, () => new Histogram()).merge(h);
  }

  /** A plain, JSON-able copy with keys sorted, so equal registries stringify identically. */
  snapshot(): MetricsSnapshot {
    return {
      counters: sortedRecord(this.counters, (c) => c.value),
      gauges: sortedRecord(this.gauges, (g) => g.value),
      histograms: sortedRecord(this.histograms, (h) => h.summary()),
    };
  }

  /** Describes the registry. */
  toString(): string {
    return `Metrics(counters=${this.counters.size}, gauges=${this.gauges.size}, histograms=${this.histograms.size})`;
  }

  private byKey<T>(key: string, kind: Kind, map: Map<string, T>, make: () => T): T {
    return map.get(key) ?? this.create(key, kind, map, make());
  }

  private create<T>(key: string, kind: Kind, map: Map<string, T>, value: T): T {
    const existing = this.kinds.get(key);
    invariant(existing === undefined, `metric '${key}' is already a ${existing}, cannot use it as a ${kind}`);
    this.kinds.set(key, kind);
    map.set(key, value);
    return value;
  }
}
