/**
 * Streams one trace into one or more traced systems at once (one per design), batch by batch,
 * so a trace of any length replays in constant memory and is read only once for a comparison.
 * A comparison of a trace read on the reader thread replays half of its designs on a partner
 * thread (sim_worker.ts), so that N designs cost about N/2 replays on two cores, not N.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { misbehaviourName } from '../components/misbehaviour.js';
import { arch as archOf } from '../hw/arch.js';
import { DEFAULT_COSTS } from '../sim/cost.js';
import type { RunResult } from '../sim/replay.js';
import { runConfig, type WindowConfig } from '../sim/run_config.js';
import type { Timeline } from '../sim/timeline.js';
import type { TlbSample } from '../sim/tlb_samples.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { UserError } from './io.js';
import { type GroupOptions, type GroupOutcome, ReplayGroup } from './replay_group.js';
import type { RunOptions } from './run_options.js';
import type { SimJob, SimReply } from './sim_worker.js';
import type { TraceRing } from './trace_ring.js';
import { type openTrace, readTraceFromStream, type TraceSummary } from './trace_source.js';
import {
  isBinaryTraceFile,
  partnerPays,
  type ReaderMode,
  readsOnThread,
  readTrace,
  readTraceThreaded,
} from './trace_thread.js';
import { faultlineVersion } from './version.js';

export { EXIT_THREAD_STOPPED } from './io.js';
export { CYCLES_PER_US } from './replay_group.js';

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
  /**
   * Replay half of several designs on a partner thread when the trace is read on the reader
   * thread and {@link partnerPays} (default true; the results are the same either way).
   */
  readonly partner?: boolean;
}

/** Every record measured, no intervals. */
export const WHOLE_TRACE: WindowConfig = { skip: 0, warmup: 0, limit: null, interval: null };

/** The partner thread's script: built JavaScript, or a shim that loads the TypeScript source (tests). */
function simWorkerUrl(): URL {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(ts ? './sim_worker.dev.mjs' : './sim_worker.js', import.meta.url);
}

/** The partner thread, started with the first comparison and kept (unreferenced) for the next. */
interface Partner {
  readonly worker: Worker;
  busy: boolean;
  readonly waiting: Map<number, (r: SimReply) => void>;
  failed: Error | null;
}

let partnerThread: Partner | null = null;
let nextJob = 1;

function startPartnerThread(): Partner {
  const worker = new Worker(simWorkerUrl());
  const p: Partner = { worker, busy: false, waiting: new Map(), failed: null };
  worker.on('message', (m: SimReply) => {
    p.waiting.get(m.id)?.(m);
    p.waiting.delete(m.id);
  });
  const fail = (e: Error) => {
    p.failed = e;
    if (partnerThread === p) partnerThread = null;
    for (const w of p.waiting.values()) w({ id: 0, ok: false, error: e.message });
    p.waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`partner replay thread exited with code ${code}`)));
  worker.unref();
  return p;
}

/** The partner thread for one job, or null when it is busy (a comparison inside a comparison). */
function claimPartner(): Partner | null {
  partnerThread ??= startPartnerThread();
  if (partnerThread.busy) return null;
  partnerThread.busy = true;
  partnerThread.worker.ref();
  return partnerThread;
}

/** Has the partner replay `runs` from `ring`; resolves to their outcome and frees the partner. */
function partnerJob(
  p: Partner,
  ring: TraceRing,
  runs: readonly RunOptions[],
  options: GroupOptions,
): Promise<GroupOutcome> {
  const job: SimJob = { id: nextJob++, runs, options, buffers: ring.buffers };
  return new Promise<GroupOutcome>((resolve, reject) => {
    p.waiting.set(job.id, (m) => {
      p.busy = false;
      p.worker.unref();
      if (m.ok) resolve(m.outcome);
      else reject(new Error(`partner replay thread failed: ${m.error}`));
    });
    p.worker.postMessage(job);
  });
}

/** Replays a trace file (or a stream, e.g. valgrind's output) through every run. */
export async function replay(
  input: string | { stream: AsyncIterable<unknown>; name: string },
  runs: readonly RunOptions[],
  hooks: ReplayHooks = {},
): Promise<ReplayOutcome> {
  const windowConfig = hooks.window ?? WHOLE_TRACE;
  const top = hooks.top ?? 10;
  const options: GroupOptions = { window: windowConfig, top, tlbSamples: hooks.tlbSamples };
  // With a partner, this thread replays the designs at even positions, the partner the odd ones.
  const helper =
    typeof input === 'string' &&
    runs.length >= 2 &&
    hooks.partner !== false &&
    (await readsOnThread(input, hooks.reader ?? 'auto', runs.length)) &&
    partnerPays(runs.length, await isBinaryTraceFile(input))
      ? claimPartner()
      : null;
  const split = helper !== null;
  const mine = split ? runs.filter((_, i) => i % 2 === 0) : runs;
  const theirs = split ? runs.filter((_, i) => i % 2 === 1) : [];
  const group = new ReplayGroup(mine, { ...options, timeline: hooks.timeline });
  let partner: Promise<GroupOutcome> | null = null;
  let interrupted = false;
  const sink = (batch: TraceBatch): boolean => {
    const more = group.feed(batch);
    if (hooks.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    return more;
  };
  let total = 0;
  let read: Awaited<ReturnType<typeof openTrace>>;
  try {
    if (typeof input === 'string') {
      total = await stat(input).then(
        (s) => s.size,
        () => 0,
      );
      const onProgress = hooks.onProgress ? (b: number) => hooks.onProgress!(b, total) : undefined;
      read = split
        ? await readTraceThreaded(input, sink, {
            onProgress,
            partner: (ring) => {
              partner = partnerJob(helper!, ring, theirs, options);
            },
          })
        : await readTrace(input, sink, { onProgress, mode: hooks.reader });
    } else {
      read = await readTraceFromStream(input.stream, input.name, sink);
    }
  } catch (e) {
    // The partner ends with the read (its ring says so); its own failure is secondary here.
    await (partner as Promise<GroupOutcome> | null)?.catch(() => undefined);
    throw e;
  } finally {
    // Claimed but never given a job (the read failed before it had a ring): free it.
    if (helper !== null && partner === null) {
      helper.busy = false;
      helper.worker.unref();
    }
  }
  const partnerOutcome = partner ? await (partner as Promise<GroupOutcome>) : null;
  if (!read.ok) throw new UserError(read.message);
  const own = group.finish();
  const version = faultlineVersion();
  const pick = <T>(i: number, a: readonly T[], b: readonly T[] | undefined): T =>
    split ? (i % 2 === 0 ? a[i >> 1]! : b![i >> 1]!) : a[i]!;
  const timelines = group.timelines;
  return {
    results: runs.map((r, i) => {
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
      return { ...pick(i, own.results, partnerOutcome?.results), config };
    }),
    timelines: runs.map((_, i) => (split ? (i % 2 === 0 ? timelines[i >> 1]! : null) : timelines[i]!)),
    trace: read.value,
    interrupted,
    samples: runs.map((_, i) => pick(i, own.samples, partnerOutcome?.samples)),
  };
}
