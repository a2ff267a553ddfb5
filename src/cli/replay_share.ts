/**
 * A comparison's designs on one of its two replaying threads, and how they move between the
 * threads once their costs are known. Designs differ several-fold in cost (4k-only misses far
 * more on random heap accesses), so halves fixed in advance can leave one thread with most of
 * the work. Both threads therefore time their designs over the first batches, which neither
 * gives back to the ring yet; then the replaying thread picks the split that finishes first
 * ({@link planShare}), and a design that changes thread is replayed from the first batch again
 * by its new thread while the old one drops it. Results do not depend on where a design ran.
 */
import type { RunResult } from '../sim/replay.js';
import type { Timeline } from '../sim/timeline.js';
import type { TlbSample } from '../sim/tlb_samples.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { type GroupOptions, ReplayGroup } from './replay_group.js';
import type { RunOptions } from './run_options.js';
import type { BalanceSide } from './share_balance.js';

/**
 * Batches before the plan: the threads hold them (a run that changes thread replays them again)
 * and time their runs over all but the first PLAN_UNTIMED. The first batches of a program (its
 * start-up: the loader, first touches of every page) say little: on sort, 4k-only cost 2.2x
 * genode over batches 1-3, 1.15x over 4-11 and 1.17x over the whole trace (4.2x, 4.2x and 4.6x on
 * the synthetic mix).
 */
export const PLAN_BATCHES = 12;
export const PLAN_UNTIMED = 4;

/** A plan is made only for traces of at least this many batches: below, moving costs more than it gains. */
export const PLAN_MIN_BATCHES = 48;

/** Most runs a plan splits: it tries every split. */
export const PLAN_MAX_RUNS = 16;

/** Batches in flight when the runs are balanced: the PLAN_BATCHES held for the plan, and room to read ahead. */
export const PLAN_SLOTS = PLAN_BATCHES + 12;

/**
 * Whether a comparison over `batches` batches balances its `runs` runs: from 3 (2 runs have no
 * better split than one each), up to PLAN_MAX_RUNS, and only over a trace long enough to repay
 * the moves.
 */
export function balances(batches: number, runs: number): boolean {
  return runs >= 3 && runs <= PLAN_MAX_RUNS && batches >= PLAN_MIN_BATCHES;
}

/** A new split must promise to finish at least this much sooner than the current one (timings are noisy). */
const PLAN_GAIN = 0.1;

/** What one thread replayed: per run, its position among all runs, its result and TLB samples. */
export interface ShareOutcome {
  readonly runs: ReadonlyArray<{
    readonly index: number;
    readonly result: RunResult;
    readonly samples: TlbSample[];
  }>;
}

/** The runs one thread replays: its first group, and the groups of runs it adopted later. */
export class DesignShare {
  private readonly parts: Array<{ readonly group: ReplayGroup; readonly indices: readonly number[] }> = [];

  /** Replays `own` (positions in `runs`) from the first batch on. */
  constructor(
    private readonly runs: readonly RunOptions[],
    own: readonly number[],
    private readonly options: GroupOptions,
  ) {
    this.parts.push({
      group: new ReplayGroup(
        own.map((i) => runs[i]!),
        options,
      ),
      indices: own,
    });
  }

  /** The timeline of run 0, when it is replayed here and one was asked for. */
  get timeline(): Timeline | null {
    const first = this.parts[0]!;
    return first.indices[0] === 0 ? (first.group.timelines[0] ?? null) : null;
  }

  /** Replays one batch through every run here; false once the region of interest has ended. */
  feed(batch: TraceBatch): boolean {
    let more = true;
    for (const p of this.parts) if (!p.group.feed(batch)) more = false;
    return more;
  }

  /** Milliseconds each run here has cost since the last {@link resetCosts}. */
  costs(): Map<number, number> {
    const out = new Map<number, number>();
    for (const p of this.parts) {
      const c = p.group.costs;
      p.indices.forEach((i, j) => {
        if (!p.group.isDropped(j)) out.set(i, c[j]!);
      });
    }
    return out;
  }

