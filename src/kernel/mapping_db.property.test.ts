/**
 * DESIGN.md invariants 3 and 11 for the mapping database: after any sequence of root insertion,
 * map, grant, unmap (whole, partial, rights only) and task destruction, the MDB agrees with a
 * naive edge list, and real page tables and TLBs kept in sync only from the returned change
 * lists hold nothing derived from a removed mapping. Charged kernel memory is always live nodes ×
 * node size, and returns to zero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TlbLevelSpec } from '../hw/arch.js';
import { Mapping, PageTable } from '../hw/page_table.js';
import { Tlb } from '../hw/tlb.js';
import { unwrap } from '../util/result.js';
import { Flexpage } from './flexpage.js';
import { MappingDb, MDB_NODE_BYTES } from './mapping_db.js';
import { KernelMemoryPool } from './mapping_db_memory.js';
import { type Edge, NaiveMdb } from './mapping_db_model.testutil.js';
import { type MdbChange, MdbChanges } from './mapping_db_node.js';

const SIZES = [12, 14, 16];
const SPACES = 4;
const PAGES = 64; // each space's virtual range: 64 4K pages
const CPUS = 2;
/** Nodes each space may pay for: space 3 is tight, to exercise failed charges. */
const NODE_LIMIT = [8, 8, 8, 2];
const W = 2;
const X = 1;
const TLB_LEVELS: TlbLevelSpec[] = [
  { name: 'L1d', kind: 'data', entries: 8, ways: 2, pageSizesLog2: [12, 14] },
  { name: 'L2', kind: 'unified', entries: 32, ways: 4, pageSizesLog2: [12, 14, 16] },
];

interface Real {
  mdb: MappingDb;
  pools: Map<number, KernelMemoryPool>;
  pts: PageTable[];
  tlbs: Tlb[];
}

type Cmd = fc.Command<NaiveMdb, Real>;

/** Applies a change list to the page tables and TLBs, checking each record against them. */
function apply(real: Real, changes: Iterable<MdbChange>): void {
  for (const c of changes) {
    const pt = real.pts[c.space]!;
    const fresh = new Mapping(c.va, c.pa, c.sizeLog2, (c.rights & W) !== 0, (c.rights & X) !== 0);
    if (c.kind === 'map') {
      expect(pt.install(fresh), `${c}: the page table still held something there`).toBe(0);
      continue;
    }
    const old = pt.lookup(c.va);
    expect(old && [old.va, old.pa, old.sizeLog2], `${c}: no such page-table entry`).toEqual([
      c.va,
      c.pa,
      c.sizeLog2,
    ]);
    if (c.kind === 'unmap') pt.unmap(c.va, c.size);
    else {
      expect([old!.writeable, old!.executable], `${c}: rights did not change`).not.toEqual([
        fresh.writeable,
        fresh.executable,
      ]);
      pt.install(fresh);
    }
    for (const t of real.tlbs) t.flushRange(c.space, c.va, c.size);
  }
}

const key = (e: { va: number; pa: number; rights: number }, log2: number) =>
  `${e.va.toString(16)}/${log2} ${e.pa.toString(16)} r${e.rights}`;

/** The MDB, page tables, TLBs and pools against the model. */
function verify(m: NaiveMdb, real: Real): void {
  for (let s = 0; s < SPACES; s++) {
    const mine = m.edges.filter((e) => e.space === s);
    const expected = mine
      .map((e) => {
        const p = m.byId(e.parent);
        return `${key(e, e.log2)} <- ${p ? `${p.space}:${p.va.toString(16)}` : 'root'}`;
      })
      .sort();
    const got = real.mdb
      .mappingsOf(s)
      .map((x) => {
        const p = real.mdb.parentOf(x);
        return `${key(x, x.sizeLog2)} <- ${p ? `${p.space}:${p.va.toString(16)}` : 'root'}`;
      })
      .sort();
    expect(got, `mdb space ${s}`).toEqual(expected);
    const pt = real.pts[s]!.mappings()
      .map((x) =>
        key({ va: x.va, pa: x.pa, rights: 4 | (x.writeable ? W : 0) | (x.executable ? X : 0) }, x.sizeLog2),
      )
      .sort();
    expect(pt, `page table of space ${s}`).toEqual(mine.map((e) => key(e, e.log2)).sort());
    expect(real.pools.get(s)?.used ?? 0, `kernel memory of space ${s}`).toBe(
      mine.length * real.mdb.nodeBytes,
    );
  }
  expect(real.mdb.size).toBe(m.edges.length);
  real.tlbs.forEach((t, cpu) => {
    for (let level = 0; level < TLB_LEVELS.length; level++)
      for (const te of t.entries(level)) expect(justified(m.edges, te), `cpu ${cpu}: stale ${te}`).toBe(true);
  });
}

