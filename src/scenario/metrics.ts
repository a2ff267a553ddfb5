/**
 * Metrics a scenario can expect (`expect_metrics`), named as `faultline replay --json` names its
 * fields (docs/OUTPUT.md): `faults.reflected`, `tlb.hitRate`, `mappings.2M`, … for the simulated
 * machine, `nic.irqLatency.p99`, `nic.driverFaults`, … for the NIC on that machine (a `nic`
 * behaviour), and `irq.NAME.packetsPerSecond`, `irq.NAME.irqLatency.p99`, … for the IRQ run NAME.
 * An expectation is an exact value or inclusive `{min, max}` bounds; a bound may name another
 * metric, so `irq.direct.irqLatency.p99: { max: irq.core.irqLatency.p99 }` compares two runs.
 */
import type { IrqSimResult } from '../sim/irq_run.js';
import { isPow2 } from '../util/bits.js';
import { sizeName } from '../util/hex.js';
import { parseNumber } from './expr.js';

/** Metrics of the paged memory (0 without one), in docs/OUTPUT.md's names. */
export const PAGING_METRICS = [
  'faults.major',
  'faults.minor',
  'swap.ins',
  'swap.outs',
  'swap.evictions',
  'swap.diskWaitCycles',
  'swap.terminated',
] as const;

/** Machine metrics (after `simulate`), in docs/OUTPUT.md order; `mappings.SIZE` comes on top. */
export const MACHINE_METRICS = [
  'records',
  'translations',
  'tlb.hits',
  'tlb.misses',
  'tlb.hitRate',
  'walks',
  'faults.resolved',
  'faults.reflected',
  'faults.errors',
  'faults.lost',
  'faults.latency.p50',
  'faults.latency.p99',
  'faults.latency.max',
  'faults.latency.count',
  'pages.touched',
  'cycles',
  'cyclesBy.user',
  'cyclesBy.kernel',
  'cyclesBy.pager',
  'cyclesBy.handler',
  'shootdowns',
  'crossCpu.messages',
  'lock.waitCycles',
  'lock.contended',
  'steals',
  'signals',
  'chunks',
  ...PAGING_METRICS,
] as const;

/** Metrics of one IRQ run, after the `irq.NAME.` prefix (latencies in µs at the nominal clock). */
export const IRQ_METRICS = [
  'packetsPerSecond',
  'irqLatency.p50',
  'irqLatency.p99',
  'irqLatency.max',
  'irqLatency.count',
  'lostInterrupts',
  'droppedPackets',
  'packets.arrived',
  'packets.handled',
  'packets.handledInDuration',
  'packets.dropped',
  'packets.queued',
  'endCycles',
  'violations.deliveredWhileMasked',
  'violations.misrouted',
  'migrations.count',
  'migrations.cycles',
  'migrations.rebalances',
  'timer.expirations',
  'timer.read',
] as const;

/**
 * Metrics of the NIC on the simulated machine, after the `nic.` prefix: an IRQ run's (without the
 * timer's) and the page faults its driver threads took on their rings.
 */
export const NIC_METRICS = [...IRQ_METRICS.filter((m) => !m.startsWith('timer.')), 'driverFaults'] as const;

/** Metric values by name. */
export type MetricValues = Readonly<Record<string, number>>;

/** An expectation of one metric. */
export type MetricExpectation = number | { readonly min?: number | string; readonly max?: number | string };

/** What the second pass knows where an expectation sits. */
export interface MetricContext {
  /** A simulate step (explicit) came before. */
  readonly simulated: boolean;
  /** IRQ runs defined before. */
  readonly irqRuns: ReadonlySet<string>;
  /** A component has a nic behaviour. */
  readonly nic?: boolean;
}

/** `mappings.2M` -> its size in bytes, or an explanation why the size is not one. */
function mappingSize(name: string): number | string {
  const n = parseNumber(name.slice('mappings.'.length));
  if (!n.ok || !isPow2(n.value) || n.value < 1024) {
    return `'${name}' names no mapping size; expected e.g. mappings.4K, mappings.2M, mappings.1G`;
  }
  return n.value;
}

/** The canonical spelling of a metric name (`mappings.2048K` -> `mappings.2M`). */
export function canonicalMetric(name: string): string {
  if (!name.startsWith('mappings.')) return name;
  const size = mappingSize(name);
  return typeof size === 'number' ? `mappings.${sizeName(size)}` : name;
}

