/**
 * `faultline contain`: the blast radius of a misbehaving dataspace manager under each
 * fault-handling design (seed 001), on a default multi-component workload. A table, `--json`,
 * and a heat map of how long each component was blocked.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { MISBEHAVIOURS, type Misbehaviour, parseMisbehaviour } from '../components/misbehaviour.js';
import { heatmapChart } from '../report/heatmap.js';
import { formatNumber, formatTable } from '../report/table.js';
import type { ContainResult, ContainRun, ContainSpec } from '../sim/containment.js';
import { microsToCycles } from '../sim/cost.js';
import { designOptions, parseOverrides } from '../sim/designs.js';
import {
  checkOutputs,
  collect,
  interruptible,
  outDir,
  parseIntIn,
  parsePositiveInt,
  parseSize,
  UserError,
  writeFileAtomic,
} from './io.js';
import { progressBar } from './progress.js';
import { costsOf, parseChunk, parseSeed } from './run_options.js';
import { yieldToEventLoop } from './sweep.js';

/** The designs and behaviours `faultline contain` runs unless told otherwise. */
export const DEFAULT_DESIGNS = ['genode', 'sync-core-rpc', 'local-rm'] as const;
/** replies-late waits 1 ms (3,000,000 cycles at the nominal clock) by default. */
export const DEFAULT_BEHAVIOURS = [
  'never-replies',
  'replies-late:3000000',
  'dies',
  'faults-itself',
  'wrong-mapping',
] as const;

/** Raw flags of `faultline contain`. */
export interface ContainFlags {
  design?: string[];
  misbehave?: string[];
  set?: string[];
  cost?: string[];
  memory?: string;
  chunk?: string;
  touches?: string;
  compute?: string;
  horizon?: string;
  stall?: string;
  seed?: string;
  out?: string;
  json?: boolean;
}

/** A duration in ms (`--horizon`) or µs (`--stall`): a positive number up to `max`. */
function parseDuration(text: string, flag: string, unit: 'ms' | 'µs', max: number): number {
  const v = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(v > 0 && v <= max))
    throw new UserError(`${flag}: '${text}' is not a duration in ${unit} (expected > 0 and <= ${max})`);
  return Math.round(microsToCycles(unit === 'ms' ? v * 1000 : v));
}

/** Validates the flags; a bad one is a user error naming it. */
export function parseContainFlags(f: ContainFlags): ContainSpec {
  const overrides = parseOverrides(f.set ?? []);
  if (!overrides.ok) throw new UserError(`--set: ${overrides.message}`);
  const names = f.design?.length ? f.design : [...DEFAULT_DESIGNS];
  const designs = names.map((name) => {
    const named = designOptions(name);
    if (!named.ok) throw new UserError(`--design: ${named.message}`);
    const d = designOptions(name, overrides.value);
    if (!d.ok) throw new UserError(`--set: ${d.message}`);
    return { name, options: d.value };
  });
  const behaviours: Misbehaviour[] = (f.misbehave?.length ? f.misbehave : [...DEFAULT_BEHAVIOURS]).map(
    (t) => {
      const m = parseMisbehaviour(t);
      if (!m.ok) throw new UserError(`--misbehave: ${m.message}`);
      return m.value;
    },
  );
  const memory = parseSize(f.memory ?? '4M', '--memory');
  const chunk = parseChunk(f.chunk ?? '64K', 4096);
  if (memory < chunk || memory % 4096 !== 0)
    throw new UserError(`--memory: '${f.memory}' must be a multiple of the page size and at least --chunk`);
  return {
    designs,
    behaviours,
    costs: costsOf(f.cost ?? []),
    memory,
    chunk,
    touches: parsePositiveInt(f.touches ?? '400', '--touches', 1_000_000),
    computeCycles: parseIntIn(f.compute ?? '30000', '--compute', 0, 1e9, 'cycles'),
    seed: parseSeed(f.seed ?? '1'),
    horizon: parseDuration(f.horizon ?? '1000', '--horizon', 'ms', 100_000),
    stallThreshold: parseDuration(f.stall ?? '100', '--stall', 'µs', 1e9),
  };
}

/** A duration in µs as text: µs below a millisecond, else ms. */
export function duration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

/** Delays of uninvolved components below this many µs are left out of the table (noise). */
const DELAY_SHOWN_US = 10;

/** A blocked time: "∞" when blocked for good (the run went quiet with it blocked). */
function blockedText(us: number, forever: boolean, quiet: boolean): string {
  if (forever) return quiet ? '∞' : `≥${duration(us)}`;
  return duration(us);
}

