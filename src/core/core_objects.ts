/**
 * Core's object management: creating and destroying PD sessions, threads, dataspaces, region
 * maps and signal contexts. Every creation is paid from the session's quota and registered as a
 * capability; every destruction pays back and leaves no dangling reference (reserved holes,
 * dequeued faulters). Apart from `Core` so that the public API reads as a list of operations and
 * the bookkeeping (ids, session table, quota costs) sits in one place.
 */
import type { Arch } from '../hw/arch.js';
import type { PhysicalMemory } from '../hw/phys_mem.js';
import { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { isAligned } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import type { CoreCapabilities } from './capabilities.js';
import type { Pager } from './core_pager.js';
import { type CacheAttr, Dataspace, type DataspaceKind } from './dataspace.js';
import { PdSession } from './pd_session.js';
import { COSTS, Quota } from './quota.js';
import { RegionMap, type RegionMapEnv } from './region_map.js';
import type { SizePolicy } from './resolve.js';
import { SignalContext } from './signal.js';

/** Options of a new PD session. */
export interface PdOptions {
  /** RAM quota in bytes (default 1 GiB). */
  readonly ram?: number;
  /** Capability quota (default 1000). */
  readonly caps?: number;
  /** Attach Genode-style stack and linker areas as managed dataspaces (default false). */
  readonly areas?: boolean;
}

/** Error codes of core operations other than attach. */
export type CoreErrorCode =
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_RAM'
  | 'OUT_OF_CAPS'
  | 'OUT_OF_PHYSICAL_MEMORY'
  | 'DESTROYED'
  | 'THREAD_BLOCKED';

/**
 * What a free or seal did. Genode's core ignores such a call, silently, when the caller does not
 * own the dataspace (or, for seal, when it is not RAM); `why` says which it was.
 */
export type OwnerOnlyOutcome = { readonly kind: 'done' } | { readonly kind: 'ignored'; readonly why: string };

const DONE: OwnerOnlyOutcome = { kind: 'done' };

function notOwner(actor: PdSession, ds: Dataspace): OwnerOnlyOutcome {
  return { kind: 'ignored', why: `'${actor.label}' does not own ${ds}` };
}

/** Genode's default stack area and linker area (virtual base and size). */
export const STACK_AREA = { base: 0x40000000, size: 0x10000000 } as const;
export const LINKER_AREA = { base: 0x50000000, size: 0x10000000 } as const;

/** What object management reads from core (core itself fits). */
export interface ObjectHost {
  readonly arch: Arch;
  readonly policy: SizePolicy;
  readonly phys: PhysicalMemory;
  readonly caps: CoreCapabilities;
  readonly pageSize: number;
}

/** Core's objects and their life cycle; `Core` delegates its create, alloc, free and destroy calls here. */
export class CoreObjects {
  private readonly sessionList: PdSession[] = [];
  private readonly sessionOf = new Map<ProtectionDomain, PdSession>();
  /** One counter for every object, so ids follow creation order across kinds. */
  private nextId = 1;

  constructor(
    private readonly core: ObjectHost,
    /** Handed to every new region map. */
    private readonly env: RegionMapEnv,
    /** Destruction dequeues the faulters waiting at what goes away. */
    private readonly pager: Pager,
  ) {}

  /** Live PD sessions in creation order. */
  sessions(): readonly PdSession[] {
    return this.sessionList;
  }

  /** The region map of the session that owns a thread's PD. */
  addressSpaceOf(t: Thread): RegionMap {
    const s = this.sessionOf.get(t.pd);
    if (!s || s.destroyed) throw new Error(`${t} has no live PD session`);
    return s.addressSpace;
  }

  /** Creates a PD session with its address space (and optionally stack and linker areas). */
  createPd(label: string, opts: PdOptions): Result<PdSession, CoreErrorCode> {
    const quota = new Quota(opts.ram ?? 2 ** 30, opts.caps ?? 1000);
    const pd = new ProtectionDomain(this.nextId++, label, this.core.policy.mapSizesLog2);
    const session = new PdSession(pd.id, pd, quota);
    const vaBits = this.core.arch.vaBits;
    const half = vaBits >= 39 ? 2 ** (vaBits - 1) : 2 ** vaBits;
    const space = this.createRegionMap(session, half, this.core.pageSize);
    if (!space.ok) return space;
    session.addressSpace = space.value;
    space.value.addressSpaceOf.push(pd);
    if (opts.areas) {
      for (const [area, key] of [
        [STACK_AREA, 'stackArea'],
        [LINKER_AREA, 'linkerArea'],
      ] as const) {
        const m = this.createRegionMap(session, area.size);
        if (!m.ok) return m;
        const a = space.value.attach(m.value.dataspace, { at: area.base, writeable: true, executable: true });
        if (!a.ok) return err('INVALID_ARGUMENT', a.message);
        session[key] = m.value;
      }
    }
    this.sessionList.push(session);
    this.sessionOf.set(pd, session);
    return ok(session);
  }

  /** Creates a thread in a session's PD (paid with one capability). */
  createThread(session: PdSession, name: string, cpu: number): Result<Thread, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    const q = session.quota.withdraw(COSTS.thread.ram, COSTS.thread.caps, `thread '${name}'`);
    if (!q.ok) return q;
    return ok(session.pd.addThread(this.nextId++, name, cpu));
  }

  /** Destroys a thread, dequeuing it if it was a faulter. */
  destroyThread(t: Thread): void {
    if (t.state === 'destroyed') return;
    this.pager.dequeue(t);
    t.state = 'destroyed';
    this.sessionOf.get(t.pd)?.quota.replenish(COSTS.thread.ram, COSTS.thread.caps);
  }

  /** Allocates a RAM or ROM dataspace: quota first, then physical memory, then the charge. */
  allocPhysDs(
    session: PdSession,
    kind: DataspaceKind,
    size: number,
    writeable: boolean,
    opts: { cpu?: number; cache?: CacheAttr },
  ): Result<Dataspace, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    if (!Number.isSafeInteger(size) || size <= 0) {
      return err('INVALID_ARGUMENT', `dataspace size must be a positive integer, got ${size}`);
    }
    const page = this.core.pageSize;
    const bytes = Math.ceil(size / page) * page;
    const q = session.quota.check(bytes, COSTS.dataspace.caps, `a ${kind} dataspace of ${sizeName(bytes)}`);
    if (!q.ok) return q;
    const a = this.core.phys.alloc(bytes, opts.cpu ?? 0);
    if (!a.ok) return a;
    session.quota.withdraw(bytes, COSTS.dataspace.caps, 'dataspace');
    const ds = new Dataspace(
      this.nextId++,
      kind,
      bytes,
      a.value.base,
      writeable,
      opts.cache ?? 'cached',
      session,
      null,
      a.value.partition,
    );
    session.dataspaces.add(ds);
    this.core.caps.created(session, ds, 'dataspace', `${kind} dataspace of ${sizeName(bytes)}`);
    return ok(ds);
  }

  /** Creates an I/O memory dataspace for a device range (page aligned, not RAM). */
  allocIoMem(
    session: PdSession,
    base: number,
    size: number,
    cache: CacheAttr,
  ): Result<Dataspace, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || size <= 0) {
      return err('INVALID_ARGUMENT', `I/O memory needs integer base and positive size, got ${base}+${size}`);
    }
    const page = this.core.pageSize;
    if (!isAligned(base, page) || !isAligned(size, page)) {
      return err(
        'INVALID_ARGUMENT',
        `I/O memory ${hex(base)}+${hex(size)} must be aligned to ${sizeName(page)}`,
      );
    }
    const q = session.quota.withdraw(COSTS.dataspace.ram, COSTS.dataspace.caps, 'an I/O memory dataspace');
    if (!q.ok) return q;
    const ds = new Dataspace(this.nextId++, 'io_mem', size, base, true, cache, session, null);
    session.dataspaces.add(ds);
    this.core.caps.created(session, ds, 'dataspace', `I/O memory ${hex(base)}`);
    return ok(ds);
  }

  /**
   * Creates a region map of `size` bytes rounded up to the page size (as Genode's
   * `Region_map_component` constructor does), usable as a managed dataspace.
   */
  createRegionMap(session: PdSession, requested: number, firstAddress = 0): Result<RegionMap, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    const page = this.core.pageSize;
    if (!Number.isSafeInteger(requested) || requested <= 0) {
      return err('INVALID_ARGUMENT', `region map size must be a positive integer, got ${requested}`);
    }
    const size = Math.ceil(requested / page) * page;
    if (!Number.isSafeInteger(size)) {
      return err('INVALID_ARGUMENT', `region map size ${requested} rounded up to pages is too large`);
    }
    const q = session.quota.withdraw(COSTS.regionMap.ram, COSTS.regionMap.caps, 'a region map');
    if (!q.ok) return q;
    const map = new RegionMap(this.nextId++, session, size, this.env, firstAddress);
    map.dataspace = new Dataspace(this.nextId++, 'managed', size, 0, true, 'cached', session, map);
    session.regionMaps.add(map);
    const caps = this.core.caps;
    caps.created(session, map, 'region-map', `region map #${map.id}`);
    caps.created(session, map.dataspace, 'dataspace', `managed dataspace of region map #${map.id}`);
    return ok(map);
  }

  /** Creates a signal context owned by a session. */
  createSignalContext(session: PdSession, label: string): Result<SignalContext, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    const q = session.quota.withdraw(COSTS.signalContext.ram, COSTS.signalContext.caps, 'a signal context');
    if (!q.ok) return q;
    const ctx = new SignalContext(this.nextId++, session, label);
    this.core.caps.created(session, ctx, 'signal-context', label);
    return ok(ctx);
  }

  /**
   * Frees a dataspace owned by `actor`; attaching regions become reserved holes. A foreign free
   * changes nothing and is answered `ignored` (Genode's `free_ram` checks the owner silently).
   */
  free(actor: PdSession, ds: Dataspace): Result<OwnerOnlyOutcome, CoreErrorCode> {
    if (ds.destroyed) return err('DESTROYED', `${ds} was already destroyed`);
    if (ds.owner !== actor) return ok(notOwner(actor, ds));
    if (ds.managed) {
      this.destroyRegionMap(ds.managed);
      return ok(DONE);
    }
    for (const r of [...ds.regions]) r.map.reserve(r);
    ds.destroyed = true;
    this.core.caps.destroyed(ds);
    actor.dataspaces.delete(ds);
    if (ds.kind !== 'io_mem') {
      this.core.phys.free(ds.phys);
      actor.quota.replenish(ds.size, COSTS.dataspace.caps);
    } else actor.quota.replenish(COSTS.dataspace.ram, COSTS.dataspace.caps);
    return ok(DONE);
  }

  /**
   * Seals a RAM dataspace owned by `actor` (Genode's `Pd_session::seal_ram`): every later attach
   * is read-only. Existing attachments keep their rights and mappings. Like Genode, a seal by
   * another session or of a dataspace that is not RAM changes nothing (`ignored`).
   */
  seal(actor: PdSession, ds: Dataspace): Result<OwnerOnlyOutcome, CoreErrorCode> {
    if (ds.destroyed) return err('DESTROYED', `${ds} was destroyed`);
    if (ds.owner !== actor) return ok(notOwner(actor, ds));
    if (ds.kind !== 'ram') return ok({ kind: 'ignored', why: `${ds} is not RAM: only RAM is sealed` });
    ds.sealed = true;
    return ok(DONE);
  }

  /** Destroys a region map: detaches its regions, leaves reserved holes where it was attached. */
  destroyRegionMap(map: RegionMap): void {
    if (map.destroyed) return;
    for (const r of [...map.dataspace.regions]) r.map.reserve(r);
    this.pager.abandon(map, map.dissolve());
    map.dataspace.destroyed = true;
    this.core.caps.destroyed(map);
    this.core.caps.destroyed(map.dataspace);
    map.owner.regionMaps.delete(map);
    map.owner.quota.replenish(COSTS.regionMap.ram, COSTS.regionMap.caps);
  }

  /** Destroys a session and everything it owns; its quota returns to zero use. */
  destroyPd(session: PdSession): void {
    if (session.destroyed) return;
    for (const t of [...session.pd.threads]) this.destroyThread(t);
    for (const ds of [...session.dataspaces]) this.free(session, ds);
    for (const m of [...session.regionMaps]) this.destroyRegionMap(m);
    session.pd.pageTable.clear();
    session.destroyed = true;
    this.sessionList.splice(this.sessionList.indexOf(session), 1);
    this.sessionOf.delete(session.pd);
  }

  /** Destroys a signal context and unregisters it as fault handler wherever it was one. */
  destroySignalContext(ctx: SignalContext): void {
    if (ctx.destroyed) return;
    ctx.destroyed = true;
    this.core.caps.destroyed(ctx);
    ctx.owner.quota.replenish(COSTS.signalContext.ram, COSTS.signalContext.caps);
    for (const s of this.sessionList) {
      for (const m of s.regionMaps) if (m.faultHandler === ctx) m.faultHandler = null;
    }
  }
}
