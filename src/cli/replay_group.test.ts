/**
 * A replay must not depend on how its trace was cut into batches: the streaming reader's batches
 * of 65,536 records, the shorter ones of lackey text parsed on two threads, or any other size give
 * the same results and the same timeline (a traced thread's step cut short by the end of a batch
 * goes on with the same slice, and the two pieces are drawn as one).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeMixTrace } from './cli.testutil.js';
import { ReplayGroup } from './replay_group.js';
import { runOptions } from './run_options.js';
import { openTrace } from './trace_source.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-group-'));
const trace = writeMixTrace(join(dir, 'mix.lackey'), 150_000);

/** Results and timeline of one design replayed in batches of `capacity` records. */
async function replayIn(
  capacity: number,
  design: string,
  flags: Parameters<typeof runOptions>[1],
  path = trace,
) {
  const window = { skip: 1000, warmup: 5000, limit: null, interval: 20_000 };
  const g = new ReplayGroup(runOptions([design], flags), { window, top: 5, timeline: true });
  const r = await openTrace(path, (b) => g.feed(b), { batchCapacity: capacity });
  expect(r.ok).toBe(true);
  const { results } = g.finish();
  return { results: JSON.stringify(results), timeline: JSON.stringify(g.timelines[0]!.toJSON()) };
}

const short = writeMixTrace(join(dir, 'short.lackey'), 30_000, 5);

describe('a replay in batches of any size', () => {
  it('gives the results and timeline of one batch, whatever the batch size (property)', async () => {
    const whole = {
      genode: await replayIn(65_536, 'genode', {}, short),
      '4k-only': await replayIn(65_536, '4k-only', { cpus: '2' }, short),
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40_000 }), fc.boolean(), async (capacity, four) => {
        const design = four ? '4k-only' : 'genode';
        const cut = await replayIn(capacity, design, four ? { cpus: '2' } : {}, short);
        expect(cut.results).toBe(whole[design].results);
        expect(cut.timeline).toBe(whole[design].timeline);
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  for (const [design, flags] of [
    ['genode', {}],
    ['4k-only', { cpus: '2' }],
    ['kernel-swap', { ram: '256K', swap: ['nvme'], chunk: '4K' }],
    ['local-rm', { misbehave: 'replies-late:20000' }],
  ] as const) {
    it(`gives the same results and timeline: ${design} ${JSON.stringify(flags)}`, async () => {
      const whole = await replayIn(65_536, design, flags);
      expect(whole.timeline).toContain('"running"');
      for (const capacity of [27_123, 999]) {
        const cut = await replayIn(capacity, design, flags);
        expect(cut.results).toBe(whole.results);
        expect(cut.timeline).toBe(whole.timeline);
      }
    }, 60_000);
  }
});
