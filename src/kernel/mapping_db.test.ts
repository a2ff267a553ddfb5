import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { MappingDb, MDB_NODE_BYTES } from './mapping_db.js';
import {
  fpage,
  G1,
  K4,
  M2,
  mdbWithPools,
  R,
  RW,
  RWX,
  RX,
  snapshot,
  strs,
  W,
  X,
} from './mapping_db.testutil.js';

const PA = 0x80000000; // physical base of the test memory

/** Space 0 holds a 2M root at 0 backed by PA. */
function withRoot(limit?: number) {
  const env = mdbWithPools(limit);
  unwrap(env.mdb.insertRoot(0, 0, PA, 21, RWX));
  return env;
}

const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

describe('MappingDb roots', () => {
  it('enters a root, finds it anywhere inside, and charges its space one node', () => {
    const { mdb, used } = mdbWithPools();
    expect(strs(unwrap(mdb.insertRoot(0, M2, PA, 21, RX)))).toEqual([
      'map space 0 0x200000+2M -> 0x80000000 r-x',
    ]);
    const m = mdb.lookup(0, M2 + 0x1fffff)!;
    expect([m.va, m.pa, m.sizeLog2, m.rights, m.depth, m.live]).toEqual([M2, PA, 21, RX, 0, true]);
    expect(mdb.lookup(0, M2 * 2)).toBeUndefined();
    expect(mdb.parentOf(m)).toBeNull();
    expect(used(0)).toBe(MDB_NODE_BYTES);
    expect(mdb.size).toBe(1);
  });

  it('refuses a second root over the same physical memory, larger or smaller, and changes nothing', () => {
    const { mdb, pools } = withRoot();
    const before = snapshot(mdb, pools);
    expect(code(mdb.insertRoot(1, 0, PA + 0x5000, 12, RWX))).toBe('ROOT_OVERLAP');
    expect(code(mdb.insertRoot(1, 0, PA, 30, RWX))).toBe('ROOT_OVERLAP');
    expect(snapshot(mdb, pools)).toEqual(before);
    expect(code(mdb.insertRoot(1, 0, PA + M2, 21, RWX))).toBe('ok');
  });

  it.each([
    [0, 0x1000, PA, 21, RWX, 'MISALIGNED'],
    [0, 0, PA + 0x1000, 21, RWX, 'MISALIGNED'],
    [0, 0, PA, 13, RWX, 'SIZE_UNSUPPORTED'],
    [0, 0, PA, 12.5, RWX, 'SIZE_UNSUPPORTED'],
    [0, 0, PA, 12, W | X, 'NO_RIGHTS'],
    [0, -0x1000, PA, 12, RWX, 'ADDRESS_RANGE'],
    [0, 2 ** 53, PA, 12, RWX, 'ADDRESS_RANGE'],
  ])('rejects a root in space %s at %s -> %s 2^%s rights %s: %s', (s, va, pa, log2, rights, expected) => {
    const { mdb, pools } = mdbWithPools();
    expect(code(mdb.insertRoot(s, va, pa, log2, rights))).toBe(expected);
    expect(snapshot(mdb, pools)).toEqual(['size 0']);
  });
});

