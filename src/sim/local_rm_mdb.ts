/**
 * The kernel's side of the local-rm design (`local_rm.ts`): the mapping database with one kernel
 * memory pool per space, core's roots for RAM frames, installing a fault's map items (the largest
 * size every level can hold, each level derived from the one below, a manager's wrong item as it
 * was sent) and unmapping, each mirrored into page tables and TLBs. Kept apart from `local_rm.ts`,
 * which runs the region mappers, keeps the managers' bookkeeping and decides what to install or
 * revoke.
 */
import type { Resolution } from '../core/resolve.js';
import { Mapping } from '../hw/page_table.js';
import { Flexpage, MemRights } from '../kernel/flexpage.js';
import { MappingDb } from '../kernel/mapping_db.js';
import { KernelMemoryPool } from '../kernel/mapping_db_memory.js';
import type { MdbChanges } from '../kernel/mapping_db_node.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import { alignDown } from '../util/bits.js';
import { invariant } from '../util/result.js';
import type { LocalRmCounters, LocalRmHost } from './local_rm.js';

/** One space a map item goes through: the task's at the fault, or a manager's at its map's stretch. */
export interface MapItemHop {
  readonly pd: ProtectionDomain;
  readonly addr: number;
}

/** The mapping database of the local-rm design and what the kernel does with it; see the module comment. */
export class LocalRmMdb {
  readonly mdb: MappingDb;
  private readonly pools = new Map<number, KernelMemoryPool>();
  private readonly pdOf = new Map<number, ProtectionDomain>();
  /** RAM dataspaces whose frames core already entered as MDB roots (by physical base). */
  private readonly rooted = new Set<number>();

  constructor(
    private readonly host: Pick<LocalRmHost, 'core' | 'corePd' | 'trust' | 'shootdown'>,
    private readonly counters: LocalRmCounters,
  ) {
    this.mdb = new MappingDb({
      pageSizesLog2: host.core.arch.pageSizesLog2,
      memoryOf: (space) => this.poolOf(space),
    });
    this.pdOf.set(host.corePd.id, host.corePd);
  }

  /** Bytes of kernel memory the MDB holds now. */
  get bytes(): number {
    return this.mdb.size * this.mdb.nodeBytes;
  }

