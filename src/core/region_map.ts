/**
 * Region maps (Genode's `Region_map_component`): an address space of a given size made of
 * regions, each a window onto a dataspace. A region map can itself be attached elsewhere as a
 * managed dataspace. Unresolvable faults are queued here as faulters, and the fault handler is
 * told by an asynchronous signal; an attach wakes the faulters it covers.
 */
import sortedBtree from 'sorted-btree';
import { RangeAllocator } from '../hw/range_allocator.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { isAligned, log2Floor } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import type { Dataspace } from './dataspace.js';
import { type AccessType, type CoreEvent, faultTypeName } from './events.js';
import type { PdSession } from './pd_session.js';
import { COSTS } from './quota.js';
import { RegionIndex } from './region_index.js';
import { revokeRange } from './revoke.js';
import type { SignalContext } from './signal.js';

// sorted-btree is CommonJS with `exports.default`: Node's ESM interop hands over the module
// object (class at `.default`), bundlers and vitest hand over the class itself.
type BTreeClass = typeof sortedBtree.default;
const BTree: BTreeClass = (
  typeof sortedBtree === 'function' ? sortedBtree : sortedBtree.default
) as BTreeClass;
type Index = InstanceType<typeof BTree<number, Region>>;

/** A message when v is not a non-negative safe integer, else undefined. */
function badInteger(name: string, v: number): string | undefined {
  return Number.isSafeInteger(v) && v >= 0
    ? undefined
    : `attach ${name} must be a non-negative integer, got ${v}`;
}

/** A window of a dataspace attached to a region map. A reserved hole has no dataspace. */
export class Region {
  constructor(
    readonly map: RegionMap,
    readonly base: number,
    readonly size: number,
    /** Null once the dataspace was destroyed while attached: a reserved hole. */
    public dataspace: Dataspace | null,
    readonly offset: number,
    readonly writeable: boolean,
    readonly executable: boolean,
  ) {}

  /** One past the last address. */
  get end(): number {
    return this.base + this.size;
  }

  /** True for a reserved hole left by a destroyed dataspace. */
  get reserved(): boolean {
    return this.dataspace === null;
  }

  toString(): string {
    const what = this.dataspace ? `${this.dataspace.kind} dataspace #${this.dataspace.id}` : 'reserved hole';
    const rights = `r${this.writeable ? 'w' : '-'}${this.executable ? 'x' : '-'}`;
    const off = this.offset ? ` offset ${hex(this.offset)}` : '';
    return `[${hex(this.base)}, ${hex(this.end)}) of region map #${this.map.id}: ${what}${off} ${rights}`;
  }
}

/** Options of `attach` (Genode's `Region_map::Attr`). */
export interface AttachAttr {
  /** Bytes to attach; 0 or absent means the rest of the dataspace after `offset`. Rounded up to pages. */
  readonly size?: number;
  /** Offset into the dataspace; page aligned and below the dataspace size. */
  readonly offset?: number;
  /** Where to attach; absent lets the map choose a naturally aligned free range. */
  readonly at?: number;
  readonly writeable?: boolean;
  readonly executable?: boolean;
}

/** Error codes of `attach`. */
export type AttachErrorCode =
  | 'REGION_CONFLICT'
  | 'INVALID_DATASPACE'
  | 'OUT_OF_RAM'
  | 'OUT_OF_CAPS'
  | 'INVALID_ARGUMENT';

/** A thread queued at a region map after an unresolvable fault. */
export interface Faulter {
  readonly thread: Thread;
  readonly access: AccessType;
  /** Fault address in this map's coordinates. */
  readonly address: number;
}

/** What `fault()` reports: the head faulter, or NONE. */
export interface FaultState {
  readonly type: 'READ' | 'WRITE' | 'EXEC' | 'NONE';
  readonly address: number;
}

/** What a region map needs from core. */
export interface RegionMapEnv {
  readonly pageSizeLog2: number;
  /** True when someone listens to events (so they are worth constructing). */
  readonly listening: boolean;
  emit(e: CoreEvent): void;
  /** A queued faulter's region appeared: make its thread ready to retry. */
  wake(f: Faulter, map: RegionMap): void;
  /** A region was attached (core maps it eagerly when the design says so). */
  attached(region: Region): void;
  /**
   * False when core does not revoke mappings itself: in the local-rm design mappings are made by
   * region mappers and revoked through the kernel's mapping database, not by core.
   */
  readonly revokes: boolean;
}

