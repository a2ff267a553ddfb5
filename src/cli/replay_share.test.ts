import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planShare } from './replay_share.js';

/**
 * Reference: when each thread finishes the rest of the trace under a split, from the costs over
 * `timed` batches, with every run that changes thread replaying the `held` batches again.
 */
function finishes(
  costs: number[],
  before: boolean[],
  after: boolean[],
  timed: number,
  held: number,
  left: number,
) {
  const load = [0, 0];
  costs.forEach((c, i) => {
    const batches = left + (after[i] === before[i] ? 0 : held);
    load[after[i] ? 1 : 0]! += (c / timed) * batches;
  });
  return Math.max(load[0]!, load[1]!);
}

/** Every split that keeps run 0 on the replaying thread. */
function splits(n: number): boolean[][] {
  const out: boolean[][] = [];
  for (let m = 0; m < 1 << (n - 1); m++)
    out.push(Array.from({ length: n }, (_, i) => i > 0 && ((m >> (i - 1)) & 1) === 1));
  return out;
}

describe('planShare', () => {
  it('moves 4k-only away from a cheap design on the mix: the worked example', () => {
    // genode, partitioned, trampoline, 4k-only over 3 timed batches (ms), halves fixed in advance.
    const costs = [50, 44, 44, 180];
    const plan = planShare(costs, [false, true, false, true], 3, 4, 73);
    expect(plan).toEqual([false, false, false, true]);
  });

  it('keeps a split of designs that cost the same', () => {
    expect(planShare([50, 51, 49, 50], [false, true, false, true], 3, 4, 73)).toBeNull();
  });

  it('plans nothing for two runs or without timed batches', () => {
    expect(planShare([10, 100], [false, true], 3, 4, 73)).toBeNull();
    expect(planShare([10, 100, 10], [false, true, false], 0, 4, 73)).toBeNull();
  });

  it('picks a split that finishes first, and moves only for a gain of a tenth (against brute force)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 3, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 500 }),
        (costs, bits, timed, held, left) => {
          const before = costs.map((_, i) => i > 0 && bits[i]!);
          const now = finishes(costs, before, before, timed, held, left);
          const best = Math.min(
            ...splits(costs.length).map((s) => finishes(costs, before, s, timed, held, left)),
          );
          const plan = planShare(costs, before, timed, held, left);
          if (plan === null) {
            // Nothing better, or better by less than a tenth.
            expect(best >= now || best > now * 0.9).toBe(true);
          } else {
            expect(plan[0]).toBe(false);
            expect(plan).not.toEqual(before);
            expect(finishes(costs, before, plan, timed, held, left)).toBeCloseTo(best, 6);
            expect(best < now && best <= now * 0.9 + 1e-9).toBe(true);
          }
        },
      ),
    );
  });
});
