import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageSet } from './sim_thread.js';

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
