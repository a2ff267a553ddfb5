/**
 * `faultline explain FILE.yaml`: runs a scenario and prints, for each of its `explain` steps, why
 * the fault got the mapping it got: the region maps walked and every constraint on the size,
 * with the size a matching alignment would have given.
 */
import type { Command } from 'commander';
import { type CommandOutput, runScenarioFile } from './scenario_cmd.js';

/** The explain steps' lines of a run log: each step's header and its indented explanation. */
export function explanations(log: readonly string[]): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of log) {
    if (/^step [\d.]+ \(line \d+\)(?: \[[^\]]*\])?: explain /.test(line)) {
      if (out.length > 0) out.push('');
      out.push(line);
      inside = true;
    } else if (inside && /^\s{4,}/.test(line)) out.push(line);
    else inside = false;
  }
  return out;
}

/** Runs the scenario and keeps its explanations. */
export async function explainScenarioFile(path: string): Promise<CommandOutput> {
  const r = await runScenarioFile(path, { log: true });
  if (r.exitCode === 2) return r;
  const found = explanations(r.stdout.split('\n'));
  if (found.length === 0) {
    return {
      exitCode: 2,
      stdout: '',
      stderr: `faultline: ${path} has no explain step; add one such as\n  - explain: { thread: app.main, address: 0x40001234 }\n`,
    };
  }
  return { exitCode: r.exitCode, stdout: `${found.join('\n')}\n`, stderr: r.stderr };
}

/** Registers `faultline explain`. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain <scenario>')
    .description(
      "why each fault in a scenario's explain steps got its mapping size: the maps walked, every constraint",
    )
    .action(async (file: string) => {
      const r = await explainScenarioFile(file);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.exitCode;
    });
}
