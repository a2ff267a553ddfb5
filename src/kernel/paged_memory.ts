/**
 * A paged memory under a RAM limit (issue 16, seed 003): which units of an address range are
 * resident in which frames, where the others are, and what to do on a fault or when a frame is
 * needed. Timeless and I/O-free: it decides, the simulator moves data and charges time. The
 * kernel (Brendan's design) and a user-level dataspace manager (Genode's) use it alike.
 *
 * Where a page that is not resident is, lives in its **not-present page-table entry**, encoded in
 * the architecture's format (`hw/pte.ts`): all zero for anonymous memory never written (a fault
 * zero-fills it again), a swap block number, or the index of a memory-mapped range. The entry is
 * written on eviction and decoded on the fault, so a block number really travels through the PTE.
 *
 * Anonymous memory behaves as in Linux: a page written at least once lives in RAM or in swap from
 * then on; a page never written is dropped on eviction. Only dirty pages are written out: a page
 * read back from swap keeps its block (swap cache) and is dropped without I/O while clean, and
 * reuses the block when it was dirtied. File pages go back to their file when dirty.
 *
 * Units in transit (being written out or read in) are marked so that nobody else maps or evicts
 * them meanwhile; a second fault on one waits for the transfer.
 */
import { decodePte, encodeMmapPte, encodeSwapPte } from '../hw/pte.js';
import { hex } from '../util/hex.js';
import { err, invariant, ok, type Result, unwrap } from '../util/result.js';
import { FrameTable, NONE } from './frame_table.js';
import type { MmapErrorCode, MmapRange, MmapRangeSpec } from './mmap_ranges.js';
import type {
  Eviction,
  PagedMemoryErrorCode,
  PagedMemoryOptions,
  PagedMemoryStats,
  PageIn,
  PageSource,
  PageWrite,
} from './paged_memory_types.js';
import { createReplacement, type ReplacementPolicy } from './replacement.js';

export { NONE } from './frame_table.js';
export type {
  Eviction,
  PagedMemoryErrorCode,
  PagedMemoryOptions,
  PagedMemoryStats,
  PageIn,
  PageSource,
  PageTarget,
  PageWrite,
} from './paged_memory_types.js';

/** The paged memory of one address range; see the module comment. */
export class PagedMemory {
  readonly frames: FrameTable;
  readonly policy: ReplacementPolicy | null;
  readonly stats: PagedMemoryStats = {
    pageIns: 0,
    zeroFills: 0,
    evictions: 0,
    evictionsDirty: 0,
    pagesDropped: 0,
    swapFullRetries: 0,
  };
  readonly pageSize: number;
  readonly unitPages: number;
  readonly unitBytes: number;
  /** Not-present entries by page number (an absent key is the all-zero entry). */
  private readonly npte = new Map<number, bigint>();
  /** Resident (or in-transit) units: unit -> frame. */
  private readonly frameOfUnit = new Map<number, number>();
  /** Units in transit: 'in' being read, 'out' being written. */
  private readonly transit = new Map<number, 'in' | 'out'>();
  private readonly invUnit: number;
  /** One-entry cache of `frameOfUnit` for the access hooks. */
  private lastUnit = NONE;
  private lastFrame = NONE;

  constructor(readonly options: PagedMemoryOptions) {
    const { pageSize, unitPages, frames } = options;
    invariant(
      Number.isSafeInteger(unitPages) && unitPages >= 1 && (unitPages & (unitPages - 1)) === 0,
      () => `unit of ${unitPages} pages is not a power of two`,
    );
    invariant(frames === null || (Number.isSafeInteger(frames) && frames >= 1), () => `bad limit ${frames}`);
    this.pageSize = pageSize;
    this.unitPages = unitPages;
    this.unitBytes = pageSize * unitPages;
    this.invUnit = 1 / this.unitBytes;
    this.frames = new FrameTable(unitPages, frames);
    this.policy =
      frames === null ? null : unwrap(createReplacement(options.replacement, frames, this.frames));
  }

  /** The unit holding `va`. */
  unitOf(va: number): number {
    return Math.floor(va * this.invUnit);
  }

  /** The frame holding `unit`, or NONE (not resident, or in transit). */
  frameOf(unit: number): number {
    if (unit === this.lastUnit) return this.lastFrame;
    const f = this.frameOfUnit.get(unit);
    if (f === undefined || this.transit.has(unit)) return NONE;
    this.lastUnit = unit;
    this.lastFrame = f;
    return f;
  }

  /** 'in' or 'out' while the unit's data moves, else null. */
  transitOf(unit: number): 'in' | 'out' | null {
    return this.transit.get(unit) ?? null;
  }