/** One table row per run. */
function row(r: ContainRun): (string | number)[] {
  const stalled = r.stalled.length
    ? r.stalled
        .map((s) =>
          s.forever
            ? `${s.component} ${blockedText(s.longestUs, true, r.quiet)}`
            : `${s.component} ${duration(s.blockedUs)} (max ${duration(s.longestUs)})`,
        )
        .join(', ')
    : '-';
  const coreForever = r.threads.some((t) => t.component === 'core' && t.blockedAtEnd);
  const waiting = r.core.threads.map((t) => t.replace(/^core: /, '')).join('+');
  const core =
    r.core.waitedUs === 0
      ? 'never'
      : coreForever
        ? `${waiting} ${blockedText(r.core.longestUs, true, r.quiet)}`
        : `${waiting} ${duration(r.core.waitedUs)} (max ${duration(r.core.longestUs)})`;
  const delayed = r.uninvolved
    .filter((d) => d.delayUs === null || d.delayUs >= DELAY_SHOWN_US)
    .map((d) => `${d.component} ${d.delayUs === null ? 'never done' : `+${duration(d.delayUs)}`}`);
  const short = (n: string) => n.replace(/^core: /, '');
  const rec = r.recovery
    ? [
        r.recovery.recovered.length ? `${r.recovery.recovered.map(short).join(', ')} ran again` : '',
        r.recovery.unrecovered.length ? `${r.recovery.unrecovered.map(short).join(', ')} stuck` : '',
      ]
        .filter((x) => x)
        .join('; ')
    : '-';
  return [
    r.design,
    r.misbehave,
    stalled,
    core,
    r.kernel.blocked ? `blocked ${duration(r.kernel.longestUs)}` : 'never',
    delayed.length ? delayed.join(', ') : '-',
    rec,
    `${r.mappings.wrong}/${r.mappings.stale}`,
    r.faultsLost,
    r.mdbPeakBytes === 0 ? '-' : `${formatNumber(r.mdbPeakBytes)} B`,
  ];
}

const HEADERS = [
  'design',
  'misbehaves',
  'stalled: time blocked',
  'core waited',
  'kernel',
  'uninvolved delayed',
  'manager died',
  'wrong/stale',
  'lost',
  'MDB',
];
/** Cells that say nothing happened: the narrow layout leaves them out. */
const NOTHING = new Set(['-', 'never', '0/0', '0']);
/** The narrow layout's names of the figures (it has room to spell out the short ones). */
const NARROW_NAMES: Record<string, string> = {
  'stalled: time blocked': 'stalled',
  'wrong/stale': 'wrong/stale mappings',
  lost: 'faults lost',
  MDB: 'mapping database, peak',
};

/**
 * The terminal table, one row per run. Wider than `width` columns (a terminal's), each run becomes
 * a heading and one indented line per figure that is not "nothing happened".
 */
export function containTable(result: ContainResult, width = Number.POSITIVE_INFINITY): string {
  const rows = result.runs.map(row);
  const table = formatTable(HEADERS, rows, {
    align: ['left', 'left', 'left', 'left', 'left', 'left', 'left', 'right', 'right', 'right'],
  });
  if (Math.max(...table.split('\n').map((l) => [...l].length)) <= width) return table;
  return rows
    .flatMap((cells) => {
      const [design, misbehave, ...figures] = cells.map(String);
      const shown = figures
        .map((v, i) => [HEADERS[i + 2]!, v] as const)
        .filter(([, v]) => !NOTHING.has(v))
        .map(([h, v]) => `    ${NARROW_NAMES[h] ?? h}: ${v}`);
      return [`${design}  ${misbehave}`, ...(shown.length > 0 ? shown : ['    nothing blocked or lost'])];
    })
    .join('\n');
}

/** The rights each design's baseline used between components, one line per design. */
export function trustLines(result: ContainResult): string[] {
  return result.designs.map((d) => {
    const direct = d.trust.filter((e) => e.from !== 'core' && e.to !== 'core' && e.from !== e.to);
    const text = direct.map((e) => `${e.from} -${e.kind}-> ${e.to}`).join(', ');
    return `${d.design}: ${direct.length ? text : 'none (components talk to core only)'}`;
  });
}

