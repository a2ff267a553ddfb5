/**
 * Issue 15 figures for the in-kernel mapping database: insertion rate and the wall time of
 * revoking a subtree of 1 M derived mappings, for a wide tree (one 1G root with 1 M 4K children
 * in 4 spaces) and a deep one (a chain of 1 M mappings, each derived from the one before).
 */
import { performance } from 'node:perf_hooks';
import { Flexpage, MemRights } from '../kernel/flexpage.js';
import { MappingDb } from '../kernel/mapping_db.js';
import { KernelMemoryPool } from '../kernel/mapping_db_memory.js';
import { unwrap } from '../util/result.js';
import { heapUsedMB, type Recorder } from './harness.js';

const N = 1 << 20;
const K4 = 4096;
const G1 = 2 ** 30;
const ROOT = 1;
const RUNS = 3;

function fresh(): { mdb: MappingDb; pool: KernelMemoryPool } {
  const pool = new KernelMemoryPool(Number.POSITIVE_INFINITY);
  const mdb = new MappingDb({ pageSizesLog2: [12, 21, 30], memoryOf: () => pool });
  unwrap(mdb.insertRoot(ROOT, 0, 4 * G1, 30, MemRights.RWX));
  return { mdb, pool };
}

/** 1 M 4K pieces of the root's 1G frame, mapped into spaces 2..5 at the root's offsets. */
function buildWide(mdb: MappingDb): void {
  for (let i = 0; i < N; i++) {
    const va = (i & 0x3ffff) * K4;
    const r = mdb.map(ROOT, va, 2 + (i >>> 18), va, 12, MemRights.RW);
    if (!r.ok) throw new Error(r.message);
  }
}

/** A chain: mapping i lives in space 2 + i % 16 and is derived from mapping i - 1. */
function buildDeep(mdb: MappingDb): void {
  let from = ROOT;
  let fromVa = 0;
  for (let i = 0; i < N; i++) {
    const to = 2 + (i & 15);
    const toVa = (i >>> 4) * K4;
    const r = mdb.map(from, fromVa, to, toVa, 12, MemRights.RW);
    if (!r.ok) throw new Error(r.message);
    from = to;
    fromVa = toVa;
  }
}

async function shape(r: Recorder, name: string, build: (mdb: MappingDb) => void): Promise<void> {
  let insertMs = Number.POSITIVE_INFINITY;
  let revokeMs = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    const { mdb, pool } = fresh();
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    build(mdb);
    const t1 = performance.now();
    if (mdb.size !== N + 1) throw new Error(`${name}: ${mdb.size} mappings, expected ${N + 1}`);
    (globalThis as { gc?: () => void }).gc?.();
    const t2 = performance.now();
    const changes = mdb.unmap(ROOT, unwrap(Flexpage.of(0, 30)), { self: false });
    const t3 = performance.now();
    if (changes.length !== N || mdb.size !== 1 || pool.used !== mdb.nodeBytes)
      throw new Error(`${name}: revoke removed ${changes.length}, ${mdb.size} left`);
    insertMs = Math.min(insertMs, t1 - t0);
    revokeMs = Math.min(revokeMs, t3 - t2);
  }
  r.record(`mdb.insert.${name}.1M`, N / (insertMs / 1000), 'mappings/s', 'target >= 1,000,000');
  r.record(`mdb.revoke.${name}.1M`, revokeMs, 'ms', 'target < 1000');
}

export async function mdbBenchmarks(r: Recorder): Promise<void> {
  await shape(r, 'wide', buildWide);
  await shape(r, 'deep', buildDeep);
  const before = heapUsedMB();
  const { mdb } = fresh();
  buildWide(mdb);
  r.record('mdb.heap.1M', heapUsedMB() - before, 'MB');
  void mdb;
}