  /** Resident units. */
  get resident(): number {
    return this.frameOfUnit.size - this.transit.size;
  }

  /** The raw not-present entry of the page at `va` (0n: none). */
  pteOf(va: number): bigint {
    return this.npte.get(Math.floor(va / this.pageSize)) ?? 0n;
  }

  // ---------------------------------------------------------------- what the hardware sets

  /** A page walk translated `va` (hardware sets the accessed bit, and the dirty bit for a write). */
  walked(va: number, write: boolean): void {
    const f = this.frameOf(this.unitOf(va));
    if (f === NONE) return;
    this.frames.accessedBits[f] = 1;
    if (write) this.frames.dirty[f * this.unitPages + this.pageIndex(va)] = 1;
  }

  /** A write to `va` (sets the dirty bit). */
  written(va: number): void {
    const f = this.frameOf(this.unitOf(va));
    if (f !== NONE) this.frames.dirty[f * this.unitPages + this.pageIndex(va)] = 1;
  }

  /** An access to `va` (exact LRU orders by every access; the other policies ignore it). */
  touch(va: number): void {
    const f = this.frameOf(this.unitOf(va));
    if (f !== NONE) this.policy!.touch(f);
  }

  // ---------------------------------------------------------------- faults

  /** A free frame, or NONE when RAM is full (then evict). */
  allocFrame(): number {
    return this.frames.alloc();
  }

  /** Gives back a frame nobody will fill (a failed page-in, an eviction whose frame was not needed). */
  releaseFrame(frame: number): void {
    this.frames.release(frame);
  }

  /**
   * Starts bringing the unit holding `va` into `frame`: decodes each page's not-present entry into
   * its source and marks the unit in transit. BUSY when the unit is resident or already moving.
   */
  beginPageIn(va: number, frame: number): Result<PageIn, 'BUSY'> {
    const unit = this.unitOf(va);
    if (this.frameOfUnit.has(unit))
      return err('BUSY', `unit at ${hex(unit * this.unitBytes)} is ${this.transit.get(unit) ?? 'resident'}`);
    const base = unit * this.unitBytes;
    const sources: PageSource[] = [];
    let major = false;
    for (let i = 0; i < this.unitPages; i++) {
      const s = this.sourceOf(base + i * this.pageSize);
      if (s.kind !== 'zero') major = true;
      sources.push(s);
    }
    this.frames.reset(frame);
    this.frames.unit[frame] = unit;
    this.frameOfUnit.set(unit, frame);
    this.transit.set(unit, 'in');
    this.forget(unit);
    return ok({ unit, va: base, frame, sources, major });
  }

  /** The data is in the frame: the unit is resident (clean, swap copies remembered) and joins the policy. */
  pageInDone(p: PageIn): void {
    invariant(this.transit.get(p.unit) === 'in', () => `unit ${p.unit} is not being read in`);
    const base = p.frame * this.unitPages;
    p.sources.forEach((s, i) => {
      if (s.kind === 'swap') this.frames.block[base + i] = s.slot.global;
      this.npte.delete(Math.floor(p.va / this.pageSize) + i);
    });
    this.transit.delete(p.unit);
    this.forget(p.unit);
    this.policy?.insert(p.frame);
    this.stats.pageIns++;
    if (!p.major) this.stats.zeroFills++;
  }

  /** Reading failed: the unit stays where it was (its entries untouched), the frame is free again. */
  pageInFailed(p: PageIn): void {
    invariant(this.transit.get(p.unit) === 'in', () => `unit ${p.unit} is not being read in`);
    this.transit.delete(p.unit);
    this.frameOfUnit.delete(p.unit);
    this.forget(p.unit);
    this.frames.release(p.frame);
  }

  /**
   * Chooses a victim and plans its eviction: the dirty pages to write (reusing a page's swap block,
   * else allocating one; file pages go to their file) and the not-present entries the others get.
   * The victim is unmapped from the policy and in transit; its entries are written now. A victim
   * whose dirty pages find no swap block goes back to the policy and the next one is tried;
   * SWAP_FULL (nothing changed but the order) when none can be evicted.
   */
  planEviction(): Result<Eviction, 'SWAP_FULL' | 'NO_VICTIM'> {
    const policy = this.policy;
    if (policy === null || policy.size === 0)
      return err('NO_VICTIM', 'no resident unit can be evicted (none is resident)');
    let lastError = '';
    for (let tries = policy.size; tries > 0; tries--) {
      const frame = policy.victim();
      const unit = this.frames.unit[frame]!;
      const plan = this.planWrites(unit, frame);
      if (plan.ok) {
        this.commitEviction(unit, frame, plan.value.writes);
        return ok({ unit, va: unit * this.unitBytes, frame, ...plan.value });
      }
      lastError = plan.message;
      this.stats.swapFullRetries++;
      policy.insert(frame);
    }
    return err('SWAP_FULL', `no page can be evicted: ${lastError}`);
  }

