/**
 * Rival designs (issue 15): replay of the bundled trace under local-rm against genode in the same
 * run, and `faultline contain` / `faultline timeouts` with their defaults (wall and CPU time, as
 * their commands run them, minus the process start and the plot).
 */
import { performance } from 'node:perf_hooks';
import { parseContainFlags } from '../cli/contain_cmd.js';
import { BUNDLED_TRACE } from '../cli/demo.js';
import { replay } from '../cli/replay_run.js';
import { runOptions } from '../cli/run_options.js';
import { parseTimeoutFlags } from '../cli/timeouts_cmd.js';
import { runContainment } from '../sim/containment.js';
import { runTimeoutStudy } from '../sim/timeout_study.js';
import type { Recorder } from './harness.js';

const PASSES = 9;

/** Wall and CPU (user + system) milliseconds of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

export async function rivalBenchmarks(r: Recorder): Promise<void> {
  // Alternating passes, best of each: both designs see the same machine load.
  const best: Record<string, number> = {
    genode: Number.POSITIVE_INFINITY,
    'local-rm': Number.POSITIVE_INFINITY,
  };
  for (let i = 0; i < PASSES; i++) {
    for (const d of Object.keys(best)) {
      const t = await timed(() => replay(BUNDLED_TRACE, runOptions([d], {}), { reader: 'inline', top: 0 }));
      best[d] = Math.min(best[d]!, t.wall);
    }
  }
  r.record('rival.replay.genode', best.genode!, 'ms', `bundled trace, best of ${PASSES}`);
  r.record('rival.replay.local-rm', best['local-rm']!, 'ms', `bundled trace, best of ${PASSES}`);
  r.record('rival.replay.local-rm_vs_genode', best['local-rm']! / best.genode!, '×', 'target ≤ 1.5');
  const contain = await timed(() => runContainment(parseContainFlags({})));
  r.record('rival.contain.defaults.wall', contain.wall / 1000, 's', 'target < 15 s');
  r.record('rival.contain.defaults.cpu', contain.cpu / 1000, 's');
  const timeouts = await timed(() => runTimeoutStudy(parseTimeoutFlags({})));
  r.record('rival.timeouts.defaults.wall', timeouts.wall / 1000, 's', 'target < 15 s');
  r.record('rival.timeouts.defaults.cpu', timeouts.cpu / 1000, 's');
}