/** A TLB entry is justified by a live mapping covering it, with the same frame and at least its rights. */
function justified(
  edges: readonly Edge[],
  t: {
    asid: number;
    vaBase: number;
    sizeLog2: number;
    paBase: number;
    writeable: boolean;
    executable: boolean;
  },
): boolean {
  return edges.some(
    (e) =>
      e.space === t.asid &&
      e.va <= t.vaBase &&
      t.vaBase + 2 ** t.sizeLog2 <= e.va + 2 ** e.log2 &&
      t.paBase - t.vaBase === e.pa - e.va &&
      (!t.writeable || (e.rights & W) !== 0) &&
      (!t.executable || (e.rights & X) !== 0),
  );
}

const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

/** Runs one operation on both sides, applies the changes and checks everything. */
function step(m: NaiveMdb, real: Real, modelRun: () => string, realRun: () => MdbChanges | { ok: boolean }) {
  const expected = modelRun();
  const r = realRun();
  if (r instanceof MdbChanges) apply(real, r);
  else {
    expect(code(r as { ok: boolean; code?: string })).toBe(expected);
    if (r.ok) apply(real, (r as { value: MdbChanges }).value);
  }
  verify(m, real);
}

/** Picks an existing mapping of the model (so most maps and grants have a source). */
function pick(m: NaiveMdb, i: number): Edge | undefined {
  return m.edges.length === 0 ? undefined : m.edges[i % m.edges.length];
}

const align = (va: number, log2: number) => va - (va % 2 ** log2);

class RootCmd implements Cmd {
  constructor(readonly a: { space: number; page: number; slot: number; size: number; rights: number }) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    const { space, page, slot, size, rights } = this.a;
    const log2 = SIZES[size]!;
    const va = align(page * 4096, log2);
    const pa = align(0x100000 + slot * 0x4000, log2);
    step(
      m,
      real,
      () => m.root(space, va, pa, log2, rights),
      () => real.mdb.insertRoot(space, va, pa, log2, rights),
    );
  }
  toString = () => `root(${JSON.stringify(this.a)})`;
}

class MapCmd implements Cmd {
  constructor(
    readonly a: {
      src: number;
      sub: number;
      to: number;
      page: number;
      size: number;
      rights: number;
      grant: boolean;
    },
  ) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    const { src: i, sub, to, page, size, rights, grant } = this.a;
    const src = pick(m, i);
    const from = src?.space ?? 0;
    // Grants mostly move whole mappings; maps pick a piece of the source.
    const log2 = grant && src && size === 0 ? src.log2 : SIZES[size]!;
    const fromVa = src ? align(src.va + ((sub * 4096) % 2 ** src.log2), log2) : 0;
    const toVa = align(page * 4096, log2);
    if (grant)
      step(
        m,
        real,
        () => m.grant(from, fromVa, to, toVa, log2, rights),
        () => real.mdb.grant(from, fromVa, to, toVa, log2, rights),
      );
    else
      step(
        m,
        real,
        () => m.map(from, fromVa, to, toVa, log2, rights),
        () => real.mdb.map(from, fromVa, to, toVa, log2, rights),
      );
  }
  toString = () => `${this.a.grant ? 'grant' : 'map'}(${JSON.stringify(this.a)})`;
}

/** Maps the frame of an existing derived mapping again from its parent to the same place: an upgrade (or not). */
class RemapCmd implements Cmd {
  constructor(readonly a: { src: number; rights: number }) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    const derived = m.edges.filter((x) => x.parent !== null);
    const e = derived[this.a.src % Math.max(1, derived.length)];
    const p = e && m.byId(e.parent);
    if (!e || !p) return;
    const [from, fromVa, to, toVa, log2] = [p.space, p.va + (e.pa - p.pa), e.space, e.va, e.log2];
    const r = this.a.rights;
    step(
      m,
      real,
      () => m.map(from, fromVa, to, toVa, log2, r),
      () => real.mdb.map(from, fromVa, to, toVa, log2, r),
    );
  }
  toString = () => `remap(${JSON.stringify(this.a)})`;
}

class UnmapCmd implements Cmd {
  constructor(
    readonly a: {
      target: number | null;
      space: number;
      page: number;
      size: number;
      self: boolean;
      rights: number;
    },
  ) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    const { target, page, size, self, rights } = this.a;
    const log2 = [12, 12, 13, 14, 16, 18][size]!; // flexpages need not be page sizes
    // Untargeted: anywhere in a space; targeted: somewhere in an existing mapping.
    const t = target === null ? undefined : pick(m, target);
    const space = t ? t.space : this.a.space;
    const base = align(t ? t.va + ((page * 4096) % 2 ** t.log2) : page * 4096, log2);
    const fp = unwrap(Flexpage.of(base, log2));
    step(
      m,
      real,
      () => {
        m.unmap(space, base, log2, self, rights);
        return 'ok';
      },
      () => real.mdb.unmap(space, fp, { self, rights }),
    );
  }
  toString = () => `unmap(${JSON.stringify(this.a)})`;
}

class DestroyCmd implements Cmd {
  constructor(readonly space: number) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    step(
      m,
      real,
      () => {
        m.destroy(this.space);
        return 'ok';
      },
      () => real.mdb.destroySpace(this.space),
    );
  }
  toString = () => `destroy(${this.space})`;
}

