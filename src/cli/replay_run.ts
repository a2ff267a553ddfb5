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
import { DEFAULT_BATCH_CAPACITY, type TraceBatch } from '../sim/trace_batch.js';
import { readBlocksShared, SHARED_SLOTS, sharedTrace } from './block_read.js';
import { BlockRing, blockSpans } from './block_ring.js';
import { UserError } from './io.js';
import type { GroupOptions } from './replay_group.js';
import { balances, DesignShare, PLAN_SLOTS, type planShare, type ShareOutcome } from './replay_share.js';
import type { RunOptions } from './run_options.js';
import type { SimJob, SimReply } from './sim_worker.js';
import type { TraceRing } from './trace_ring.js';
import { openTrace, readTraceFromStream, type TraceSummary } from './trace_source.js';
import {
  isBinaryTraceFile,
  partnerPays,
  type ReaderMode,
  readsOnThread,
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
  /**
   * How the trace was read: on this thread (`inline`), on the reader thread (`thread`), or decoded
   * by this thread and the partner between them (`shared`, a comparison of a binary trace or of
   * plain lackey text).
   */
  readonly reading: 'inline' | 'thread' | 'shared';
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
   * Replay half of several designs on a partner thread when the trace is read on threads: always
   * when the two threads can decode it between them, else when {@link partnerPays} (default true;
   * the results are the same either way).
   */
  readonly partner?: boolean;
  /**
   * When this thread and the partner decode the trace between them, picks which runs the
   * partner replays once both timed theirs (default {@link planShare}: the split that finishes
   * first). For experiments and tests; the results are the same whatever it picks.
   */
  readonly choose?: typeof planShare;
  /**
   * With a partner, decode a binary trace, or plain lackey text, on this thread and the partner
   * rather than on the reader thread, when its blocks allow it (default true; the results are the
   * same either way, but for where an interrupted replay of lackey text stops: its batches are
   * shorter).
   */
  readonly sharedDecode?: boolean;
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

/**
 * Has the partner replay runs `own` of `runs` from `ring` (balancing them with this thread when
 * `balance`); resolves to their outcome and frees the partner.
 */
function partnerJob(
  p: Partner,
  ring: TraceRing | BlockRing,
  work: Pick<SimJob, 'runs' | 'own' | 'options'>,
  balance = false,
): Promise<ShareOutcome> {
  const source = ring instanceof BlockRing ? { blocks: ring.buffers, balance } : { reader: ring.buffers };
  const job: SimJob = { id: nextJob++, ...work, ring: source };
  return new Promise<ShareOutcome>((resolve, reject) => {
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
  const threaded =
    typeof input === 'string' && (await readsOnThread(input, hooks.reader ?? 'auto', runs.length));
  const paired = threaded && runs.length >= 2 && hooks.partner !== false;
  // Blocks this thread and the partner can decode between them: then no reader thread is needed.
  // Lackey text makes shorter batches than the streaming reader's, which only TLB samples (taken
  // per batch) and the records read up to a limit show; those read it on the reader thread.
  const text = hooks.tlbSamples !== true && windowConfig.limit === null;
  const shared =
    paired && typeof input === 'string' && hooks.sharedDecode !== false
      ? sharedTrace(input, DEFAULT_BATCH_CAPACITY, text)
      : null;
  // With a partner, this thread replays the designs at even positions, the partner the odd ones.
  const helper =
    paired && (shared !== null || partnerPays(runs.length, await isBinaryTraceFile(input)))
      ? claimPartner()
      : null;
  const split = helper !== null;
  const onPartner = runs.map((_, i) => split && i % 2 === 1);
  const theirs = runs.flatMap((_, i) => (onPartner[i] ? [i] : []));
  const blocks = split ? shared : null;
  // A shared decode may move runs between the threads, so its runs are timed.
  const share = new DesignShare(
    runs,
    runs.flatMap((_, i) => (onPartner[i] ? [] : [i])),
    { ...options, timeline: hooks.timeline, timed: blocks !== null },
  );
  let partner: Promise<ShareOutcome> | null = null;
  let interrupted = false;
  const sink = (batch: TraceBatch): boolean => {
    const more = share.feed(batch);
    if (hooks.shouldStop?.()) {
      interrupted = true;
      return false;
    }
    return more;
  };
  let total = 0;
  let read: Awaited<ReturnType<typeof openTrace>>;
  let reading: ReplayOutcome['reading'] = threaded ? 'thread' : 'inline';
  try {
    if (typeof input === 'string') {
      total = await stat(input).then(
        (s) => s.size,
        () => 0,
      );
      const onProgress = hooks.onProgress ? (b: number) => hooks.onProgress!(b, total) : undefined;
      // A binary trace in batch-sized blocks, or plain text: this thread and the partner decode it between them.
      if (blocks !== null) {
        const slots = balances(blockSpans(blocks).offsets.length, runs.length) ? PLAN_SLOTS : SHARED_SLOTS;
        const ring = BlockRing.create(input, blocks, DEFAULT_BATCH_CAPACITY, slots, runs.length);
        partner = partnerJob(helper!, ring, { runs, own: theirs, options }, true);
        read = await readBlocksShared(ring, sink, {
          onProgress,
          partnerFailed: () => helper!.failed !== null,
          balance: { share, partner: onPartner, choose: hooks.choose },
        });
        reading = 'shared';
      } else if (split) {
        read = await readTraceThreaded(input, sink, {
          onProgress,
          partner: (ring) => {
            partner = partnerJob(helper!, ring, { runs, own: theirs, options });
          },
        });
      } else read = await (threaded ? readTraceThreaded : openTrace)(input, sink, { onProgress });
    } else {
      read = await readTraceFromStream(input.stream, input.name, sink);
    }
  } catch (e) {
    // The partner ends with the read (its ring says so); its own failure is secondary here.
    await (partner as Promise<ShareOutcome> | null)?.catch(() => undefined);
    throw e;
  } finally {
    // Claimed but never given a job (the read failed before it had a ring): free it.
    if (helper !== null && partner === null) {
      helper.busy = false;
      helper.worker.unref();
    }
  }
  const partnerOutcome = partner ? await (partner as Promise<ShareOutcome>) : null;
  if (!read.ok) throw new UserError(read.message);
  // Every run was replayed by exactly one of the threads, wherever the plan put it.
  const outcomes = [...share.finish().runs, ...(partnerOutcome?.runs ?? [])];
  const byRun = runs.map((_, i) => {
    const o = outcomes.filter((x) => x.index === i);
    if (o.length !== 1) throw new Error(`internal: ${o.length} threads replayed run ${i}`);
    return o[0]!;
  });
  const version = faultlineVersion();
  const timeline = share.timeline;
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
      return { ...byRun[i]!.result, config };
    }),
    // Only run 0 draws a timeline, and it never leaves this thread.
    timelines: runs.map((_, i) => (i === 0 ? timeline : null)),
    trace: read.value,
    interrupted,
    samples: byRun.map((o) => o.samples),
    reading,
  };
}