describe('MappingDb.map', () => {
  it('derives 4K pieces of a 2M mapping at the same offset, rights ∩ the parent, charged to the receiver', () => {
    const { mdb, used } = mdbWithPools();
    unwrap(mdb.insertRoot(0, M2, PA, 21, RX));
    expect(strs(unwrap(mdb.map(0, M2 + 0x5000, 1, 0x7000, 12, RWX)))).toEqual([
      'map space 1 0x7000+4K -> 0x80005000 r-x',
    ]);
    const c = mdb.lookup(1, 0x7abc)!;
    expect([c.pa, c.rights, c.depth]).toEqual([PA + 0x5000, RX, 1]);
    expect(mdb.parentOf(c)).toBe(mdb.lookup(0, M2));
    expect([used(0), used(1)]).toEqual([MDB_NODE_BYTES, MDB_NODE_BYTES]);
    // A 2M child of the same 2M parent, and a grandchild of the 4K child.
    unwrap(mdb.map(0, M2, 2, 0, 21, R));
    unwrap(mdb.map(1, 0x7000, 3, 0x1000, 12, RX));
    expect(mdb.lookup(3, 0x1000)!.depth).toBe(2);
    expect(mdb.childrenOf(mdb.lookup(0, M2)!).map((m) => m.space)).toEqual([2, 1]);
  });

  it('refuses to pass 4K pieces on as one larger mapping (the reverse of a superpage split)', () => {
    const { mdb, pools } = withRoot();
    for (let i = 0; i < 512; i++) unwrap(mdb.map(0, i * K4, 1, i * K4, 12, RWX));
    const before = snapshot(mdb, pools);
    expect(code(mdb.map(1, 0, 2, 0, 21, RWX))).toBe('SIZE_EXCEEDS_PARENT');
    expect(snapshot(mdb, pools)).toEqual(before);
  });

  it.each([
    ['an unsupported size', 0, 0, 0x2000, 13, RWX, 'SIZE_UNSUPPORTED'],
    ['a misaligned send address', 0, 0x800, 0x2000, 12, RWX, 'MISALIGNED'],
    ['a misaligned receive address', 0, 0x1000, 0x2800, 12, RWX, 'MISALIGNED'],
    ['a receive address out of range', 0, 0x1000, 2 ** 53, 12, RWX, 'ADDRESS_RANGE'],
    ['nothing mapped there', 0, M2, 0x2000, 12, RWX, 'NO_MAPPING'],
    ['a space with no mappings', 7, 0, 0x2000, 12, RWX, 'NO_MAPPING'],
    ['no read right left', 0, 0, 0x2000, 12, W | X, 'NO_RIGHTS'],
  ])('fails for %s and changes nothing', (_what, from, fromVa, toVa, log2, rights, expected) => {
    const { mdb, pools } = withRoot();
    const before = snapshot(mdb, pools);
    expect(code(mdb.map(from, fromVa, 1, toVa, log2, rights))).toBe(expected);
    expect(snapshot(mdb, pools)).toEqual(before);
    expect(mdb.spaces()).toEqual([0]);
  });

  it('overmaps what the receiver had there, with everything derived from it', () => {
    const { mdb, used } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(0, 0x2000, 1, 0x2000, 12, RWX));
    unwrap(mdb.map(1, 0x1000, 2, 0x9000, 12, RW));
    expect(strs(unwrap(mdb.map(0, 0x3000, 1, 0x1000, 12, RX)))).toEqual([
      'unmap space 1 0x1000+4K -> 0x80001000 rwx',
      'unmap space 2 0x9000+4K -> 0x80001000 rw-',
      'map space 1 0x1000+4K -> 0x80003000 r-x',
    ]);
    expect([used(1), used(2)]).toEqual([2 * MDB_NODE_BYTES, 0]);
    // A 2M mapping over both 4K ones.
    const r = strs(unwrap(mdb.map(0, 0, 1, 0, 21, R)));
    expect(r.slice().sort()).toEqual([
      'map space 1 0x0+2M -> 0x80000000 r--',
      'unmap space 1 0x1000+4K -> 0x80003000 r-x',
      'unmap space 1 0x2000+4K -> 0x80002000 rwx',
    ]);
    expect(r.at(-1)).toBe('map space 1 0x0+2M -> 0x80000000 r--');
    expect(used(1)).toBe(MDB_NODE_BYTES);
  });

  it('only adds rights when the same frame comes again from the same parent', () => {
    const { mdb, used } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x5000, 12, R));
    unwrap(mdb.map(1, 0x5000, 2, 0x5000, 12, R));
    expect(strs(unwrap(mdb.map(0, 0x1000, 1, 0x5000, 12, RW)))).toEqual([
      'rights space 1 0x5000+4K -> 0x80001000 rw-',
    ]);
    expect(strs(unwrap(mdb.map(0, 0x1000, 1, 0x5000, 12, R)))).toEqual([]);
    expect(mdb.lookup(2, 0x5000)?.live).toBe(true); // the child survives an upgrade
    expect([used(1), mdb.size]).toEqual([MDB_NODE_BYTES, 3]);
  });

  it('refuses to overmap the source or one of its ancestors, and changes nothing', () => {
    const { mdb, pools } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(1, 0x1000, 2, 0x1000, 12, RWX));
    const before = snapshot(mdb, pools);
    expect(code(mdb.map(2, 0x1000, 0, 0, 12, RWX))).toBe('ONTO_ANCESTOR'); // over the root
    expect(code(mdb.map(2, 0x1000, 1, 0x1000, 12, RWX))).toBe('ONTO_ANCESTOR'); // over the parent
    expect(code(mdb.map(2, 0x1000, 2, 0x1000, 12, RWX))).toBe('ONTO_ANCESTOR'); // over itself
    expect(snapshot(mdb, pools)).toEqual(before);
    // Over a descendant is fine: it goes, the new mapping derives from the source.
    expect(code(mdb.map(1, 0x1000, 2, 0x1000, 12, R))).toBe('ok');
  });

  it('changes nothing when the receiver cannot pay, even where it would overmap', () => {
    const { mdb, pools } = withRoot(2 * MDB_NODE_BYTES);
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(0, 0x2000, 1, 0x2000, 12, RWX));
    const before = snapshot(mdb, pools);
    const r = mdb.map(0, 0x3000, 1, 0x1000, 12, RWX);
    expect(code(r)).toBe('OUT_OF_KERNEL_MEMORY');
    expect(r.ok ? '' : r.message).toContain('space 1');
    expect(snapshot(mdb, pools)).toEqual(before);
    expect(code(mdb.map(0, 0x3000, 5, 0x1000, 12, RWX))).toBe('ok'); // another space pays for itself
  });
});

