/**
 * Streams one trace into one or more traced systems at once (one per design), batch by batch,
 * so a trace of any length replays in constant memory and is read only once for a comparison.
 */
import { stat } from 'node:fs/promises';
import { misbehaviourName } from '../components/misbehaviour.js';
import { arch as archOf } from '../hw/arch.js';
import { DEFAULT_COSTS } from '../sim/cost.js';
import { intervalCounters } from '../sim/machine_timeline.js';
import {
  buildTracedSystem,
  type IntervalResult,
  intervalResult,
  markSystem,
  type RunResult,
  resetStatistics,
  summarize,
  type TracedSystem,
} from '../sim/replay.js';
import { settle } from '../sim/replay_stop.js';
import { runConfig, type WindowConfig } from '../sim/run_config.js';
import { diffStats, type StatsMark } from '../sim/run_stats.js';
import { RecordWindow, type WindowEvent } from '../sim/run_window.js';
import { PushSource } from '../sim/sim_thread.js';
import { Timeline } from '../sim/timeline.js';
import { sampleTlbs, type TlbSample } from '../sim/tlb_samples.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { invariant } from '../util/result.js';
import { UserError } from './io.js';
import type { RunOptions } from './run_options.js';
import { type openTrace, readTraceFromStream, type TraceSummary } from './trace_source.js';
import { type ReaderMode, readTrace } from './trace_thread.js';
import { faultlineVersion } from './version.js';

/**
 * Exit status of `replay` and `compare` when a traced thread stopped for good before the end of
 * its trace, in any design (it died, or waits for a failed fault handler): the output is
 * complete, but covers only the records before the stop (`stopped` in docs/OUTPUT.md).
 */
export const EXIT_THREAD_STOPPED = 3;

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
  /** Which records are skipped, warm up, are measured, and the intervals (default: all measured). */
  readonly window?: WindowConfig;
  /** Length of the top lists of misses and faults; 0 turns attribution off (default 10). */
  readonly top?: number;
  /** Sample every CPU's TLBs after each batch (65,536 records) and at the end. */
  readonly tlbSamples?: boolean;
}

/** Every record measured, no intervals. */
export const WHOLE_TRACE: WindowConfig = { skip: 0, warmup: 0, limit: null, interval: null };

/** One design's system during a replay. */
interface Run {
  readonly sys: TracedSystem;
  readonly src: PushSource;
  readonly timeline: Timeline | null;
  /** The end of the warm-up (undefined: none yet). */
  from: StatsMark | undefined;
  /** Statistics at the last interval boundary, and the measured records before it. */
  last: StatsMark;
  lastRecords: number;
  readonly intervals: IntervalResult[];
  /** TLB samples after each batch (with `tlbSamples`). */
  readonly samples: TlbSample[];
}

/** Closes the interval since `r.last` (if it holds records) and draws it on the timeline. */
function closeInterval(r: Run): void {
  const now = markSystem(r.sys);
  const d = diffStats(now, r.last);
  if (d.records === 0 && d.elapsed === 0) return;
  const iv = intervalResult(d, r.lastRecords, now.elapsed - (r.from?.elapsed ?? 0));
  r.intervals.push(iv);
  if (r.timeline) intervalCounters(r.timeline, now.elapsed, iv);
  r.last = now;
  r.lastRecords += d.records;
}

/** Replays a trace file (or a stream, e.g. valgrind's output) through every run. */
export async function replay(
  input: string | { stream: AsyncIterable<unknown>; name: string },
  runs: readonly RunOptions[],
  hooks: ReplayHooks = {},
): Promise<ReplayOutcome> {
  const windowConfig = hooks.window ?? WHOLE_TRACE;
  const window = new RecordWindow(windowConfig);
  const top = hooks.top ?? 10;
  const systems: Run[] = runs.map((r, i) => {
    const src = new PushSource();
    const timeline =
      hooks.timeline && i === 0 ? new Timeline(CYCLES_PER_US, { otherData: { design: r.design } }) : null;
    const sys = buildTracedSystem([src], {
      ...r.system,
      timeline: timeline ?? undefined,
      attribution: top > 0,
    });
    const last = markSystem(sys);
    return { sys, src, timeline, from: undefined, last, lastRecords: 0, intervals: [], samples: [] };
  });
  let interrupted = false;
  const simulate = (batch: TraceBatch): void => {
    for (const s of systems) {
      const t = s.sys.threads[0]!;
      // A stopped thread replays nothing more: the rest of the trace is read and counted, not replayed.
      if (t.fatal) continue;
      s.src.push(batch);
      s.sys.machine.kick(t);
      s.sys.machine.run();
      if (settle(t, s.sys.machine.errors, s.sys.machine.faults.lostFaults)) s.src.take();
      else invariant(!s.src.hasPending, 'a replayed batch was not consumed');
      if (hooks.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
    }
  };
  const boundary = (e: WindowEvent): void => {
    for (const s of systems) {
      if (e === 'warmup-end') {
        s.from = resetStatistics(s.sys);
        s.last = s.from;
      } else closeInterval(s);
    }
  };
  const sink = (batch: TraceBatch): boolean => {
    const more = window.feed(batch, simulate, boundary);
    if (hooks.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    return more;
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
    settle(s.sys.threads[0]!, s.sys.machine.errors, s.sys.machine.faults.lostFaults);
    // A trace that ended inside its warm-up was all warm-up: nothing was measured.
    if (windowConfig.warmup > 0 && s.from === undefined) {
      s.from = resetStatistics(s.sys);
      s.last = s.from;
    }
    if (windowConfig.interval !== null) closeInterval(s);
    if (hooks.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
  }
  const version = faultlineVersion();
  return {
    results: systems.map((s, i) => {
      const r = runs[i]!;
      const sys = r.system;
      const arch = sys.arch ?? 'x86_64';
      const config = runConfig({
        version,
        design: r.design,
        options: r.options,
        arch,
        cpus: sys.cpus ?? 1,
        tlb: sys.tlb ?? archOf(arch).tlb,
        costs: sys.costs ?? DEFAULT_COSTS,
        chunk: sys.chunk ?? 2 ** 21,
        seed: r.seed,
        window: windowConfig,
        top,
        trace: read.value,
        paging: sys.paging,
        misbehave: sys.misbehave ? misbehaviourName(sys.misbehave) : undefined,
      });
      const result = summarize(s.sys, r.design, { from: s.from, top });
      return {
        ...result,
        ...(windowConfig.interval !== null ? { intervals: s.intervals } : {}),
        config,
      };
    }),
    timelines: systems.map((s) => s.timeline),
    trace: read.value,
    interrupted,
    samples: systems.map((s) => s.samples),
  };
}