/** A thread of `space` on `cpu` touches `page`: a TLB hit must agree with the model, a miss walks and fills. */
class AccessCmd implements Cmd {
  constructor(readonly a: { cpu: number; space: number; page: number }) {}
  check = () => true;
  run(m: NaiveMdb, real: Real): void {
    const { cpu, space, page } = this.a;
    const va = page * 4096 + 8;
    const tlb = real.tlbs[cpu]!;
    const e = m.at(space, va);
    if (tlb.lookup(space, va, 'data') >= 0) {
      expect(
        e,
        `cpu ${cpu} translated ${va.toString(16)} in space ${space}, which has no mapping`,
      ).toBeDefined();
      expect(tlb.lastPa).toBe(e!.pa + (va - e!.va));
    } else {
      const pt = real.pts[space]!.lookup(va);
      expect(pt?.pa, 'page walk').toBe(e ? e.pa : undefined);
      if (pt) tlb.fill(space, va, 'data', pt);
    }
  }
  toString = () => `access(${JSON.stringify(this.a)})`;
}

const space = fc.integer({ min: 0, max: SPACES - 1 });
const page = fc.integer({ min: 0, max: PAGES - 1 });
const sizeIdx = fc.integer({ min: 0, max: SIZES.length - 1 });
const rights = fc.constantFrom(7, 7, 6, 5, 4, 3, 1);
const cpu = fc.integer({ min: 0, max: CPUS - 1 });
const rootArb = fc
  .record({ space, page, slot: fc.integer({ min: 0, max: 31 }), size: sizeIdx, rights })
  .map((a) => new RootCmd(a));
const mapArb = (grant: boolean) =>
  fc
    .record({
      src: fc.nat(),
      sub: fc.nat({ max: 15 }),
      to: space,
      page,
      size: sizeIdx,
      rights,
      grant: fc.constant(grant),
    })
    .map((a) => new MapCmd(a));
const unmapArb = fc
  .record({
    space,
    page,
    target: fc.option(fc.nat(), { nil: null, freq: 4 }),
    size: fc.integer({ min: 0, max: 5 }),
    self: fc.boolean(),
    rights: fc.constantFrom(7, 7, 4, 2, 1, 3),
  })
  .map((a) => new UnmapCmd(a));
/** Weighted by repetition: mostly maps, unmaps and accesses; task destruction is rare. */
const commands = [
  rootArb,
  ...Array.from({ length: 5 }, () => mapArb(false)),
  mapArb(true),
  fc.record({ src: fc.nat(), rights }).map((a) => new RemapCmd(a)),
  unmapArb,
  unmapArb,
  unmapArb,
  space.map((s) => new DestroyCmd(s)),
  ...Array.from({ length: 3 }, () => fc.record({ cpu, space, page }).map((a) => new AccessCmd(a))),
];

describe('MappingDb against a naive edge list, with page tables and TLBs kept from the change lists', () => {
  it('leaves nothing derived from a removed mapping anywhere, and charges exactly the live nodes', () => {
    fc.assert(
      // kidIndexAfter 0 and 1 send partial unmaps through the children-by-frame index.
      fc.property(
        fc.commands(commands, { maxCommands: 80, size: '+1' }),
        fc.constantFrom(0, 1, 32),
        (cmds, kia) => {
          const pools = new Map<number, KernelMemoryPool>();
          const pool = (s: number) => {
            if (!pools.has(s))
              pools.set(s, new KernelMemoryPool(NODE_LIMIT[s]! * MDB_NODE_BYTES, `space ${s}`));
            return pools.get(s)!;
          };
          const mdb = new MappingDb({ pageSizesLog2: SIZES, memoryOf: pool, kidIndexAfter: kia });
          const real: Real = {
            mdb,
            pools,
            pts: Array.from({ length: SPACES }, () => new PageTable(SIZES)),
            tlbs: Array.from({ length: CPUS }, () => new Tlb(TLB_LEVELS)),
          };
          const model = new NaiveMdb((s) => NODE_LIMIT[s]! * MDB_NODE_BYTES, mdb.nodeBytes);
          // Two roots to start from: 64K in space 0, 16K in space 1.
          new RootCmd({ space: 0, page: 0, slot: 0, size: 2, rights: 7 }).run(model, real);
          new RootCmd({ space: 1, page: 16, slot: 8, size: 1, rights: 7 }).run(model, real);
          fc.modelRun(() => ({ model, real }), cmds);
          // Destroying every task returns every byte and empties every page table and TLB.
          for (let s = 0; s < SPACES; s++) new DestroyCmd(s).run(model, real);
          expect([mdb.size, ...[...pools.values()].map((p) => p.used)].every((v) => v === 0)).toBe(true);
          expect(real.pts.every((p) => p.size === 0)).toBe(true);
          expect(real.tlbs.every((t) => TLB_LEVELS.every((_, l) => t.entries(l).length === 0))).toBe(true);
        },
      ),
      { numRuns: 250 },
    );
  });
});
