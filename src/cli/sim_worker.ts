/**
 * The partner thread of a `compare` (replay_run.ts): it replays its share of the designs from the
 * reader thread's ring, batch by batch as the main thread allows them, then posts the outcome.
 * Jobs run one at a time; the thread stays for the next one (loading the simulator costs more
 * than a short replay).
 */
import { parentPort } from 'node:worker_threads';
import { BlockRing, type BlockRingBuffers } from './block_ring.js';
import type { GroupOptions } from './replay_group.js';
import { applyPlan, balances, DesignShare, type ShareOutcome } from './replay_share.js';
import type { RunOptions } from './run_options.js';
import { type BalanceSide, ShareBalance } from './share_balance.js';
import { TraceRing, type TraceRingBuffers } from './trace_ring.js';

/**
 * The job: every run of the comparison and which of them this thread replays, how, and the ring
 * to read (the reader thread's, or one whose blocks this thread helps decode, and then possibly
 * with runs moving between the threads: `balance`); the answer carries the same id.
 */
export interface SimJob {
  readonly id: number;
  readonly runs: readonly RunOptions[];
  readonly own: readonly number[];
  readonly options: GroupOptions;
  readonly ring:
    | { readonly reader: TraceRingBuffers }
    | { readonly blocks: BlockRingBuffers; readonly balance: boolean };
}

/** The answer. */
export type SimReply = { readonly id: number } & (
  | { readonly ok: true; readonly outcome: ShareOutcome }
  | { readonly ok: false; readonly error: string }
);

type Outcome = { ok: true; outcome: ShareOutcome } | { ok: false; error: string };

const failed = (e: unknown): Outcome => ({
  ok: false,
  error: e instanceof Error ? (e.stack ?? e.message) : String(e),
});

function run(job: SimJob): Outcome {
  if ('reader' in job.ring) return replayFrom(new TraceRing(job.ring.reader), job, null);
  const ring = new BlockRing(job.ring.blocks);
  try {
    return replayFrom(ring, job, job.ring.balance && balances(ring.length, job.runs.length) ? ring : null);
  } finally {
    ring.close();
  }
}

/** Replays this thread's runs from `ring`, balancing them over `planRing` (the same ring) when given. */
function replayFrom(ring: BlockRing | TraceRing, job: SimJob, planRing: BlockRing | null): Outcome {
  const planning = planRing !== null;
  let share: DesignShare | null = null;
  let failure: Outcome | null = null;
  try {
    share = new DesignShare(job.runs, job.own, { ...job.options, timed: planning });
  } catch (e) {
    failure = failed(e);
  }
  const before = job.runs.map((_, i) => job.own.includes(i));
  // After a failure the costs are still reported (none) and the plan followed (moving nothing).
  const live = (): DesignShare | null => (failure === null ? share : null);
  const side: BalanceSide = {
    before,
    costs: () => live()?.costs() ?? new Map(),
    resetCosts: () => live()?.resetCosts(),
    apply: (after, held) => {
      const s = live();
      if (s !== null) applyPlan(s, before, after, true, held);
    },
  };
  const balance = planRing !== null ? new ShareBalance(planRing, side, true) : null;
  const unblock = balance ? () => balance.settle() : undefined;
  let more = true;
  // After a failure every batch is still taken and released: the reader and the main thread go on.
  for (let i = 0; ; i++) {
    const batch = ring.partnerTake(i, unblock);
    if (batch === null) break;
    // The main thread feeds the same batches and ends the run where its own feed says so.
    if (share !== null && failure === null && more) {
      try {
        more = share.feed(batch);
      } catch (e) {
        failure = failed(e);
      }
    }
    if (balance?.holding === true) {
      ring.partnerDone(i, false);
      try {
        balance.replayed(i + 1);
      } catch (e) {
        failure ??= failed(e);
      }
    } else ring.partnerDone(i);
  }
  if (failure !== null || share === null) return failure ?? failed('no replay group');
  try {
    return { ok: true, outcome: share.finish() };
  } catch (e) {
    return failed(e);
  }
}

parentPort!.on('message', (job: SimJob) => {
  parentPort!.postMessage({ id: job.id, ...run(job) });
});