  /**
   * Units whose accessed bits a clock scan cleared since the last call: their TLB entries must go,
   * so that the next access walks and sets the bit again (as hardware sets it only on a walk).
   */
  takeCleared(): number[] {
    return this.frames.takeCleared();
  }

  /** The writes succeeded: the frame is the caller's (not free, not resident). */
  evictionDone(e: Eviction): number {
    invariant(this.transit.get(e.unit) === 'out', () => `unit ${e.unit} is not being written out`);
    this.transit.delete(e.unit);
    this.frameOfUnit.delete(e.unit);
    this.forget(e.unit);
    this.frames.reset(e.frame);
    return e.frame;
  }

  /**
   * A write failed: the victim is resident again with its data and dirty bits, its entries are
   * cleared, blocks allocated for it are freed; it rejoins the policy.
   */
  evictionFailed(e: Eviction): void {
    invariant(this.transit.get(e.unit) === 'out', () => `unit ${e.unit} is not being written out`);
    for (const g of e.allocated) {
      this.options.swap.free(g);
      const i = this.frames.block.indexOf(g, e.frame * this.unitPages);
      if (i >= 0 && i < (e.frame + 1) * this.unitPages) this.frames.block[i] = NONE;
    }
    for (let i = 0; i < this.unitPages; i++) this.npte.delete(Math.floor(e.va / this.pageSize) + i);
    this.transit.delete(e.unit);
    this.forget(e.unit);
    this.policy?.insert(e.frame);
  }

  // ---------------------------------------------------------------- memory-mapped files

  /**
   * Maps a file range: every page's not-present entry gets the range's index (Brendan: the index
   * sits in the PTE). The range must be unit-aligned and hold no anonymous page (MMAP_BUSY).
   */
  mmap(spec: MmapRangeSpec): Result<MmapRange, PagedMemoryErrorCode | MmapErrorCode> {
    if (spec.start % this.unitBytes !== 0 || spec.size % this.unitBytes !== 0)
      return err(
        'INVALID_ARGUMENT',
        `mmap range must be aligned to the paging unit (${hex(this.unitBytes)})`,
      );
    for (let va = spec.start; va < spec.start + spec.size; va += this.unitBytes) {
      if (this.frameOfUnit.has(this.unitOf(va)) || this.anyEntry(va))
        return err('MMAP_BUSY', `mmap over ${hex(va)}: anonymous memory is there already`);
    }
    const r = this.options.mmaps.map(spec);
    if (!r.ok) return r;
    const entry = unwrap(encodeMmapPte(this.options.pte, r.value.index));
    for (let va = spec.start; va < spec.start + spec.size; va += this.pageSize)
      this.npte.set(Math.floor(va / this.pageSize), entry);
    return r;
  }

  /** Dirty resident pages of a range with their file targets (msync and munmap write them). */
  dirtyPages(index: number): PageWrite[] {
    const r = this.options.mmaps.get(index);
    if (!r) return [];
    const out: PageWrite[] = [];
    for (let va = r.start; va < r.start + r.size; va += this.pageSize) {
      const f = this.frameOf(this.unitOf(va));
      if (f === NONE) continue;
      const page = this.pageIndex(va);
      if (this.frames.dirty[f * this.unitPages + page] === 1)
        out.push({ va, page, target: { kind: 'file', range: r, offset: r.offset + (va - r.start) } });
    }
    return out;
  }

  /** The page at `va` was written back: it is clean (the caller also write-protects it: TLB flush). */
  cleaned(va: number): void {
    const f = this.frameOf(this.unitOf(va));
    if (f !== NONE) this.frames.dirty[f * this.unitPages + this.pageIndex(va)] = 0;
  }

