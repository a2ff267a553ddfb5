/**
 * `faultline run FILE.yaml [--log]`, `faultline validate FILE.yaml` and `faultline schema`.
 * Exit status: 0 when every expectation holds, 1 when one fails (named on stderr), 2 for a
 * scenario that is invalid or cannot be run (problems as `file:line:col path: message`).
 * The command functions return their output instead of printing, so tests call them directly.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type LoadedScenario, loadScenario } from '../scenario/load.js';
import { formatProblem, type ScenarioError } from '../scenario/problem.js';
import { formatFailure, runScenario, simulatorOnly } from '../scenario/run.js';
import { scenarioJsonSchemaText } from '../scenario/schema.js';

/** What a command printed and how it exits. */
export interface CommandOutput {
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/** Failures printed on stderr before the rest are summarised. */
const MAX_FAILURES_SHOWN = 50;

const lines = (xs: readonly string[]) => (xs.length ? `${xs.join('\n')}\n` : '');

function invalid(e: ScenarioError): CommandOutput {
  return { exitCode: 2, stdout: '', stderr: lines(e.problems.map(formatProblem)) };
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
  const r = loadScenario(text, path);
  return r.ok ? r.value : invalid(r);
}

/** `faultline run FILE.yaml [--log]`: runs the scenario and checks its expectations. */
export async function runScenarioFile(path: string, opts: { log?: boolean } = {}): Promise<CommandOutput> {
  const s = await load(path);
  if ('exitCode' in s) return s;
  const r = runScenario(s);
  if (!r.ok) return invalid(r);
  const report = r.value;
  const out = opts.log ? [...report.log] : [`${report.name}: ${report.summary}`];
  const shown = report.failures.slice(0, MAX_FAILURES_SHOWN).map(formatFailure);
  if (report.failures.length > shown.length)
    shown.push(`… and ${report.failures.length - shown.length} more failure(s)`);
  return { exitCode: report.failures.length ? 1 : 0, stdout: lines(out), stderr: lines(shown) };
}

/** `faultline validate FILE.yaml`: checks the file without running it. */
export async function validateScenarioFile(path: string): Promise<CommandOutput> {
  const s = await load(path);
  if ('exitCode' in s) return s;
  const notes = simulatorOnly(s).map((p) => `note: ${formatProblem(p)}`);
  const { steps, components } = s.data;
  const summary = `${path}: valid scenario '${s.data.name}' (${components.length} component(s), ${steps.length} step(s))`;
  return { exitCode: 0, stdout: lines([summary, ...notes]), stderr: '' };
}

/** `faultline schema`: the JSON Schema of scenario files (`faultline schema > schema/scenario.schema.json`). */
export function schemaOutput(): CommandOutput {
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
    .description('builds the system a scenario file declares, runs its steps and checks their expectations')
    .argument('<file>', 'scenario file (.yaml)')
    .option('--log', 'print the run log (each step with core events beneath)')
    .action(async (file: string, opts: { log?: boolean }) => emit(await runScenarioFile(file, opts)));
  program
    .command('validate')
    .description('checks a scenario file: syntax, schema and every name it uses')
    .argument('<file>', 'scenario file (.yaml)')
    .action(async (file: string) => emit(await validateScenarioFile(file)));
  program
    .command('schema')
    .description('prints the JSON Schema of scenario files (draft-07)')
    .action(() => emit(schemaOutput()));
}
