import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Attribution } from './attribution.js';

describe('Attribution', () => {
  it('counts misses and faults per page and instruction and lists the largest first (reference: plain counts)', () => {
    const ev = fc.tuple(
      fc.boolean(),
      fc.integer({ min: 0, max: 7 }).map((p) => p * 4096 + 12),
      fc.option(
        fc.integer({ min: 0, max: 5 }).map((i) => 0x400000 + i * 3),
        { nil: Number.NaN },
      ),
    );
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 60 }), fc.integer({ min: 0, max: 4 }), (evs, n) => {
        const a = new Attribution(4096);
        const count = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
        const want = { mp: new Map<number, number>(), mi: new Map(), fp: new Map(), fi: new Map() };
        for (const [isMiss, va, ip] of evs) {
          if (isMiss) a.miss(va, ip);
          else a.fault(va, ip);
          count(isMiss ? want.mp : want.fp, va - 12);
          if (!Number.isNaN(ip)) count(isMiss ? want.mi : want.fi, ip);
        }
        const list = (m: Map<number, number>) =>
          [...m]
            .sort((x, y) => y[1] - x[1] || x[0] - y[0])
            .slice(0, n)
            .map(([k, c]) => ({ address: `0x${k.toString(16)}`, count: c }));
        const top = a.top(n);
        expect(top.tlbMisses.pages).toEqual(list(want.mp));
        expect(top.tlbMisses.instructions).toEqual(list(want.mi));
        expect(top.faults.pages).toEqual(list(want.fp));
        expect(top.faults.instructions).toEqual(list(want.fi));
        expect(top.tlbMisses.total).toBe(evs.filter((e) => e[0]).length);
        expect(top.faults.total).toBe(evs.filter((e) => !e[0]).length);
        const merged = new Attribution(4096);
        merged.merge(a);
        merged.merge(a);
        const first = [...want.fp].sort((x, y) => y[1] - x[1])[0];
        expect(merged.top(1).faults.pages[0]?.count).toBe(first && 2 * first[1]);
        a.clear();
        expect(a.top(n).tlbMisses.total + a.top(n).faults.pages.length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
