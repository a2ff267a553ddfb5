/**
 * A comparison of plain lackey text with a partner thread parses the text on the two replaying
 * threads, in blocks cut at line ends (block_ring.ts), instead of on a reader thread. Its batches
 * are shorter than the streaming reader's; nothing but where an interruption stops may show it:
 * every result, interval, timeline and the trace's summary must equal one thread's streaming
 * replay, and a syntax error anywhere must be the streaming reader's, at the same line and column.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_CAPACITY } from '../sim/trace_batch.js';
import { sharedTrace } from './block_read.js';
import { writeMixTrace } from './cli.testutil.js';
import { type ReplayHooks, replay } from './replay_run.js';
import { PLAN_MIN_BATCHES } from './replay_share.js';
import { runOptions } from './run_options.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-shared-text-'));

const mix = (name: string, records: number, seed?: number) => writeMixTrace(join(dir, name), records, seed);

const text = mix('mix.lackey', 400_000);
const DESIGNS = ['genode', '4k-only', 'partitioned'];
const FOUR = ['genode', 'partitioned', 'trampoline', '4k-only'];

/** Blocks the shared decode cuts `path` into. */
const blocksOf = (path: string): number => {
  const s = sharedTrace(path, DEFAULT_BATCH_CAPACITY, true);
  return s?.format === 'lackey' ? s.index.offsets.length : 0;
};

async function both(path: string, hooks: ReplayHooks, designs = DESIGNS) {
  const runs = runOptions(designs, {});
  const split = await replay(path, runs, { ...hooks, reader: 'thread' });
  const alone = await replay(path, runs, { ...hooks, reader: 'inline' });
  return { split, alone };
}

/** The message of a replay that must fail. */
const failure = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );

describe('compare of lackey text parsed on both replaying threads', () => {
  it('gives the results, intervals, timeline and trace summary of one thread', async () => {
    expect(blocksOf(text)).toBeGreaterThan(8);
    const { split, alone } = await both(text, {
      window: { skip: 1000, warmup: 70_000, limit: null, interval: 50_000 },
      timeline: true,
    });
    expect(split.reading).toBe('shared');
    expect(alone.reading).toBe('inline');
    expect(split.results.map((r) => r.records)).toEqual(DESIGNS.map(() => 400_000 - 71_000));
    expect(split.results).toEqual(alone.results);
    // Field for field, in the same order: JSON output is byte-identical.
    expect(JSON.stringify(split.trace)).toBe(JSON.stringify(alone.trace));
    expect(JSON.stringify(split.timelines[0]!.toJSON())).toBe(JSON.stringify(alone.timelines[0]!.toJSON()));
  }, 120_000);

  it('reads on the reader thread what shorter batches would change: TLB samples, a limit', async () => {
    const hooks: ReplayHooks[] = [
      { tlbSamples: true },
      { window: { skip: 0, warmup: 0, limit: 150_000, interval: null } },
    ];
    for (const h of hooks) {
      const { split, alone } = await both(text, h);
      expect(split.reading).toBe('thread');
      expect(split.results).toEqual(alone.results);
      expect(split.samples).toEqual(alone.samples);
      expect(split.trace.records).toBe(alone.trace.records);
      expect(JSON.stringify(split.timelines)).toBe(JSON.stringify(alone.timelines));
    }
  }, 120_000);

  it('gives the streaming summary of a text ending without a newline, with messages and blank lines', async () => {
    const body = readFileSync(text, 'utf8').split('\n');
    body.splice(123_456, 0, '==42== a message', '', '--42-- another');
    const path = join(dir, 'partial.lackey');
    writeFileSync(path, body.join('\n').replace(/\n+$/, ''));
    const { split, alone } = await both(path, {}, DESIGNS.slice(0, 2));
    expect(split.reading).toBe('shared');
    expect(split.trace.partialLine).toBe(true);
    expect(split.trace).toEqual(alone.trace);
    expect(split.results).toEqual(alone.results);
  }, 120_000);

  it("reports a syntax error in any block with the streaming reader's line and column", async () => {
    const lines = readFileSync(text, 'utf8').split('\n');
    for (const at of [3, 250_001]) {
      const bad = lines.slice();
      bad[at] = ' L 4000,zz';
      const path = join(dir, `bad-${at}.lackey`);
      writeFileSync(path, bad.join('\n'));
      const runs = runOptions(DESIGNS, {});
      const inline = await failure(replay(path, runs, { reader: 'inline' }));
      expect(inline).toContain(`bad-${at}.lackey: line ${at + 1}, column 9: expected a decimal size`);
      expect(await failure(replay(path, runs, { reader: 'thread' }))).toBe(inline);
    }
  }, 120_000);

  it('stops both threads after the same block when interrupted', async () => {
    let polls = 0;
    const runs = runOptions(DESIGNS, {});
    const split = await replay(text, runs, { reader: 'thread', shouldStop: () => ++polls >= 3 });
    expect(split.reading).toBe('shared');
    expect(split.interrupted).toBe(true);
    const records = split.trace.records;
    expect(records).toBeGreaterThan(0);
    expect(records).toBeLessThan(400_000);
    // The records of the first three blocks, replayed by one thread up to exactly there.
    const window = { skip: 0, warmup: 0, limit: records, interval: null };
    const alone = await replay(text, runs, { reader: 'inline', window });
    const bare = (o: typeof split) => o.results.map(({ config: _c, ...r }) => r);
    expect(split.results.map((r) => r.records)).toEqual(DESIGNS.map(() => records));
    expect(bare(split)).toEqual(bare(alone));
  }, 120_000);

  it('moves runs between the threads as the plan says, with the results of one thread', async () => {
    const long = mix('long.lackey', 1_700_000, 7);
    expect(blocksOf(long)).toBeGreaterThanOrEqual(PLAN_MIN_BATCHES);
    const hooks: ReplayHooks = { window: { skip: 0, warmup: 100_000, limit: null, interval: 300_000 } };
    const runs = runOptions(FOUR, {});
    const alone = await replay(long, runs, { ...hooks, reader: 'inline' });
    const seen: boolean[][] = [];
    const swapped = await replay(long, runs, {
      ...hooks,
      reader: 'thread',
      choose: (_, partner) => {
        seen.push([...partner]);
        return partner.map((p, i) => i > 0 && !p);
      },
    });
    expect(swapped.reading).toBe('shared');
    expect(seen).toEqual([[false, true, false, true]]);
    expect(swapped.results).toEqual(alone.results);
    expect(swapped.trace).toEqual(alone.trace);
  }, 120_000);
});
