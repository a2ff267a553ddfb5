/**
 * One thread's side of balancing a comparison's runs over a shared decode (replay_share.ts,
 * block_ring.ts). Each thread times its runs over the first PLAN_BATCHES batches (all but the
 * first PLAN_UNTIMED) and reports; the replaying thread picks the split once both reported; each
 * thread then moves its runs. Until then a thread keeps every batch it replayed in the ring (a run
 * it adopts replays them all) and goes on replaying as far as the ring lets it, so the thread
 * that reaches the plan first does not sit idle until the other does.
 */
import type { TraceBatch } from '../sim/trace_batch.js';
import type { PlanRing } from './plan_words.js';
import { type DesignShare, PLAN_BATCHES, PLAN_UNTIMED, planShare, shareSide } from './replay_share.js';

/**
 * The replaying thread's choice from every run's cost over the timed batches, once this thread
 * replayed `done` batches: the runs the partner replays, or null to keep the split.
 */
export type PlanChoice = (costs: readonly number[], done: number) => boolean[] | null;

/** What a thread balances: its runs' costs, and how it moves runs once the split is known. */
export interface BalanceSide {
  /** Which runs the partner replays before the plan. */
  readonly before: readonly boolean[];
  /** This thread's runs' costs since {@link resetCosts}. */
  costs(): ReadonlyMap<number, number>;
  resetCosts(): void;
  /** Moves runs from `before` to `after`; runs this thread adopts replay `held` first. */
  apply(after: readonly boolean[], held: readonly TraceBatch[]): void;
}

export class ShareBalance {
  /** Batches this thread replayed. */
  private done = 0;
  private reported = false;
  /** True until the plan is applied: every batch replayed stays in the ring. */
  holding = true;

  /**
   * `partnerSide`: the partner thread follows the plan; the replaying thread decides it with
   * `choose`, and keeps the split without the partner's costs once `partnerFailed`.
   */
  constructor(
    private readonly ring: PlanRing,
    private readonly side: BalanceSide,
    private readonly partnerSide: boolean,
    private readonly partnerFailed: () => boolean = () => false,
    private readonly choose: PlanChoice = () => null,
  ) {}

  /** This thread replayed batch `done - 1` and holds it: times, reports, and moves when it can. */
  replayed(done: number): void {
    this.done = done;
    if (done === PLAN_UNTIMED) this.side.resetCosts();
    if (done === PLAN_BATCHES) {
      this.ring.planning.report(this.side.costs());
      this.reported = true;
    }
    this.settle();
  }

  /**
   * Applies the plan if it is known (or, on the replaying thread, can be made now) and gives back
   * the held batches. True when it did: the caller's next batch may be free now.
   */
  settle(): boolean {
    if (!this.holding || !this.reported) return false;
    const after = this.partnerSide ? this.ring.planning.plan : this.decide();
    if (after === null) return false;
    const held: TraceBatch[] = [];
    for (let i = 0; i < this.done; i++) {
      const b = this.ring.held(i);
      if (b === null) throw new Error(`internal: held batch ${i} left the ring`);
      held.push(b);
    }
    this.holding = false;
    try {
      this.side.apply(after, held);
    } finally {
      this.ring.releaseHeld(this.done);
    }
    return true;
  }

  /** The replaying thread's decision, once both threads reported (or the partner died). */
  private decide(): boolean[] | null {
    const words = this.ring.planning;
    const both = words.reports >= 2;
    if (!both && !this.partnerFailed()) return null;
    const next = both ? this.choose(words.reportedCosts, this.done) : null;
    const after = next ?? [...this.side.before];
    words.decide(after);
    return after;
  }
}

/**
 * The replaying thread's side of balancing `share`'s runs, which the partner replays as marked in
 * `partner` until the plan, over a trace of about `batches` batches: it picks with `choose`
 * (default {@link planShare}), and keeps the split once `partnerFailed`.
 */
export function mainBalance(
  ring: PlanRing,
  share: DesignShare,
  partner: readonly boolean[],
  batches: number,
  partnerFailed: () => boolean,
  choose: typeof planShare = planShare,
): ShareBalance {
  const timed = PLAN_BATCHES - PLAN_UNTIMED;
  return new ShareBalance(ring, shareSide(share, partner, false), false, partnerFailed, (costs, done) =>
    choose(costs, partner, timed, done, Math.max(1, batches - done)),
  );
}
