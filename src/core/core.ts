/**
 * Core: the root of the memory model. It owns physical memory, creates PD sessions, dataspaces,
 * region maps and signal contexts, and contains the pager: the code a thread's page fault
 * reaches (Genode's `Rm_client::pager`). Pure and synchronous: time and cost come from the
 * simulator, which listens to core's events. This file holds the public API and the event
 * channel; object management lives in `core_objects.ts`, the pager in `core_pager.ts`.
 */
import {
  type Arch,
  type ArchName,
  arch as archByKnownName,
  type KernelProfile,
  mappingSizesLog2,
} from '../hw/arch.js';
import { PhysicalMemory, type RamRange } from '../hw/phys_mem.js';
import type { Right } from '../kernel/capability.js';
import type { Thread } from '../kernel/thread.js';
import { isAligned } from '../util/bits.js';
import { hex } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import { CoreCapabilities } from './capabilities.js';
import { type CoreErrorCode, CoreObjects, type OwnerOnlyOutcome, type PdOptions } from './core_objects.js';
import { type AccessOutcome, type FaultOutcome, Pager } from './core_pager.js';
import type { CacheAttr, Dataspace } from './dataspace.js';
import { mapEagerly } from './eager.js';
import type { AccessType, CoreEvent, CoreEventListener } from './events.js';
import type { PdSession } from './pd_session.js';
import type { AttachAttr, AttachErrorCode, Region, RegionMap, RegionMapEnv } from './region_map.js';
import { type Resolution, resolve, type SizePolicy } from './resolve.js';
import type { SignalContext } from './signal.js';

// Declared beside the code that produces them; re-exported so that `core.js` stays core's one entry.
export {
  type CoreErrorCode,
  LINKER_AREA,
  type OwnerOnlyOutcome,
  type PdOptions,
  STACK_AREA,
} from './core_objects.js';
export type { AccessOutcome, FaultOutcome } from './core_pager.js';

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

/** The core component. */
export class Core {
  readonly arch: Arch;
  readonly policy: SizePolicy;
  readonly phys: PhysicalMemory;
  private readonly listeners: CoreEventListener[] = [];
  private readonly env: RegionMapEnv;
  private readonly pager: Pager;
  private readonly objects: CoreObjects;
  /** Capability spaces: who may use which object. */
  readonly caps = new CoreCapabilities();
  /**
   * Design option: map every attached region at once in every address space that embeds it,
   * instead of on demand (off by default, as in Genode).
   */
  eagerMapping = false;
  /**
   * Design option: core revokes the mappings derived from a detached region itself (Genode). Off
   * in the local-rm design, where the kernel's mapping database does it and core keeps no record.
   */
  revokesMappings = true;

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
    const self = this;
    this.env = {
      pageSizeLog2: this.arch.pageSizesLog2[0]!,
      get listening() {
        return listeners.length > 0;
      },
      emit: (e) => this.emit(e),
      get revokes() {
        return self.revokesMappings;
      },
      wake: (f, map) => this.pager.wake(f, map),
      attached: (region) => {
        if (!this.eagerMapping) return;
        const mappings = mapEagerly(region.map, region.base, region.end, this.policy);
        if (mappings.length > 0) this.emit({ type: 'eager', region, mappings });
      },
    };
    this.pager = new Pager(this.policy, this.env, (t) => this.addressSpaceOf(t));
    this.objects = new CoreObjects(this, this.env, this.pager);
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
    return this.objects.sessions();
  }

  /** Creates a PD session with its address space (and optionally stack and linker areas). */
  createPd(label: string, opts: PdOptions = {}): Result<PdSession, CoreErrorCode> {
    return this.objects.createPd(label, opts);
  }

  /** Creates a thread in a session's PD (paid with one capability). */
  createThread(session: PdSession, name: string, cpu = 0): Result<Thread, CoreErrorCode> {
    return this.objects.createThread(session, name, cpu);
  }

  /** Destroys a thread, dequeuing it if it was a faulter. */
  destroyThread(t: Thread): void {
    this.objects.destroyThread(t);
  }

  /** Allocates a zero-filled RAM dataspace from the session's quota and physical memory. */
  allocRam(
    session: PdSession,
    size: number,
    opts: { cpu?: number; cache?: CacheAttr } = {},
  ): Result<Dataspace, CoreErrorCode> {
    return this.objects.allocPhysDs(session, 'ram', size, true, opts);
  }

  /** Allocates a read-only ROM dataspace (backed by physical memory). */
  allocRom(session: PdSession, size: number): Result<Dataspace, CoreErrorCode> {
    return this.objects.allocPhysDs(session, 'rom', size, false, {});
  }

  /** Creates an I/O memory dataspace for a device range (page aligned, not RAM). */
  allocIoMem(
    session: PdSession,
    base: number,
    size: number,
    cache: CacheAttr = 'uncached',
  ): Result<Dataspace, CoreErrorCode> {
    return this.objects.allocIoMem(session, base, size, cache);
  }

  /** Creates a region map of `size` bytes rounded up to the page size, usable as a managed dataspace. */
  createRegionMap(session: PdSession, size: number, firstAddress = 0): Result<RegionMap, CoreErrorCode> {
    return this.objects.createRegionMap(session, size, firstAddress);
  }

  /** Creates a signal context owned by a session. */
  createSignalContext(session: PdSession, label: string): Result<SignalContext, CoreErrorCode> {
    return this.objects.createSignalContext(session, label);
  }

  /**
   * Frees a dataspace. Only the owner's free counts; a foreign free changes nothing and, as in
   * Genode, is no error (the outcome says `ignored`). Regions still attaching it become reserved
   * holes. Freeing a managed dataspace destroys its region map.
   */
  free(actor: PdSession, ds: Dataspace): Result<OwnerOnlyOutcome, CoreErrorCode> {
    return this.objects.free(actor, ds);
  }

  /**
   * Seals a RAM dataspace (Genode's `Pd_session::seal_ram`): every attachment made from now on
   * is read-only, so a write through it is a WRITE violation. Existing attachments keep their
   * rights and mappings, and old and new attachments alias the same memory. A seal by another
   * session, or of anything but RAM, changes nothing (`ignored`).
   */
  seal(actor: PdSession, ds: Dataspace): Result<OwnerOnlyOutcome, CoreErrorCode> {
    return this.objects.seal(actor, ds);
  }

  /** Destroys a region map: detaches its regions, leaves reserved holes where it was attached. */
  destroyRegionMap(map: RegionMap): void {
    this.objects.destroyRegionMap(map);
  }

  /** Destroys a session and everything it owns; its quota returns to zero use. */
  destroyPd(session: PdSession): void {
    this.objects.destroyPd(session);
  }

  /** Destroys a signal context and returns its capability. */
  destroySignalContext(ctx: SignalContext): void {
    this.objects.destroySignalContext(ctx);
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

  /**
   * Detaches on behalf of `actor`, which needs the `attach` right on the map. Where no region
   * contains `addr` nothing happens (null).
   */
  detachAs(
    actor: PdSession,
    map: RegionMap,
    addr: number,
  ): Result<Region | null, 'INVALID_ARGUMENT' | 'NO_CAPABILITY'> {
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
    return this.objects.addressSpaceOf(t);
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
    return this.pager.pageFault(t, va, access, detail);
  }

  /** The region map a blocked faulter waits at, if any. */
  waitingAt(t: Thread): RegionMap | undefined {
    return this.pager.waitingAt(t);
  }

  private emit(e: CoreEvent): void {
    for (const l of this.listeners) l(e);
  }
}
