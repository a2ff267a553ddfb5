import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { Flexpage, MapItem } from './flexpage.js';
import { MDB_NODE_BYTES } from './mapping_db.js';
import { G1, K4, M2, mdbWithPools, R, RW, RWX, snapshot, strs } from './mapping_db.testutil.js';
import { planTransfer, transferMapItem } from './mapping_db_transfer.js';

const CORE = 0;
const MANAGER = 1;
const CLIENT = 2;
const PA = 0x80000000;

const fp = (base: number, log2: number, rights = RWX) => unwrap(Flexpage.of(base, log2, rights));
const item = (f: Flexpage, hot: number, grant = false) => unwrap(MapItem.of(f, hot, { grant }));
const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

/** Core's 1G root; the manager holds a 2M piece of it at 0x200000 and 4K pieces at 0x400000.. */
function setup(limit?: number) {
  const env = mdbWithPools(limit);
  const { mdb } = env;
  unwrap(mdb.insertRoot(CORE, 0, PA - (PA % G1), 30, RWX));
  unwrap(mdb.map(CORE, M2, MANAGER, M2, 21, RWX));
  for (let i = 0; i < 4; i++) unwrap(mdb.map(CORE, 2 * M2 + i * K4, MANAGER, 2 * M2 + i * K4, 12, RW));
  return env;
}