describe('MappingDb.grant', () => {
  it('moves a mapping, which keeps its parent and its children, and moves its charge', () => {
    const { mdb, used } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(1, 0x1000, 2, 0x4000, 12, RW));
    expect(strs(unwrap(mdb.grant(1, 0x1000, 3, 0x8000, 12)))).toEqual([
      'unmap space 1 0x1000+4K -> 0x80001000 rwx',
      'map space 3 0x8000+4K -> 0x80001000 rwx',
    ]);
    const g = mdb.lookup(3, 0x8000)!;
    expect(mdb.lookup(1, 0x1000)).toBeUndefined();
    expect(mdb.parentOf(g)).toBe(mdb.lookup(0, 0));
    expect(mdb.parentOf(mdb.lookup(2, 0x4000)!)).toBe(g);
    expect([used(1), used(3)]).toEqual([0, MDB_NODE_BYTES]);
    // Revoking from the root still reaches everything derived through the granted node.
    expect(strs(mdb.unmap(0, fpage(0, 21))).sort()).toEqual([
      'unmap space 2 0x4000+4K -> 0x80001000 rw-',
      'unmap space 3 0x8000+4K -> 0x80001000 rwx',
    ]);
  });

  it('takes rights away from the granted mapping and everything derived from it', () => {
    const { mdb } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(1, 0x1000, 2, 0x1000, 12, RX));
    unwrap(mdb.map(1, 0x1000, 2, 0x2000, 12, R));
    expect(strs(unwrap(mdb.grant(1, 0x1000, 3, 0x1000, 12, RW)))).toEqual([
      'unmap space 1 0x1000+4K -> 0x80001000 rwx',
      'map space 3 0x1000+4K -> 0x80001000 rw-',
      'rights space 2 0x1000+4K -> 0x80001000 r--',
    ]);
    // Granting to the same place only downgrades.
    expect(strs(unwrap(mdb.grant(3, 0x1000, 3, 0x1000, 12, RX)))).toEqual([
      'rights space 3 0x1000+4K -> 0x80001000 r--',
    ]);
  });

  it('refuses a part of a mapping, a larger size, or overmapping an ancestor; pays or changes nothing', () => {
    const { mdb, pools } = withRoot(MDB_NODE_BYTES);
    unwrap(mdb.map(0, 0, 1, 0, 21, RWX));
    unwrap(mdb.map(1, 0, 2, 0, 12, RWX));
    const before = snapshot(mdb, pools);
    expect(code(mdb.grant(1, 0, 3, 0, 12))).toBe('GRANT_PARTIAL');
    expect(code(mdb.grant(2, 0, 3, 0, 21))).toBe('SIZE_EXCEEDS_PARENT');
    expect(code(mdb.grant(2, 0, 1, 0, 12))).toBe('ONTO_ANCESTOR');
    unwrap(mdb.insertRoot(3, M2, PA + M2, 21, RWX)); // space 3's pool is now full
    const full = snapshot(mdb, pools);
    expect(code(mdb.grant(2, 0, 3, 0, 12))).toBe('OUT_OF_KERNEL_MEMORY');
    expect(snapshot(mdb, pools)).toEqual(full);
    expect(before.every((l) => l.startsWith('pool') || l.startsWith('size') || full.includes(l))).toBe(true);
  });
});

