/**
 * The local-rm design (L4Re's region mapper, seed 001's rival): each task has a region-mapper
 * thread in its own address space, and the kernel sends the task's page faults to it, not to core.
 * The region mapper looks the address up in its own region list and calls the manager of the
 * dataspace it finds; a manager of a managed dataspace backs the address if needed and calls the
 * next level (a nested manager, or core's RAM service); the answer travels back as map items,
 * which the kernel installs and records in its mapping database (MDB): core's own mapping of the
 * frames is the root, each manager's mapping derives from the level below, the task's from its
 * manager's. The mapping's size follows the same best-size rule as core's; a level whose
 * coordinates are not aligned for it can only pass on smaller pieces (an MDB child is never larger
 * than its parent).
 *
 * Core keeps no record of these mappings (`core.revokesMappings` is off): a detach, a dataspace's
 * destruction or a task's destruction is revoked by unmapping through the MDB, which removes every
 * mapping derived from the revoked one, in every space, and the TLB entries with them.
 *
 * The region mapper itself must be paged by someone else: core's pager (the special case). It
 * keeps its region list in RAM of its task (`regionList`) and reads it on every lookup; the
 * kernel sends its own faults there to core's pager (`FaultPath.serverFor`). A task whose address
 * space has no room for the list gets none, and its region mapper touches no memory.
 */
import type { MapAnswer, MapRequest, NextHop } from '../components/on_demand_handler.js';
import type { CallOutcome, Port } from '../components/program.js';
import type { Core } from '../core/core.js';
import type { Dataspace } from '../core/dataspace.js';
import type { CoreEvent } from '../core/events.js';
import type { PdSession } from '../core/pd_session.js';
import { COSTS } from '../core/quota.js';
import type { RegionMap } from '../core/region_map.js';
import type { Resolution } from '../core/resolve.js';
import { Mapping } from '../hw/page_table.js';
import { Flexpage, MemRights } from '../kernel/flexpage.js';
import { MappingDb } from '../kernel/mapping_db.js';
import { KernelMemoryPool } from '../kernel/mapping_db_memory.js';
import type { MdbChanges } from '../kernel/mapping_db_node.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import { alignDown, alignUp } from '../util/bits.js';
import { invariant } from '../util/result.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import type { IpcPath } from './ipc_path.js';
import type { FaultingTask, FaultPath } from './machine_faults.js';
import type { MachineProgram } from './program_task.js';
import type { TrustLog } from './trust.js';

/** What the local-rm design needs from the machine. */
export interface LocalRmHost {
  readonly core: Core;
  readonly corePd: ProtectionDomain;
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly ipc: IpcPath;
  readonly trust: TrustLog;
  faults(): FaultPath;
  /** The timeout of the region mappers' and managers' calls (undefined: never). */
  readonly ipcTimeout: number | undefined;
  /** Removes [va, va + size) of `asid` from every CPU's TLB that may hold it. */
  shootdown(asid: number, va: number, size: number): void;
}

/** Counters of the local-rm design. */
export interface LocalRmCounters {
  /** Map items the kernel installed (one per level per fault). */
  mapItems: number;
  /** Mappings the MDB removed in revocations. */
  revoked: number;
  /** MDB unmap operations (detach, destruction). */
  unmaps: number;
  /** Largest kernel memory the MDB held at once, in bytes. */
  peakBytes: number;
  /** Map items of other memory than the region holds, installed because a manager sent them. */
  wrongMappings: number;
  /** Map items that mapped nothing: the region was detached while they were on their way. */
  emptyItems: number;
  /** Bytes of RAM the region mappers' region lists take (charged to their tasks' quotas). */
  listBytes: number;
}

/** The mapping database and the region mappers of one machine; see the module comment. */
export class LocalRm {
  readonly mdb: MappingDb;
  readonly counters: LocalRmCounters = {
    mapItems: 0,
    revoked: 0,
    unmaps: 0,
    peakBytes: 0,
    wrongMappings: 0,
    emptyItems: 0,
    listBytes: 0,
  };
  private readonly pools = new Map<number, KernelMemoryPool>();
  private readonly pdOf = new Map<number, ProtectionDomain>();
  /** The `map` port of each managed region map's manager. */
  private readonly managerPorts = new Map<RegionMap, Port>();
  /** Where each managed map lies in its manager's own address space. */
  private readonly mapBase = new Map<RegionMap, number>();
  /** Per manager (PD id): where the next managed map's stretch may begin. */
  private readonly nextBase = new Map<number, number>();
  /** RAM dataspaces whose frames core already entered as MDB roots (by physical base). */
  private readonly rooted = new Set<number>();

