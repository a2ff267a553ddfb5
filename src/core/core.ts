/**
 * Core: the root of the memory model. It owns physical memory, creates PD sessions, dataspaces,
 * region maps and signal contexts, and contains the pager: the code a thread's page fault
 * reaches (Genode's `Rm_client::pager`). Pure and synchronous: time and cost come from the
 * simulator, which listens to core's events.
 */
import {
  type Arch,
  type ArchName,
  arch as archByKnownName,
  type KernelProfile,
  mappingSizesLog2,
} from '../hw/arch.js';
import { Mapping } from '../hw/page_table.js';
import { PhysicalMemory, type RamRange } from '../hw/phys_mem.js';
import type { Right } from '../kernel/capability.js';
import { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { isAligned } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import { CoreCapabilities } from './capabilities.js';
import { type CacheAttr, Dataspace, type DataspaceKind } from './dataspace.js';
import { mapEagerly } from './eager.js';
import {
  type AccessType,
  type CoreEvent,
  type CoreEventListener,
  illegalAccessText,
  TOO_DEEP_TEXT,
  violationText,
} from './events.js';
import { PdSession } from './pd_session.js';
import { COSTS, Quota } from './quota.js';
import {
  type AttachAttr,
  type AttachErrorCode,
  type Faulter,
  type Region,
  RegionMap,
  type RegionMapEnv,
} from './region_map.js';
import { type Resolution, resolve, type SizePolicy } from './resolve.js';
import { revokeRange } from './revoke.js';
import { SignalContext } from './signal.js';

/** How core is set up. */
export interface CoreConfig {
  /** Architecture (default x86_64). */
  readonly arch?: ArchName | Arch;
  /** Optional kernel clamp of mapping sizes. */
  readonly kernel?: KernelProfile;
  /** Physical RAM (default 4 GiB at 1 GiB). */
  readonly ram?: readonly RamRange[];
  /** 1 = one global allocator; N = one partition per CPU. */
  readonly partitions?: number;
}

/** Options of a new PD session. */
export interface PdOptions {
  /** RAM quota in bytes (default 1 GiB). */
  readonly ram?: number;
  /** Capability quota (default 1000). */
  readonly caps?: number;
  /** Attach Genode-style stack and linker areas as managed dataspaces (default false). */
  readonly areas?: boolean;
}

/** What an access by a thread led to. */
export type AccessOutcome =
  | { readonly kind: 'hit'; readonly mapping: Mapping }
  | { readonly kind: 'mapped'; readonly mapping: Mapping; readonly resolution: Resolution }
  | {
      readonly kind: 'reflected';
      readonly map: RegionMap;
      readonly address: number;
      readonly resolution: Resolution;
    }
  | { readonly kind: 'error'; readonly text: string; readonly resolution: Resolution };

/** What the pager made of a fault (an access outcome other than a hit). */
export type FaultOutcome = Exclude<AccessOutcome, { readonly kind: 'hit' }>;

/** Error codes of core operations other than attach. */
export type CoreErrorCode =
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_RAM'
  | 'OUT_OF_CAPS'
  | 'OUT_OF_PHYSICAL_MEMORY'
  | 'NOT_OWNER'
  | 'DESTROYED'
  | 'THREAD_BLOCKED';

/** Genode's default stack area and linker area (virtual base and size). */
export const STACK_AREA = { base: 0x40000000, size: 0x10000000 } as const;
export const LINKER_AREA = { base: 0x50000000, size: 0x10000000 } as const;

/** The core component. */
export class Core {
  readonly arch: Arch;
  readonly policy: SizePolicy;
  readonly phys: PhysicalMemory;
  private readonly listeners: CoreEventListener[] = [];
  private readonly sessionList: PdSession[] = [];
  /** Where each queued faulter waits. */
  private readonly faulterAt = new Map<Thread, RegionMap>();
  private readonly sessionOf = new Map<ProtectionDomain, PdSession>();
  private nextId = 1;
  private readonly env: RegionMapEnv;
  /** Capability spaces: who may use which object. */
  readonly caps = new CoreCapabilities();
  /**
   * Design option: map every attached region at once in every address space that embeds it,
   * instead of on demand (off by default, as in Genode).
   */
  eagerMapping = false;

  /** Creates core; throws only for an invalid configuration (use `Core.create` for a Result). */
  constructor(config: CoreConfig = {}) {
    const c = Core.validate(config);
    if (!c.ok) throw new Error(c.message);
    this.arch = c.value.arch;
    this.policy = c.value.policy;
    this.phys = new PhysicalMemory(
      config.ram ?? [{ base: 0x40000000, size: 0x100000000 }],
      this.arch.pageSizesLog2[0]!,
      config.partitions ?? 1,
    );
    const listeners = this.listeners;
    this.env = {
      pageSizeLog2: this.arch.pageSizesLog2[0]!,
      get listening() {
        return listeners.length > 0;
      },
      emit: (e) => this.emit(e),
      wake: (f, map) => this.wake(f, map),
      attached: (region) => {
        if (!this.eagerMapping) return;
        const mappings = mapEagerly(region.map, region.base, region.end, this.policy);
        if (mappings.length > 0) this.emit({ type: 'eager', region, mappings });
      },
    };
  }

  /** Validates a configuration and creates core. */
  static create(config: CoreConfig = {}): Result<Core, 'INVALID_ARGUMENT' | 'UNKNOWN_ARCH'> {
    const c = Core.validate(config);
    return c.ok ? ok(new Core(config)) : c;
  }

  private static validate(
    config: CoreConfig,
  ): Result<{ arch: Arch; policy: SizePolicy }, 'INVALID_ARGUMENT'> {
    const a = typeof config.arch === 'object' ? config.arch : archByKnownName(config.arch ?? 'x86_64');
    if (!a) return err('INVALID_ARGUMENT', `unknown architecture '${String(config.arch)}'`);
    const sizes = mappingSizesLog2(a, config.kernel);
    if (!sizes.ok) return sizes;
    const page = 2 ** a.pageSizesLog2[0]!;
    for (const r of config.ram ?? []) {
      if (!isAligned(r.base, page) || !isAligned(r.size, page) || r.size <= 0) {
        return err(
          'INVALID_ARGUMENT',
          `RAM range ${hex(r.base)}+${hex(r.size)} must be page aligned and non-empty`,
        );
      }
    }
    const parts = config.partitions ?? 1;
    if (!Number.isInteger(parts) || parts < 1) {
      return err('INVALID_ARGUMENT', `partitions must be a positive integer, got ${parts}`);
    }
    return ok({ arch: a, policy: { archSizesLog2: a.pageSizesLog2, mapSizesLog2: sizes.value } });
  }

  /** Smallest page size in bytes. */
  get pageSize(): number {
    return 2 ** this.arch.pageSizesLog2[0]!;
  }

  /** Subscribes to core's events. */
  onEvent(fn: CoreEventListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Live PD sessions in creation order. */
  sessions(): readonly PdSession[] {
    return this.sessionList;
  }

  /** Creates a PD session with its address space (and optionally stack and linker areas). */
  createPd(label: string, opts: PdOptions = {}): Result<PdSession, CoreErrorCode> {
    const quota = new Quota(opts.ram ?? 2 ** 30, opts.caps ?? 1000);
    const pd = new ProtectionDomain(this.nextId++, label, this.policy.mapSizesLog2);
    const session = new PdSession(pd.id, pd, quota);
    const half = this.arch.vaBits >= 39 ? 2 ** (this.arch.vaBits - 1) : 2 ** this.arch.vaBits;
    const space = this.createRegionMap(session, half, this.pageSize);
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
  createThread(session: PdSession, name: string, cpu = 0): Result<Thread, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    const q = session.quota.withdraw(COSTS.thread.ram, COSTS.thread.caps, `thread '${name}'`);
    if (!q.ok) return q;
    return ok(session.pd.addThread(this.nextId++, name, cpu));
  }

  /** Destroys a thread, dequeuing it if it was a faulter. */
  destroyThread(t: Thread): void {
    if (t.state === 'destroyed') return;
    this.faulterAt.get(t)?.removeFaulter(t);
    this.faulterAt.delete(t);
    t.state = 'destroyed';
    this.sessionOf.get(t.pd)?.quota.replenish(COSTS.thread.ram, COSTS.thread.caps);
  }

  /** Allocates a zero-filled RAM dataspace from the session's quota and physical memory. */
  allocRam(
    session: PdSession,
    size: number,
    opts: { cpu?: number; cache?: CacheAttr } = {},
  ): Result<Dataspace, CoreErrorCode> {
    return this.allocPhysDs(session, 'ram', size, true, opts);
  }

  /** Allocates a read-only ROM dataspace (backed by physical memory). */
  allocRom(session: PdSession, size: number): Result<Dataspace, CoreErrorCode> {
    return this.allocPhysDs(session, 'rom', size, false, {});
  }

  /** Creates an I/O memory dataspace for a device range (page aligned, not RAM). */
  allocIoMem(
    session: PdSession,
    base: number,
    size: number,
    cache: CacheAttr = 'uncached',
  ): Result<Dataspace, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || size <= 0) {
      return err('INVALID_ARGUMENT', `I/O memory needs integer base and positive size, got ${base}+${size}`);
    }
    if (!isAligned(base, this.pageSize) || !isAligned(size, this.pageSize)) {
      return err(
        'INVALID_ARGUMENT',
        `I/O memory ${hex(base)}+${hex(size)} must be aligned to ${sizeName(this.pageSize)}`,
      );
    }
    const q = session.quota.withdraw(COSTS.dataspace.ram, COSTS.dataspace.caps, 'an I/O memory dataspace');
    if (!q.ok) return q;
    const ds = new Dataspace(this.nextId++, 'io_mem', size, base, true, cache, session, null);
    session.dataspaces.add(ds);
    this.caps.created(session, ds, 'dataspace', `I/O memory ${hex(base)}`);
    return ok(ds);
  }

  /** Creates a region map of `size` bytes, usable as a managed dataspace. */
  createRegionMap(session: PdSession, size: number, firstAddress = 0): Result<RegionMap, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    if (!Number.isSafeInteger(size) || size <= 0 || !isAligned(size, this.pageSize)) {
      return err(
        'INVALID_ARGUMENT',
        `region map size must be a positive multiple of ${sizeName(this.pageSize)}, got ${size}`,
      );
    }
    const q = session.quota.withdraw(COSTS.regionMap.ram, COSTS.regionMap.caps, 'a region map');
    if (!q.ok) return q;
    const map = new RegionMap(this.nextId++, session, size, this.env, firstAddress);
    map.dataspace = new Dataspace(this.nextId++, 'managed', size, 0, true, 'cached', session, map);
    session.regionMaps.add(map);
    this.caps.created(session, map, 'region-map', `region map #${map.id}`);
    this.caps.created(session, map.dataspace, 'dataspace', `managed dataspace of region map #${map.id}`);
    return ok(map);
  }

  /** Creates a signal context owned by a session. */
  createSignalContext(session: PdSession, label: string): Result<SignalContext, CoreErrorCode> {
    if (session.destroyed) return err('DESTROYED', `${session} was destroyed`);
    const q = session.quota.withdraw(COSTS.signalContext.ram, COSTS.signalContext.caps, 'a signal context');
    if (!q.ok) return q;
    const ctx = new SignalContext(this.nextId++, session, label);
    this.caps.created(session, ctx, 'signal-context', label);
    return ok(ctx);
  }

  /**
   * Frees a dataspace. Only the owner's free counts; a foreign free is ignored and answered
   * NOT_OWNER. Regions still attaching it become reserved holes. Freeing a managed dataspace
   * destroys its region map.
   */
  free(actor: PdSession, ds: Dataspace): Result<void, CoreErrorCode> {
    if (ds.destroyed) return err('DESTROYED', `${ds} was already destroyed`);
    if (ds.owner !== actor) return err('NOT_OWNER', `'${actor.label}' does not own ${ds}; free ignored`);
    if (ds.managed) {
      this.destroyRegionMap(ds.managed);
      return ok(undefined);
    }
    for (const r of [...ds.regions]) r.map.reserve(r);
    ds.destroyed = true;
    this.caps.destroyed(ds);
    actor.dataspaces.delete(ds);
    if (ds.kind !== 'io_mem') {
      this.phys.free(ds.phys);
      actor.quota.replenish(ds.size, COSTS.dataspace.caps);
    } else actor.quota.replenish(COSTS.dataspace.ram, COSTS.dataspace.caps);
    return ok(undefined);
  }

  /**
   * Seals a dataspace: from now on it is read-only for everyone. Mappings derived from it are
   * revoked so that a later write faults (and is reported as a violation).
   */
  seal(actor: PdSession, ds: Dataspace): Result<void, CoreErrorCode> {
    if (ds.destroyed) return err('DESTROYED', `${ds} was destroyed`);
    if (ds.owner !== actor) return err('NOT_OWNER', `'${actor.label}' does not own ${ds}; seal refused`);
    if (ds.kind === 'managed')
      return err('INVALID_ARGUMENT', `${ds} is managed: seal the dataspaces attached in it`);
    ds.writeable = false;
    for (const r of ds.regions) revokeRange(r.map, r.base, r.end, (e) => this.emit(e));
    return ok(undefined);
  }

  /** Destroys a region map: detaches its regions, leaves reserved holes where it was attached. */
  destroyRegionMap(map: RegionMap): void {
    if (map.destroyed) return;
    for (const r of [...map.dataspace.regions]) r.map.reserve(r);
    for (const f of map.dissolve()) {
      this.faulterAt.delete(f.thread);
      f.thread.state = 'dead-fault';
      this.emit({
        type: 'error',
        thread: f.thread,
        text: `region map #${map.id} destroyed while '${f.thread.name}' waited for it`,
      });
    }
    map.dataspace.destroyed = true;
    this.caps.destroyed(map);
    this.caps.destroyed(map.dataspace);
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

  /** Destroys a signal context and returns its capability. */
  destroySignalContext(ctx: SignalContext): void {
    if (ctx.destroyed) return;
    ctx.destroyed = true;
    this.caps.destroyed(ctx);
    ctx.owner.quota.replenish(COSTS.signalContext.ram, COSTS.signalContext.caps);
    for (const s of this.sessionList) {
      for (const m of s.regionMaps) if (m.faultHandler === ctx) m.faultHandler = null;
    }
  }

  /**
   * Attaches on behalf of `actor`: it needs the `attach` right on the map and the `use` right on
   * the dataspace; without them nothing changes (NO_CAPABILITY).
   */
  attachAs(
    actor: PdSession,
    map: RegionMap,
    ds: Dataspace,
    attr: AttachAttr = {},
  ): Result<Region, AttachErrorCode | 'NO_CAPABILITY'> {
    const a = this.caps.check(actor, map, 'attach');
    if (!a.ok) return a;
    const u = this.caps.check(actor, ds, 'use');
    if (!u.ok) return u;
    return map.attach(ds, attr);
  }

  /** Detaches on behalf of `actor`, which needs the `attach` right on the map. */
  detachAs(
    actor: PdSession,
    map: RegionMap,
    addr: number,
  ): Result<Region, 'NO_REGION' | 'INVALID_ARGUMENT' | 'NO_CAPABILITY'> {
    const a = this.caps.check(actor, map, 'attach');
    if (!a.ok) return a;
    return map.detach(addr);
  }

  /** Registers a fault handler on behalf of `actor`: `register-handler` on the map, `use` on the context. */
  setFaultHandlerAs(
    actor: PdSession,
    map: RegionMap,
    ctx: SignalContext | null,
  ): Result<void, CoreErrorCode | 'NO_CAPABILITY'> {
    const h = this.caps.check(actor, map, 'register-handler');
    if (!h.ok) return h;
    if (ctx) {
      const u = this.caps.check(actor, ctx, 'use');
      if (!u.ok) return u;
    }
    return this.setFaultHandler(map, ctx);
  }

  /** Destroys a region map on behalf of `actor`, which needs the `destroy` right on it. */
  destroyRegionMapAs(actor: PdSession, map: RegionMap): Result<void, 'NO_CAPABILITY'> {
    const d = this.caps.check(actor, map, 'destroy');
    if (!d.ok) return d;
    this.destroyRegionMap(map);
    return ok(undefined);
  }

  /** Hands rights on an object from one session to another (at most what `from` holds). */
  delegate(
    from: PdSession,
    to: PdSession,
    obj: { readonly id: number },
    rights: readonly Right[],
  ): Result<void, 'NO_CAPABILITY' | 'INVALID_RIGHTS'> {
    return this.caps.delegate(from, to, obj, rights);
  }

  /** Installs (or with null removes) the fault handler of a region map. */
  setFaultHandler(map: RegionMap, ctx: SignalContext | null): Result<void, CoreErrorCode> {
    if (map.destroyed) return err('DESTROYED', `region map #${map.id} was destroyed`);
    if (ctx?.destroyed) return err('DESTROYED', `${ctx} was destroyed`);
    map.faultHandler = ctx;
    return ok(undefined);
  }

  /** The region map of the session that owns a thread's PD. */
  addressSpaceOf(t: Thread): RegionMap {
    const s = this.sessionOf.get(t.pd);
    if (!s || s.destroyed) throw new Error(`${t} has no live PD session`);
    return s.addressSpace;
  }

  /** Resolves a fault without changing anything (for `explain` and tests). */
  resolve(t: Thread, va: number, access: AccessType, detail = true): Resolution {
    return resolve(this.addressSpaceOf(t), va, access, this.policy, detail);
  }

  /**
   * A thread accesses `va`: a hit when its page table already maps it with the needed rights,
   * otherwise a page fault handled by the pager.
   */
  access(t: Thread, va: number, access: AccessType, detail = false): Result<AccessOutcome, CoreErrorCode> {
    if (t.blocked) return err('THREAD_BLOCKED', `${t} cannot access memory while ${t.state}`);
    if (!Number.isSafeInteger(va) || va < 0)
      return err('INVALID_ARGUMENT', `address must be a non-negative integer, got ${va}`);
    const m = t.pd.pageTable.lookup(va);
    if (m && (access !== 'write' || m.writeable) && (access !== 'exec' || m.executable))
      return ok({ kind: 'hit', mapping: m });
    return ok(this.pageFault(t, va, access, detail));
  }

  /**
   * Reads the byte at `va` as thread t, faulting it in first if needed. Returns the value, or
   * the access outcome when the read did not complete (reflected or error).
   */
  read(t: Thread, va: number): Result<{ value: number; outcome: AccessOutcome }, CoreErrorCode> {
    const r = this.access(t, va, 'read');
    if (!r.ok) return r;
    const o = r.value;
    if (o.kind !== 'hit' && o.kind !== 'mapped') return ok({ value: Number.NaN, outcome: o });
    return ok({ value: this.phys.read(o.mapping.pa + (va - o.mapping.va)), outcome: o });
  }

  /** Writes a byte at `va` as thread t (faulting it in first); the write happens only if the access completes. */
  write(t: Thread, va: number, value: number): Result<AccessOutcome, CoreErrorCode> {
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      return err('INVALID_ARGUMENT', `a written value must be a byte (0..255), got ${value}`);
    }
    const r = this.access(t, va, 'write');
    if (!r.ok) return r;
    const o = r.value;
    if (o.kind === 'hit' || o.kind === 'mapped') this.phys.write(o.mapping.pa + (va - o.mapping.va), value);
    return r;
  }

  /** The pager: resolve the fault and install the mapping, or reflect it, or report an error. */
  pageFault(t: Thread, va: number, access: AccessType, detail = false): FaultOutcome {
    const listening = this.listeners.length > 0;
    if (listening) this.emit({ type: 'fault', thread: t, address: va, access });
    const res = resolve(this.addressSpaceOf(t), va, access, this.policy, detail);
    if (res.kind === 'mapped') {
      const mapping = new Mapping(res.va, res.pa, res.sizeLog2, res.writeable, res.executable);
      t.pd.pageTable.install(mapping);
      t.state = 'ready';
      if (listening) this.emit({ type: 'resolved', thread: t, mapping, resolution: res });
      return { kind: 'mapped', mapping, resolution: res };
    }
    if (res.kind === 'too-deep') return this.fail(t, TOO_DEEP_TEXT, res);
    const handler = res.map.faultHandler;
    if (!handler) {
      const text =
        res.reason === 'NO_REGION' || res.reason === 'RESERVED'
          ? illegalAccessText(t, access, va)
          : violationText(t, access, va);
      return this.fail(t, text, res);
    }
    t.state = 'blocked-fault';
    this.faulterAt.set(t, res.map);
    this.emit({ type: 'reflected', thread: t, map: res.map, address: res.address, access, resolution: res });
    res.map.enqueueFaulter({ thread: t, access, address: res.address });
    return { kind: 'reflected', map: res.map, address: res.address, resolution: res };
  }

  /** The region map a blocked faulter waits at, if any. */
  waitingAt(t: Thread): RegionMap | undefined {
    return this.faulterAt.get(t);
  }

  private fail(t: Thread, text: string, resolution: Resolution): FaultOutcome {
    t.state = 'dead-fault';
    this.emit({ type: 'error', thread: t, text });
    return { kind: 'error', text, resolution };
  }

  private wake(f: Faulter, map: RegionMap): void {
    this.faulterAt.delete(f.thread);
    if (f.thread.state === 'blocked-fault') f.thread.state = 'ready';
    this.emit({ type: 'wakeup', thread: f.thread, map, address: f.address });
  }

  private allocPhysDs(
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
    const bytes = Math.ceil(size / this.pageSize) * this.pageSize;
    const q = session.quota.check(bytes, COSTS.dataspace.caps, `a ${kind} dataspace of ${sizeName(bytes)}`);
    if (!q.ok) return q;
    const a = this.phys.alloc(bytes, opts.cpu ?? 0);
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
    this.caps.created(session, ds, 'dataspace', `${kind} dataspace of ${sizeName(bytes)}`);
    return ok(ds);
  }

  private emit(e: CoreEvent): void {
    for (const l of this.listeners) l(e);
  }
}