describe('MappingDb.unmap', () => {
  /** Root 2M in space 0; 4K children at offsets 0x1000·i in space 1, a 2M child in space 2, grandchildren in 3. */
  function tree(children: number) {
    const env = withRoot();
    const { mdb } = env;
    for (let i = 0; i < children; i++) unwrap(mdb.map(0, i * K4, 1, i * K4, 12, RWX));
    unwrap(mdb.map(0, 0, 2, 0, 21, RWX));
    unwrap(mdb.map(1, 3 * K4, 3, 0, 12, RWX));
    unwrap(mdb.map(2, 5 * K4, 3, K4, 12, RWX));
    return env;
  }

  it('without self removes everything derived, keeps the mapping itself', () => {
    const { mdb, used } = tree(4);
    const r = mdb.unmap(0, fpage(0, 21));
    expect(r.length).toBe(7);
    expect(r.toArray().every((c) => c.kind === 'unmap')).toBe(true);
    expect(mdb.size).toBe(1);
    expect([used(0), used(1), used(2), used(3)]).toEqual([MDB_NODE_BYTES, 0, 0, 0]);
  });

  it('with self removes a mapping whole even when the flexpage covers only part of it', () => {
    const { mdb } = tree(4);
    const r = mdb.unmap(2, fpage(0x7000, 12), { self: true });
    expect(strs(r)).toEqual([
      'unmap space 2 0x0+2M -> 0x80000000 rwx',
      'unmap space 3 0x1000+4K -> 0x80005000 rwx',
    ]);
  });

  it.each([
    [4, 'scanning the children'],
    [100, 'through the children-by-frame index'],
  ])('a partial flexpage without self removes only the children overlapping it (%s children, %s)', (n) => {
    const { mdb } = tree(n);
    const r = strs(mdb.unmap(0, fpage(0x2000, 13))).sort(); // 0x2000..0x3fff
    expect(r).toEqual([
      'unmap space 1 0x2000+4K -> 0x80002000 rwx',
      'unmap space 1 0x3000+4K -> 0x80003000 rwx',
      'unmap space 2 0x0+2M -> 0x80000000 rwx', // the 2M child overlaps: a mapping is never split
      'unmap space 3 0x0+4K -> 0x80003000 rwx',
      'unmap space 3 0x1000+4K -> 0x80005000 rwx',
    ]);
    expect([mdb.lookup(1, 0)?.live, mdb.lookup(1, 0x1000)?.live, mdb.lookup(1, 0x2000)]).toEqual([
      true,
      true,
      undefined,
    ]);
    // The index stays right as children come and go.
    unwrap(mdb.map(0, 0x2000, 4, 0x2000, 12, R));
    unwrap(mdb.map(0, 0x2000, 5, 0x2000, 12, R));
    mdb.unmap(5, fpage(0x2000, 12), { self: true });
    expect(strs(mdb.unmap(0, fpage(0x2000, 12)))).toEqual(['unmap space 4 0x2000+4K -> 0x80002000 r--']);
    expect(mdb.size).toBe(1 + n - 2);
  });

  it('finds every child sharing a frame through the index as such children come and go', () => {
    const { mdb } = withRoot();
    for (let i = 0; i < 40; i++) unwrap(mdb.map(0, (i % 8) * K4, 1, i * K4, 12, R));
    for (let s = 2; s <= 5; s++) unwrap(mdb.map(0, 3 * K4, s, 0, 12, R)); // frame 3: space 1 and spaces 2..5
    expect(strs(mdb.unmap(0, fpage(0x7000, 12)))).toHaveLength(5); // builds the index (40 + 4 children)
    // Remove the newest (the bucket's head), a middle one and the oldest of frame 3's children.
    for (const s of [5, 3]) mdb.unmap(s, fpage(0, 12), { self: true });
    mdb.unmap(1, fpage(3 * K4, 12), { self: true });
    unwrap(mdb.map(0, 3 * K4, 6, 0, 12, R));
    const r = strs(mdb.unmap(0, fpage(0x3000, 12))).sort();
    expect(r).toEqual([
      'unmap space 1 0x13000+4K -> 0x80003000 r--',
      'unmap space 1 0x1b000+4K -> 0x80003000 r--',
      'unmap space 1 0x23000+4K -> 0x80003000 r--',
      'unmap space 1 0xb000+4K -> 0x80003000 r--',
      'unmap space 2 0x0+4K -> 0x80003000 r--',
      'unmap space 4 0x0+4K -> 0x80003000 r--',
      'unmap space 6 0x0+4K -> 0x80003000 r--',
    ]);
    expect(mdb.size).toBe(1 + 40 - 5 - 5);
  });

  it('without the read right downgrades, and skips what already lacks the right', () => {
    const { mdb } = withRoot();
    unwrap(mdb.map(0, 0x1000, 1, 0x1000, 12, RWX));
    unwrap(mdb.map(1, 0x1000, 2, 0x1000, 12, RX));
    unwrap(mdb.map(1, 0x1000, 3, 0x1000, 12, RW));
    expect(strs(mdb.unmap(1, fpage(0, 16), { rights: W }))).toEqual([
      'rights space 3 0x1000+4K -> 0x80001000 r--',
    ]);
    expect(strs(mdb.unmap(1, fpage(0, 16), { rights: X, self: true })).sort()).toEqual([
      'rights space 1 0x1000+4K -> 0x80001000 rw-',
      'rights space 2 0x1000+4K -> 0x80001000 r--',
    ]);
    expect(mdb.size).toBe(4);
    expect(mdb.unmap(1, fpage(0, 16), { rights: 0, self: true }).length).toBe(0);
  });

  it('handles a space mapped into itself (each mapping removed once)', () => {
    const { mdb } = withRoot();
    unwrap(mdb.map(0, 0, 1, 0, 12, RWX));
    unwrap(mdb.map(1, 0, 1, K4, 12, RWX));
    unwrap(mdb.map(1, K4, 1, 2 * K4, 12, RWX));
    const r = mdb.unmap(1, fpage(0, 14), { self: true });
    expect(r.length).toBe(3);
    expect(mdb.size).toBe(1);
  });
});