  constructor(private readonly host: LocalRmHost) {
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

  /** The manager of `map` serves map requests on `port`. */
  addManager(map: RegionMap, port: Port): void {
    this.managerPorts.set(map, port);
    // Whoever attached the map already gets the right to call its manager.
    for (const r of map.dataspace.regions) this.grantFor(r.map, map.dataspace);
    // Each managed map gets its own stretch of its manager's address space, above the user part
    // (2^47) and aligned to the largest page size, so superpages stay possible at every level.
    const pd = map.owner.pd;
    const sizes = this.host.core.arch.pageSizesLog2;
    const base = alignUp(this.nextBase.get(pd.id) ?? 2 ** 47, 2 ** Math.max(...sizes));
    invariant(
      base + map.size <= 2 ** 53,
      () => `local-rm: the managed maps of '${pd.label}' do not fit below 2^53 in its address space`,
    );
    this.mapBase.set(map, base);
    this.nextBase.set(pd.id, base + map.size);
  }

  /** What a manager of `map` calls for the memory behind `address` of its map. */
  nextHop(map: RegionMap): NextHop {
    return (address) => {
      const region = map.lookup(address);
      const ds = region?.dataspace;
      if (!region || !ds) return null;
      if (ds.kind !== 'managed') return 'core';
      const inner = ds.managed!;
      const port = this.managerPorts.get(inner);
      return port ? { port, address: address - region.base + region.offset } : null;
    };
  }

  /**
   * What a manager's own mapping at `va` of its space stands for: the managed map it holds there
   * and the address in the map's coordinates (each managed map has its own stretch), or null.
   */
  managedAt(pd: ProtectionDomain, va: number): { map: RegionMap; address: number } | null {
    for (const [map, base] of this.mapBase)
      if (map.owner.pd === pd && va >= base && va - base < map.size) return { map, address: va - base };
    return null;
  }

  /**
   * The region list of `session`'s region mapper: RAM of the task (charged to its quota), one
   * slab entry per region it has now, at least a page, attached wherever the task has room. Null
   * when the address space has none (the region mapper then touches no memory of its own).
   */
  regionList(session: PdSession): number | null {
    const { core } = this.host;
    const page = core.pageSize;
    const bytes = Math.max(page, alignUp(session.addressSpace.regionCount * COSTS.region.ram, page));
    const ds = core.allocRam(session, bytes);
    if (!ds.ok) return null;
    const at = session.addressSpace.attach(ds.value, { writeable: true });
    if (!at.ok) {
      core.free(session, ds.value);
      return null;
    }
    this.counters.listBytes += bytes;
    return at.value.base;
  }

  /**
   * The program of the region mapper of `pd`. With a region list at `list`, each lookup reads it:
   * the region mapper's own page faults go to core's pager (it cannot page itself).
   */
  *regionMapper(pd: ProtectionDomain, list: number | null = null): MachineProgram {
    const { core, costs } = this.host;
    for (;;) {
      const t = (yield { op: 'next-fault' }) as FaultingTask;
      // The lookup in the task's own region list.
      if (list !== null) yield { op: 'access', address: list, access: 'read' };
      yield { op: 'compute', cycles: costs.pagerLookup };
      const first = core.resolve(t.kernel, t.faultVa, t.faultKind, true);
      const hop = this.firstHop(first);
      if (hop === null) {
        yield { op: 'perform', run: () => this.fail(t), cycles: 0 };
        continue;
      }
      let answer: MapAnswer = { ok: true };
      if (hop === 'core') yield { op: 'core', what: 'map', run: () => true };
      else {
        const r = (yield {
          op: 'call',
          port: hop.port,
          msg: { address: hop.address } satisfies MapRequest,
          timeout: this.host.ipcTimeout,
        }) as CallOutcome<MapAnswer>;
        if (!r.ok) {
          this.host.faults().lost(t, r.message);
          continue;
        }
        answer = r.reply;
      }
      const res = core.resolve(t.kernel, t.faultVa, t.faultKind, true);
      if (!answer.ok || res.kind !== 'mapped') {
        yield { op: 'perform', run: () => this.fail(t), cycles: 0 };
        continue;
      }
      const levels = res.walk?.length ?? res.depth;
      const wrong = answer.wrong === true;
      yield {
        op: 'perform',
        run: () => this.installCurrent(t, res, pd, wrong),
        cycles: costs.mapInstall * levels,
      };
    }
  }

  /** Who the region mapper calls first: the manager of the task's region, or core's RAM service. */
  private firstHop(res: Resolution): { port: Port; address: number } | 'core' | null {
    if (res.kind === 'too-deep') return null;
    const step = res.walk?.[0];
    const region = step?.region;
    const ds = region?.dataspace;
    if (!region || !ds) return null;
    if (ds.kind !== 'managed') return res.kind === 'mapped' ? 'core' : null;
    const port = this.managerPorts.get(ds.managed!);
    return port ? { port, address: step.address - region.base + region.offset } : null;
  }

  /** The fault cannot be resolved by anyone: core's error, and the thread dies. */
  private fail(t: FaultingTask): void {
    const out = this.host.core.pageFault(t.kernel, t.faultVa, t.faultKind);
    const faults = this.host.faults();
    const text =
      out.kind === 'error' ? out.text : `region mapper of '${t.kernel.pd.label}' could not resolve the fault`;
    faults.error(text);
    t.die(t.faultVa, t.faultKind, text);
    faults.killFaulter(t);
  }

  /**
   * The kernel maps what the sender holds when the map item is sent. A region detached (or
   * replaced) since the region mapper looked it up maps nothing: the thread resumes, faults again,
   * and the region mapper asks anew.
   */
  private installCurrent(
    t: FaultingTask,
    res: Extract<Resolution, { kind: 'mapped' }>,
    pd: ProtectionDomain,
    wrong: boolean,
  ): void {
    const now = this.host.core.resolve(t.kernel, t.faultVa, t.faultKind, true);
    if (now.kind === 'mapped' && now.dataspace === res.dataspace && now.pa === res.pa) {
      this.install(t, now, pd, wrong);
      return;
    }
    this.counters.emptyItems++;
    const faults = this.host.faults();
    faults.reply(t, this.host.cpus[faults.currentCpu]!);
  }

  /**
   * Installs the map items of a resolved fault: core's root for the frames, each manager's mapping
   * derived from the level below, the task's from its manager's. Then the reply goes to t.
   */
  private install(
    t: FaultingTask,
    res: Extract<Resolution, { kind: 'mapped' }>,
    pd: ProtectionDomain,
    wrong: boolean,
  ): void {
    const { core, corePd } = this.host;
    const walk = res.walk ?? [];
    // Spaces from the task down: the task's, then each managed map's manager at the map's base.
    const chain: Array<{ pd: ProtectionDomain; addr: number }> = [{ pd, addr: t.faultVa }];
    for (let i = 1; i < walk.length; i++) {
      const map = walk[i]!.map;
      chain.push({ pd: map.owner.pd, addr: this.mapBase.get(map)! + walk[i]!.address });
    }
    // The largest size every level can hold: the fault's offset in the block must be the same
    // in every space and in physical memory (core's rule guarantees it for the task's level).
    let n = res.sizeLog2;
    const pa = res.pa + (t.faultVa - res.va);
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
    const faults = this.host.faults();
    faults.totals.faultsResolved++;
    faults.reply(t, this.host.cpus[faults.currentCpu]!);
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

  /** Core's events the design reacts to: detaches and destroyed dataspaces are revoked through the MDB. */
  onCoreEvent(e: CoreEvent): void {
    if (e.type === 'detach' || e.type === 'reserved') this.revoke(e.map, e.region.base, e.region.end);
    else if (e.type === 'attach') this.grantFor(e.map, e.region.dataspace);
  }

  /** A task that attaches a managed dataspace needs a capability to call its manager. */
  private grantFor(map: RegionMap, ds: Dataspace | null): void {
    const inner = ds?.kind === 'managed' ? ds.managed : null;
    const port = inner ? this.managerPorts.get(inner) : undefined;
    if (!port) return;
    // The map's users call its manager: the task's region mapper, or the outer map's manager.
    for (const pd of map.addressSpaceOf) this.host.ipc.grant(port, pd);
    this.host.ipc.grant(port, map.owner.pd);
  }

  /** Unmaps [lo, hi) of `map` (its coordinates) in the space holding it, and everything derived. */
  private revoke(map: RegionMap, lo: number, hi: number): void {
    const spaces: Array<{ pd: ProtectionDomain; base: number }> = [...map.addressSpaceOf].map((pd) => ({
      pd,
      base: 0,
    }));
    const base = this.mapBase.get(map);
    if (base !== undefined) spaces.push({ pd: map.owner.pd, base });
    for (const s of spaces) {
      for (const fp of blocks(s.base + lo, s.base + hi, this.host.core.arch.pageSizesLog2)) {
        const r = this.mdb.unmap(s.pd.id, fp, { self: true });
        this.counters.unmaps++;
        this.apply(r);
      }
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
