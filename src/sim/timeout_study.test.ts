import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { microsToCycles } from './cost.js';
import { designOptions } from './designs.js';
import { runTimeoutPoint, runTimeoutStudy, type TimeoutSpec } from './timeout_study.js';

const MS = microsToCycles(1000);

function spec(design = 'sync-core-rpc', over: Partial<TimeoutSpec> = {}): TimeoutSpec {
  return {
    design: { name: design, options: unwrap(designOptions(design)) },
    timeouts: [5 * MS, 50 * MS],
    loads: [0, 2],
    chain: 3,
    clients: 2,
    faultsPerClient: 2,
    computeCycles: MS,
    chunk: 64 * 1024,
    quantum: 10 * MS,
    misbehaving: 10,
    misbehave: { kind: 'never-replies' },
    innocentTouches: 10,
    horizon: 1500 * MS,
    ...over,
  };
}

describe('timeout study (seed 001, DOpE)', () => {
  it('a short timeout loses messages under load, and only under load', () => {
    const s = spec();
    const loaded = runTimeoutPoint(s, 'load', 5 * MS, 2);
    expect(loaded.lost).toBeGreaterThan(0);
    expect(loaded.sendTimeouts + loaded.replyTimeouts).toBe(loaded.lost);
    // A lost fault stays unresolved for good: its thread never finishes.
    expect(loaded.unfinished).toBe(loaded.lost);
    const idle = runTimeoutPoint(s, 'load', 5 * MS, 0);
    expect(idle.lost).toBe(0);
    expect(idle.resolved).toBe(s.clients * s.faultsPerClient);
    // Lengthening the timeout pushes the problem away (until the load grows again).
    expect(runTimeoutPoint(s, 'load', 200 * MS, 2).lost).toBe(0);
  });

  it('long timeouts accumulate: n misbehaving managers × timeout ≈ the stall of whatever serves them', () => {
    const s = spec();
    for (const [n, t] of [
      [10, 50],
      [5, 50],
      [10, 20],
    ] as const) {
      const p = runTimeoutPoint(s, 'misbehaving', t * MS, n);
      expect(p.lost).toBe(n);
      const want = n * t * 1000;
      expect(p.serverBlockedUs).toBeGreaterThanOrEqual(want);
      expect(p.serverBlockedUs).toBeLessThan(want * 1.01);
      expect(p.serverStallUs).toBeGreaterThanOrEqual(want);
      // The innocent component touched its first page 1 ms in, and waited for the rest.
      expect(p.innocentStallUs!).toBeGreaterThan(want - 1500);
      expect(p.innocentStallUs!).toBeLessThan(want * 1.01);
    }
  });

  it('the waits of chained managers add up for one fault', () => {
    const stall = (chain: number) =>
      runTimeoutPoint(spec('sync-core-rpc', { chain, clients: 1 }), 'load', 200 * MS, 1).worstStallUs!;
    const [one, two, three] = [stall(1), stall(2), stall(3)];
    expect(two).toBeGreaterThan(one);
    expect(three - two).toBeGreaterThan(0.9 * (two - one));
    expect(three).toBeGreaterThan(2 * one);
  });

  it('counts the exception work wasted on replies nobody took', () => {
    const s = spec();
    const late = runTimeoutPoint(s, 'load', 20 * MS, 2);
    expect(late.replyTimeouts).toBeGreaterThan(0);
    expect(late.droppedReplies).toBeGreaterThan(0);
    expect(late.wastedUs).toBeGreaterThan(0);
    const never = runTimeoutPoint(s, 'load', 'never', 2);
    expect(never.lost).toBe(0);
    expect(never.droppedReplies).toBe(0);
    expect(never.wastedUs).toBe(0);
  });

  it('local-rm: each task’s own region mapper waits alone, the innocent component is not frozen', () => {
    const p = runTimeoutPoint(spec('local-rm'), 'misbehaving', 50 * MS, 10);
    expect(p.lost).toBe(10);
    expect(p.serverStallUs).toBeLessThan(51_000);
    expect(p.serverBlockedUs).toBeGreaterThanOrEqual(500_000);
    expect(p.innocentStallUs!).toBeLessThan(100);
  });

  it('is deterministic, timeouts firing included, and reports the DOpE figures', async () => {
    const s = spec('sync-core-rpc', { loads: [2], timeouts: [5 * MS] });
    const a = await runTimeoutStudy(s);
    const b = await runTimeoutStudy(s);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.points.every((p) => p.lost > 0)).toBe(true);
    expect(a.dope!.shortTimeout.lost).toBeGreaterThan(0);
    expect(a.dope!.freeze.innocentStallUs!).toBeGreaterThan(490_000);
  });
});
