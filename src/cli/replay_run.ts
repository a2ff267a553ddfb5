/**
 * Streams one trace into one or more traced systems at once (one per design), batch by batch,
 * so a trace of any length replays in constant memory and is read only once for a comparison.
 */
import { stat } from 'node:fs/promises';
import { buildTracedSystem, type RunResult, summarize, type TracedSystem } from '../sim/replay.js';
import { PushSource } from '../sim/sim_thread.js';
import { Timeline } from '../sim/timeline.js';
import { sampleTlbs, type TlbSample } from '../sim/tlb_samples.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { UserError } from './io.js';
import type { RunOptions } from './run_options.js';
import { type openTrace, readTraceFromStream, type TraceSummary } from './trace_source.js';
import { type ReaderMode, readTrace } from './trace_thread.js';

/** Cycles per microsecond of the nominal 3 GHz clock (docs/COST_MODEL.md). */
export const CYCLES_PER_US = 3000;

/** What a replay produced. */
export interface ReplayOutcome {
  readonly results: RunResult[];
  readonly timelines: Array<Timeline | null>;
  readonly trace: TraceSummary;
  /** True when the user interrupted the run (Ctrl-C): results are partial. */
  readonly interrupted: boolean;
  /** Per run, the TLB samples taken after every batch (empty unless `tlbSamples` was asked for). */
  readonly samples: TlbSample[][];
}

/** Hooks for progress and interruption. */
export interface ReplayHooks {
  /** Record a timeline for the first run. */
  readonly timeline?: boolean;
  readonly onProgress?: (bytes: number, total: number) => void;
  /** Polled after each batch: true stops reading (partial results). */
  readonly shouldStop?: () => boolean;
  /** Where a trace file is parsed (default 'auto': a reader thread for large files). */
  readonly reader?: ReaderMode;
  /** Sample every CPU's TLBs after each batch (65,536 records) and at the end. */
  readonly tlbSamples?: boolean;
}

/** Replays a trace file (or a stream, e.g. valgrind's output) through every run. */
export async function replay(
  input: string | { stream: AsyncIterable<unknown>; name: string },
  runs: readonly RunOptions[],
  hooks: ReplayHooks = {},
): Promise<ReplayOutcome> {
  const systems: Array<{
    sys: TracedSystem;
    src: PushSource;
    timeline: Timeline | null;
    samples: TlbSample[];
  }> = runs.map((r, i) => {
    const src = new PushSource();
    const timeline =
      hooks.timeline && i === 0 ? new Timeline(CYCLES_PER_US, { otherData: { design: r.design } }) : null;
    const sys = buildTracedSystem([src], { ...r.system, timeline: timeline ?? undefined });
    return { sys, src, timeline, samples: [] };
  });
  let interrupted = false;
  const sink = (batch: TraceBatch): boolean => {
    for (const s of systems) {
      s.src.push(batch);
      s.sys.machine.kick(s.sys.threads[0]!);
      s.sys.machine.run();
      if (s.src.hasPending) throw new Error('internal: a replayed batch was not consumed');
      if (hooks.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
    }
    if (hooks.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    return true;
  };
  let total = 0;
  let read: Awaited<ReturnType<typeof openTrace>>;
  if (typeof input === 'string') {
    total = await stat(input).then(
      (s) => s.size,
      () => 0,
    );
    const onProgress = hooks.onProgress ? (b: number) => hooks.onProgress!(b, total) : undefined;
    read = await readTrace(input, sink, { onProgress, mode: hooks.reader });
  } else {
    read = await readTraceFromStream(input.stream, input.name, sink);
  }
  if (!read.ok) throw new UserError(read.message);
  for (const s of systems) {
    s.src.end();
    s.sys.machine.kick(s.sys.threads[0]!);
    s.sys.machine.run();
    if (hooks.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
  }
  return {
    results: systems.map((s, i) => summarize(s.sys, runs[i]!.design)),
    timelines: systems.map((s) => s.timeline),
    trace: read.value,
    interrupted,
    samples: systems.map((s) => s.samples),
  };
}
