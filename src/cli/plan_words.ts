/**
 * The words both threads of a comparison share to balance its runs (share_balance.ts), kept in a
 * ring's shared control array (block_ring.ts). The plan needs only these and the batches the
 * threads hold ({@link PlanRing}), not the ring's own protocol.
 */
import type { TraceBatch } from '../sim/trace_batch.js';

/**
 * The plan's words in a ring's shared control array: how many threads reported their runs'
 * costs, and the decision (1 + the mask of runs on the partner, 0 while undecided); the costs
 * themselves are doubles, one per run. `wake` wakes whatever the ring's threads wait on.
 */
export class PlanWords {
  constructor(
    private readonly ctrl: Int32Array,
    private readonly reportedAt: number,
    private readonly planAt: number,
    private readonly costs: Float64Array,
    private readonly wake: () => void,
  ) {}

  /** Publishes this thread's runs' costs. */
  report(costs: ReadonlyMap<number, number>): void {
    for (const [i, c] of costs) this.costs[i] = c;
    Atomics.add(this.ctrl, this.reportedAt, 1);
    this.wake();
  }

  /** Threads that have reported. */
  get reports(): number {
    return Atomics.load(this.ctrl, this.reportedAt);
  }

  /** Every run's reported cost. */
  get reportedCosts(): number[] {
    return Array.from(this.costs);
  }

  /** Replaying thread: the partner replays the runs marked in `partner` from now on. */
  decide(partner: readonly boolean[]): void {
    let mask = 0;
    partner.forEach((p, i) => {
      if (p) mask |= 1 << i;
    });
    Atomics.store(this.ctrl, this.planAt, mask + 1);
    this.wake();
  }

  /** The runs on the partner once decided, else null. */
  get plan(): boolean[] | null {
    const w = Atomics.load(this.ctrl, this.planAt);
    if (w === 0) return null;
    return Array.from({ length: this.costs.length }, (_, i) => (((w - 1) >> i) & 1) === 1);
  }
}

/** What the plan needs of a ring both threads read. */
export interface PlanRing {
  readonly planning: PlanWords;
  /** Batch i, which this thread still holds. */
  held(i: number): TraceBatch | null;
  /** Gives back batches 0..n-1. */
  releaseHeld(n: number): void;
}
