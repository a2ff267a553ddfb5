/**
 * `faultline swap-sweep TRACE`: the slowdown a RAM limit costs, over a sweep of limits, per design
 * (issue 16). A first pass replays the trace without a limit (each design's baseline, and the
 * working set); a second replays it once for every design and limit, reading the trace once.
 * Slowdown is modelled cycles with the limit over cycles without it. Prints a table (or JSON) and
 * writes `swap-sweep.svg`.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { lineChart } from '../report/plot.js';
import { formatTable } from '../report/table.js';
import type { RunResult } from '../sim/replay.js';
import { sizeName } from '../util/hex.js';
import { checkOutputs, collect, interruptible, outDir, UserError, writeFileAtomic } from './io.js';
import { addPagingFlags, type PagingFlags } from './paging_options.js';
import { addRunFlags, replayWithUi } from './replay_cmd.js';
import { type RunFlags, type RunOptions, runOptions } from './run_options.js';

/** One point of the sweep. */
export interface SweepPoint {
  readonly design: string;
  /** The limit in bytes, and as a share of the working set. */
  readonly ram: number;
  readonly share: number;
  readonly cycles: number;
  /** Cycles over the same design's cycles without a limit. */
  readonly slowdown: number;
  readonly swapIns: number;
  readonly swapOuts: number;
  readonly major: number;
  readonly minor: number;
  /** The traced thread stopped before the end (out of memory, a provider failed). */
  readonly stopped: boolean;
}

/** Default limits: eighths of the working set. */
const DEFAULT_SHARES = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1];

/** `--shares 0.25,0.5,1`: shares of the working set, increasing, in (0, 4]. */
export function parseShares(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((p) => !/^(\d+(\.\d*)?|\.\d+)$/.test(p)) || out.some((n) => !(n > 0 && n <= 4)))
    throw new UserError(
      `--shares: '${text}' is not a list of shares of the working set in (0, 4], e.g. 0.25,0.5,1`,
    );
  for (let i = 1; i < out.length; i++)
    if (out[i]! <= out[i - 1]!) throw new UserError(`--shares: '${text}' must increase`);
  return out;
}

/** The limits: the working set's shares, rounded down to whole pages (at least one unit). */
export function sweepLimits(workingSet: number, shares: readonly number[], unit: number): number[] {
  const limits = shares.map((s) => Math.max(unit, Math.floor((workingSet * s) / unit) * unit));
  return limits.filter((l, i) => i === 0 || l > limits[i - 1]!);
}

/** The table: a row per limit, per design its slowdown and swap traffic. */
export function sweepTable(points: readonly SweepPoint[], designs: readonly string[]): string {
  const limits = [...new Set(points.map((p) => p.ram))];
  const headers = ['RAM', '% of WS', ...designs.flatMap((d) => [`${d} slowdown`, 'swap-ins', 'swap-outs'])];
  const rows = limits.map((ram) => {
    const at = points.filter((p) => p.ram === ram);
    return [
      sizeName(ram),
      (100 * at[0]!.share).toFixed(1),
      ...designs.flatMap((d) => {
        const p = at.find((x) => x.design === d);
        if (!p) return ['-', '-', '-'];
        return [`${p.slowdown.toFixed(3)}${p.stopped ? ' (stopped)' : ''}`, p.swapIns, p.swapOuts];
      }),
    ];
  });
  return formatTable(headers, rows);
}

/** The plot: slowdown against the RAM limit, a line per design. */
export async function sweepPlot(points: readonly SweepPoint[], designs: readonly string[], title: string) {
  const limits = [...new Set(points.map((p) => p.ram))].sort((a, b) => a - b);
  const complete = designs.filter((d) =>
    limits.every((l) => points.some((p) => p.design === d && p.ram === l)),
  );
  return lineChart({
    title,
    x: { label: 'RAM limit (KiB)', values: limits.map((l) => l / 1024) },
    series: complete.map((d) => ({
      name: d,
      values: limits.map((l) => points.find((p) => p.design === d && p.ram === l)!.slowdown),
    })),
    yLabel: 'slowdown (cycles / cycles without a limit)',
    yScale: 'log',
  });
}

