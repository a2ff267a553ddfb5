/**
 * `faultline run FILE.yaml [--log] [--cost key=value]…`, `faultline validate FILE.yaml` and
 * `faultline schema`. Exit status: 0 when every expectation holds, 1 when one fails (named on
 * stderr), 2 for a scenario that is invalid or cannot be run (problems as `file:line:col path:
 * message`), including a trace file of a trace_player that cannot be read. Scenarios with
 * behaviours, a design other than genode or a simulate step run on the simulator automatically.
 * The command functions return their output instead of printing, so tests call them directly.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { LoadedScenario } from '../scenario/load.js';
import type { Problem, ScenarioError } from '../scenario/problem.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { checkOutputs, collect, UserError, writeFileAtomic } from './io.js';
import { parseCostFlags } from './run_options.js';
/** What a command printed and how it exits. */
export interface CommandOutput {
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/** Failures printed on stderr before the rest are summarised. */
const MAX_FAILURES_SHOWN = 50;

const lines = (xs: readonly string[]) => (xs.length ? `${xs.join('\n')}\n` : '');

async function invalid(e: ScenarioError | readonly Problem[]): Promise<CommandOutput> {
  // The scenario modules (yaml, zod, the model) load with the first scenario, not at start-up.
  const { formatProblem, scenarioError } = await import('../scenario/problem.js');
  const problems = 'problems' in e ? e.problems : scenarioError(e).problems;
  return { exitCode: 2, stdout: '', stderr: lines(problems.map(formatProblem)) };
}

async function load(path: string): Promise<LoadedScenario | CommandOutput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? e);
    return { exitCode: 2, stdout: '', stderr: `${path}: cannot read the scenario: ${why}\n` };
  }
  // The loader (yaml, zod and the model its checks use) is loaded with the first scenario.
  const { loadScenario } = await import('../scenario/load.js');
  const r = loadScenario(text, path);
  return r.ok ? r.value : await invalid(r);
}

/** Records a trace_player may hold in memory; longer traces are for `faultline replay`. */
export const MAX_TRACE_RECORDS = 1 << 22;

/** Where a trace of a scenario is, resolved against the scenario's directory. */
function tracePath(scenario: string, trace: string): string {
  return resolve(dirname(scenario), trace);
}

/** Reads every trace the scenario's trace_player behaviours replay, into memory. */
export async function readScenarioTraces(
  s: LoadedScenario,
  path: string,
): Promise<Map<string, TraceBatch[]> | CommandOutput> {
  const out = new Map<string, TraceBatch[]>();
  const problems: Problem[] = [];
  const { traceRefs } = await import('../scenario/sim_spec.js');
  const refs = traceRefs(s);
  if (refs.length === 0) return out;
  // The trace readers load only for a scenario that replays traces.
  const { openTrace } = await import('./trace_source.js');
  for (const ref of refs) {
    if (out.has(ref.trace)) continue;
    const batches: TraceBatch[] = [];
    let records = 0;
    const file = tracePath(path, ref.trace);
    const r = await openTrace(file, (b) => {
      records += b.length;
      if (records > MAX_TRACE_RECORDS) return false;
      batches.push(b.copy());
      return true;
    });
    const why = !r.ok
      ? r.code === 'TRACE_NOT_FOUND'
        ? `cannot read trace '${ref.trace}' (${file}): no such file`
        : `cannot read trace '${ref.trace}': ${r.message.startsWith(`${file}: `) ? r.message.slice(file.length + 2) : r.message}`
      : records > MAX_TRACE_RECORDS
        ? `trace '${ref.trace}' has more than ${MAX_TRACE_RECORDS} records: a trace_player holds its trace in memory; replay longer traces with faultline replay`
        : undefined;
    if (why) problems.push(s.source.problem(ref.path, why));
    else out.set(ref.trace, batches);
  }
  return problems.length ? await invalid(problems) : out;
}

/** Validates `--cost key=value` assignments (the same checks as replay's). */
function costFlags(items: readonly string[]): { costs: Record<string, number> } | CommandOutput {
  try {
    return { costs: parseCostFlags(items) };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { exitCode: 2, stdout: '', stderr: `${e.message}\n` };
  }
}

/** Cycles per µs of the simulated clock (3 GHz), the timeline's time base. */
const CYCLES_PER_US = 3000;

/** Checks `--timeline FILE` before any work: writable, not an input. */
async function timelineOutput(file: string, inputs: readonly string[]): Promise<CommandOutput | null> {
  try {
    await checkOutputs([{ flag: '--timeline', path: file }], inputs);
    return null;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { exitCode: 2, stdout: '', stderr: `${e.message}\n` };
  }
}

/**
 * `faultline run FILE.yaml [--log] [--cost k=v] [--timeline OUT]`: runs the scenario and checks its
 * expectations; with `--timeline`, the simulated machine's run as a Chrome trace-event file (also
 * when an expectation failed: that is when one wants to look).
 */
