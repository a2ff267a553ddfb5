import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MmapRange, MmapRangeList, type MmapRangeSpec } from './mmap_ranges.js';

const P = 4096;
const spec = (startPage: number, pages: number, offsetPage = 0): MmapRangeSpec => ({
  start: startPage * P,
  size: pages * P,
  provider: 3,
  file: 1,
  offset: offsetPage * P,
  writable: true,
});

function mapped(l: MmapRangeList, s: MmapRangeSpec): MmapRange {
  const r = l.map(s);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('MmapRangeList', () => {
  it('numbers ranges from 1, reuses the lowest free index and finds ranges by address', () => {
    const l = new MmapRangeList(2 ** 30 - 1);
    const a = mapped(l, spec(10, 4, 2));
    const b = mapped(l, spec(100, 1));
    const c = mapped(l, spec(2, 3));
    expect([a.index, b.index, c.index]).toEqual([1, 2, 3]);
    expect(l.find(13 * P + 5)).toBe(a);
    expect(l.find(14 * P)).toBeUndefined();
    expect(l.find(1 * P)).toBeUndefined();
    expect(l.ranges().map((r) => r.index)).toEqual([3, 1, 2]);
    // Page 12 of range a is its third page: file page 2 + 2.
    expect(l.pageOffset(a, 12 * P + 100)).toBe(4 * P);
    expect(l.unmap(1).ok).toBe(true);
    expect(l.get(1)).toBeUndefined();
    expect(mapped(l, spec(50, 1)).index).toBe(1);
  });

  it('refuses overlaps, misalignment, unknown indices and a full table, changing nothing', () => {
    const l = new MmapRangeList(2);
    mapped(l, spec(10, 4));
    const codes = [
      l.map(spec(13, 2)),
      l.map(spec(8, 3)),
      l.map(spec(9, 10)),
      l.map({ ...spec(20, 1), start: 20 * P + 1 }),
      l.map({ ...spec(20, 1), offset: 7 }),
      l.map(spec(20, 0)),
    ].map((r) => (r.ok ? 'ok' : r.code));
    expect(codes).toEqual([
      'MMAP_OVERLAP',
      'MMAP_OVERLAP',
      'MMAP_OVERLAP',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    ]);
    mapped(l, spec(14, 1));
    const full = l.map(spec(30, 1));
    expect(full.ok || full.code).toBe('MMAP_TABLE_FULL');
    expect(full.ok ? '' : full.message).toMatch(/all 2 memory-mapped range indices/);
    expect(l.size).toBe(2);
    const none = l.unmap(7);
    expect(none.ok || none.code).toBe('NO_SUCH_RANGE');
  });

  it('agrees with a naive list on random map, unmap and lookup', () => {
    type Op =
      | { k: 'map'; page: number; pages: number }
      | { k: 'unmap'; index: number }
      | { k: 'find'; page: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('map' as const), page: fc.nat(60), pages: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ k: fc.constant('unmap' as const), index: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ k: fc.constant('find' as const), page: fc.nat(70) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(op, { maxLength: 80 }), (max, ops) => {
        const l = new MmapRangeList(max);
        const ref: { index: number; page: number; pages: number }[] = [];
        for (const o of ops) {
          if (o.k === 'map') {
            const overlap = ref.some((r) => r.page < o.page + o.pages && o.page < r.page + r.pages);
            let index = 1;
            while (ref.some((r) => r.index === index)) index++;
            const got = l.map(spec(o.page, o.pages));
            if (overlap) expect(got.ok || got.code).toBe('MMAP_OVERLAP');
            else if (index > max) expect(got.ok || got.code).toBe('MMAP_TABLE_FULL');
            else {
              expect(got.ok && got.value.index).toBe(index);
              ref.push({ index, page: o.page, pages: o.pages });
            }
          } else if (o.k === 'unmap') {
            const i = ref.findIndex((r) => r.index === o.index);
            expect(l.unmap(o.index).ok).toBe(i >= 0);
            if (i >= 0) ref.splice(i, 1);
          } else {
            const want = ref.find((r) => r.page <= o.page && o.page < r.page + r.pages);
            expect(l.find(o.page * P + 17)?.index).toBe(want?.index);
          }
          expect(l.size).toBe(ref.length);
        }
      }),
    );
  });
});
