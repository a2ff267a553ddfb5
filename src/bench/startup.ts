/**
 * Start-up figures (issue 18): the built CLI spawned as a user runs it, for the commands that do
 * not plot, against a bare `node -e 0` spawned in the same run. Wall time is the median of RUNS
 * spawns; CPU time is the children's user + system time (from /proc/self/stat, Linux) over the same
 * spawns, which other processes on the machine do not inflate the way they inflate wall time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Recorder } from './harness.js';

const RUNS = 11;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** `figure name`, the arguments after `node`, and whether the CLI may use its code cache. */
const COMMANDS: ReadonlyArray<readonly [string, readonly string[], boolean?]> = [
  ['node', ['-e', '0']],
  ['help', [MAIN, '--help']],
  ['designs', [MAIN, 'designs']],
  ['validate', [MAIN, 'validate', 'scenarios/rm_nested.yaml']],
  ['trace_info', [MAIN, 'trace', 'info', 'test/fixtures/lackey_small.txt']],
  ['run_core', [MAIN, 'run', 'scenarios/rm_nested.yaml']],
  // Beyond the list: a replay of a small trace, inline and on the reader thread (which
  // starts a worker), and what a missing code cache costs.
  ['replay_small', [MAIN, 'replay', '--reader', 'inline', 'test/fixtures/lackey_small.txt']],
  ['replay_thread', [MAIN, 'replay', '--reader', 'thread', 'test/fixtures/lackey_small.txt']],
  ['help_nocache', [MAIN, '--help'], false],
  ['validate_nocache', [MAIN, 'validate', 'scenarios/rm_nested.yaml'], false],
];
/** The figures issue 18 bounds. */
const TARGETED = new Set(['help', 'designs', 'validate', 'trace_info', 'run_core']);

/** CPU seconds of this process's waited-for children so far (cutime + cstime), or null off Linux. */
function childCpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat(5), counted from 1 with pid and comm as 1 and 2.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function startupBenchmarks(r: Recorder): Promise<void> {
  const wall = new Map<string, number>();
  const cpu = new Map<string, number | null>();
  for (const [name, args, cache] of COMMANDS) {
    const times: number[] = [];
    const c0 = childCpuSeconds();
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, args, {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', ...(cache === false ? { FAULTLINE_CODE_CACHE: 'off' } : {}) },
      });
      times.push((performance.now() - t0) / 1000);
      if (p.status !== 0) throw new Error(`startup bench: ${args.join(' ')} exited ${p.status}: ${p.stderr}`);
    }
    const c1 = childCpuSeconds();
    wall.set(name, median(times));
    cpu.set(name, c0 === null || c1 === null ? null : (c1 - c0) / RUNS);
  }
  const nodeWall = wall.get('node')!;
  const nodeCpu = cpu.get('node');
  for (const [name, args, cache] of COMMANDS) {
    const command = name === 'node' ? 'node -e 0' : `faultline ${args.slice(1).join(' ')}`;
    const what = cache === false ? `${command}, FAULTLINE_CODE_CACHE=off` : command;
    const target = TARGETED.has(name) ? '; target <= 0.15' : '';
    r.record(`startup.${name}.wall`, wall.get(name)!, 's', `${what}, median of ${RUNS} spawns${target}`);
    const c = cpu.get(name);
    if (c !== null && c !== undefined)
      r.record(`startup.${name}.cpu`, c, 's', `${what}, user + system, mean of ${RUNS}${target}`);
    if (name === 'node') continue;
    r.record(
      `startup.${name}.vs_node`,
      wall.get(name)! / nodeWall,
      'x',
      'wall, against node -e 0 in the same run',
    );
    if (c !== null && c !== undefined && nodeCpu)
      r.record(`startup.${name}.cpu_vs_node`, c / nodeCpu, 'x', 'CPU time, against node -e 0');
  }
}
