import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { Flexpage, MapItem, MemRights, memRightsName, reconcile } from './flexpage.js';

const fp = (base: number, log2: number, rights: number = MemRights.RWX) =>
  unwrap(Flexpage.of(base, log2, rights));

describe('Flexpage', () => {
  it('accepts aligned blocks from the smallest page up and describes them', () => {
    const f = fp(0x200000, 21, MemRights.RX);
    expect([f.base, f.size, f.end, f.rights]).toEqual([0x200000, 0x200000, 0x400000, 5]);
    expect(f.contains(0x3fffff)).toBe(true);
    expect(f.contains(0x400000)).toBe(false);
    expect(f.toString()).toBe('fpage 0x200000+2M r-x');
    expect(fp(0, 53).size).toBe(2 ** 53);
  });

  it.each([
    [0x1000, 11, 7, 'FPAGE_SIZE'],
    [0x1000, 12.5, 7, 'FPAGE_SIZE'],
    [0, 54, 7, 'FPAGE_SIZE'],
    [0x1000, 13, 7, 'FPAGE_MISALIGNED'],
    [0x201000, 21, 7, 'FPAGE_MISALIGNED'],
    [-0x1000, 12, 7, 'FPAGE_ADDRESS'],
    [4096.5, 12, 7, 'FPAGE_ADDRESS'],
    [2 ** 53 - 0x2000, 14, 7, 'FPAGE_ADDRESS'],
    [2 ** 53, 12, 7, 'FPAGE_ADDRESS'],
    [0x1000, 12, 8, 'FPAGE_RIGHTS'],
    [0x1000, 12, -1, 'FPAGE_RIGHTS'],
  ])('rejects base %s size 2^%s rights %s with %s', (base, log2, rights, code) => {
    const r = Flexpage.of(base, log2, rights);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });

  it('honours a smaller minimum page (MicroBlaze 1K)', () => {
    expect(Flexpage.of(0x400, 10, 7, 10).ok).toBe(true);
    expect(Flexpage.of(0x400, 10).ok).toBe(false);
  });

  it('names rights rwx-style', () => {
    expect([0, 1, 2, 4, 6, 7].map(memRightsName)).toEqual(['---', '--x', '-w-', 'r--', 'rw-', 'rwx']);
  });
});

describe('MapItem', () => {
  it('checks the hot spot and keeps the grant flag', () => {
    expect(unwrap(MapItem.of(fp(0, 12), 0x1234, { grant: true })).grant).toBe(true);
    expect(unwrap(MapItem.of(fp(0, 12), 0x1234)).toString()).toBe(
      'map item fpage 0x0+4K rwx hot spot 0x1234',
    );
    const bad = MapItem.of(fp(0, 12), -1);
    expect(bad.ok ? 'ok' : bad.code).toBe('FPAGE_ADDRESS');
  });
});

describe('reconcile (L4 send flexpage vs receive window)', () => {
  it('places a small send flexpage where the hot spot points in a larger window', () => {
    // A pager replies with one 4K page for a fault at 0x40123456 into a window of the whole 1G.
    const t = reconcile(unwrap(MapItem.of(fp(0x7000, 12), 0x40123456)), fp(0x40000000, 30));
    expect(t).toEqual({ sendBase: 0x7000, receiveBase: 0x40123000, sizeLog2: 12, rights: 7, grant: false });
  });

  it('sends the part of a large send flexpage the hot spot selects into a small window', () => {
    // A 2M send flexpage into a 4K window: the 4K piece at the hot spot's offset within 2M.
    const t = reconcile(unwrap(MapItem.of(fp(0x600000, 21, MemRights.RW), 0x12345)), fp(0x9000, 12));
    expect(t).toEqual({ sendBase: 0x612000, receiveBase: 0x9000, sizeLog2: 12, rights: 6, grant: false });
  });

  it('transfers the whole send flexpage when both are the same size', () => {
    const t = reconcile(unwrap(MapItem.of(fp(0x200000, 21), 0xdeadbeef)), fp(0x800000, 21));
    expect([t.sendBase, t.receiveBase, t.sizeLog2]).toEqual([0x200000, 0x800000, 21]);
  });

  it('matches a brute-force search over aligned blocks', () => {
    // Naive reading of the rule: on each side, among the n-aligned blocks of the flexpage (n the
    // smaller size), take the one containing base + (hot spot mod that flexpage's size).
    const side = fc.record({ log2: fc.integer({ min: 12, max: 17 }), slot: fc.integer({ min: 0, max: 7 }) });
    fc.assert(
      fc.property(side, side, fc.integer({ min: 0, max: 2 ** 20 }), (s, w, hot) => {
        const snd = fp(s.slot * 2 ** s.log2, s.log2);
        const win = fp(w.slot * 2 ** w.log2, w.log2);
        const t = reconcile(unwrap(MapItem.of(snd, hot)), win);
        const n = 2 ** Math.min(s.log2, w.log2);
        const pick = (f: Flexpage): number => {
          const target = f.base + (hot % f.size);
          for (let b = f.base; b < f.end; b += n) if (target >= b && target < b + n) return b;
          throw new Error('no block');
        };
        expect([t.sendBase, t.receiveBase, 2 ** t.sizeLog2]).toEqual([pick(snd), pick(win), n]);
        expect(snd.contains(t.sendBase) && snd.contains(t.sendBase + n - 1)).toBe(true);
        expect(win.contains(t.receiveBase) && win.contains(t.receiveBase + n - 1)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
