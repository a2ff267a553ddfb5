/**
 * The trace reader thread ({@link readTraceThreaded}): for each job message it reads and parses
 * one trace file into the job's shared ring, then posts the read's result. It stays alive between
 * jobs, so a process that replays several traces starts it once.
 */
import { parentPort } from 'node:worker_threads';
import { TraceBatch } from '../sim/trace_batch.js';
import { TraceRing, type TraceRingBuffers } from './trace_ring.js';
import { openTrace } from './trace_source.js';

/** A job: read `path` into the ring; the answer carries the same id. */
export interface ReaderJob {
  readonly id: number;
  readonly path: string;
  readonly buffers: TraceRingBuffers;
}

async function run(job: ReaderJob): Promise<void> {
  const ring = new TraceRing(job.buffers);
  // The parser fills slot `slot` in place; once the consumer asked to stop it fills a scratch batch.
  let slot = -1;
  let scratch: TraceBatch | null = null;
  const supply = (): TraceBatch => {
    slot = (slot + 1) % ring.slots;
    if (ring.waitFree(slot)) return ring.batch(slot);
    scratch ??= new TraceBatch(job.buffers.capacity);
    scratch.length = 0;
    return scratch;
  };
  const result = await openTrace(
    job.path,
    (batch) => {
      if (batch === scratch) return false;
      ring.publish(slot, batch.length);
      return true;
    },
    {
      batchSupply: supply,
      onProgress: (n) => {
        ring.bytesRead = n;
      },
    },
  );
  parentPort!.postMessage({ id: job.id, result });
  ring.finish();
}

// Jobs run one at a time: the caller sends the next only after the previous one's answer.
parentPort!.on('message', (job: ReaderJob) => {
  void run(job);
});