/** The heat map: per run, each component's longest block (core's wait included). */
export async function containChart(result: ContainResult): Promise<string> {
  const columns = ['victim', 'neighbour', 'compute', 'remote', 'core'];
  const rows = result.runs.map((r) => `${r.design} / ${r.misbehave}`);
  const cells = result.runs.map((r) =>
    columns.map((c) => {
      const ts = r.threads.filter((t) => t.component === c);
      return { longest: Math.max(0, ...ts.map((t) => t.longestUs)), forever: ts.some((t) => t.blockedAtEnd) };
    }),
  );
  const finite = cells
    .flat()
    .filter((c) => !c.forever)
    .map((c) => c.longest / 1000);
  // Blocked for good: darker than anything finite.
  const top = Math.max(1, ...finite) * 4;
  const svg = await heatmapChart({
    title: 'Blast radius: longest time each party was blocked (∞: for good)',
    rows,
    columns,
    values: cells.map((r) => r.map((c) => (c.forever ? top : c.longest / 1000))),
    labels: cells.map((r, i) =>
      r.map((c) =>
        c.forever
          ? result.runs[i]!.quiet
            ? '∞'
            : `≥${duration(c.longest)}`
          : c.longest === 0
            ? '0'
            : duration(c.longest),
      ),
    ),
    legend: 'ms blocked',
  });
  if (!svg.ok) throw new UserError(svg.message);
  return svg.value;
}

/** Registers `faultline contain`. */
export function registerContainCommand(program: Command): void {
  program
    .command('contain')
    .description('the blast radius of a misbehaving dataspace manager under each fault-handling design')
    .option('--design <name>', 'a design to run (repeat; default genode, sync-core-rpc, local-rm)', collect)
    .option(
      '--misbehave <kind>',
      `how the victim's manager misbehaves (repeat; default all): ${MISBEHAVIOURS.join(', ')}`,
      collect,
    )
    .option('--set <option=value>', 'override one design option in every design (repeatable)', collect)
    .option('--cost <name=cycles>', 'override one cost (repeatable; docs/COST_MODEL.md)', collect)
    .option('--memory <size>', "bytes of each component's memory", '4M')
    .option('--chunk <size>', 'bytes each manager backs per fault', '64K')
    .option('--touches <n>', 'pages each component touches (each after --compute cycles)', '400')
    .option('--compute <cycles>', 'computation between two touches', '30000')
    .option('--horizon <ms>', 'simulated time after which a run stops if it has not gone quiet', '1000')
    .option('--stall <µs>', 'a block at least this long counts as a stall', '100')
    .option('--seed <n>', 'seed of the touched pages', '1')
    .option('--out <dir>', 'where to write contain.svg', 'faultline-out')
    .option('--json', 'print the result as JSON (docs/OUTPUT.md)')
    .addHelpText(
      'after',
      '\nWorkload: victim (its memory served by the misbehaving manager), neighbour (its own well-behaved\n' +
        'manager), compute (plain RAM) on CPU 0, all served by pager entrypoint 0; remote (plain RAM) on\n' +
        'CPU 1, served by pager entrypoint 1; both managers on CPU 1. Each design runs a baseline first;\n' +
        'delays are against it (under 10 µs left out of the table). ∞: still blocked when nothing was\n' +
        "left to happen. wrong/stale: page-table entries that disagree with core's region maps. lost:\n" +
        'faults given up. MDB: the most kernel memory the mapping database held (local-rm).\n' +
        'Ctrl-C keeps the runs done (exit status 130).\n',
    )
    .action(async (f: ContainFlags) => {
      const spec = parseContainFlags(f);
      const path = join(outDir(f.out ?? 'faultline-out'), 'contain.svg');
      await checkOutputs([{ flag: '--out', path }]);
      const total = spec.designs.length * (spec.behaviours.length + 1);
      // The simulator and the progress bar load here, so `--help` does not pay for them.
      const [{ runContainment }, bar] = await Promise.all([
        import('../sim/containment.js'),
        progressBar('contain {bar} {value}/{total} runs', !f.json),
      ]);
      bar?.update(0, total);
      let result: ContainResult;
      let interrupted = false;
      try {
        result = await interruptible(async (stop) => {
          const r = await runContainment(spec, {
            onRun: (done) => bar?.update(done, total),
            shouldStop: () => stop.requested,
            yieldEach: yieldToEventLoop,
          });
          interrupted = stop.requested;
          return r;
        });
      } finally {
        bar?.stop();
      }
      if (result.runs.length > 0) await writeFileAtomic(path, await containChart(result));
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ ...result, interrupted })}\n`);
        return;
      }
      const lines = [
        interrupted ? 'interrupted: partial result' : '',
        containTable(result, process.stdout.isTTY ? process.stdout.columns : undefined),
        '',
        'direct rights between components in the baseline runs (faultline designs --trust lists all rights):',
        ...trustLines(result).map((l) => `  ${l}`),
        result.runs.length > 0 ? `\nplot: ${path}` : '',
      ].filter((l, i) => i > 0 || l !== '');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
