import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeAllocator } from './range_allocator.js';

const PAGE = 4096;

/** Naive reference: one flag per page. */
class PageModel {
  readonly used: boolean[];
  constructor(readonly count: number) {
    this.used = new Array(count).fill(false);
  }
  fits(first: number, n: number): boolean {
    if (first < 0 || first + n > this.count) return false;
    for (let i = first; i < first + n; i++) if (this.used[i]) return false;
    return true;
  }
  firstFit(n: number, alignPages: number): number {
    for (let p = 0; p + n <= this.count; p += alignPages) if (this.fits(p, n)) return p;
    return -1;
  }
  set(first: number, n: number, v: boolean): void {
    for (let i = first; i < first + n; i++) this.used[i] = v;
  }
}

describe('RangeAllocator', () => {
  it('allocates at the lowest aligned fitting address and merges on free', () => {
    const a = new RangeAllocator();
    a.addRange(0x1000, 0x100000 - 0x1000);
    expect(a.allocAligned(0x2000, 12)).toBe(0x1000);
    expect(a.allocAligned(0x10000, 16)).toBe(0x10000);
    expect(a.isFree(0x3000, 0xd000)).toBe(true);
    expect(a.isFree(0x3000, 0xe000)).toBe(false);
    a.free(0x1000, 0x2000);
    a.free(0x10000, 0x10000);
    a.check();
    expect(a.ranges).toBe(1);
    expect(a.available).toBe(0x100000 - 0x1000);
  });

  it('refuses allocAt over allocated space or outside the managed range', () => {
    const a = new RangeAllocator();
    a.addRange(0, 0x10000);
    expect(a.allocAt(0x2000, 0x2000)).toBe(true);
    expect(a.allocAt(0x3000, 0x1000)).toBe(false);
    expect(a.allocAt(0x1000, 0x2000)).toBe(false);
    expect(a.allocAt(0xf000, 0x2000)).toBe(false);
    expect(a.available).toBe(0xe000);
    a.check();
  });

  it('matches a page-by-page reference for random alloc/allocAt/free sequences', () => {
    const PAGES = 256;
    const op = fc.oneof(
      fc.record({
        t: fc.constant('aligned' as const),
        n: fc.integer({ min: 1, max: 40 }),
        al: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({
        t: fc.constant('at' as const),
        p: fc.integer({ min: 0, max: PAGES }),
        n: fc.integer({ min: 1, max: 40 }),
      }),
      fc.record({ t: fc.constant('free' as const), k: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150, size: 'max' }), (ops) => {
        const a = new RangeAllocator();
        a.addRange(0, PAGES * PAGE);
        const m = new PageModel(PAGES);
        const live: Array<[number, number]> = [];
        for (const o of ops) {
          if (o.t === 'aligned') {
            const expected = m.firstFit(o.n, 2 ** o.al);
            const got = a.allocAligned(o.n * PAGE, 12 + o.al);
            expect(got === -1 ? -1 : got / PAGE).toBe(expected);
            if (got >= 0) {
              m.set(expected, o.n, true);
              live.push([expected, o.n]);
            }
          } else if (o.t === 'at') {
            const fits = m.fits(o.p, o.n);
            expect(a.allocAt(o.p * PAGE, o.n * PAGE)).toBe(fits);
            if (fits) {
              m.set(o.p, o.n, true);
              live.push([o.p, o.n]);
            }
          } else if (live.length > 0) {
            const [first, n] = live.splice(o.k % live.length, 1)[0]!;
            a.free(first * PAGE, n * PAGE);
            m.set(first, n, false);
          }
          a.check();
          expect(a.available).toBe(m.used.filter((x) => !x).length * PAGE);
        }
        // Free ranges are exactly the maximal runs of free pages.
        const runs: Array<[number, number]> = [];
        a.forEachFree((s, n) => runs.push([s / PAGE, n / PAGE]));
        const expected: Array<[number, number]> = [];
        for (let p = 0; p < PAGES; p++) {
          if (m.used[p]) continue;
          const last = expected.at(-1);
          if (last && last[0] + last[1] === p) last[1]++;
          else expected.push([p, 1]);
        }
        expect(runs).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
