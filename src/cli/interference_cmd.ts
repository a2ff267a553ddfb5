/**
 * `faultline scale --irq-rate LIST`: the interference study (page faults and NIC interrupts on
 * the same CPUs) over every combination of pager, IRQ delivery and allocator designs, as the
 * offered IRQ load grows. A table, `--json`, and a plot of fault and IRQ latency against load.
 */
import { join } from 'node:path';
import { lineChart } from '../report/plot.js';
import { formatTable } from '../report/table.js';
import { microsToCycles } from '../sim/cost.js';
import {
  COMBINATIONS,
  type InterferencePoint,
  type InterferenceSpec,
  runInterferencePoint,
} from '../sim/interference.js';
import { steadyFaulter } from '../workload/programs.js';
import {
  checkOutputs,
  interruptible,
  outDir,
  parsePositiveInt,
  parseSize,
  UserError,
  writeFileAtomic,
} from './io.js';
import { parseRate, parseRouteFlags } from './irq_cmd.js';
import { progressBar } from './progress.js';
import { yieldToEventLoop } from './sweep.js';
import { sweepConfig } from './version.js';

type Flags = Record<string, string | string[] | boolean | undefined>;

/** Parses `0,500k,1M,2M` into packet rates (0 runs the program alone). */
export function parseRates(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw new UserError(`--irq-rate: '${text}' is not a comma-separated list of rates`);
  const rates = items.map((s) => (s === '0' ? 0 : parseRate(s, '--irq-rate')));
  if (rates.some((r, i) => i > 0 && r <= rates[i - 1]!))
    throw new UserError(`--irq-rate: '${text}' must be strictly increasing, e.g. 0,1M,2M,4M`);
  return rates;
}

/** Validates the study's flags of `faultline scale`. */
export function parseInterferenceFlags(f: Flags): InterferenceSpec {
  const cpuText = String(f.cpus ?? '4');
  if (cpuText.includes(','))
    throw new UserError('--cpus: the interference study runs at one CPU count (e.g. --cpus 4), not a list');
  const cpus = parsePositiveInt(cpuText, '--cpus', 64);
  const rings = String(f.rings ?? 'ram');
  if (rings !== 'ram' && rings !== 'managed' && rings !== 'none')
    throw new UserError(`--rings: '${rings}' is not one of ram, managed, none`);
  const durationMs = Number(f.duration ?? '2');
  if (!(durationMs > 0 && durationMs <= 1000))
    throw new UserError(
      `--duration: '${String(f.duration)}' is not a duration in ms (expected > 0 and <= 1000)`,
    );
  const durationCycles = Math.round(microsToCycles(durationMs * 1000));
  const route = parseRouteFlags(f, durationMs);
  return {
    cpus,
    rates: parseRates(String(f.irqRate)),
    durationCycles,
    queues: f.queues === undefined ? undefined : parsePositiveInt(String(f.queues), '--queues', 1024),
    packetCycles: parsePositiveInt(String(f.packetCycles ?? '2000'), '--packet-cycles', 1e9),
    privateBytes: parseSize(String(f.private ?? '64M'), '--private'),
    chunk: parseSize(String(f.chunk ?? '64K'), '--chunk'),
    computePerAccess: 64,
    rings,
    routing: route.routing === 'cpu0' ? { cpu: 0 } : undefined,
    balance:
      route.balance === 'irqbalance'
        ? { intervalCycles: Math.round(microsToCycles(route.balanceIntervalUs)) }
        : undefined,
    seed: parsePositiveInt(String(f.seed ?? '1'), '--seed'),
  };
}

function table(points: readonly InterferencePoint[]): string {
  return formatTable(
    [
      'design combination',
      'IRQ load',
      'faults',
      'fault p50 µs',
      'fault p99 µs',
      'resolved p99',
      'IRQs',
      'IRQ p50 µs',
      'IRQ p99 µs',
      'dropped',
      'CPU0 system',
    ],
    points.map((p) => [
      p.name,
      rateName(p.irqRate),
      p.faults.count,
      p.faults.p50,
      p.faults.p99,
      p.faults.resolved.p99,
      p.irqs.count,
      p.irqs.p50,
      p.irqs.p99,
      p.packets.dropped,
      p.cpu0System,
    ]),
  );
}

function rateName(pps: number): string {
  if (pps === 0) return '0';
  return pps >= 1e6 ? `${pps / 1e6}M pps` : `${pps / 1e3}k pps`;
}

async function plot(points: readonly InterferencePoint[], spec: InterferenceSpec): Promise<string[]> {
  const x = { label: 'offered IRQ load (packets/s)', values: [...spec.rates] };
  const names = [...new Set(points.map((p) => p.name))];
  const series = (f: (p: InterferencePoint) => number) =>
    names.map((n) => ({ name: n, values: points.filter((p) => p.name === n).map(f) }));
  const charts = [
    { title: 'Fault latency p99 as IRQ load grows', f: (p: InterferencePoint) => p.faults.p99 },
    { title: 'IRQ latency p99 as IRQ load grows', f: (p: InterferencePoint) => p.irqs.p99 },
  ];
  const out: string[] = [];
  for (const c of charts) {
    const svg = await lineChart({ title: c.title, x, series: series(c.f), yLabel: 'µs' });
    if (!svg.ok) throw new UserError(svg.message);
    out.push(svg.value);
  }
  return out;
}

/** Runs the study for `faultline scale --irq-rate`; Ctrl-C keeps the points so far and exits 130. */
export async function interferenceCommand(f: Flags): Promise<void> {
  const spec = parseInterferenceFlags(f);
  // The plots' paths are checked before the first run: a bad --out costs nothing.
  const out = outDir(String(f.out ?? 'faultline-out'));
  const a = join(out, 'interference-faults.svg');
  const b = join(out, 'interference-irqs.svg');
  await checkOutputs([
    { flag: '--out', path: a },
    { flag: '--out', path: b },
  ]);
  const runs = COMBINATIONS.flatMap((c) => spec.rates.map((rate) => ({ c, rate })));
  const bar = await progressBar('interference {bar} {value}/{total} runs', !f.json);
  bar?.update(0, runs.length);
  const points: InterferencePoint[] = [];
  const stop = await interruptible(async (ctrlC) => {
    try {
      for (const { c, rate } of runs) {
        // Between runs the event loop turns, so Ctrl-C and the progress bar get their chance.
        await yieldToEventLoop();
        if (ctrlC.requested) break;
        const p = runInterferencePoint(spec, c, rate, steadyFaulter);
        if (!p.ok) throw new UserError(p.message);
        points.push(p.value);
        bar?.update(points.length, runs.length);
      }
    } finally {
      bar?.stop();
    }
    return ctrlC.requested;
  });
  if (!stop) {
    const [faults, irqs] = await plot(points, spec);
    await writeFileAtomic(a, faults!);
    await writeFileAtomic(b, irqs!);
  }
  if (f.json) {
    const { costs: _costs, ...shown } = spec;
    const config = sweepConfig(shown);
    process.stdout.write(`${JSON.stringify({ spec: shown, points, interrupted: stop, config })}\n`);
  } else {
    if (stop) process.stdout.write('interrupted: partial result\n');
    process.stdout.write(`${table(points)}\n`);
    if (!stop) process.stdout.write(`\nplots: ${a}, ${b}\n`);
  }
}