describe('MappingDb.destroySpace', () => {
  it('removes what the space holds and everything derived from it, returning every charge', () => {
    const { mdb, used } = withRoot();
    unwrap(mdb.map(0, 0, 1, 0, 21, RWX));
    unwrap(mdb.map(1, K4, 2, 0, 12, RWX));
    unwrap(mdb.map(2, 0, 3, 0, 12, RWX));
    unwrap(mdb.map(0, K4, 4, 0, 12, RWX)); // a sibling: not derived from space 1
    const r = mdb.destroySpace(1);
    expect(r.toArray().map((c) => c.space)).toEqual([1, 2, 3]);
    expect(mdb.spaces()).toEqual([0, 4]);
    expect([used(1), used(2), used(3), used(4)]).toEqual([0, 0, 0, MDB_NODE_BYTES]);
    expect(mdb.destroySpace(1).length).toBe(0);
    mdb.destroySpace(0);
    expect([mdb.size, used(0), used(4)]).toEqual([0, 0, 0]);
  });
});

describe('MappingDb handles', () => {
  it('are live views while the mapping lives, keep their last state after, and survive slot reuse', () => {
    const { mdb } = withRoot();
    unwrap(mdb.map(0, K4, 1, 0x5000, 12, RW));
    const h = mdb.lookup(1, 0x5000)!;
    expect(mdb.lookup(1, 0x5fff)).toBe(h); // one handle per mapping
    unwrap(mdb.grant(1, 0x5000, 2, 0x9000, 12, R));
    expect([h.live, h.space, h.va, h.rights]).toEqual([true, 2, 0x9000, R]);
    mdb.unmap(2, fpage(0x9000, 12), { self: true });
    unwrap(mdb.map(0, 2 * K4, 3, 0x7000, 12, RWX)); // reuses the freed slot
    const g = mdb.lookup(3, 0x7000)!;
    expect(g).not.toBe(h);
    expect([h.live, h.space, h.va, h.pa, h.rights]).toEqual([false, 2, 0x9000, PA + K4, R]);
    expect([g.live, g.space, g.pa]).toEqual([true, 3, PA + 2 * K4]);
    expect([mdb.parentOf(h), mdb.childrenOf(h), mdb.isDerivedFrom(h, mdb.lookup(0, 0)!)]).toEqual([
      null,
      [],
      false,
    ]);
    expect(mdb.isDerivedFrom(g, mdb.lookup(0, 0)!)).toBe(true);
  });

  it("do not let a reused slot inherit the dead node's children index", () => {
    const pools = mdbWithPools();
    const mdb = new MappingDb({ pageSizesLog2: [12, 21, 30], memoryOf: pools.pool, kidIndexAfter: 0 });
    unwrap(mdb.insertRoot(0, 0, 0, 30, RWX));
    unwrap(mdb.map(0, 0, 1, 0, 21, RWX)); // P
    unwrap(mdb.map(1, 0, 2, 0, 12, RWX)); // P's child, frame 0
    expect(mdb.unmap(1, fpage(0x5000, 12)).length).toBe(0); // indexes P's children
    mdb.unmap(1, fpage(0, 21), { self: true }); // P and its child die
    unwrap(mdb.map(0, M2, 3, 0, 21, RWX)); // reuses the child's slot
    unwrap(mdb.map(0, 0, 4, 0, 21, RWX)); // reuses P's slot, same frame as P, no children
    expect(strs(mdb.unmap(4, fpage(0, 12)))).toEqual([]);
    expect(mdb.lookup(3, 0)?.live).toBe(true);
  });

  it('refuse mappings of another database', () => {
    const a = withRoot().mdb;
    const b = withRoot().mdb;
    expect(() => a.parentOf(b.lookup(0, 0)!)).toThrow(/not a mapping of this MappingDb/);
  });
});

describe('MappingDb construction', () => {
  it('rejects page sizes that are not ascending', () => {
    expect(() => new MappingDb({ pageSizesLog2: [21, 12], memoryOf: () => mdbWithPools().pool(0) })).toThrow(
      /ascending/,
    );
  });

  it('describes itself', () => {
    const { mdb } = withRoot();
    expect(String(mdb)).toBe('mapping database (1 mappings in 1 spaces)');
    expect(String(mdb.lookup(0, 0))).toBe('space 0 0x0+2M -> 0x80000000 rwx depth 0');
    expect(G1).toBe(2 ** 30);
  });
});
