/**
 * Reads a trace file on a reader thread: parsing (and gunzip) run on another core while the
 * caller replays the records, so a replay costs about the slower of the two instead of their sum.
 * Same contract as {@link openTrace}; records arrive in the same order, so results are identical.
 * The thread is started once per process and kept (unreferenced, so it never holds the process
 * open) for later reads.
 */
import { stat } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { DEFAULT_BATCH_CAPACITY, type TraceSink } from '../sim/trace_batch.js';
import { TraceRing } from './trace_ring.js';
import { openTrace, type TraceReadResult, type TraceSourceOptions } from './trace_source.js';
import type { ReaderJob } from './trace_worker.js';

/** Batches in flight between the threads: enough to absorb jitter, small enough to stay in cache. */
const SLOTS = 4;

/** The consumer lets the event loop run (signals, progress bars) at least this often. */
const YIELD_MS = 25;

/** Files at least this large are read on a reader thread by default (starting one costs ~40 ms). */
export const THREAD_MIN_BYTES = 4 << 20;

/** How {@link readTrace} reads: on a reader thread, in this thread, or by file size. */
export type ReaderMode = 'thread' | 'inline' | 'auto';

/** Reads `path` like {@link openTrace}, on a reader thread when `mode` (default 'auto') says so. */
export async function readTrace(
  path: string,
  consumer: TraceSink,
  options: TraceSourceOptions & { readonly mode?: ReaderMode } = {},
): Promise<TraceReadResult> {
  const mode = options.mode ?? 'auto';
  const big =
    mode === 'auto' &&
    (await stat(path).then(
      (s) => s.size >= THREAD_MIN_BYTES,
      () => false,
    ));
  const threaded = (mode === 'thread' || big) && reader?.busy !== true;
  return threaded ? readTraceThreaded(path, consumer, options) : openTrace(path, consumer, options);
}

/** The reader thread, its job in progress and the answers it has posted. */
interface Reader {
  readonly worker: Worker;
  busy: boolean;
  readonly waiting: Map<number, (r: TraceReadResult) => void>;
  failed: Error | null;
}

let reader: Reader | null = null;
let nextJob = 1;

/** The worker script: built JavaScript, or a shim that loads the TypeScript source (tests). */
function workerUrl(): URL {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(ts ? './trace_worker.dev.mjs' : './trace_worker.js', import.meta.url);
}

function startReader(): Reader {
  const worker = new Worker(workerUrl());
  const r: Reader = { worker, busy: false, waiting: new Map(), failed: null };
  worker.on('message', (m: { id: number; result: TraceReadResult }) => {
    r.waiting.get(m.id)?.(m.result);
    r.waiting.delete(m.id);
  });
  const fail = (e: Error) => {
    r.failed = e;
    if (reader === r) reader = null;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`trace reader thread exited with code ${code}`)));
  worker.unref();
  return r;
}

/** Options of {@link readTraceThreaded}. */
export interface ThreadedReadOptions extends TraceSourceOptions {
  /**
   * A second consumer of every batch on another thread (`compare`'s partner): called with the
   * ring once it exists. The batches it is allowed are exactly those `consumer` takes.
   */
  readonly partner?: (ring: TraceRing) => void;
}

/** True when {@link readTrace} with `mode` reads `path` on the reader thread. */
export async function readsOnThread(path: string, mode: ReaderMode = 'auto'): Promise<boolean> {
  if (reader?.busy === true) return false;
  if (mode !== 'auto') return mode === 'thread';
  return stat(path).then(
    (s) => s.size >= THREAD_MIN_BYTES,
    () => false,
  );
}

/** Reads `path` on the reader thread; see {@link openTrace} for the contract. */
export async function readTraceThreaded(
  path: string,
  consumer: TraceSink,
  options: ThreadedReadOptions = {},
): Promise<TraceReadResult> {
  reader ??= startReader();
  const r = reader;
  if (r.busy) throw new Error('internal: the trace reader thread is busy');
  r.busy = true;
  r.worker.ref();
  const partner = options.partner;
  const ring = TraceRing.create(options.batchCapacity ?? DEFAULT_BATCH_CAPACITY, SLOTS, partner ? 2 : 1);
  partner?.(ring);
  const job: ReaderJob = { id: nextJob++, path, buffers: ring.buffers };
  const answer = new Promise<TraceReadResult>((resolve) => r.waiting.set(job.id, resolve));
  r.worker.postMessage(job);
  let slot = 0;
  let records = 0;
  /** Batches handed to `consumer` (and allowed to the partner). */
  let taken = 0;
  let stopped = false;
  let turn = performance.now();
  /** Ends the partner's run after the batches taken, and waits until it has replayed them. */
  const endPartner = async () => {
    ring.end(taken);
    while (partner && ring.partnerProgress < taken && !r.failed) await ring.partnerReached(taken, 200);
  };
  try {
    for (;;) {
      if (r.failed) throw r.failed;
      // While the reader keeps ahead nothing below awaits: make room for signal handlers and timers.
      if (performance.now() - turn >= YIELD_MS) {
        await nextTurn();
        turn = performance.now();
      }
      const batch = ring.take(slot, taken);
      if (batch === null) {
        if (ring.done) {
          if (ring.take(slot, taken) !== null) continue; // filled just before the reader finished
          break;
        }
        await ring.changed(slot, 200);
        turn = performance.now();
        continue;
      }
      if (!stopped) {
        records += batch.length;
        ring.allow(++taken);
        if (consumer(batch) === false) {
          stopped = true;
          ring.release(slot);
          await endPartner();
          ring.stop();
          slot = (slot + 1) % SLOTS;
          continue;
        }
        options.onProgress?.(ring.bytesRead);
      }
      ring.release(slot);
      slot = (slot + 1) % SLOTS;
    }
    await endPartner();
    const read = await answer;
    if (!read.ok) return read;
    return { ...read, value: { ...read.value, records, stopped: stopped || read.value.stopped } };
  } finally {
    // On an exception the reader is told to stop; it answers before it takes the next job. A
    // partner is told the run ends here (it must not wait for batches that will not come).
    ring.end(taken);
    if (!ring.done) {
      ring.stop();
      if (!r.failed) await answer;
    }
    r.busy = false;
    r.worker.unref();
  }
}
