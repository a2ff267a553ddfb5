/**
 * `faultline scale`: one multi-threaded workload at 1, 2, 4, … 64 simulated CPUs under the
 * pager and allocator designs of seed 000, with a table, two SVG plots and JSON.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChart } from '../report/plot.js';
import { formatTable } from '../report/table.js';
import { designOptions } from '../sim/designs.js';
import { buildScaleSystem, type ScalePoint, scalePoint } from '../sim/scale.js';
import { createThreadedWorkload } from '../workload/synthetic.js';
import { interferenceCommand } from './interference_cmd.js';
import { collect, parsePositiveInt, parseSize, UserError, writeFileAtomic } from './io.js';
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

const BASE = 2 ** 32;

/** Runs one point of the sweep. */
export function runScalePoint(spec: ScaleSpec, design: string, cpus: number): ScalePoint {
  const options = designOptions(design);
  if (!options.ok) throw new UserError(`--design: ${options.message}`);
  const sources = createThreadedWorkload({
    threads: cpus,
    recordsPerThread: Math.max(1, Math.floor(spec.records / cpus)),
    sharedFootprint: spec.sharedBytes,
    privateFootprint: spec.privateBytes,
    shareRatio: spec.share,
    seed: spec.seed,
    base: BASE,
    instrPerAccess: 0,
  });
  if (!sources.ok) throw new UserError(sources.message);
  const sys = buildScaleSystem(sources.value, {
    cpus,
    design: options.value,
    chunk: spec.chunk,
    // The generator puts the shared region at BASE and the private ones right after it.
    layout: { privateBase: BASE + spec.sharedBytes, privateStride: spec.privateBytes },
  });
  sys.machine.run();
  return scalePoint(sys, design);
}

/** Runs the whole sweep, designs outermost. */
export function runScale(spec: ScaleSpec): ScalePoint[] {
  return spec.designs.flatMap((d) => spec.cpus.map((c) => runScalePoint(spec, d, c)));
}

function table(points: readonly ScalePoint[]): string {
  return formatTable(
    ['design', 'CPUs', 'faults', 'faults/s', 'p50 cycles', 'p99 cycles', 'cross-CPU', 'lock wait', 'steals'],
    points.map((p) => [
      p.design,
      p.cpus,
      p.faults.count,
      p.faults.throughput,
      p.faults.latency.p50,
      p.faults.latency.p99,
      p.crossCpu.messages,
      p.lock.waitCycles,
      p.steals,
    ]),
  );
}

async function plots(points: readonly ScalePoint[], spec: ScaleSpec): Promise<[string, string]> {
  const series = (f: (p: ScalePoint) => number) =>
    spec.designs.map((d) => ({ name: d, values: points.filter((p) => p.design === d).map(f) }));
  const x = { label: 'simulated CPUs', values: [...spec.cpus], scale: 'log2' as const };
  const a = await lineChart({
    title: 'Modelled fault throughput',
    x,
    series: series((p) => p.faults.throughput),
    yLabel: 'faults/s',
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
    .description('fault handling at 1..64 CPUs under genode-single-pager, genode and partitioned (seed 000)')
    .option('--design <name>', 'a design to include (repeat; default the three above)', collect)
    .option('--cpus <list>', 'CPU counts, comma-separated', '1,2,4,8,16,32,64')
    .option('--records <n>', 'accesses in total, split over the threads', '2000000')
    .option('--private <size>', 'private memory per thread', '16M')
    .option('--shared <size>', 'shared memory', '0')
    .option('--share <ratio>', 'fraction of accesses to shared memory (0..1)', '0')
    .option('--chunk <size>', 'RAM the handlers attach per fault', '64K')
    .option('--seed <n>', 'workload seed', '1')
    .option('--out <dir>', 'where to write scale-throughput.svg and scale-latency.svg', 'faultline-out')
    .option('--json', 'print {"points": [...]} (docs/OUTPUT.md)')
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
    .option('--balance <mode>', 'with --irq-rate: static routes or irqbalance-style rebalancing', 'static')
    .option('--duration <ms>', 'with --irq-rate: simulated time measured per run, in ms', '2')
    .action(async (f: Record<string, string | string[] | boolean | undefined>) => {
      if (f.irqRate !== undefined) {
        await interferenceCommand(f.cpus === '1,2,4,8,16,32,64' ? { ...f, cpus: '4' } : f);
        return;
      }
      const spec = parseScaleFlags(f);
      const points = runScale(spec);
      const [tput, lat] = await plots(points, spec);
      const a = join(String(f.out), 'scale-throughput.svg');
      const b = join(String(f.out), 'scale-latency.svg');
      await writeFileAtomic(a, tput);
      await writeFileAtomic(b, lat);
      if (f.json)
        process.stdout.write(`${JSON.stringify({ points, config: sweepConfig(spec, spec.designs) })}\n`);
      else process.stdout.write(`${table(points)}\n\nplots: ${a}, ${b}\n`);
    });
}

/** Validates the flags of `faultline scale`. */
export function parseScaleFlags(f: Record<string, string | string[] | boolean | undefined>): ScaleSpec {
  const designs = (f.design as string[] | undefined) ?? ['genode-single-pager', 'genode', 'partitioned'];
  for (const d of designs) {
    const o = designOptions(d);
    if (!o.ok) throw new UserError(`--design: ${o.message}`);
  }
  const cpus = String(f.cpus)
    .split(',')
    .map((c) => parsePositiveInt(c, '--cpus', 64));
  if (cpus.some((c, i) => i > 0 && c <= cpus[i - 1]!))
    throw new UserError('--cpus: list must be strictly increasing');
  const share = Number(f.share);
  if (!(share >= 0 && share <= 1))
    throw new UserError(`--share: '${String(f.share)}' must be a number from 0 to 1`);
  const sharedBytes = f.shared === '0' ? 0 : parseSize(String(f.shared), '--shared');
  const privateBytes = parseSize(String(f.private), '--private');
  if (privateBytes % 2 ** 21 !== 0)
    throw new UserError('--private: must be a multiple of 2M (regions stay superpage-aligned)');
  if (sharedBytes % 2 ** 21 !== 0) throw new UserError('--shared: must be a multiple of 2M');
  if (share > 0 && sharedBytes === 0) throw new UserError('--share > 0 needs --shared memory');
  return {
    designs,
    cpus,
    records: parsePositiveInt(String(f.records), '--records'),
    privateBytes,
    sharedBytes,
    share,
    chunk: parseSize(String(f.chunk), '--chunk'),
    seed: parsePositiveInt(String(f.seed), '--seed'),
  };
}
