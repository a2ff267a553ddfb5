/**
 * `faultline timeouts`: Norman's argument against IPC timeouts (seed 001) as a sweep of timeout ×
 * load: faults lost when the timeout is too short for managers competing with busy threads, stalls
 * that add up along a chain of managers and across misbehaving ones when it is long, and the
 * seed's DOpE figures measured on the model. A table, `--json`, and a plot of both failure regions.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { MISBEHAVIOURS, parseMisbehaviour } from '../components/misbehaviour.js';
import { lineChart } from '../report/plot.js';
import { formatTable } from '../report/table.js';
import { cyclesToMicros } from '../sim/cost.js';
import { designOptions, parseOverrides, parseTimeout } from '../sim/designs.js';
import type { DOPE, TimeoutPoint, TimeoutResult, TimeoutSpec } from '../sim/timeout_study.js';
import { duration } from './contain_cmd.js';
import {
  checkOutputs,
  collect,
  interruptible,
  outDir,
  parseIntIn,
  parsePositiveInt,
  UserError,
  writeFileAtomic,
} from './io.js';
import { progressBar } from './progress.js';
import { costsOf, parseChunk } from './run_options.js';
import { stackSvgs, yieldToEventLoop } from './sweep.js';

/** Raw flags of `faultline timeouts`. */
export interface TimeoutFlags {
  design?: string;
  timeouts?: string;
  loads?: string;
  chain?: string;
  clients?: string;
  faults?: string;
  compute?: string;
  chunk?: string;
  quantum?: string;
  misbehaving?: string;
  misbehave?: string;
  horizon?: string;
  set?: string[];
  cost?: string[];
  out?: string;
  json?: boolean;
}

const SYNC_DESIGNS = ['sync-core-rpc', 'local-rm'] as const;

/** One duration (`5ms`, `500us`, cycles) of a flag; `never` only where allowed. */
function parseDurationFlag(text: string, flag: string, allowNever: boolean): number | 'never' {
  const v = parseTimeout(text);
  if (v === undefined || (v === 'never' && !allowNever))
    throw new UserError(
      `${flag}: '${text}' is not a duration (expected e.g. 5ms, 500us or cycles${allowNever ? ', or never' : ''})`,
    );
  return v;
}

/** `--loads`: busy-thread counts from 0 to 64, strictly increasing. */
function parseLoads(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw new UserError(`--loads: '${text}' is not a comma-separated list of counts (e.g. 0,1,2,4)`);
  const xs = items.map((s) => parseIntIn(s, '--loads', 0, 64, 'busy threads'));
  if (xs.some((x, i) => i > 0 && x <= xs[i - 1]!))
    throw new UserError(`--loads: '${text}' must be strictly increasing, e.g. 0,1,2,4`);
  return xs;
}

/** Validates the flags; a bad one is a user error naming it. */
export function parseTimeoutFlags(f: TimeoutFlags): TimeoutSpec {
  const name = f.design ?? 'sync-core-rpc';
  if (!(SYNC_DESIGNS as readonly string[]).includes(name))
    throw new UserError(
      `--design: '${name}' has no IPC timeouts; expected one of ${SYNC_DESIGNS.join(', ')}`,
    );
  const overrides = parseOverrides(f.set ?? []);
  if (!overrides.ok) throw new UserError(`--set: ${overrides.message}`);
  if ('ipcTimeout' in overrides.value)
    throw new UserError('--set: ipcTimeout is what this study sweeps; use --timeouts');
  const options = designOptions(name, overrides.value);
  if (!options.ok) throw new UserError(`--set: ${options.message}`);
  const timeoutText = (f.timeouts ?? '1ms,2ms,5ms,10ms,20ms,50ms,100ms,200ms')
    .split(',')
    .map((s) => s.trim());
  const timeouts = timeoutText.map((t) => parseDurationFlag(t, '--timeouts', true));
  const finite = timeouts.filter((t): t is number => t !== 'never');
  if (finite.some((t, i) => i > 0 && t <= finite[i - 1]!) || timeouts.slice(0, -1).includes('never'))
    throw new UserError(`--timeouts: '${f.timeouts}' must be increasing (never only last)`);
  const misbehave = parseMisbehaviour(f.misbehave ?? 'never-replies');
  if (!misbehave.ok) throw new UserError(`--misbehave: ${misbehave.message}`);
  const quantum = parseDurationFlag(f.quantum ?? '10ms', '--quantum', false) as number;
  return {
    design: { name, options: options.value },
    timeouts,
    loads: parseLoads(f.loads ?? '0,1,2,4'),
    chain: parsePositiveInt(f.chain ?? '3', '--chain', 4),
    clients: parsePositiveInt(f.clients ?? '4', '--clients', 64),
    faultsPerClient: parsePositiveInt(f.faults ?? '4', '--faults', 1024),
    computeCycles: parseDurationFlag(f.compute ?? '1ms', '--compute', false) as number,
    chunk: parseChunk(f.chunk ?? '64K', 4096),
    quantum,
    misbehaving: parseIntIn(f.misbehaving ?? '10', '--misbehaving', 1, 256),
    misbehave: misbehave.value,
    innocentTouches: 20,
    horizon: parseDurationFlag(f.horizon ?? '3000ms', '--horizon', false) as number,
    costs: costsOf(f.cost ?? []),
  };
}

