/**
 * `faultline scale`: one multi-threaded workload at 1, 2, 4, … 64 simulated CPUs under three
 * pager and allocator designs (one pager for all CPUs, a pager per CPU with one RAM allocator, a
 * pager and a RAM partition per CPU), with a table, two SVG plots and JSON. Points run in slices
 * of events, so a progress bar moves on a terminal and Ctrl-C keeps the points done so far.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChart } from '../report/plot.js';
import { formatTable } from '../report/table.js';
import { designOptions } from '../sim/designs.js';
import type { ScalePoint } from '../sim/scale.js';
import {
  checkOutputs,
  collect,
  interruptible,
  outDir,
  parseIntList,
  parsePositiveInt,
  parseRatio,
  parseSize,
  UserError,
  writeFileAtomic,
} from './io.js';
import { progressBar } from './progress.js';
import { MAX_CPUS, parseChunk, parseSeed } from './run_options.js';
import { completeSeries } from './sweep.js';
import { sweepConfig } from './version.js';

/** What to sweep. */
export interface ScaleSpec {
  readonly designs: readonly string[];
  readonly cpus: readonly number[];
  /** Accesses in total, split evenly over the threads (one per CPU). */
  readonly records: number;
  readonly privateBytes: number;
  readonly sharedBytes: number;
  readonly share: number;
  readonly chunk: number;
  readonly seed: number;
}

function table(points: readonly ScalePoint[]): string {
  return formatTable(
    [
      'design',
      'CPUs',
      'faults',
      'faults/s/CPU',
      'p50 cycles',
      'p99 cycles',
      'cross-CPU',
      'lock wait',
      'steals',
    ],
    points.map((p) => [
      p.design,
      p.cpus,
      p.faults.count,
      p.faults.perCpuRate,
      p.faults.latency.p50,
      p.faults.latency.p99,
      p.crossCpu.messages,
      p.lock.waitCycles,
      p.steals,
    ]),
  );
}

async function plots(points: readonly ScalePoint[], full: ScaleSpec): Promise<[string, string]> {
  const spec = completeSeries(points, full.designs, full.cpus);
  const series = (f: (p: ScalePoint) => number) =>
    spec.designs.map((d) => ({ name: d, values: points.filter((p) => p.design === d).map(f) }));
  const x = { label: 'simulated CPUs', values: [...spec.cpus], scale: 'log2' as const };
  const a = await lineChart({
    title: 'Faults resolved per second per CPU (while faulting)',
    x,
    series: series((p) => p.faults.perCpuRate),
    yLabel: 'faults/s per CPU',
  });
  const b = await lineChart({
    title: 'Fault latency p99',
    x,
    series: series((p) => p.faults.latency.p99),
    yLabel: 'cycles',
  });
  if (!a.ok) throw new UserError(a.message);
  if (!b.ok) throw new UserError(b.message);
  return [a.value, b.value];
}