  /**
   * Unmaps a range whose dirty pages were written back: its resident units leave (their frames are
   * freed and returned, for the caller to unmap), its entries are cleared and its index is free.
   * BUSY while a unit of it is in transit.
   */
  munmap(
    index: number,
  ): Result<{ range: MmapRange; frames: { unit: number; frame: number }[] }, 'BUSY' | 'NO_SUCH_RANGE'> {
    const r = this.options.mmaps.get(index);
    if (!r) return err('NO_SUCH_RANGE', `no memory-mapped range with index ${index}`);
    for (let va = r.start; va < r.start + r.size; va += this.unitBytes)
      if (this.transit.has(this.unitOf(va))) return err('BUSY', `unit at ${hex(va)} is in transit`);
    const frames: { unit: number; frame: number }[] = [];
    for (let va = r.start; va < r.start + r.size; va += this.unitBytes) {
      const unit = this.unitOf(va);
      const f = this.frameOfUnit.get(unit);
      if (f !== undefined) {
        this.policy?.remove(f);
        this.frameOfUnit.delete(unit);
        this.frames.release(f);
        frames.push({ unit, frame: f });
      }
    }
    for (let va = r.start; va < r.start + r.size; va += this.pageSize)
      this.npte.delete(Math.floor(va / this.pageSize));
    this.lastUnit = NONE;
    unwrap(this.options.mmaps.unmap(index));
    return ok({ range: r, frames });
  }

  // ---------------------------------------------------------------- internals

  private pageIndex(va: number): number {
    return Math.floor((va - this.unitOf(va) * this.unitBytes) / this.pageSize);
  }

  private forget(unit: number): void {
    if (unit === this.lastUnit) this.lastUnit = NONE;
  }

  private anyEntry(unitVa: number): boolean {
    for (let i = 0; i < this.unitPages; i++)
      if (this.npte.has(Math.floor(unitVa / this.pageSize) + i)) return true;
    return false;
  }

  /** Decodes the not-present entry of the page at `va` into where its data is. */
  private sourceOf(va: number): PageSource {
    const e = this.npte.get(Math.floor(va / this.pageSize));
    if (e === undefined) return { kind: 'zero' };
    const m = unwrap(decodePte(this.options.pte, e));
    if (m.kind === 'swap') {
      const slot = this.options.swap.locate(Number(m.block));
      invariant(
        slot !== undefined,
        () => `the PTE of ${hex(va)} names swap block ${m.block}, which is not allocated`,
      );
      return { kind: 'swap', slot };
    }
    if (m.kind === 'mmap') {
      const range = this.options.mmaps.get(Number(m.index));
      invariant(
        range !== undefined,
        () => `the PTE of ${hex(va)} names range ${m.index}, which is not mapped`,
      );
      return { kind: 'file', range, offset: range.offset + (va - (va % this.pageSize) - range.start) };
    }
    return { kind: 'zero' };
  }

  /** The writes a victim needs; allocates swap blocks (all or none). */
  private planWrites(
    unit: number,
    frame: number,
  ): Result<{ writes: PageWrite[]; allocated: number[] }, 'SWAP_FULL'> {
    const writes: PageWrite[] = [];
    const allocated: number[] = [];
    const base = unit * this.unitBytes;
    for (let i = 0; i < this.unitPages; i++) {
      const k = frame * this.unitPages + i;
      if (this.frames.dirty[k] !== 1) continue;
      const va = base + i * this.pageSize;
      const range = this.options.mmaps.find(va);
      if (range) {
        writes.push({
          va,
          page: i,
          target: { kind: 'file', range, offset: range.offset + (va - range.start) },
        });
        continue;
      }
      const known = this.frames.block[k]!;
      let slot = known === NONE ? undefined : this.options.swap.locate(known);
      if (!slot) {
        const a = this.options.swap.allocate();
        if (!a.ok) {
          for (const g of allocated) this.options.swap.free(g);
          return a;
        }
        slot = a.value;
        allocated.push(slot.global);
      }
      writes.push({ va, page: i, target: { kind: 'swap', slot } });
    }
    return ok({ writes, allocated });
  }

  /** Writes the victim's not-present entries and marks it in transit. */
  private commitEviction(unit: number, frame: number, writes: readonly PageWrite[]): void {
    const fmt = this.options.pte;
    const base = unit * this.unitBytes;
    for (const w of writes)
      if (w.target.kind === 'swap') this.frames.block[frame * this.unitPages + w.page] = w.target.slot.global;
    for (let i = 0; i < this.unitPages; i++) {
      const va = base + i * this.pageSize;
      const vpn = Math.floor(va / this.pageSize);
      const block = this.frames.block[frame * this.unitPages + i]!;
      const range = this.options.mmaps.find(va);
      if (range) this.npte.set(vpn, unwrap(encodeMmapPte(fmt, range.index)));
      else if (block !== NONE) this.npte.set(vpn, unwrap(encodeSwapPte(fmt, block)));
      else this.npte.delete(vpn);
    }
    this.stats.evictions++;
    if (writes.length > 0) this.stats.evictionsDirty++;
    this.stats.pagesDropped += this.unitPages - writes.length;
    this.transit.set(unit, 'out');
    this.forget(unit);
  }
}
