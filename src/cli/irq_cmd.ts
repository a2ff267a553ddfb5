/**
 * `faultline irq`: IRQ delivery on a multi-queue NIC (docs/DESIGN.md, "IRQs"). Sweeps CPU
 * counts under the direct and core-thread delivery designs, prints a table and writes an SVG with
 * packets/s handled and p99 IRQ latency against CPUs.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChart } from '../report/plot.js';
import { formatNumber, formatTable } from '../report/table.js';
import { microsToCycles } from '../sim/cost.js';
import type { IrqDelivery, IrqSimResult } from '../sim/irq_run.js';
import {
  checkOutputs,
  interruptible,
  outDir,
  parseChoice,
  parseIntList,
  parsePositiveInt,
  UserError,
  writeFileAtomic,
} from './io.js';
import { MAX_CPUS, parseSeed } from './run_options.js';
import { completeSeries, stackSvgs, yieldToEventLoop } from './sweep.js';
import { sweepConfig } from './version.js';

/** Validated settings of one `faultline irq` invocation. */
export interface IrqSweepSpec {
  readonly cpus: readonly number[];
  /** Queues per CPU count (same length as `cpus`). */
  readonly queues: readonly number[];
  readonly designs: readonly IrqDelivery[];
  readonly ratePps: number;
  readonly durationMs: number;
  readonly packetCycles: number;
  readonly ringSize: number;
  readonly flows: number;
  readonly seed: number;
  /** Initial routes: queue q on CPU q mod cpus, or every queue on CPU 0. */
  readonly routing: 'spread' | 'cpu0';
  /** Static routes, or an irqbalance-style balancer deciding every `balanceIntervalUs`. */
  readonly balance: 'static' | 'irqbalance';
  readonly balanceIntervalUs: number;
}

/** One row of `--json` output. */
export interface IrqRun {
  readonly design: IrqDelivery;
  readonly cpus: number;
  readonly queues: number;
  readonly packetsPerSecond: number;
  /** Microseconds at the nominal clock. */
  readonly irqLatency: { readonly p50: number; readonly p99: number };
  /** Per CPU: fraction of its busy time spent on interrupt work. */
  readonly cpuLoad: readonly number[];
  readonly lostInterrupts: number;
  readonly droppedPackets: number;
  /** Handler threads moved between CPUs (reroutes and the balancer), their cycles, and the balancer's moves. */
  readonly migrations: { readonly count: number; readonly cycles: number; readonly rebalances: number };
}

type Flags = Record<string, string | boolean | undefined>;

const MAX_QUEUES = 1024;
const MAX_DURATION_MS = 10_000;

/** Parses `20000000`, `20M`, `500k`, `1.5G` (decimal multipliers) into packets per second. */
export function parseRate(text: string, flag = '--rate'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)$/i.exec(text.trim());
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };
  const v = m ? Number(m[1]) * mult[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(v >= 1 && v <= 1e10)) {
    throw new UserError(
      `${flag}: '${text}' is not a packet rate (expected e.g. 2000000, 500k, 20M; 1 to 10G)`,
    );
  }
  return v;
}

/**
 * `--routing`, `--balance` and `--balance-interval` (µs, default a twentieth of the duration), shared
 * by `faultline irq` and `faultline scale --irq-rate`; throws a UserError naming the bad flag.
 */
export function parseRouteFlags(
  f: Readonly<Record<string, unknown>>,
  durationMs: number,
): Pick<IrqSweepSpec, 'routing' | 'balance' | 'balanceIntervalUs'> {
  const routing = parseChoice(String(f.routing ?? 'spread'), '--routing', ['spread', 'cpu0'] as const);
  const balance = parseChoice(String(f.balance ?? 'static'), '--balance', ['static', 'irqbalance'] as const);
  let balanceIntervalUs = (durationMs * 1000) / 20;
  if (f.balanceInterval !== undefined) {
    const text = String(f.balanceInterval);
    balanceIntervalUs = Number(text);
    if (
      !/^\d+(\.\d+)?$/.test(text.trim()) ||
      !(balanceIntervalUs > 0 && balanceIntervalUs <= durationMs * 1000)
    )
      throw new UserError(
        `--balance-interval: '${text}' is not an interval in µs (expected > 0 and at most --duration, ${durationMs * 1000} µs)`,
      );
    if (balance !== 'irqbalance') throw new UserError('--balance-interval: needs --balance irqbalance');
  }
  return { routing, balance, balanceIntervalUs };
}