const opt = (us: number | null) => (us === null ? '-' : duration(us));

function timeoutText(us: number | null): string {
  return us === null ? 'never' : duration(us);
}

/** The terminal table: one row per point. */
export function timeoutTable(r: TimeoutResult): string {
  return formatTable(
    [
      'workload',
      'timeout',
      'load',
      'faults',
      'lost',
      'timeouts send/reply',
      'unfinished',
      'worst stall',
      'server stall',
      'server blocked',
      'innocent frozen',
      'dropped replies',
      'wasted',
    ],
    r.points.map((p) => [
      p.workload,
      timeoutText(p.timeoutUs),
      p.workload === 'load' ? `${p.load} busy` : `${p.load} managers`,
      p.faults,
      p.lost,
      `${p.sendTimeouts}/${p.replyTimeouts}`,
      p.unfinished,
      opt(p.worstStallUs),
      duration(p.serverStallUs),
      duration(p.serverBlockedUs),
      opt(p.innocentStallUs),
      p.droppedReplies,
      duration(p.wastedUs),
    ]),
    {
      align: [
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
      ],
    },
  );
}

/** The seed's DOpE figures, in words, from the model's numbers. */
export function dopeLines(r: TimeoutResult, dope: typeof DOPE): string[] {
  if (!r.dope) return [];
  const { shortTimeout: s, freeze: f } = r.dope;
  return [
    `DOpE, too short: a ${duration(cyclesToMicros(dope.shortTimeoutCycles))} timeout with ${dope.busyThreads} busy threads of 10 ms quanta on the managers' CPU: ${s.lost} of ${s.faults} faults lost (calls timed out: ${s.sendTimeouts} before the manager took them, ${s.replyTimeouts} before it answered), ${s.unfinished} of ${r.spec.clients} threads blocked for good.`,
    `DOpE, too long: a ${duration(cyclesToMicros(dope.longTimeoutCycles))} timeout × ${dope.misbehaving} misbehaving managers (${r.spec.misbehave}): the fault servers were blocked ${duration(f.serverBlockedUs)} in all, at most ${duration(f.serverStallUs)} without a break; ${r.design === 'local-rm' ? 'the innocent component, whose faults go to its own region mapper, waited at most' : 'the innocent component served by the same pager entrypoint froze for'} ${opt(f.innocentStallUs)}.`,
  ];
}

/**
 * The plot: faults lost against the timeout per load (too short), and the longest unbroken server
 * stall per load plus the innocent component's freeze among misbehaving managers (too long).
 * Points without a finite timeout are left out.
 */
export async function timeoutChart(r: TimeoutResult): Promise<string | null> {
  const finite = (p: TimeoutPoint) => p.timeoutUs !== null;
  const xs = [...new Set(r.points.filter(finite).map((p) => p.timeoutUs!))];
  const loads = [...new Set(r.points.filter((p) => p.workload === 'load').map((p) => p.load))];
  const complete = (ps: TimeoutPoint[]) => ps.length === xs.length;
  const loadSeries = (f: (p: TimeoutPoint) => number) =>
    loads
      .map((l) => ({ l, ps: r.points.filter((p) => p.workload === 'load' && p.load === l && finite(p)) }))
      .filter((s) => complete(s.ps))
      .map((s) => ({ name: `${s.l} busy thread${s.l === 1 ? '' : 's'}`, values: s.ps.map(f) }));
  const bad = r.points.filter((p) => p.workload === 'misbehaving' && finite(p));
  if (xs.length === 0) return null;
  const x = { label: 'IPC timeout (ms)', values: xs.map((v) => v / 1000), scale: 'log2' as const };
  const lost = await lineChart({
    title: `Too short: faults lost (${r.design}, ${r.spec.chain} chained managers, 10 ms quanta)`,
    x,
    series: loadSeries((p) => (p.faults === 0 ? 0 : (100 * p.lost) / p.faults)),
    yLabel: '% of faults lost',
  });
  const stall = await lineChart({
    title: 'Too long: the longest unbroken stall of a fault server',
    x,
    series: [
      ...loadSeries((p) => Math.max(p.serverStallUs, 1) / 1000),
      ...(complete(bad)
        ? [
            {
              name: `${r.spec.misbehaving} misbehaving managers (innocent frozen)`,
              values: bad.map((p) => Math.max(p.innocentStallUs ?? 0, p.serverStallUs, 1) / 1000),
            },
          ]
        : []),
    ],
    yLabel: 'ms',
    yScale: 'log',
  });
  if (!lost.ok) throw new UserError(lost.message);
  if (!stall.ok) throw new UserError(stall.message);
  return stackSvgs(lost.value, stall.value);
}

