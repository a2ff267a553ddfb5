/** Depth and breadth that would overflow a recursive walk or make a linear scan per operation crawl. */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { fpage, K4, mdbWithPools, RW, RWX, strs } from './mapping_db.testutil.js';

const PA = 0x80000000;

describe('MappingDb at a million-ish scale', () => {
  it('revokes a chain of 200,000 derived mappings without recursion', () => {
    const { mdb, used } = mdbWithPools();
    unwrap(mdb.insertRoot(0, 0, PA, 21, RWX));
    let from = 0;
    let va = 0;
    for (let i = 1; i <= 200_000; i++) {
      const to = 1 + (i % 4);
      unwrap(mdb.map(from, va, to, i * K4, 12, RW));
      from = to;
      va = i * K4;
    }
    expect(mdb.lookup(from, va)!.depth).toBe(200_000);
    expect(mdb.unmap(0, fpage(0, 21)).length).toBe(200_000);
    expect([mdb.size, used(1) + used(2) + used(3) + used(4)]).toEqual([1, 0]);
  });

  it('revokes one frame out of 200,000 children of a 1G mapping through the index', () => {
    const { mdb } = mdbWithPools();
    unwrap(mdb.insertRoot(0, 0, 0, 30, RWX));
    for (let i = 0; i < 200_000; i++) unwrap(mdb.map(0, i * K4, 1 + (i % 3), i * K4, 12, RW));
    // Child i lives in space 1 + i % 3; 0x1234 % 3 = 1.
    expect(strs(mdb.unmap(0, fpage(0x1234000, 12)))).toEqual(['unmap space 2 0x1234000+4K -> 0x1234000 rw-']);
    expect(mdb.unmap(0, fpage(0, 30)).length).toBe(199_999);
  });
});
