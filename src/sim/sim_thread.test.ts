import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Thread } from '../kernel/thread.js';
import { Attribution } from './attribution.js';
import { PageSet, PushSource, SimThread } from './sim_thread.js';
import { TraceBatch } from './trace_batch.js';

describe('PageSet', () => {
  it('counts exactly the distinct pages added, whatever the order (reference: a Set)', () => {
    // Bitmap keys that share a cache slot (8 apart) and addresses near 2^47 and 2^52.
    const key = fc.constantFrom(0, 1, 8, 16, 9, 2 ** 26, 2 ** 26 + 8, 2 ** 31);
    const va = fc
      .tuple(key, fc.integer({ min: 0, max: 511 }), fc.integer({ min: 0, max: 4095 }))
      .map(([k, p, off]) => (k * 512 + p) * 4096 + off);
    fc.assert(
      fc.property(fc.array(va, { maxLength: 300 }), (vas) => {
        const set = new PageSet(4096);
        for (const a of vas) set.add(a);
        expect(set.size).toBe(new Set(vas.map((a) => Math.floor(a / 4096))).size);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SimThread.instructionAt', () => {
  it('is the most recent fetch before a record in the whole stream, across reused batches (reference: a scan)', () => {
    type Rec = [kind: 0 | 1 | 2 | 3, addr: number];
    const rec = fc.tuple(fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 1, 2, 3), fc.integer({ min: 0, max: 2 ** 40 }));
    // Batches of records, each with the positions the slow path asks about (ascending).
    const batch = fc
      .array(rec, { minLength: 1, maxLength: 12 })
      .chain((rs) => fc.tuple(fc.constant(rs), fc.uniqueArray(fc.nat(rs.length - 1), { maxLength: 6 })));
    fc.assert(
      fc.property(fc.array(batch, { minLength: 1, maxLength: 6 }), (batches) => {
        const src = new PushSource();
        const t = new SimThread({} as Thread, src, 4096);
        t.attribution = new Attribution(4096);
        // One batch object, overwritten for every push like a reader's ring slot.
        const b = new TraceBatch(16);
        const stream: Rec[] = [];
        for (const [recs, asks] of batches) {
          b.clear();
          for (const [k, a] of recs) b.push(k, a, 1);
          src.push(b);
          expect(t.refill()).toBe(true);
          const base = stream.length;
          stream.push(...recs);
          for (const pos of [...asks].sort((x, y) => x - y)) {
            let want = Number.NaN;
            for (let j = base + pos; j >= 0; j--) {
              if (stream[j]![0] === 0) {
                want = stream[j]![1];
                break;
              }
            }
            t.pos = pos;
            expect(t.instructionAt(pos)).toBe(want);
          }
          // The thread consumes the batch and starves; the batch is then reused.
          t.pos = t.len;
          expect(t.refill()).toBe(false);
          b.clear();
          for (let i = 0; i < 16; i++) b.push(0, 0xdead000 + i, 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
