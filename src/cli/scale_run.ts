/**
 * Running `faultline scale` sweeps (scale_cmd.ts parses and reports): each point's system, built
 * from a threaded synthetic workload, run to its end or in slices with the event loop free.
 */
import { designOptions } from '../sim/designs.js';
import { buildScaleSystem, type ScalePoint, type ScaleSystem, scalePoint } from '../sim/scale.js';
import { createThreadedWorkload } from '../workload/synthetic.js';
import { UserError } from './io.js';
import type { ScaleSpec } from './scale_cmd.js';
import { yieldToEventLoop } from './sweep.js';

const BASE = 2 ** 32;

/** Accesses each thread makes at a point with `cpus` CPUs. */
function recordsPerThread(spec: ScaleSpec, cpus: number): number {
  return Math.max(1, Math.floor(spec.records / cpus));
}

/** Builds the system of one point of the sweep, ready to run. */
export function scaleSystem(spec: ScaleSpec, design: string, cpus: number): ScaleSystem {
  const options = designOptions(design);
  if (!options.ok) throw new UserError(`--design: ${options.message}`);
  const sources = createThreadedWorkload({
    threads: cpus,
    recordsPerThread: recordsPerThread(spec, cpus),
    sharedFootprint: spec.sharedBytes,
    privateFootprint: spec.privateBytes,
    shareRatio: spec.share,
    seed: spec.seed,
    base: BASE,
    instrPerAccess: 0,
  });
  if (!sources.ok) throw new UserError(sources.message);
  return buildScaleSystem(sources.value, {
    cpus,
    design: options.value,
    chunk: spec.chunk,
    // The generator puts the shared region at BASE and the private ones right after it.
    layout: { privateBase: BASE + spec.sharedBytes, privateStride: spec.privateBytes },
  });
}

/** Runs one point of the sweep to its end. */
export function runScalePoint(spec: ScaleSpec, design: string, cpus: number): ScalePoint {
  const sys = scaleSystem(spec, design, cpus);
  sys.machine.run();
  return scalePoint(sys, design);
}

/** Wall-clock milliseconds of simulation between looks at the terminal (progress, Ctrl-C). */
const SLICE_MS = 50;

/** Hooks of {@link runScale}. */
export interface ScaleHooks {
  /** Accesses made so far, of `total` in the whole sweep; called after every slice. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Polled after every slice: true stops the sweep (the point in progress is kept, partial). */
  readonly shouldStop?: () => boolean;
}

/**
 * Runs the whole sweep, designs outermost, each point in slices of about {@link SLICE_MS} of engine
 * events (the same events in the same order as one uninterrupted run, so the same figures) with
 * the event loop free in between.
 */
export async function runScale(
  spec: ScaleSpec,
  hooks: ScaleHooks = {},
): Promise<{ points: ScalePoint[]; interrupted: boolean }> {
  const total = spec.designs.length * spec.cpus.reduce((a, c) => a + c * recordsPerThread(spec, c), 0);
  const points: ScalePoint[] = [];
  let before = 0;
  for (const design of spec.designs) {
    for (const cpus of spec.cpus) {
      const sys = scaleSystem(spec, design, cpus);
      const engine = sys.machine.engine;
      let stopped = false;
      for (let more = true; more; ) {
        // One event can stand for thousands of accesses: look at the clock every few events.
        const until = performance.now() + SLICE_MS;
        while (more && performance.now() < until) {
          for (let i = 0; i < 16 && more; i++) more = engine.step();
        }
        hooks.onProgress?.(before + sys.threads.reduce((a, t) => a + t.records, 0), total);
        await yieldToEventLoop();
        stopped = !!hooks.shouldStop?.();
        if (stopped) break;
      }
      points.push(scalePoint(sys, design));
      if (stopped) return { points, interrupted: true };
      before += cpus * recordsPerThread(spec, cpus);
    }
  }
  return { points, interrupted: false };
}