/** Registers `faultline scale`. */
export function registerScaleCommand(program: Command): void {
  program
    .command('scale')
    .description(
      'fault handling at 1..64 CPUs: one pager for all CPUs (genode-single-pager), a pager per CPU with one RAM allocator (genode), a pager and a RAM partition per CPU (partitioned)',
    )
    .option('--design <name>', 'a design to include (repeat; default the three above)', collect)
    .option('--cpus <list>', `CPU counts, comma-separated, increasing (at most ${MAX_CPUS})`, DEFAULTS.cpus)
    .option(
      '--records <n>',
      'accesses in total, split evenly over the threads (one per CPU)',
      DEFAULTS.records,
    )
    .option('--private <size>', 'private memory per thread, a multiple of 2M', DEFAULTS.private)
    .option('--shared <size>', 'shared memory, a multiple of 2M', DEFAULTS.shared)
    .option('--share <ratio>', 'fraction of accesses to shared memory (0..1)', DEFAULTS.share)
    .option('--chunk <size>', 'RAM the handlers attach per fault, a power of two', DEFAULTS.chunk)
    .option('--seed <n>', 'workload seed', DEFAULTS.seed)
    .option('--out <dir>', 'where to write scale-throughput.svg and scale-latency.svg', 'faultline-out')
    .option('--json', 'print {"points": [...], "interrupted": false} (docs/OUTPUT.md)')
    .addHelpText(
      'after',
      '\n"faults/s/CPU" is how many faults one CPU gets resolved per second of time its thread spends in\n' +
        'faults (the 3 GHz clock over the mean fault latency): flat as CPUs grow when fault handling\n' +
        'scales, falling when the CPUs queue for one pager or one allocator lock. Latencies are cycles.\n' +
        'A progress bar shows on a terminal; Ctrl-C keeps the points done (exit status 130).\n',
    )
    .option(
      '--irq-rate <list>',
      'run the interference study instead: NIC traffic at these loads (packets/s, e.g. 0,1M,2M,4M) next to the faulting program, for every combination of single/per-CPU pagers, core-thread/direct IRQs and global/partitioned RAM, at one --cpus count (default 4)',
    )
    .option('--queues <n>', 'with --irq-rate: NIC receive queues (default one per CPU)')
    .option(
      '--rings <where>',
      'with --irq-rate: driver rings in ram, a managed dataspace paged on demand, or none',
      'ram',
    )
    .option(
      '--routing <r>',
      'with --irq-rate: initial routes, spread (queue q on CPU q mod CPUs) or cpu0',
      'spread',
    )
    .option('--balance <mode>', 'with --irq-rate: static routes or irqbalance-style rebalancing', 'static')
    .option(
      '--balance-interval <us>',
      'with --irq-rate --balance irqbalance: µs between decisions (default --duration / 20)',
    )
    .option('--duration <ms>', 'with --irq-rate: simulated time measured per run, in ms', '2')
    .action(async (f: Record<string, string | string[] | boolean | undefined>) => {
      if (f.irqRate !== undefined) {
        const { interferenceCommand } = await import('./interference_cmd.js');
        await interferenceCommand(f.cpus === '1,2,4,8,16,32,64' ? { ...f, cpus: '4' } : f);
        return;
      }
      const spec = parseScaleFlags(f);
      const dir = outDir(String(f.out));
      const a = join(dir, 'scale-throughput.svg');
      const b = join(dir, 'scale-latency.svg');
      await checkOutputs([
        { flag: '--out', path: a },
        { flag: '--out', path: b },
      ]);
      // The simulator and the progress bar are loaded when a sweep runs (start-up, docs/BENCHMARKS.md).
      const [{ runScale }, bar] = await Promise.all([
        import('./scale_run.js'),
        progressBar('simulating {bar} {percentage}% {value}/{total} accesses', !f.json),
      ]);
      const { points, interrupted } = await interruptible(async (stop) => {
        try {
          return await runScale(spec, {
            shouldStop: () => stop.requested,
            onProgress: bar ? (done, total) => bar.update(done, total) : undefined,
          });
        } finally {
          bar?.stop();
        }
      });
      const [tput, lat] = await plots(points, spec);
      await writeFileAtomic(a, tput);
      await writeFileAtomic(b, lat);
      if (f.json)
        process.stdout.write(
          `${JSON.stringify({ points, interrupted, config: sweepConfig(spec, spec.designs) })}\n`,
        );
      else
        process.stdout.write(
          `${interrupted ? 'interrupted: partial result\n' : ''}${table(points)}\n\nplots: ${a}, ${b}\n`,
        );
    });
}

/**
 * Defaults of `faultline scale`: about 10 s in all on one core of the development machine, and
 * still six accesses per page of private memory per thread at 64 CPUs, so every thread faults
 * its whole memory in.
 */
export const DEFAULTS = {
  cpus: '1,2,4,8,16,32,64',
  records: '400000',
  private: '4M',
  shared: '0',
  share: '0',
  chunk: '64K',
  seed: '1',
} as const;

/** Validates the flags of `faultline scale`. */
export function parseScaleFlags(f: Record<string, string | string[] | boolean | undefined>): ScaleSpec {
  const designs = (f.design as string[] | undefined) ?? ['genode-single-pager', 'genode', 'partitioned'];
  for (const d of designs) {
    const o = designOptions(d);
    if (!o.ok) throw new UserError(`--design: ${o.message}`);
  }
  const text = (k: keyof typeof DEFAULTS) => (typeof f[k] === 'string' ? f[k] : DEFAULTS[k]);
  const cpus = parseIntList(text('cpus'), '--cpus', MAX_CPUS, { increasing: true });
  const share = parseRatio(text('share'), '--share');
  const sharedBytes = parseSize(text('shared'), '--shared', { allowZero: true });
  const privateBytes = parseSize(text('private'), '--private');
  if (privateBytes % 2 ** 21 !== 0)
    throw new UserError(
      `--private: '${text('private')}' is not a multiple of 2M (regions stay superpage-aligned)`,
    );
  if (sharedBytes % 2 ** 21 !== 0)
    throw new UserError(`--shared: '${text('shared')}' is not a multiple of 2M`);
  if (share > 0 && sharedBytes === 0) throw new UserError('--share: a share above 0 needs --shared memory');
  return {
    designs,
    cpus,
    records: parsePositiveInt(text('records'), '--records'),
    privateBytes,
    sharedBytes,
    share,
    chunk: parseChunk(text('chunk'), 4096),
    seed: parseSeed(text('seed')),
  };
}