describe('transferMapItem', () => {
  it('answers a fault with a superpage where the window allows it, at the hot spot', () => {
    const { mdb } = setup();
    // Fault at 0x40323456 in the client; the window is the client's whole 1G; the manager sends 2M.
    const r = unwrap(transferMapItem(mdb, MANAGER, item(fp(M2, 21), 0x40323456), CLIENT, fp(G1, 30)));
    expect(strs(r)).toEqual(['map space 2 0x40200000+2M -> 0x80200000 rwx']);
    expect(mdb.parentOf(mdb.lookup(CLIENT, 0x40323456)!)).toBe(mdb.lookup(MANAGER, M2));
  });

  it('passes on the 4K piece the hot spot selects when the window is one page', () => {
    const { mdb } = setup();
    const r = unwrap(transferMapItem(mdb, MANAGER, item(fp(M2, 21, RW), 0x40323456), CLIENT, fp(0x9000, 12)));
    expect(strs(r)).toEqual(['map space 2 0x9000+4K -> 0x80323000 rw-']);
  });

  it('keeps 4K sender pieces as 4K pieces and skips what the sender has not mapped', () => {
    const { mdb } = setup();
    const r = unwrap(transferMapItem(mdb, MANAGER, item(fp(2 * M2, 21, R), 0), CLIENT, fp(0, 21)));
    expect(strs(r)).toEqual(
      [0, 1, 2, 3].map((i) => `map space 2 0x${(i * K4).toString(16)}+4K -> 0x8040${i}000 r--`),
    );
    expect(unwrap(transferMapItem(mdb, MANAGER, item(fp(8 * M2, 21), 0), CLIENT, fp(0, 21))).length).toBe(0);
  });

  it('grants a whole mapping (it keeps its place in the tree) and demotes a partial grant to a map', () => {
    const { mdb, used } = setup();
    const whole = unwrap(transferMapItem(mdb, MANAGER, item(fp(M2, 21), 0, true), CLIENT, fp(3 * M2, 21)));
    expect(strs(whole)).toEqual([
      'unmap space 1 0x200000+2M -> 0x80200000 rwx',
      'map space 2 0x600000+2M -> 0x80200000 rwx',
    ]);
    expect(mdb.parentOf(mdb.lookup(CLIENT, 3 * M2)!)).toBe(mdb.lookup(CORE, 0));
    expect(used(MANAGER)).toBe(4 * MDB_NODE_BYTES);
    const part = unwrap(transferMapItem(mdb, CLIENT, item(fp(3 * M2, 21), 0, true), 3, fp(0, 12)));
    expect(strs(part)).toEqual(['map space 3 0x0+4K -> 0x80200000 rwx']);
    expect(mdb.lookup(CLIENT, 3 * M2)?.live).toBe(true);
  });

  it('refuses to send onto its own range, to overmap an ancestor, or without read; changes nothing', () => {
    const { mdb, pools } = setup();
    const before = snapshot(mdb, pools);
    const r1 = transferMapItem(mdb, MANAGER, item(fp(M2, 21), M2), MANAGER, fp(0, 22)); // 2M -> 2M..4M again
    const r2 = transferMapItem(mdb, MANAGER, item(fp(M2, 21), 0), CORE, fp(0, 22)); // over core's root
    const r3 = transferMapItem(mdb, MANAGER, item(fp(M2, 21, RW & ~R), 0), CLIENT, fp(0, 21));
    expect([code(r1), code(r2), code(r3)]).toEqual(['OVERLAPPING_TRANSFER', 'ONTO_ANCESTOR', 'NO_RIGHTS']);
    expect(snapshot(mdb, pools)).toEqual(before);
  });

  it('checks kernel memory for every piece before making any', () => {
    const { mdb, pools } = setup(5 * MDB_NODE_BYTES);
    unwrap(mdb.map(MANAGER, 2 * M2, CLIENT, 0x10000, 12, R));
    unwrap(mdb.map(MANAGER, 2 * M2, CLIENT, 0x20000, 12, R));
    const before = snapshot(mdb, pools);
    // Four pieces, none an upgrade: the client can pay for three more.
    expect(code(transferMapItem(mdb, MANAGER, item(fp(2 * M2, 21), 0), CLIENT, fp(0, 21)))).toBe(
      'OUT_OF_KERNEL_MEMORY',
    );
    expect(snapshot(mdb, pools)).toEqual(before);
    // Into a window whose first page already holds piece 0 from the same parent: an upgrade, so three new nodes fit.
    unwrap(mdb.map(MANAGER, 2 * M2, CLIENT, 0, 12, R));
    expect(mdb.unmap(CLIENT, fp(0x10000, 16), { self: true }).length).toBe(1);
    expect(code(transferMapItem(mdb, MANAGER, item(fp(2 * M2, 21), 0), CLIENT, fp(0, 21)))).toBe('ok');
  });

  it('maps every sender page of the range to the same frame, and nothing else (random layouts)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ slot: fc.integer({ min: 0, max: 15 }), big: fc.boolean() }), {
          selector: (x) => x.slot,
          maxLength: 8,
        }),
        fc.integer({ min: 12, max: 16 }),
        fc.integer({ min: 12, max: 16 }),
        fc.nat({ max: 2 ** 20 }),
        (layout, sndLog2, winLog2, hot) => {
          const { mdb } = mdbWithPools(Number.POSITIVE_INFINITY, [12, 14, 16]);
          for (let i = 0; i < 4; i++)
            unwrap(mdb.insertRoot(CORE, i * 0x10000, 0x1000000 + i * 0x10000, 16, RWX));
          // The manager maps 16K blocks of [0, 256K): some whole, some as four 4K pages.
          for (const { slot, big } of layout) {
            const va = slot * 0x4000;
            if (big) unwrap(mdb.map(CORE, va, MANAGER, va, 14, RWX));
            else
              for (let i = 0; i < 4; i++) unwrap(mdb.map(CORE, va + i * K4, MANAGER, va + i * K4, 12, RWX));
          }
          const snd = fp(0, sndLog2 + 2);
          const win = fp(0x100000, winLog2);
          const it = item(snd, hot);
          const r = unwrap(transferMapItem(mdb, MANAGER, it, CLIENT, win));
          const n = 2 ** Math.min(snd.sizeLog2, winLog2);
          const sb = snd.base + (hot % snd.size) - ((hot % snd.size) % n);
          const rb = win.base + (hot % win.size) - ((hot % win.size) % n);
          for (let off = 0; off < n; off += K4) {
            const s = mdb.lookup(MANAGER, sb + off);
            const c = mdb.lookup(CLIENT, rb + off);
            expect(c && c.pa + (rb + off - c.va)).toBe(s && s.pa + (sb + off - s.va));
            if (c) expect(c.sizeLog2).toBeLessThanOrEqual(s!.sizeLog2);
          }
          expect(mdb.mappingsOf(CLIENT).every((c) => c.va >= rb && c.va < rb + n)).toBe(true);
          expect(r.toArray().every((c) => c.kind === 'map')).toBe(true);
          expect(unwrap(planTransfer(mdb, MANAGER, it, win)).length).toBe(r.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