function point(r: RunResult, base: RunResult, ram: number, ws: number): SweepPoint {
  return {
    design: r.design,
    ram,
    share: ram / ws,
    cycles: r.cycles,
    slowdown: base.cycles === 0 ? 1 : r.cycles / base.cycles,
    swapIns: r.swap?.ins ?? 0,
    swapOuts: r.swap?.outs ?? 0,
    major: r.faults.major ?? 0,
    minor: r.faults.minor ?? 0,
    stopped: r.stopped !== null,
  };
}

/** Registers `faultline swap-sweep`. */
export function registerSwapSweepCommand(program: Command): void {
  addPagingFlags(
    addRunFlags(program.command('swap-sweep <trace>'))
      .description(
        'replay a trace under a sweep of RAM limits and plot the slowdown against the limit, per design',
      )
      .option('--design <name>', 'a design to sweep (repeat; default kernel-swap and 4k-only)', collect)
      .option('--shares <list>', 'limits as shares of the working set (default 0.125,0.25,...,1)')
      .option('--out <dir>', 'where to write swap-sweep.svg', 'faultline-out')
      .option('--json', 'print {"workingSet": ..., "points": [...]} instead of the table'),
  ).action(
    async (
      trace: string,
      f: RunFlags & PagingFlags & { design?: string[]; shares?: string; out: string; json?: boolean },
    ) => {
      const designs = f.design?.length ? f.design : ['kernel-swap', '4k-only'];
      // Swapping is page by page: the manager's chunk defaults to a page here.
      const flags = { ...f, chunk: f.chunk === '2M' ? '4K' : f.chunk };
      if (flags.ram !== undefined)
        throw new UserError('--ram: swap-sweep sets the limits itself (use --shares)');
      const shares = f.shares === undefined ? DEFAULT_SHARES : parseShares(f.shares);
      const plain = runOptions(designs, { ...flags, ram: undefined, swap: undefined });
      // The paging flags are checked now, with a limit of one page, so mistakes stop before any work.
      runOptions(designs, { ...flags, ram: flags.chunk ?? '4K' });
      const svg = join(outDir(f.out), 'swap-sweep.svg');
      await checkOutputs([{ flag: '--out', path: svg }], [trace]);
      const quiet = { timeline: false, quiet: !!f.json };
      const { points, ws, interrupted } = await interruptible(async (stop) => {
        const base = await replayWithUi(trace, plain, {}, { ...quiet, stop });
        const results = base.results;
        const ws = Math.max(...results.map((r) => r.pages.touched)) * 4096;
        const unit = Math.max(
          ...plain.map((r) => (r.options.swap === 'kernel' ? 4096 : (r.system.chunk ?? 4096))),
        );
        const limits = sweepLimits(ws, shares, unit);
        if (base.interrupted) return { points: [], ws, interrupted: true };
        const runs: RunOptions[] = [];
        const at: { ram: number; base: RunResult }[] = [];
        for (const ram of limits) {
          const paged = runOptions(designs, { ...flags, ram: String(ram) });
          paged.forEach((r, i) => {
            runs.push(r);
            at.push({ ram, base: results[i]! });
          });
        }
        const out = await replayWithUi(trace, runs, {}, { ...quiet, stop });
        return {
          points: out.results.map((r, i) => point(r, at[i]!.base, at[i]!.ram, ws)),
          ws,
          interrupted: out.interrupted,
        };
      });
      const plot = await sweepPlot(points, designs, `slowdown against the RAM limit on ${trace}`);
      if (!plot.ok) throw new UserError(plot.message);
      await writeFileAtomic(svg, plot.value);
      if (f.json) process.stdout.write(`${JSON.stringify({ workingSet: ws, points, interrupted })}\n`);
      else {
        const head = `working set: ${sizeName(ws)} (pages touched without a limit)`;
        const tail = `plot: ${svg}`;
        process.stdout.write(
          `${interrupted ? 'interrupted: partial result\n' : ''}${head}\n\n${sweepTable(points, designs)}\n\n${tail}\n`,
        );
      }
    },
  );
}
