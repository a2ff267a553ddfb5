import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowConfig } from './run_config.js';
import { RecordWindow, type WindowEvent } from './run_window.js';
import { TraceBatch } from './trace_batch.js';

/** Feeds records 0..total-1 (the address is the record's number) in batches of the given sizes. */
function feedAll(cfg: WindowConfig, total: number, sizes: readonly number[]) {
  const w = new RecordWindow(cfg);
  const log: Array<number | WindowEvent> = [];
  let next = 0;
  let k = 0;
  let more = true;
  while (next < total && more) {
    const b = new TraceBatch(64);
    const n = Math.min(sizes[k++ % sizes.length]!, total - next);
    for (let i = 0; i < n; i++) b.push(1, next++, 8);
    more = w.feed(
      b,
      (p) => {
        for (let i = 0; i < p.length; i++) log.push(p.addr[i]!);
      },
      (e) => log.push(e),
    );
  }
  return { log, more, read: next, measured: w.measured };
}

describe('RecordWindow', () => {
  it('simulates exactly the records after the skip, resets after the warm-up, cuts intervals and stops at the limit (reference: a list)', () => {
    const cfg = fc.record({
      skip: fc.nat(20),
      warmup: fc.nat(20),
      limit: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
      interval: fc.option(fc.integer({ min: 1, max: 7 }), { nil: null }),
    });
    fc.assert(
      fc.property(
        cfg,
        fc.nat(80),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }),
        (c, total, sizes) => {
          const { log, more, read, measured } = feedAll(c, total, sizes);
          // The reference: walk the records one by one.
          const want: Array<number | WindowEvent> = [];
          const from = c.skip + c.warmup;
          const end = c.limit === null ? total : Math.min(total, from + c.limit);
          for (let r = c.skip; r < end; r++) {
            want.push(r);
            if (c.warmup > 0 && r + 1 === from) want.push('warmup-end');
            else if (c.interval !== null && r + 1 > from && (r + 1 - from) % c.interval === 0)
              want.push('interval-end');
          }
          expect(log).toEqual(want);
          expect(measured).toBe(Math.max(0, end - from));
          const limited = c.limit !== null && from + c.limit <= total;
          expect(more).toBe(!limited);
          // Reading stops within the batch that reached the limit.
          if (limited) expect(read).toBeLessThan(from + c.limit! + 64);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hands a whole batch over as is and a part of one as a view of the same storage', () => {
    const w = new RecordWindow({ skip: 2, warmup: 0, limit: null, interval: null });
    const b = new TraceBatch(8);
    for (let i = 0; i < 5; i++) b.push(0, 0x1000 * i, 4);
    const pieces: TraceBatch[] = [];
    w.feed(
      b,
      (p) => pieces.push(p),
      () => {},
    );
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.length).toBe(3);
    expect(pieces[0]!.addr.buffer).toBe(b.addr.buffer);
    const c = new TraceBatch(8);
    for (let i = 0; i < 3; i++) c.push(0, i, 4);
    w.feed(
      c,
      (p) => pieces.push(p),
      () => {},
    );
    expect(pieces[1]).toBe(c);
  });
});
