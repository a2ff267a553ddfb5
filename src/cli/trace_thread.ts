/**
 * Reads a trace file on a reader thread: parsing (and gunzip) run on another core while the
 * caller replays the records, so a replay costs about the slower of the two instead of their sum.
 * Same contract as {@link openTrace}; records arrive in the same order, so results are identical.
 * The thread is started once per process and kept (unreferenced, so it never holds the process
 * open) for later reads.
 */
import { open } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { DEFAULT_BATCH_CAPACITY, type TraceSink } from '../sim/trace_batch.js';
import { BINARY_TRACE_MAGIC } from '../workload/binary_trace.js';
import { isBinaryTrace } from '../workload/binary_trace_reader.js';
import { PARTNER_SLOTS, TraceRing } from './trace_ring.js';
import { openTrace, type TraceReadResult, type TraceSourceOptions } from './trace_source.js';
import type { ReaderJob } from './trace_worker.js';

/** Batches in flight between the threads: enough to absorb jitter, small enough to stay in cache. */
const SLOTS = 4;

/** The consumer lets the event loop run (signals, progress bars) at least this often. */
const YIELD_MS = 25;

/**
 * `--reader auto` reads on a thread only traces of at least this many records (estimated), and
 * only when a core is idle: measured here (docs/BENCHMARKS.md, reader choice), a thread started
 * for one replay loses to inline reading whenever the other core is busy, even at 40 M records,
 * and gains up to 1.3x over inline when it is free.
 */
export const THREAD_MIN_RECORDS = 4_000_000;

/**
 * A comparison of several designs reads on a thread (and replays half of them on a partner
 * thread) from this many records on, whatever the load: measured here, the partner paid off at
 * 40 M records even with the machine's load at 7, and lost at 5 M (starting two threads).
 */
export const COMPARE_MIN_RECORDS = 10_000_000;

/** Bytes per record assumed when estimating a trace's length: lackey text, binary. */
const TEXT_BYTES_PER_RECORD = 14;
const BINARY_BYTES_PER_RECORD = 3;

/** How {@link readTrace} reads: on a reader thread, in this thread, or as `auto` decides. */
export type ReaderMode = 'thread' | 'inline' | 'auto';

/** What `auto` decides from. */
export interface AutoInput {
  /** File size in bytes. */
  readonly bytes: number;
  /** Its first bytes (8 are enough). */
  readonly head: Uint8Array;
  /** For gzip: the uncompressed size mod 2^32 from its last 4 bytes. */
  readonly isize: number;
  /** One-minute load average and the number of cores. */
  readonly load: number;
  readonly cores: number;
  /** Designs replayed from the trace. */
  readonly designs: number;
}

/** Estimated records of a trace file from its size and first bytes (gzip: its recorded size). */
export function estimatedRecords(f: Pick<AutoInput, 'bytes' | 'head' | 'isize'>): number {
  const gzip = f.head[0] === 0x1f && f.head[1] === 0x8b;
  // ISIZE is the size mod 2^32: a compressed file that large is surely larger uncompressed.
  const plain = gzip ? (f.bytes >= 2 ** 32 ? f.bytes * 4 : f.isize) : f.bytes;
  const binary = !gzip && isBinaryTrace(f.head);
  return plain / (binary ? BINARY_BYTES_PER_RECORD : TEXT_BYTES_PER_RECORD);
}

/**
 * Whether a comparison of `designs` designs read on the reader thread replays some on a partner
 * thread: only when their simulation outweighs the parse, or the partner makes three busy threads
 * on two cores for nothing. A design costs about 8 ns a record; parsing lackey text about 12 ns a
 * line (more from gzip), binary 5 ns. So from text 2 designs leave the reader and the replaying
 * thread evenly loaded (on sort 1.10 single replays without a partner, 1.25–1.65 with one), and a
 * partner pays from 3; from binary it pays from 2 (docs/BENCHMARKS.md, compare). A trace the two
 * replaying threads decode between them (plain text, batch-sized binary) has no reader thread and
 * always takes a partner (replay_run.ts); this rule is for the rest (gzip input, other blocks).
 */
export function partnerPays(designs: number, binary: boolean): boolean {
  return designs >= (binary ? 2 : 3);
}

/** True when the file at `path` starts like a faultline binary trace (unreadable: false). */
export async function isBinaryTraceFile(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(BINARY_TRACE_MAGIC.length);
      await fh.read(head, 0, head.length, 0);
      return isBinaryTrace(head);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/**
 * `--reader auto`: a thread for long traces when a core is idle (THREAD_MIN_RECORDS), or for very
 * long ones replayed through several designs (COMPARE_MIN_RECORDS).
 */
export function autoThreaded(f: AutoInput): boolean {
  if (f.cores < 2) return false;
  const records = estimatedRecords(f);
  if (f.designs >= 2 && records >= COMPARE_MIN_RECORDS) return true;
  return f.load < f.cores - 1 && records >= THREAD_MIN_RECORDS;
}

/** Reads what `auto` decides from; null when the file cannot be read (the read reports it). */
async function autoInput(path: string, designs: number): Promise<AutoInput | null> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const head = new Uint8Array(8);
      await fh.read(head, 0, 8, 0);
      const tail = new Uint8Array(4);
      if (size >= 4) await fh.read(tail, 0, 4, size - 4);
      const isize = (tail[0]! | (tail[1]! << 8) | (tail[2]! << 16)) + tail[3]! * 2 ** 24;
      return { bytes: size, head, isize, load: loadavg()[0]!, cores: availableParallelism(), designs };
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** True when {@link readTrace} with `mode` reads `path` (for `designs` designs) on the reader thread. */
export async function readsOnThread(path: string, mode: ReaderMode = 'auto', designs = 1): Promise<boolean> {
  if (reader?.busy === true) return false;
  if (mode !== 'auto') return mode === 'thread';
  const f = await autoInput(path, designs);
  return f !== null && autoThreaded(f);
}

/** Reads `path` like {@link openTrace}, on a reader thread when `mode` (default 'auto') says so. */
export async function readTrace(
  path: string,
  consumer: TraceSink,
  options: TraceSourceOptions & { readonly mode?: ReaderMode } = {},
): Promise<TraceReadResult> {
  const threaded = await readsOnThread(path, options.mode ?? 'auto');
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
  const slots = partner ? PARTNER_SLOTS : SLOTS;
  const ring = TraceRing.create(options.batchCapacity ?? DEFAULT_BATCH_CAPACITY, slots, partner ? 2 : 1);
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
          slot = (slot + 1) % slots;
          continue;
        }
        options.onProgress?.(ring.bytesRead);
      }
      ring.release(slot);
      slot = (slot + 1) % slots;
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