  /**
   * Installs the map items of a resolved fault at `faultVa` along `chain` (the task's space first,
   * then each manager's): core's root for the frames, each manager's mapping derived from the level
   * below, the task's from its manager's (or, when `wrong`, other memory its manager holds).
   */
  install(
    chain: readonly MapItemHop[],
    res: Extract<Resolution, { kind: 'mapped' }>,
    faultVa: number,
    wrong: boolean,
  ): void {
    const { core, corePd } = this.host;
    // The largest size every level can hold: the fault's offset in the block must be the same
    // in every space and in physical memory (core's rule guarantees it for the task's level).
    let n = res.sizeLog2;
    const pa = res.pa + (faultVa - res.va);
    const offset = (a: number, size: number) => a - alignDown(a, size);
    while (
      n > core.arch.pageSizesLog2[0]! &&
      chain.some((c) => offset(c.addr, 2 ** n) !== offset(pa, 2 ** n))
    )
      n = this.smaller(n);
    const size = 2 ** n;
    const rights = MemRights.R | (res.writeable ? MemRights.W : 0) | (res.executable ? MemRights.X : 0);
    const paB = alignDown(pa, size);
    this.root(res.dataspace.phys, res.dataspace.size);
    const changes: MdbChanges[] = [];
    let fromSpace = corePd.id;
    let fromVa = paB;
    let fromLabel = 'core';
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i]!;
      const va = alignDown(c.addr, size);
      if (i === 0 && wrong && chain.length > 1) {
        // A wrong map item: the manager sends other memory it holds; the kernel cannot tell.
        const other = this.mdb
          .mappingsOf(chain[1]!.pd.id)
          .find((m) => m.pa !== alignDown(pa, 2 ** m.sizeLog2));
        if (other) {
          const m = Math.min(n, other.sizeLog2);
          const r = this.mdb.map(fromSpace, other.va, c.pd.id, alignDown(c.addr, 2 ** m), m, rights);
          invariant(r.ok, () => `local-rm wrong map item: ${r.ok ? '' : r.message}`);
          changes.push(r.value);
          this.counters.mapItems++;
          this.counters.wrongMappings++;
          break;
        }
      }
      this.pdOf.set(c.pd.id, c.pd);
      const have = this.mdb.lookup(c.pd.id, va);
      if (i > 0 && have && have.sizeLog2 >= n && have.pa + (va - have.va) === paB) {
        // The manager holds these frames already (from an earlier fault): derive from it.
      } else {
        const r = this.mdb.map(fromSpace, fromVa, c.pd.id, va, n, rights);
        invariant(r.ok, () => `local-rm map item: ${r.ok ? '' : r.message}`);
        changes.push(r.value);
        this.counters.mapItems++;
        this.host.trust.record(fromLabel, c.pd.label, 'map', 'map items');
      }
      fromSpace = c.pd.id;
      fromVa = va;
      fromLabel = c.pd.label;
    }
    for (const ch of changes) this.apply(ch);
    this.counters.peakBytes = Math.max(this.counters.peakBytes, this.bytes);
  }

  /** The next smaller page size than 2^n. */
  private smaller(n: number): number {
    const sizes = this.host.core.arch.pageSizesLog2;
    let best = sizes[0]!;
    for (const s of sizes) if (s < n) best = s;
    return best;
  }

  /** Core enters the frames of a RAM dataspace as MDB roots in its own space (once). */
  private root(phys: number, bytes: number): void {
    if (this.rooted.has(phys)) return;
    this.rooted.add(phys);
    const sizes = this.host.core.arch.pageSizesLog2;
    let a = phys;
    const end = phys + bytes;
    while (a < end) {
      let n = sizes[0]!;
      for (const s of sizes) if (a % 2 ** s === 0 && a + 2 ** s <= end) n = s;
      const r = this.mdb.insertRoot(this.host.corePd.id, a, a, n, MemRights.RWX);
      invariant(r.ok, () => `MDB root: ${r.ok ? '' : r.message}`);
      a += 2 ** n;
    }
  }

  /** Unmaps [lo, hi) of `pd`'s space (page-aligned) and everything derived from it. */
  unmap(pd: ProtectionDomain, lo: number, hi: number): void {
    for (const fp of blocks(lo, hi, this.host.core.arch.pageSizesLog2)) {
      const r = this.mdb.unmap(pd.id, fp, { self: true });
      this.counters.unmaps++;
      this.apply(r);
    }
  }

  /** A task is destroyed: everything it holds, and everything derived from it, goes. */
  destroySpace(pd: ProtectionDomain): void {
    this.apply(this.mdb.destroySpace(pd.id));
  }

  /** Mirrors MDB changes into page tables and TLBs (core's own space has no page table here). */
  private apply(changes: MdbChanges): void {
    for (let i = 0; i < changes.length; i++) {
      const pd = this.pdOf.get(changes.space(i));
      if (!pd || pd === this.host.corePd) continue;
      const va = changes.va(i);
      const size = 2 ** changes.sizeLog2(i);
      const kind = changes.kind(i);
      if (kind !== 'map') {
        pd.pageTable.unmap(va, size);
        this.host.shootdown(pd.asid, va, size);
        if (kind === 'unmap') this.counters.revoked++;
      }
      if (kind !== 'unmap') {
        const r = changes.rights(i);
        pd.pageTable.install(
          new Mapping(
            va,
            changes.pa(i),
            changes.sizeLog2(i),
            (r & MemRights.W) !== 0,
            (r & MemRights.X) !== 0,
          ),
        );
      }
    }
  }

  private poolOf(space: number): KernelMemoryPool {
    let p = this.pools.get(space);
    if (!p) {
      p = new KernelMemoryPool(Number.POSITIVE_INFINITY, `space ${space}`);
      this.pools.set(space, p);
    }
    return p;
  }
}

/** [lo, hi) (page-aligned) as the fewest aligned flexpages of the supported sizes, in order. */
function blocks(lo: number, hi: number, sizesLog2: readonly number[]): Flexpage[] {
  const out: Flexpage[] = [];
  let a = lo;
  while (a < hi) {
    let n = sizesLog2[0]!;
    for (const s of sizesLog2) if (a % 2 ** s === 0 && a + 2 ** s <= hi) n = s;
    const fp = Flexpage.of(a, n, MemRights.RWX, sizesLog2[0]!);
    invariant(fp.ok, () => `revocation flexpage: ${fp.ok ? '' : fp.message}`);
    out.push(fp.value);
    a += 2 ** n;
  }
  return out;
}
