/**
 * The trace reader thread ({@link readTraceThreaded}): for each job message it reads and parses
 * one trace file into the job's shared ring, then posts the read's result. It stays alive between
 * jobs, so a process that replays several traces starts it once.
 */
import { parentPort } from 'node:worker_threads';
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
  let slot = 0;
  const result = await openTrace(
    job.path,
    (batch) => {
      if (!ring.waitFree(slot)) return false;
      ring.put(slot, batch);
      slot = (slot + 1) % ring.slots;
      return true;
    },
    {
      batchCapacity: job.buffers.capacity,
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
