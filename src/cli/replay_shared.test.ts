/**
 * A comparison of a binary trace with a partner thread decodes the trace on the two replaying
 * threads (block_ring.ts) instead of a reader thread. Whatever stops it, and whichever thread
 * decodes which block, every result, interval and TLB sample must equal that of one thread
 * reading the trace with the streaming reader, and a corrupt block must give the streaming
 * reader's error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceBatch } from '../sim/trace_batch.js';
import { BinaryTraceWriter, readU32 } from '../workload/binary_trace.js';
import { decodeBinaryTrace } from '../workload/binary_trace_reader.js';
import { writeMixTrace } from './cli.testutil.js';
import { type ReplayHooks, replay } from './replay_run.js';
import { PLAN_BATCHES, PLAN_MIN_BATCHES } from './replay_share.js';
import { runOptions } from './run_options.js';
import { convertTrace } from './trace_cmd.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-shared-'));
const text = writeMixTrace(join(dir, 'mix.lackey'), 400_000);
const binary = join(dir, 'mix.bin');
await convertTrace(text, binary);
const DESIGNS = ['genode', '4k-only', 'partitioned'];

/** A trace long enough for a plan (PLAN_MIN_BATCHES batches), and the designs it moves. */
const longText = writeMixTrace(join(dir, 'long.lackey'), PLAN_MIN_BATCHES * 65536 + 5000, 7);
const long = join(dir, 'long.bin');
await convertTrace(longText, long);
const FOUR = ['genode', 'partitioned', 'trampoline', '4k-only'];

/** The same records in blocks of `per` records. */
function reblock(per: number): string {
  const out: Uint8Array[] = [];
  const w = new BinaryTraceWriter((c) => out.push(c), { blockRecords: per });
  const r = decodeBinaryTrace(readFileSync(binary), (b: TraceBatch) => {
    w.write(b);
    return true;
  });
  if (!r.ok) throw new Error(r.message);
  w.finish();
  const path = join(dir, `mix-${per}.bin`);
  writeFileSync(path, Buffer.concat(out));
  return path;
}

/** Payload offsets of a binary trace's blocks, from their headers. */
function payloads(bytes: Uint8Array): Array<{ at: number; bytes: number }> {
  const out: Array<{ at: number; bytes: number }> = [];
  for (let o = 20; readU32(bytes, o) !== 0; o += 8 + readU32(bytes, o + 4)) {
    out.push({ at: o + 8, bytes: readU32(bytes, o + 4) });
  }
  return out;
}

async function both(path: string, hooks: () => ReplayHooks) {
  const runs = runOptions(DESIGNS, {});
  const split = await replay(path, runs, { ...hooks(), reader: 'thread' });
  const alone = await replay(path, runs, { ...hooks(), reader: 'inline' });
  return { split, alone };
}

describe('compare of a binary trace decoded on both replaying threads', () => {
  it('gives the results of one thread over a window with warm-up, limit and intervals, with TLB samples', async () => {
    const { split, alone } = await both(binary, () => ({
      window: { skip: 1000, warmup: 70_000, limit: 250_000, interval: 50_000 },
      tlbSamples: true,
    }));
    expect(split.reading).toBe('shared');
    expect(alone.reading).toBe('inline');
    expect(split.results.map((r) => r.records)).toEqual([250_000, 250_000, 250_000]);
    expect(split.results).toEqual(alone.results);
    expect(split.samples).toEqual(alone.samples);
    expect(split.trace.records).toBe(alone.trace.records);
  }, 120_000);

  it('replays the whole trace like one thread', async () => {
    const { split, alone } = await both(binary, () => ({}));
    expect(split.reading).toBe('shared');
    expect(split.results.map((r) => r.records)).toEqual([400_000, 400_000, 400_000]);
    expect(split.results).toEqual(alone.results);
    expect(split.trace).toEqual(alone.trace);
  }, 120_000);

  it('stops both threads after the same batch when interrupted', async () => {
    const stopAfter = (n: number) => () => {
      let polls = 0;
      return { shouldStop: () => ++polls >= n };
    };
    const { split, alone } = await both(binary, stopAfter(3));
    expect(split.reading).toBe('shared');
    expect(split.interrupted).toBe(true);
    expect(split.results.map((r) => r.records)).toEqual([196_608, 196_608, 196_608]);
    expect(split.results).toEqual(alone.results);
  }, 120_000);

  it('reads blocks that do not fill a batch on the reader thread, with the same results', async () => {
    const path = reblock(1000);
    const { split, alone } = await both(path, () => ({}));
    expect(split.reading).toBe('thread');
    expect(split.results).toEqual(alone.results);
  }, 120_000);

  it("reports a corrupt block with the streaming reader's error", async () => {
    const bytes = new Uint8Array(readFileSync(binary));
    const blocks = payloads(bytes);
    expect(blocks.length).toBe(7);
    // The last byte of block 4 becomes a varint continuation: its last record runs past the block.
    const b = blocks[4]!;
    bytes[b.at + b.bytes - 1] = 0xff;
    const path = join(dir, 'corrupt.bin');
    writeFileSync(path, bytes);
    const runs = runOptions(DESIGNS, {});
    const inline = await replay(path, runs, { reader: 'inline' }).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    expect(inline).toMatch(/^.*corrupt\.bin: offset \d+: /);
    await expect(replay(path, runs, { reader: 'thread' })).rejects.toThrow(inline);
  }, 120_000);

  it('moves runs between the threads as the plan says, with the results of one thread', async () => {
    const runs = runOptions(FOUR, {});
    const hooks: ReplayHooks = {
      window: { skip: 0, warmup: 100_000, limit: null, interval: 300_000 },
      tlbSamples: true,
    };
    const alone = await replay(long, runs, { ...hooks, reader: 'inline' });
    const seen: Array<{ costs: readonly number[]; partner: readonly boolean[] }> = [];
    // Every run changes thread (run 0 cannot): genode stays, the others swap sides.
    const swapped = await replay(long, runs, {
      ...hooks,
      reader: 'thread',
      timeline: true,
      choose: (costs, partner) => {
        seen.push({ costs, partner });
        return partner.map((p, i) => i > 0 && !p);
      },
    });
    expect(swapped.reading).toBe('shared');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.partner).toEqual([false, true, false, true]);
    // Both threads timed their runs.
    expect(seen[0]!.costs.every((c) => c > 0)).toBe(true);
    expect(swapped.results).toEqual(alone.results);
    expect(swapped.samples).toEqual(alone.samples);
    expect(swapped.samples[1]!.length).toBeGreaterThan(PLAN_MIN_BATCHES);
    expect(swapped.timelines[0]).not.toBeNull();
    // Keeping the split gives the same results too.
    const kept = await replay(long, runs, { ...hooks, reader: 'thread', choose: () => null });
    expect(kept.results).toEqual(alone.results);
  }, 120_000);

  it('stops after the same batch when interrupted right after the plan', async () => {
    const runs = runOptions(FOUR, {});
    let polls = 0;
    // Two batches after the plan.
    const shouldStop = () => ++polls >= PLAN_BATCHES + 2;
    const alone = await replay(long, runs, { reader: 'inline', shouldStop });
    polls = 0;
    const moved = await replay(long, runs, {
      reader: 'thread',
      shouldStop,
      choose: (_, partner) => partner.map((p, i) => i > 0 && !p),
    });
    expect(moved.interrupted).toBe(true);
    expect(moved.results.map((r) => r.records)).toEqual(FOUR.map(() => (PLAN_BATCHES + 2) * 65536));
    expect(moved.results).toEqual(alone.results);
  }, 120_000);
});