/** Validates the flags of `faultline irq`; throws a UserError naming the bad flag. */
export function parseIrqFlags(f: Flags): IrqSweepSpec {
  const cpus = parseIntList(String(f.cpus), '--cpus', MAX_CPUS, { increasing: true });
  let queues = cpus;
  if (typeof f.queues === 'string') {
    const q = parseIntList(f.queues, '--queues', MAX_QUEUES);
    if (q.length !== 1 && q.length !== cpus.length) {
      throw new UserError(
        `--queues: expected one count for every run or one per CPU count (${cpus.length}), got ${q.length}`,
      );
    }
    queues = q.length === 1 ? cpus.map(() => q[0]!) : q;
  }
  const design = parseChoice(String(f.design), '--design', ['direct', 'core-thread', 'both'] as const);
  const designs: IrqDelivery[] = design === 'both' ? ['direct', 'core-thread'] : [design];
  const durationMs = Number(f.duration);
  if (
    !/^\d+(\.\d+)?$/.test(String(f.duration).trim()) ||
    !(durationMs > 0 && durationMs <= MAX_DURATION_MS)
  ) {
    throw new UserError(
      `--duration: '${String(f.duration)}' is not a duration in ms (expected > 0 and <= ${MAX_DURATION_MS})`,
    );
  }
  const { balance, balanceIntervalUs, routing } = parseRouteFlags(f, durationMs);
  return {
    cpus,
    queues,
    designs,
    ratePps: parseRate(String(f.rate)),
    durationMs,
    packetCycles: parsePositiveInt(String(f.packetCycles), '--packet-cycles', 1e9),
    ringSize: parsePositiveInt(String(f.ring), '--ring', 1 << 20),
    flows: parsePositiveInt(String(f.flows), '--flows', 2 ** 31 - 1),
    seed: parseSeed(String(f.seed)),
    routing,
    balance,
    balanceIntervalUs,
  };
}

/**
 * Runs the sweep: every design at every CPU count, in that order. Between runs it yields to the
 * event loop and ends early once `stop` says so (Ctrl-C): the runs done so far are the result.
 */
export async function runIrqSweep(
  spec: IrqSweepSpec,
  stop: () => boolean = () => false,
): Promise<IrqSimResult[]> {
  const out: IrqSimResult[] = [];
  const { runIrqSim } = await import('../sim/irq_run.js');
  for (const design of spec.designs) {
    for (const [i, cpus] of spec.cpus.entries()) {
      await yieldToEventLoop();
      if (stop()) return out;
      const r = runIrqSim({
        design,
        cpus,
        queues: spec.queues[i]!,
        ratePps: spec.ratePps,
        durationCycles: microsToCycles(spec.durationMs * 1000),
        packetCycles: spec.packetCycles,
        ringSize: spec.ringSize,
        flows: spec.flows,
        seed: spec.seed,
        routing: spec.routing === 'cpu0' ? { cpu: 0 } : 'spread',
        balance:
          spec.balance === 'irqbalance'
            ? { intervalCycles: microsToCycles(spec.balanceIntervalUs) }
            : undefined,
      });
      if (!r.ok) throw new UserError(r.message);
      out.push(r.value);
    }
  }
  return out;
}

/** The `--json` view of a result. */
export function irqRun(r: IrqSimResult): IrqRun {
  return {
    design: r.design,
    cpus: r.cpus,
    queues: r.queues,
    packetsPerSecond: r.packetsPerSecond,
    irqLatency: { p50: r.irqLatency.p50, p99: r.irqLatency.p99 },
    cpuLoad: r.cpuLoad,
    lostInterrupts: r.lostInterrupts,
    droppedPackets: r.packets.dropped,
    migrations: r.migrations,
  };
}

/** The terminal table. */
export function irqTable(results: readonly IrqSimResult[]): string {
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return formatTable(
    [
      'design',
      'CPUs',
      'queues',
      'packets/s',
      'p50 µs',
      'p99 µs',
      'CPU0 irq',
      'mean irq',
      'lost IRQs',
      'dropped',
      'moves',
      'move cycles',
    ],
    results.map((r) => [
      r.design,
      r.cpus,
      r.queues,
      r.packetsPerSecond,
      r.irqLatency.p50,
      r.irqLatency.p99,
      r.cpuLoad[0]!,
      mean(r.cpuLoad),
      r.lostInterrupts,
      r.packets.dropped,
      r.migrations.count,
      r.migrations.cycles,
    ]),
    { decimals: [undefined, undefined, undefined, 0, 2, 2, 2, 2, 0, 0, 0, 0] },
  );
}