/** Registers `faultline timeouts`. */
export function registerTimeoutsCommand(program: Command): void {
  program
    .command('timeouts')
    .description(
      "IPC timeouts on the synchronous designs, timeout × load: too short loses faults, too long stalls (with the DOpE GUI server's figures)",
    )
    .option(
      '--design <name>',
      `design whose ipcTimeout is swept: ${SYNC_DESIGNS.join(' | ')}`,
      'sync-core-rpc',
    )
    .option(
      '--timeouts <list>',
      'timeouts, increasing (5ms, 500us, cycles; never last)',
      '1ms,2ms,5ms,10ms,20ms,50ms,100ms,200ms',
    )
    .option('--loads <list>', "busy threads on the managers' CPU, increasing", '0,1,2,4')
    .option('--chain <n>', 'managers chained through nested managed dataspaces (1 to 4)', '3')
    .option('--clients <n>', 'faulting threads', '4')
    .option('--faults <n>', 'fresh chunks each faulting thread touches', '4')
    .option('--compute <duration>', 'computation between two touches', '1ms')
    .option('--chunk <size>', 'bytes each manager backs per fault', '64K')
    .option('--quantum <duration>', "the scheduler's quantum", '10ms')
    .option('--misbehaving <n>', 'misbehaving managers of the second workload', '10')
    .option('--misbehave <kind>', `how they misbehave: ${MISBEHAVIOURS.join(', ')}`, 'never-replies')
    .option('--horizon <duration>', 'simulated time after which a run stops', '3000ms')
    .option('--set <option=value>', 'override one design option (repeatable; not ipcTimeout)', collect)
    .option('--cost <name=cycles>', 'override one cost (repeatable; docs/COST_MODEL.md)', collect)
    .option('--out <dir>', 'where to write timeouts.svg', 'faultline-out')
    .option('--json', 'print the result as JSON (docs/OUTPUT.md)')
    .addHelpText(
      'after',
      '\nload: client threads on CPU 0 fault into memory paged through --chain managers on CPU 1, where\n' +
        '--loads busy threads with the same priority compete for the CPU. misbehaving: --misbehaving\n' +
        'clients each fault into memory of its own misbehaving manager while an innocent component on\n' +
        'plain RAM, served by the same pager entrypoint, keeps touching pages. lost: faults given up.\n' +
        'timeouts: calls that timed out before the manager took them (send) or answered (reply). worst\n' +
        'stall: the longest a faulting thread waited for a fault that was resolved. server stall: the longest\n' +
        "a pager entrypoint or region mapper stayed blocked without a break. wasted: managers' cycles on\n" +
        'requests whose replies were dropped. Ctrl-C keeps the points done (exit status 130).\n',
    )
    .action(async (f: TimeoutFlags) => {
      const spec = parseTimeoutFlags(f);
      const path = join(outDir(f.out ?? 'faultline-out'), 'timeouts.svg');
      await checkOutputs([{ flag: '--out', path }]);
      // The simulator and the progress bar load here, so `--help` does not pay for them.
      const [{ runTimeoutStudy, DOPE }, bar] = await Promise.all([
        import('../sim/timeout_study.js'),
        progressBar('timeouts {bar} {value}/{total} points', !f.json),
      ]);
      let result: TimeoutResult;
      let interrupted = false;
      try {
        result = await interruptible(async (stop) => {
          const r = await runTimeoutStudy(spec, {
            onPoint: (done, total) => bar?.update(done, total),
            shouldStop: () => stop.requested,
            yieldEach: yieldToEventLoop,
          });
          interrupted = stop.requested;
          return r;
        });
      } finally {
        bar?.stop();
      }
      const svg = result.points.length > 0 ? await timeoutChart(result) : null;
      if (svg) await writeFileAtomic(path, svg);
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ ...result, interrupted })}\n`);
        return;
      }
      const lines = [
        interrupted ? 'interrupted: partial result' : '',
        timeoutTable(result),
        '',
        ...dopeLines(result, DOPE),
        svg ? `\nplot: ${path}` : '',
      ].filter((l, i) => i > 0 || l !== '');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
