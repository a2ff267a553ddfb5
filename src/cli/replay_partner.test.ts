/**
 * A comparison whose trace is read on the reader thread replays half of its designs on a partner
 * thread. Whatever stops the replay (the region of interest ending, Ctrl-C after some batches, the
 * end of the trace), both threads must replay exactly the same batches: every result, interval
 * and TLB sample equals the one of a replay without a partner.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMixTrace } from './cli.testutil.js';
import { type ReplayHooks, replay } from './replay_run.js';
import { runOptions } from './run_options.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-partner-'));
const trace = writeMixTrace(join(dir, 'mix.lackey'), 400_000);
const DESIGNS = ['genode', '4k-only', 'partitioned'];

async function both(hooks: () => ReplayHooks) {
  const runs = runOptions(DESIGNS, {});
  // The reader thread's ring (gzip text takes it): plain text would be parsed on both threads.
  const split = await replay(trace, runs, { ...hooks(), reader: 'thread', sharedDecode: false });
  expect(split.reading).toBe('thread');
  const alone = await replay(trace, runs, { ...hooks(), reader: 'thread', partner: false });
  return { split, alone };
}

describe('compare with a partner thread', () => {
  it('gives the results of one thread over a window with warm-up, limit and intervals, with TLB samples', async () => {
    const { split, alone } = await both(() => ({
      window: { skip: 1000, warmup: 70_000, limit: 200_000, interval: 50_000 },
      tlbSamples: true,
    }));
    expect(split.results.map((r) => r.records)).toEqual([200_000, 200_000, 200_000]);
    expect(split.results).toEqual(alone.results);
    expect(split.samples).toEqual(alone.samples);
    expect(split.samples[1]!.length).toBeGreaterThan(2);
  }, 120_000);

  it('stops both threads after the same batch when interrupted', async () => {
    const stopAfter = (n: number) => () => {
      let polls = 0;
      return { shouldStop: () => ++polls >= n };
    };
    const { split, alone } = await both(stopAfter(3));
    expect(split.interrupted).toBe(true);
    // Three batches of 65,536 records, in every design.
    expect(split.results.map((r) => r.records)).toEqual([196_608, 196_608, 196_608]);
    expect(split.results).toEqual(alone.results);
  }, 120_000);
});