/** The chart: packets/s handled (top) and p99 IRQ latency (bottom) against CPUs, one line per design. */
export async function irqChart(results: readonly IrqSimResult[], full: IrqSweepSpec): Promise<string> {
  const spec = { ...full, ...completeSeries(results, full.designs, full.cpus) };
  const x = {
    label: 'CPUs (one NIC queue per CPU unless --queues)',
    values: [...spec.cpus],
    scale: 'log2' as const,
  };
  const series = (f: (r: IrqSimResult) => number) =>
    spec.designs.map((d) => ({ name: d, values: results.filter((r) => r.design === d).map(f) }));
  const rate = `${formatNumber(spec.ratePps)} packets/s offered`;
  const a = await lineChart({
    title: `Packets handled (${rate})`,
    x,
    series: series((r) => r.packetsPerSecond),
    yLabel: 'packets/s',
  });
  const b = await lineChart({
    title: 'IRQ latency p99 (raise to handler start)',
    x,
    series: series((r) => r.irqLatency.p99),
    yLabel: 'µs',
  });
  if (!a.ok) throw new UserError(a.message);
  if (!b.ok) throw new UserError(b.message);
  return stackSvgs(a.value, b.value);
}

/** Registers `faultline irq`. */
export function registerIrqCommand(program: Command): void {
  program
    .command('irq')
    .description(
      'IRQ delivery for a multi-queue NIC: direct to the handler vs through one core thread, over CPU counts',
    )
    .option('--cpus <list>', `CPU counts, comma-separated, increasing (at most ${MAX_CPUS})`, '1,2,4,8,16')
    .option('--queues <list>', 'NIC queues: one count, or one per CPU count (default: one queue per CPU)')
    .option('--rate <pps>', 'offered packets per second (Poisson), e.g. 8M, 500k', '8M')
    .option('--duration <ms>', 'simulated milliseconds of arrivals per run', '5')
    .option('--design <name>', 'direct | core-thread | both', 'both')
    .option('--packet-cycles <n>', 'handler cycles per packet', '2000')
    .option('--ring <n>', 'descriptors per receive ring', '256')
    .option('--flows <n>', 'flows, drawn uniformly and spread by RSS', '1024')
    .option('--seed <n>', 'seed for arrivals and flows', '1')
    .option(
      '--routing <r>',
      'initial routes: spread (queue q on CPU q mod CPUs) | cpu0 (every queue on CPU 0)',
      'spread',
    )
    .option(
      '--balance <mode>',
      "static routes | irqbalance (move the busiest CPU's heaviest queue to the idlest CPU)",
      'static',
    )
    .option(
      '--balance-interval <us>',
      'with --balance irqbalance: simulated µs between decisions (default --duration / 20)',
    )
    .option('--out <dir>', 'where to write irq.svg', 'faultline-out')
    .option('--json', 'print {"runs": [...]} instead of the table')
    .addHelpText(
      'after',
      '\nLatencies are µs and rates packets/s at the nominal 3 GHz clock. "CPU0 irq"/"mean irq" are the\n' +
        'fractions of busy time spent on interrupt work; "lost IRQs" are raises coalesced at the controller;\n' +
        '"moves" are handler threads the balancer moved to another CPU, each costing irqMigration plus an IPI.\n' +
        'Ctrl-C stops after the current run and keeps the runs done (exit status 130).\n',
    )
    .action(async (f: Flags) => {
      const spec = parseIrqFlags(f);
      const path = join(outDir(String(f.out)), 'irq.svg');
      await checkOutputs([{ flag: '--out', path }]);
      const results = await interruptible((stop) => runIrqSweep(spec, () => stop.requested));
      const interrupted = results.length < spec.designs.length * spec.cpus.length;
      if (results.length > 0) await writeFileAtomic(path, await irqChart(results, spec));
      const wrote = results.length > 0 ? `\n\nplot: ${path}` : '';
      if (f.json)
        process.stdout.write(
          `${JSON.stringify({ runs: results.map(irqRun), interrupted, config: sweepConfig(spec) })}\n`,
        );
      else
        process.stdout.write(
          `${interrupted ? 'interrupted: partial result\n' : ''}${irqTable(results)}${wrote}\n`,
        );
    });
}
