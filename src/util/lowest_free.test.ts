import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LowestFreeAllocator } from './lowest_free.js';

/** The naive reference: a boolean per id, scanned from the bottom. */
class NaiveIds {
  readonly used: boolean[];
  constructor(
    readonly lo: number,
    readonly limit: number,
    readonly reserved: ReadonlySet<number>,
  ) {
    this.used = new Array<boolean>(limit - lo).fill(false);
  }
  alloc(): number {
    for (let id = this.lo; id < this.limit; id++) {
      if (!this.used[id - this.lo] && !this.reserved.has(id)) {
        this.used[id - this.lo] = true;
        return id;
      }
    }
    return -1;
  }
  free(id: number): boolean {
    if (id < this.lo || id >= this.limit || !this.used[id - this.lo]) return false;
    this.used[id - this.lo] = false;
    return true;
  }
}

describe('LowestFreeAllocator', () => {
  it('hands out ids from the bottom, skips reserved ones and reports full as -1', () => {
    const a = new LowestFreeAllocator(10, 15, [11, 13]);
    expect([a.alloc(), a.alloc(), a.alloc(), a.alloc()]).toEqual([10, 12, 14, -1]);
    expect(a.available).toBe(0);
    expect(a.free(12)).toBe(true);
    expect(a.free(12)).toBe(false);
    expect(a.free(11)).toBe(false);
    expect(a.alloc()).toBe(12);
  });

  it('agrees with a naive bitmap on random alloc/free sequences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.uniqueArray(fc.nat(39)),
        fc.array(fc.oneof(fc.constant(-1), fc.nat(45)), { maxLength: 300 }),
        (lo, n, reservedOffsets, ops) => {
          const reserved = new Set(reservedOffsets.filter((o) => o < n).map((o) => lo + o));
          const a = new LowestFreeAllocator(lo, lo + n, reserved);
          const ref = new NaiveIds(lo, lo + n, reserved);
          for (const op of ops) {
            if (op === -1) expect(a.alloc()).toBe(ref.alloc());
            else expect(a.free(lo + op)).toBe(ref.free(lo + op));
            const used = ref.used.filter(Boolean).length;
            expect(a.allocated).toBe(used);
            expect(a.available).toBe(n - reserved.size - used);
            for (let id = lo - 1; id <= lo + n; id++) {
              expect(a.isAllocated(id)).toBe(id >= lo && id < lo + n && ref.used[id - lo] === true);
            }
          }
        },
      ),
    );
  });
});
