/**
 * Paging figures (issue 16) on the bundled sort trace (4 copies back to back), every pair measured
 * in the same run, interleaved:
 * - replay with a RAM limit of half the working set against the same design without a limit
 *   (target: at least half the rate);
 * - replay with a limit the trace fits in against no limit (replacement bookkeeping is O(1) per
 *   access: target within 1.2x).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { BUNDLED_TRACE } from '../cli/demo.js';
import { replay } from '../cli/replay_run.js';
import { runOptions } from '../cli/run_options.js';
import type { RunResult } from '../sim/replay.js';
import type { Recorder } from './harness.js';

const PASSES = 7;
/** Copies of the bundled trace replayed back to back, so each replay takes long enough to time. */
const COPIES = 4;

/** One replay of the file with one design: wall time and result. */
async function once(path: string, design: string, flags: Record<string, string>) {
  const t0 = performance.now();
  const out = await replay(path, runOptions([design], flags), { reader: 'inline', top: 0 });
  const ms = performance.now() - t0;
  const r = out.results[0]!;
  if (r.stopped) throw new Error(`swap bench: ${design} stopped: ${r.stopped.error}`);
  return { ms, r };
}

/**
 * Replays under each flag set in turn, `PASSES` rounds after one warm-up round (so neither side
 * pays the JIT's warm-up); per flag set the fastest wall time, its rate and result.
 */
async function compared(path: string, design: string, sets: readonly Record<string, string>[]) {
  for (const f of sets) await once(path, design, f);
  const best = sets.map(() => ({
    ms: Number.POSITIVE_INFINITY,
    rate: 0,
    r: undefined as RunResult | undefined,
  }));
  for (let i = 0; i < PASSES; i++) {
    for (const [k, f] of sets.entries()) {
      const { ms, r } = await once(path, design, f);
      if (ms < best[k]!.ms) best[k] = { ms, rate: r.records / (ms / 1000), r };
    }
  }
  return best.map((b) => ({ ms: b.ms, rate: b.rate, r: b.r! }));
}

export async function swapBenchmarks(r: Recorder): Promise<void> {
  const text = join(tmpdir(), `faultline-bench-${process.pid}-sort-swap.lackey`);
  try {
    const trace = gunzipSync(readFileSync(BUNDLED_TRACE));
    writeFileSync(text, Buffer.concat(Array.from({ length: COPIES }, () => trace)));
    for (const design of ['kernel-swap', '4k-only']) {
      const flags = { chunk: '4K' };
      const [probe] = await compared(text, design, [flags]);
      const pages = probe!.r.pages.touched;
      const ws = pages * 4096;
      const half = Math.floor(pages / 2) * 4096;
      const eighth = Math.floor(pages / 8) * 4096;
      const [free, limited, fits, tight] = await compared(text, design, [
        flags,
        { ...flags, ram: String(half) },
        { ...flags, ram: String(ws) },
        { ...flags, ram: String(eighth) },
      ]);
      const s = limited!.r.swap!;
      r.record(
        `swap.${design}.unlimited`,
        free!.rate,
        'records/s',
        `sort trace x${COPIES}, --chunk 4K, no --ram, best of ${PASSES} interleaved`,
      );
      r.record(
        `swap.${design}.half_ws`,
        limited!.rate,
        'records/s',
        `--ram ${half / 1024}K = half of ${ws / 1024}K touched: ${s.ins} swap-ins, ${s.outs} swap-outs, ${s.evictions} evictions`,
      );
      r.record(`swap.${design}.half_ws_vs_unlimited`, limited!.rate / free!.rate, 'ratio', 'target >= 0.5');
      const t = tight!.r.swap!;
      r.record(
        `swap.${design}.eighth_ws_vs_unlimited`,
        tight!.rate / free!.rate,
        'ratio',
        `--ram ${eighth / 1024}K: ${t.ins} swap-ins, ${t.outs} swap-outs (no target)`,
      );
      r.record(
        `swap.${design}.fits_slowdown`,
        fits!.ms / free!.ms,
        'x',
        `--ram ${ws / 1024}K (the working set), clock; target <= 1.2`,
      );
    }
    // The default design and chunk with a limit far above the trace: the bookkeeping alone.
    const [plain, roomy] = await compared(text, 'genode', [{}, { ram: '64M' }]);
    r.record(
      'swap.genode.fits_slowdown',
      roomy!.ms / plain!.ms,
      'x',
      '--ram 64M, 2M chunks, clock; target <= 1.2',
    );
  } finally {
    rmSync(text, { force: true });
  }
}