/** An address space made of regions. */
export class RegionMap {
  /** Regions by base address, in order (iteration, the next region). */
  private readonly index: Index = new BTree<number, Region>(undefined, (a, b) => a - b, 64);
  /**
   * Regions by the slots they meet: lookups in a few memory accesses at any count, and the fields
   * fault resolution reads (region_index.ts). Read-only outside this class.
   */
  readonly slots: RegionIndex;
  /** Free virtual ranges, for conflict checks and aligned placement. */
  private readonly space = new RangeAllocator();
  private readonly pair: [number, Region] = [0, null as unknown as Region];
  private readonly queue: Faulter[] = [];
  /** The fault handler, told by a signal about each unresolvable fault. */
  faultHandler: SignalContext | null = null;
  /** The managed dataspace that makes this map attachable elsewhere (set by core). */
  dataspace!: Dataspace;
  /** Page tables of protection domains using this map as their address space. */
  readonly addressSpaceOf: ProtectionDomain[] = [];
  destroyed = false;

  constructor(
    readonly id: number,
    readonly owner: PdSession,
    /** Size of the map's address range [0, size), a multiple of the page size. */
    readonly size: number,
    private readonly env: RegionMapEnv,
    /** First usable address (one page for address spaces, so null dereferences fault). */
    readonly firstAddress = 0,
  ) {
    if (size > firstAddress) this.space.addRange(firstAddress, size - firstAddress);
    this.slots = new RegionIndex(env.pageSizeLog2);
  }

  /** Number of regions (reserved holes included). */
  get regionCount(): number {
    return this.index.size;
  }

  /** The region containing addr (map coordinates), or null. O(1) expected. */
  lookup(addr: number): Region | null {
    return this.slots.lookup(addr);
  }

  /** The first region starting after addr, or null. O(log n). */
  nextRegion(addr: number): Region | null {
    const p = this.index.nextHigherPair(addr, this.pair);
    return p ? p[1] : null;
  }

  /** Every region in address order. */
  regions(): Region[] {
    return this.index.valuesArray();
  }

  /** The queued faulters, oldest first. */
  faulters(): readonly Faulter[] {
    return this.queue;
  }

  /** Genode's `Region_map::fault()`: the head faulter's type and address, or NONE. */
  fault(): FaultState {
    const f = this.queue[0];
    return f ? { type: faultTypeName(f.access), address: f.address } : { type: 'NONE', address: 0 };
  }

  /**
   * Attaches a window of `ds`. Checks everything first and changes nothing on error; on
   * success charges the owner's quota, wakes the faulters the new region covers and returns
   * the region.
   */
  attach(ds: Dataspace, attr: AttachAttr = {}): Result<Region, AttachErrorCode> {
    const page = 2 ** this.env.pageSizeLog2;
    if (this.destroyed) return err('INVALID_ARGUMENT', `region map #${this.id} was destroyed`);
    if (ds.destroyed) return err('INVALID_DATASPACE', `${ds} was destroyed and cannot be attached`);
    const offset = attr.offset ?? 0;
    const reqSize = attr.size ?? 0;
    const bad = badInteger('offset', offset) ?? badInteger('size', reqSize) ?? badInteger('at', attr.at ?? 0);
    if (bad) return err('INVALID_ARGUMENT', bad);
    if (!isAligned(offset, page)) {
      return err(
        'REGION_CONFLICT',
        `attach offset ${hex(offset)} is not aligned to the page size ${sizeName(page)}`,
      );
    }
    if (offset >= ds.size) {
      return err(
        'REGION_CONFLICT',
        `attach offset ${hex(offset)} lies outside ${ds} (expected below ${hex(ds.size)})`,
      );
    }
    const size = Math.ceil((reqSize === 0 ? ds.size - offset : reqSize) / page) * page;
    if (size + offset > ds.size) {
      return err(
        'REGION_CONFLICT',
        `attach of ${hex(size)} bytes at offset ${hex(offset)} exceeds ${ds} (size + offset must be <= ${hex(ds.size)})`,
      );
    }
    if (attr.at !== undefined && !isAligned(attr.at, page)) {
      return err(
        'REGION_CONFLICT',
        `attach address ${hex(attr.at)} is not aligned to the page size ${sizeName(page)}`,
      );
    }
    if (ds.managed && this.isEmbeddedIn(ds.managed)) {
      return err(
        'INVALID_DATASPACE',
        `attaching region map #${ds.managed.id} into region map #${this.id} would create a cycle`,
      );
    }
    const cost = this.owner.quota.check(
      COSTS.region.ram,
      COSTS.region.caps,
      `a region in region map #${this.id}`,
    );
    if (!cost.ok) return cost;

    const placed = this.place(size, attr.at, ds, offset);
    if (!placed.ok) return placed;
    const region = new Region(
      this,
      placed.value,
      size,
      ds,
      offset,
      // Sealing decides at attach time (Genode's Region_map_component::_attach): later ones are read-only.
      (attr.writeable ?? false) && !ds.sealed,
      attr.executable ?? false,
    );
    this.index.set(region.base, region);
    this.slots.add(region);
    this.owner.quota.withdraw(COSTS.region.ram, COSTS.region.caps, 'region');
    ds.regions.add(region);
    if (this.env.listening) this.env.emit({ type: 'attach', map: this, region });
    this.env.attached(region);
    this.wakeFaulters(region);
    return ok(region);
  }

