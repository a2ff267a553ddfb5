/** Shared set-up for the mapping-database tests. */
import { unwrap } from '../util/result.js';
import { Flexpage, MemRights } from './flexpage.js';
import { MappingDb } from './mapping_db.js';
import { KernelMemoryPool } from './mapping_db_memory.js';
import type { MdbChange, MdbMapping } from './mapping_db_node.js';

export const K4 = 0x1000;
export const M2 = 0x200000;
export const G1 = 0x40000000;
export const { R, W, X, RW, RX, RWX } = MemRights;

/** An MDB with x86-64 page sizes and one kernel-memory pool per space, limited to `limit` bytes each. */
export function mdbWithPools(limit = Number.POSITIVE_INFINITY, sizes: readonly number[] = [12, 21, 30]) {
  const pools = new Map<number, KernelMemoryPool>();
  const pool = (s: number): KernelMemoryPool => {
    let p = pools.get(s);
    if (!p) {
      p = new KernelMemoryPool(limit, `space ${s}`);
      pools.set(s, p);
    }
    return p;
  };
  const mdb = new MappingDb({ pageSizesLog2: sizes, memoryOf: pool });
  return { mdb, pool, used: (s: number) => pools.get(s)?.used ?? 0, pools };
}

/** A flexpage (must be valid). */
export function fpage(base: number, log2: number): Flexpage {
  return unwrap(Flexpage.of(base, log2));
}

/** The change list as strings. */
export function strs(changes: Iterable<MdbChange>): string[] {
  return [...changes].map(String);
}

/** Everything observable: each space's mappings with their parents, and each pool's usage. */
export function snapshot(mdb: MappingDb, pools: Map<number, KernelMemoryPool>): string[] {
  const out: string[] = [];
  const name = (m: MdbMapping | null) => (m ? `${m.space}:${m.va.toString(16)}` : 'root');
  for (const s of mdb.spaces())
    for (const m of mdb.mappingsOf(s))
      out.push(
        `${s}:${m.va.toString(16)}/${m.sizeLog2} pa ${m.pa.toString(16)} r${m.rights} d${m.depth} <- ${name(mdb.parentOf(m))}`,
      );
  for (const [s, p] of [...pools].sort((a, b) => a[0] - b[0])) out.push(`pool ${s} ${p.used}`);
  out.push(`size ${mdb.size}`);
  return out;
}