/** Why a metric name is not usable here, or undefined when it is. */
export function metricProblem(name: string, ctx: MetricContext): string | undefined {
  if (name.startsWith('irq.')) {
    const rest = name.slice(4);
    const dot = rest.indexOf('.');
    const run = dot < 0 ? rest : rest.slice(0, dot);
    const field = dot < 0 ? '' : rest.slice(dot + 1);
    if (!ctx.irqRuns.has(run)) {
      const known = [...ctx.irqRuns];
      return `unknown IRQ run '${run}' in metric '${name}': ${known.length ? `the irq steps before this one define ${known.join(', ')}` : 'no irq step comes before this one'}`;
    }
    if (!(IRQ_METRICS as readonly string[]).includes(field)) {
      return `unknown metric '${name}'; an IRQ run has irq.${run}.{${IRQ_METRICS.join(', ')}}`;
    }
    return undefined;
  }
  if (name.startsWith('nic.')) {
    if (!ctx.nic)
      return `metric '${name}' is measured on the NIC of a nic behaviour, and no component has one`;
    if (!(NIC_METRICS as readonly string[]).includes(name.slice(4)))
      return `unknown metric '${name}'; the NIC has nic.{${NIC_METRICS.join(', ')}}`;
  } else if (name.startsWith('mappings.')) {
    const size = mappingSize(name);
    if (typeof size === 'string') return size;
  } else if (!(MACHINE_METRICS as readonly string[]).includes(name)) {
    return `unknown metric '${name}'; expected one of: ${MACHINE_METRICS.join(', ')}, mappings.SIZE (e.g. mappings.2M), nic.METRIC, irq.NAME.METRIC`;
  }
  if (!ctx.simulated)
    return `metric '${name}' is measured by the simulation: put this step after a simulate step`;
  return undefined;
}

/** The metrics of one IRQ run, prefixed `irq.NAME.`. */
export function irqMetrics(name: string, r: IrqSimResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(irqValues(r))) out[`irq.${name}.${k}`] = x;
  return out;
}

/** The metrics of the simulated machine's NIC, prefixed `nic.`. */
export function nicMetrics(r: IrqSimResult, driverFaults: number): Record<string, number> {
  const v = irqValues(r);
  const out: Record<string, number> = {};
  for (const k of NIC_METRICS) out[`nic.${k}`] = k === 'driverFaults' ? driverFaults : v[k];
  return out;
}

function irqValues(r: IrqSimResult): Record<(typeof IRQ_METRICS)[number], number> {
  return {
    packetsPerSecond: r.packetsPerSecond,
    'irqLatency.p50': r.irqLatency.p50,
    'irqLatency.p99': r.irqLatency.p99,
    'irqLatency.max': r.irqLatency.max,
    'irqLatency.count': r.irqLatency.count,
    lostInterrupts: r.lostInterrupts,
    droppedPackets: r.packets.dropped,
    'packets.arrived': r.packets.arrived,
    'packets.handled': r.packets.handled,
    'packets.handledInDuration': r.packets.handledInDuration,
    'packets.dropped': r.packets.dropped,
    'packets.queued': r.packets.queued,
    endCycles: Math.round(r.endCycles),
    'violations.deliveredWhileMasked': r.violations.deliveredWhileMasked,
    'violations.misrouted': r.violations.misrouted,
    'migrations.count': r.migrations.count,
    'migrations.cycles': r.migrations.cycles,
    'migrations.rebalances': r.migrations.rebalances,
    'timer.expirations': r.timer?.expirations ?? 0,
    'timer.read': r.timer?.read ?? 0,
  };
}

/** A metric's value: machine metrics absent from `values` are 0 only for mapping sizes. */
export function metricValue(values: MetricValues, name: string): number | undefined {
  const n = canonicalMetric(name);
  return values[n] ?? (n.startsWith('mappings.') ? 0 : undefined);
}

/**
 * Checks one expectation; returns the failure message, or undefined when it holds. A bound that
 * names another metric is looked up in `values` (the second pass made sure it exists).
 */
export function checkMetric(values: MetricValues, name: string, want: MetricExpectation): string | undefined {
  const got = metricValue(values, name);
  if (got === undefined) return `metric '${name}' was not measured`;
  if (typeof want === 'number') return got === want ? undefined : `expected ${name} = ${want}, got ${got}`;
  const bound = (b: number | string): [number, string] => {
    if (typeof b === 'number') return [b, String(b)];
    const v = metricValue(values, b) ?? Number.NaN;
    return [v, `${b} (${v})`];
  };
  if (want.min !== undefined) {
    const [lo, text] = bound(want.min);
    if (!(got >= lo)) return `expected ${name} >= ${text}, got ${got}`;
  }
  if (want.max !== undefined) {
    const [hi, text] = bound(want.max);
    if (!(got <= hi)) return `expected ${name} <= ${text}, got ${got}`;
  }
  return undefined;
}
