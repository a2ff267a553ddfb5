/**
 * The partner thread of a `compare` (replay_run.ts): it replays its share of the designs from the
 * reader thread's ring, batch by batch as the main thread allows them, then posts the outcome.
 * Jobs run one at a time; the thread stays for the next one (loading the simulator costs more
 * than a short replay).
 */
import { parentPort } from 'node:worker_threads';
import { type GroupOptions, type GroupOutcome, ReplayGroup } from './replay_group.js';
import type { RunOptions } from './run_options.js';
import { TraceRing, type TraceRingBuffers } from './trace_ring.js';

/** The job: the runs to replay, how, and the ring to read; the answer carries the same id. */
export interface SimJob {
  readonly id: number;
  readonly runs: readonly RunOptions[];
  readonly options: GroupOptions;
  readonly buffers: TraceRingBuffers;
}

/** The answer. */
export type SimReply = { readonly id: number } & (
  | { readonly ok: true; readonly outcome: GroupOutcome }
  | { readonly ok: false; readonly error: string }
);

type Outcome = { ok: true; outcome: GroupOutcome } | { ok: false; error: string };

const failed = (e: unknown): Outcome => ({
  ok: false,
  error: e instanceof Error ? (e.stack ?? e.message) : String(e),
});

function run(job: SimJob): Outcome {
  const ring = new TraceRing(job.buffers);
  let group: ReplayGroup | null = null;
  let failure: Outcome | null = null;
  try {
    group = new ReplayGroup(job.runs, job.options);
  } catch (e) {
    failure = failed(e);
  }
  let more = true;
  // After a failure every batch is still taken and released: the reader and the main thread go on.
  for (let i = 0; ; i++) {
    const batch = ring.partnerTake(i);
    if (batch === null) break;
    // The main thread feeds the same batches and ends the run where its own feed says so.
    if (group !== null && failure === null && more) {
      try {
        more = group.feed(batch);
      } catch (e) {
        failure = failed(e);
      }
    }
    ring.partnerDone(i);
  }
  if (failure !== null || group === null) return failure ?? failed('no replay group');
  try {
    return { ok: true, outcome: group.finish() };
  } catch (e) {
    return failed(e);
  }
}

parentPort!.on('message', (job: SimJob) => {
  parentPort!.postMessage({ id: job.id, ...run(job) });
});
