import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeAllocator } from './range_allocator.js';

const PAGE = 4096;

/** Naive reference: one entry per page, owner id or 0 for free. */
class PageModel {
  readonly pages: number[];
  constructor(readonly count: number) {
    this.pages = new Array(count).fill(0);
  }
  fits(first: number, n: number): boolean {
    if (first < 0 || first + n > this.count) return false;
    for (let i = first; i < first + n; i++) if (this.pages[i] !== 0) return false;
    return true;
  }
  firstFit(n: number, alignPages: number): number {
    for (let p = 0; p + n <= this.count; p += alignPages) if (this.fits(p, n)) return p;
    return -1;
  }
}

describe('RangeAllocator', () => {
  it('allocates at the lowest aligned fitting address and frees with merging', () => {
    const a = new RangeAllocator<string>();
    a.addRange(0x1000, 0x100000 - 0x1000);
    const b1 = a.allocAligned(0x2000, 12, 'a')!;
    expect(b1.start).toBe(0x1000);
    const b2 = a.allocAligned(0x10000, 16, 'b')!;
    expect(b2.start).toBe(0x10000);
    expect(a.find(0x10fff)?.payload).toBe('b');
    expect(a.find(0x3000)?.used).toBe(false);
    expect(a.free(0x1000)).toBe('a');
    expect(a.free(0x10000)).toBe('b');
    a.check();
    // Everything merged back into one free block.
    let blocks = 0;
    a.forEach(() => blocks++);
    expect(blocks).toBe(1);
    expect(a.available).toBe(0x100000 - 0x1000);
  });

  it('refuses allocAt over a used block or outside the managed range', () => {
    const a = new RangeAllocator<number>();
    a.addRange(0, 0x10000);
    expect(a.allocAt(0x2000, 0x2000, 1)).not.toBeNull();
    expect(a.allocAt(0x3000, 0x1000, 2)).toBeNull();
    expect(a.allocAt(0x1000, 0x2000, 2)).toBeNull();
    expect(a.allocAt(0xf000, 0x2000, 2)).toBeNull();
    expect(a.used).toBe(1);
    a.check();
  });

  it('matches a page-by-page reference for random alloc/allocAt/free sequences', () => {
    const PAGES = 256;
    const op = fc.oneof(
      fc.record({ t: fc.constant('aligned' as const), n: fc.integer({ min: 1, max: 40 }), al: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ t: fc.constant('at' as const), p: fc.integer({ min: 0, max: PAGES }), n: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ t: fc.constant('free' as const), p: fc.integer({ min: 0, max: PAGES - 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const a = new RangeAllocator<number>();
        a.addRange(0, PAGES * PAGE);
        const m = new PageModel(PAGES);
        const starts = new Map<number, { first: number; n: number }>();
        let id = 0;
        for (const o of ops) {
          if (o.t === 'aligned') {
            const expected = m.firstFit(o.n, 2 ** o.al);
            const b = a.allocAligned(o.n * PAGE, 12 + o.al, ++id);
            expect(b ? b.start / PAGE : -1).toBe(expected);
            if (b) {
              for (let i = expected; i < expected + o.n; i++) m.pages[i] = id;
              starts.set(id, { first: expected, n: o.n });
            }
          } else if (o.t === 'at') {
            const ok = m.fits(o.p, o.n);
            const b = a.allocAt(o.p * PAGE, o.n * PAGE, ++id);
            expect(b !== null).toBe(ok);
            if (b) {
              for (let i = o.p; i < o.p + o.n; i++) m.pages[i] = id;
              starts.set(id, { first: o.p, n: o.n });
            }
          } else {
            const owner = m.pages[o.p]!;
            const freed = a.free(o.p * PAGE);
            expect(freed ?? 0).toBe(owner);
            if (owner) {
              const s = starts.get(owner)!;
              for (let i = s.first; i < s.first + s.n; i++) m.pages[i] = 0;
            }
          }
          a.check();
          for (let p = 0; p < PAGES; p += 7) {
            const b = a.find(p * PAGE)!;
            expect(b.used ? b.payload : 0).toBe(m.pages[p]);
          }
        }
        expect(a.available).toBe(m.pages.filter((x) => x === 0).length * PAGE);
      }),
      { numRuns: 200 },
    );
  });
});