  resetCosts(): void {
    for (const p of this.parts) p.group.resetCosts();
  }

  /** Replays `indices` here from now on, first through `held`, every batch before the next one. */
  adopt(indices: readonly number[], held: readonly TraceBatch[]): void {
    if (indices.length === 0) return;
    const group = new ReplayGroup(
      indices.map((i) => this.runs[i]!),
      { ...this.options, timeline: false },
    );
    for (const b of held) group.feed(b);
    this.parts.push({ group, indices });
  }

  /** Stops replaying `indices` here (the other thread adopted them). */
  drop(indices: readonly number[]): void {
    for (const p of this.parts) {
      p.indices.forEach((i, j) => {
        if (indices.includes(i)) p.group.drop(j);
      });
    }
  }

  /** Ends every run here and summarises each. */
  finish(): ShareOutcome {
    const runs: Array<ShareOutcome['runs'][number]> = [];
    for (const p of this.parts) {
      const kept = p.indices.filter((_, j) => !p.group.isDropped(j));
      const o = p.group.finish();
      kept.forEach((index, k) => {
        runs.push({ index, result: o.results[k]!, samples: o.samples[k]! });
      });
    }
    return { runs };
  }
}

/**
 * The split of runs between the threads that finishes first, or null to keep `partner` (which
 * runs the partner thread replays now). `costs` are every run's milliseconds over the timed
 * batches, `timed` their number, `held` the batches a moved run replays again and `left` the
 * batches still to come. Run 0 stays on the replaying thread (it may draw the timeline).
 */
export function planShare(
  costs: readonly number[],
  partner: readonly boolean[],
  timed: number,
  held: number,
  left: number,
): boolean[] | null {
  const n = costs.length;
  if (n < 3 || n > PLAN_MAX_RUNS || timed < 1) return null;
  const rate = costs.map((c) => c / timed);
  const finish = (onPartner: (i: number) => boolean): number => {
    let mine = 0;
    let theirs = 0;
    for (let i = 0; i < n; i++) {
      // A run that changes thread replays the held batches again there.
      const work = rate[i]! * (left + (onPartner(i) !== partner[i] ? held : 0));
      if (onPartner(i)) theirs += work;
      else mine += work;
    }
    return Math.max(mine, theirs);
  };
  const now = finish((i) => partner[i]!);
  let best = now;
  let bestMask = -1;
  // Run 0 stays here: masks over runs 1..n-1.
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const t = finish((i) => i > 0 && ((mask >> (i - 1)) & 1) === 1);
    if (t < best) {
      best = t;
      bestMask = mask;
    }
  }
  if (bestMask < 0 || best > now * (1 - PLAN_GAIN)) return null;
  return costs.map((_, i) => i > 0 && ((bestMask >> (i - 1)) & 1) === 1);
}

/**
 * Moves runs to or from this thread when the split changes from `before` to `after` (true: on
 * the partner thread; `partnerSide` says whether this is it). Runs it adopts replay `held` first.
 */
export function applyPlan(
  share: DesignShare,
  before: readonly boolean[],
  after: readonly boolean[],
  partnerSide: boolean,
  held: readonly TraceBatch[],
): void {
  const gained: number[] = [];
  const lost: number[] = [];
  for (let i = 0; i < after.length; i++) {
    if (after[i] === before[i]) continue;
    (after[i] === partnerSide ? gained : lost).push(i);
  }
  share.drop(lost);
  share.adopt(gained, held);
}

/** The {@link BalanceSide} of `share` on this thread (`partnerSide`: the partner thread). */
export function shareSide(share: DesignShare, before: readonly boolean[], partnerSide: boolean): BalanceSide {
  return {
    before,
    costs: () => share.costs(),
    resetCosts: () => share.resetCosts(),
    apply: (after, held) => applyPlan(share, before, after, partnerSide, held),
  };
}