  /**
   * Detaches the whole region containing addr, revokes every mapping derived from it (through
   * every map that embeds this one) and returns the region. Wakes nobody. Where no region
   * contains addr it does nothing and returns null, as Genode's `detach` does (no error).
   */
  detach(addr: number): Result<Region | null, 'INVALID_ARGUMENT'> {
    if (this.destroyed) return err('INVALID_ARGUMENT', `region map #${this.id} was destroyed`);
    const region = this.lookup(addr);
    if (!region) return ok(null);
    if (this.env.revokes) revokeRange(this, region.base, region.end, this.env.emit);
    region.dataspace?.regions.delete(region);
    this.index.delete(region.base);
    this.slots.remove(region);
    this.space.free(region.base, region.size);
    this.owner.quota.replenish(COSTS.region.ram, COSTS.region.caps);
    if (this.env.listening) this.env.emit({ type: 'detach', map: this, region });
    return ok(region);
  }

  /** Turns a region whose dataspace is being destroyed into a reserved hole (mappings revoked). */
  reserve(region: Region): void {
    const ds = region.dataspace;
    if (!ds) return;
    if (this.env.revokes) revokeRange(this, region.base, region.end, this.env.emit);
    region.dataspace = null;
    this.slots.reserve(region);
    this.env.emit({ type: 'reserved', map: this, region, dataspace: ds });
  }

  /** Queues a faulter (FIFO) and submits one signal to the fault handler, which must exist. */
  enqueueFaulter(f: Faulter): void {
    this.queue.push(f);
    const h = this.faultHandler!;
    h.submit();
    this.env.emit({ type: 'signal', context: h });
  }

  /** Removes a thread's faulter entry (thread destroyed). Returns true if it was queued here. */
  removeFaulter(t: Thread): boolean {
    const i = this.queue.findIndex((f) => f.thread === t);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Detaches every region (map destruction); queued faulters stay blocked and are returned. */
  dissolve(): Faulter[] {
    for (const r of this.regions()) this.detach(r.base);
    this.destroyed = true;
    return this.queue.splice(0);
  }

  /** True when `other` is this map or a map that (transitively) has this map attached. */
  isEmbeddedIn(other: RegionMap): boolean {
    if (other === this) return true;
    for (const r of this.dataspace.regions) if (r.map.isEmbeddedIn(other)) return true;
    return false;
  }

  /** Checks the free-space tree and that regions and free ranges tile the map exactly (for tests). */
  check(): void {
    this.space.check();
    let used = 0;
    let prevEnd = this.firstAddress;
    for (const r of this.regions()) {
      if (r.base < prevEnd || r.end > this.size) throw new Error(`region ${r} overlaps or lies outside`);
      prevEnd = r.end;
      used += r.size;
    }
    if (used + this.space.available !== this.size - this.firstAddress) {
      throw new Error(
        `region map #${this.id}: ${used} bytes used + ${this.space.available} free != its size`,
      );
    }
  }

  toString(): string {
    return `region map #${this.id} (${sizeName(this.size)}, ${this.regionCount} regions, ${this.queue.length} faulters)`;
  }

  /** Takes the virtual range for a new region and returns its base. */
  private place(
    size: number,
    at: number | undefined,
    ds: Dataspace,
    offset: number,
  ): Result<number, 'REGION_CONFLICT'> {
    if (at !== undefined) {
      if (!this.space.allocAt(at, size)) {
        const what =
          at < this.firstAddress || at + size > this.size ? 'lies outside' : 'overlaps a region of';
        return err('REGION_CONFLICT', `[${hex(at)}, ${hex(at + size)}) ${what} region map #${this.id}`);
      }
      return ok(at);
    }
    // Largest power-of-two alignment <= size, not above the backing store's alignment, then down to the page.
    const maxAlign = Math.min(log2Floor(size), ds.backingAlignLog2(offset));
    for (let al = maxAlign; al >= this.env.pageSizeLog2; al--) {
      const start = this.space.allocAligned(size, al);
      if (start >= 0) return ok(start);
    }
    return err('REGION_CONFLICT', `no free range of ${sizeName(size)} left in region map #${this.id}`);
  }

  private wakeFaulters(region: Region): void {
    if (this.queue.length === 0) return;
    const stay: Faulter[] = [];
    const woken: Faulter[] = [];
    for (const f of this.queue) (f.address >= region.base && f.address < region.end ? woken : stay).push(f);
    if (woken.length === 0) return;
    this.queue.length = 0;
    this.queue.push(...stay);
    for (const f of woken) this.env.wake(f, this);
  }
}
