import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONE } from './mapping_db_table.js';
import { VaIndex } from './mapping_db_vaindex.js';

type Op =
  | { k: 'set'; vpn: number; slot: number }
  | { k: 'del'; vpn: number }
  | { k: 'range'; a: number; b: number };

const vpn = fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 2 ** 35 - 40, max: 2 ** 35 + 40 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('set' as const), vpn, slot: fc.nat({ max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('del' as const), vpn }) },
  fc.record({ k: fc.constant('range' as const), a: vpn, b: vpn }),
);

describe('VaIndex', () => {
  it('behaves like a map from page number to slot, with range queries', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const ix = new VaIndex();
        const ref = new Map<number, number>();
        for (const o of ops) {
          if (o.k === 'set') {
            ix.set(o.vpn, o.slot);
            ref.set(o.vpn, o.slot);
          } else if (o.k === 'del') {
            ix.delete(o.vpn);
            ref.delete(o.vpn);
          } else {
            const [lo, hi] = o.a <= o.b ? [o.a, o.b + 1] : [o.b, o.a + 1];
            const got: number[] = [];
            ix.collect(lo, hi, got);
            const want = [...ref].filter(([k]) => k >= lo && k < hi).map(([, v]) => v);
            expect(got.sort((x, y) => x - y)).toEqual(want.sort((x, y) => x - y));
          }
          expect(ix.size).toBe(ref.size);
        }
        for (let v = 0; v <= 80; v++) expect(ix.get(v)).toBe(ref.get(v) ?? NONE);
        expect(ix.values().sort((x, y) => x - y)).toEqual([...ref.values()].sort((x, y) => x - y));
      }),
      { numRuns: 300 },
    );
  });
});