export async function runScenarioFile(
  path: string,
  opts: { log?: boolean; cost?: readonly string[]; timeline?: string } = {},
): Promise<CommandOutput> {
  const flags = costFlags(opts.cost ?? []);
  if ('exitCode' in flags) return flags;
  if (opts.timeline !== undefined) {
    const bad = await timelineOutput(opts.timeline, [path]);
    if (bad) return bad;
  }
  const s = await load(path);
  if ('exitCode' in s) return s;
  const { isSimulated, needsSimulator, traceRefs } = await import('../scenario/sim_spec.js');
  if (opts.timeline !== undefined && !isSimulated(s.data))
    return {
      exitCode: 2,
      stdout: '',
      stderr: `--timeline: ${path} runs on the core model only (no behaviours, simulate step or design): there is no simulated time to record\n`,
    };
  const traces = await readScenarioTraces(s, path);
  if ('exitCode' in traces) return traces;
  if (opts.timeline !== undefined) {
    const bad = await timelineOutput(
      opts.timeline,
      [...traceRefs(s)].map((ref) => tracePath(path, ref.trace)),
    );
    if (bad) return bad;
  }
  // The simulator and the timeline load only where the scenario needs them: a run on a bare
  // core starts without them.
  const [{ formatFailure, runScenarioWith }, simulator, timeline] = await Promise.all([
    import('../scenario/run_log.js'),
    needsSimulator(s.data) ? import('../scenario/simulator.js').then((m) => m.SIMULATOR) : null,
    opts.timeline === undefined
      ? undefined
      : import('../sim/timeline.js').then(
          ({ Timeline }) =>
            new Timeline(CYCLES_PER_US, { otherData: { scenario: s.data.name, design: s.data.design } }),
        ),
  ]);
  const r = runScenarioWith(s, { traces, costs: flags.costs, timeline }, simulator);
  if (!r.ok) return await invalid(r);
  if (timeline && opts.timeline !== undefined)
    await writeFileAtomic(opts.timeline, JSON.stringify(timeline.toJSON()));
  const report = r.value;
  const out = opts.log ? [...report.log] : [`${report.name}: ${report.summary}`];
  const shown = report.failures.slice(0, MAX_FAILURES_SHOWN).map(formatFailure);
  if (report.failures.length > shown.length)
    shown.push(`… and ${report.failures.length - shown.length} more failure(s)`);
  return { exitCode: report.failures.length ? 1 : 0, stdout: lines(out), stderr: lines(shown) };
}

/** `faultline validate FILE.yaml`: checks the file (and that its trace files exist) without running it. */
export async function validateScenarioFile(path: string): Promise<CommandOutput> {
  const s = await load(path);
  if ('exitCode' in s) return s;
  const problems: Problem[] = [];
  const { isSimulated, traceRefs } = await import('../scenario/sim_spec.js');
  for (const ref of traceRefs(s)) {
    const file = tracePath(path, ref.trace);
    const ok = await stat(file).then(
      (x) => x.isFile(),
      () => false,
    );
    if (!ok)
      problems.push(s.source.problem(ref.path, `cannot read trace '${ref.trace}' (${file}): no such file`));
  }
  if (problems.length) return await invalid(problems);
  const { steps, components, design } = s.data;
  const sim = isSimulated(s.data) ? `, simulated with design ${design}` : '';
  const summary = `${path}: valid scenario '${s.data.name}' (${components.length} component(s), ${steps.length} step(s)${sim})`;
  return { exitCode: 0, stdout: lines([summary]), stderr: '' };
}

/** `faultline schema`: the JSON Schema of scenario files (`faultline schema > schema/scenario.schema.json`). */
export async function schemaOutput(): Promise<CommandOutput> {
  const { scenarioJsonSchemaText } = await import('../scenario/schema.js');
  return { exitCode: 0, stdout: scenarioJsonSchemaText(), stderr: '' };
}

function emit(o: CommandOutput): void {
  if (o.stdout) process.stdout.write(o.stdout);
  if (o.stderr) process.stderr.write(o.stderr);
  process.exitCode = o.exitCode;
}

/** Adds `run`, `validate` and `schema` to the faultline program. */
export function registerScenarioCommands(program: Command): void {
  program
    .command('run')
    .description(
      'builds the system a scenario file declares, runs its steps and checks their expectations; scenarios with behaviours, a design other than genode or a simulate step run on the simulator',
    )
    .argument('<file>', 'scenario file (.yaml)')
    .option('--log', 'print the run log (each step with core events beneath, the simulation summarised)')
    .option('--cost <key=value>', "override a cost in cycles over the scenario's costs (repeatable)", collect)
    .option(
      '--timeline <file>',
      "write the simulated machine's run as a Chrome trace-event JSON timeline (open in ui.perfetto.dev)",
    )
    .addHelpText(
      'after',
      '\nTrace files of trace_player behaviours are read relative to the scenario file and held in memory\n' +
        `(at most ${MAX_TRACE_RECORDS} records). Exit status: 0 all expectations hold, 1 one failed, 2 invalid.\n`,
    )
    .action(async (file: string, opts: { log?: boolean; cost?: string[]; timeline?: string }) =>
      emit(await runScenarioFile(file, opts)),
    );
  program
    .command('validate')
    .description(
      'checks a scenario file without running it: syntax, schema, every name and metric it uses, design, behaviours and that its trace files exist',
    )
    .argument('<file>', 'scenario file (.yaml)')
    .action(async (file: string) => emit(await validateScenarioFile(file)));
  program
    .command('schema')
    .description('prints the JSON Schema of scenario files (draft-07)')
    .action(async () => emit(await schemaOutput()));
}
