/**
 * Physical memory and its allocator. RAM dataspaces get contiguous ranges, naturally aligned
 * where possible (alignment = largest power of two <= size, falling back down to the page size)
 * so that superpage mappings stay possible.
 *
 * Design option: one global allocator, or one partition per CPU (seed 000: per-core pagers on
 * partitioned memory, no contention on one allocator tree). When a partition runs dry the
 * allocator steals from the other partitions in CPU order and reports where it stole from.
 */
import { log2Floor } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { err, InvariantError, ok, type Result } from '../util/result.js';
import { RangeAllocator } from './range_allocator.js';

/** A range of physical RAM. */
export interface RamRange {
  readonly base: number;
  readonly size: number;
}

/** A successful physical allocation. */
export interface PhysAllocation {
  /** Physical base address. */
  readonly base: number;
  /** Size in bytes (a multiple of the page size). */
  readonly size: number;
  /** log2 of the alignment actually achieved. */
  readonly alignLog2: number;
  /** Partition it came from (0 with a global allocator). */
  readonly partition: number;
  /** True when a per-CPU partition was dry and this came from another CPU's partition. */
  readonly stolen: boolean;
}

/** Error codes of physical allocation. */
export type PhysErrorCode = 'OUT_OF_PHYSICAL_MEMORY' | 'INVALID_ARGUMENT';

/** Physical RAM, split into one or more partitions, each managed by its own range allocator. */
export class PhysicalMemory {
  private readonly parts: RangeAllocator[] = [];
  /** Allocated ranges by base: partition and size. */
  private readonly owners = new Map<number, { partition: number; size: number }>();
  readonly totalBytes: number;
  /** Sparse contents: byte values that are not zero, by physical address. */
  private readonly bytes = new Map<number, number>();

  /**
   * @param ranges RAM ranges, page aligned.
   * @param pageSizeLog2 smallest page size.
   * @param partitions 1 for a global allocator, or the CPU count for per-CPU partitions.
   */
  constructor(
    ranges: readonly RamRange[],
    readonly pageSizeLog2: number,
    partitions = 1,
  ) {
    const page = 2 ** pageSizeLog2;
    let total = 0;
    for (const r of ranges) total += r.size;
    this.totalBytes = total;
    for (let i = 0; i < partitions; i++) this.parts.push(new RangeAllocator());
    // Each partition gets an equal, page-aligned share of the RAM, in address order, so
    // partition i's memory is contiguous where the ranges allow.
    const share = Math.floor(total / partitions / page) * page;
    let p = 0;
    let left = share;
    for (const r of ranges) {
      let base = r.base;
      let size = r.size;
      while (size > 0) {
        const take = p === partitions - 1 ? size : Math.min(size, left);
        if (take > 0) this.parts[p]!.addRange(base, take);
        base += take;
        size -= take;
        left -= take;
        if (left === 0 && p < partitions - 1) {
          p++;
          left = share;
        }
      }
    }
  }

  /** Number of partitions. */
  get partitions(): number {
    return this.parts.length;
  }

  /** Free bytes in one partition, or in all. */
  available(partition?: number): number {
    if (partition !== undefined) return this.parts[partition]?.available ?? 0;
    let sum = 0;
    for (const a of this.parts) sum += a.available;
    return sum;
  }

  /**
   * Allocates `size` bytes (rounded up to pages), naturally aligned where possible, from the
   * partition of `cpu` (steal from others in CPU order when it is dry).
   */
  alloc(size: number, cpu = 0): Result<PhysAllocation, PhysErrorCode> {
    const page = 2 ** this.pageSizeLog2;
    if (!Number.isSafeInteger(size) || size <= 0) {
      return err('INVALID_ARGUMENT', `RAM size must be a positive integer, got ${size}`);
    }
    const bytes = Math.ceil(size / page) * page;
    const home = cpu % this.parts.length;
    for (let i = 0; i < this.parts.length; i++) {
      const p = (home + i) % this.parts.length;
      const a = this.allocIn(p, bytes);
      if (a) return ok({ ...a, stolen: i > 0 });
    }
    return err(
      'OUT_OF_PHYSICAL_MEMORY',
      `cannot allocate ${sizeName(bytes)} of contiguous RAM: ${sizeName(this.available())} free in ${this.parts.length} partition(s), none with a large enough range`,
    );
  }

  /** The byte at a physical address (RAM is zero-filled on allocation). */
  read(pa: number): number {
    return this.bytes.get(pa) ?? 0;
  }

  /** Stores a byte (0..255) at a physical address. */
  write(pa: number, value: number): void {
    if (value === 0) this.bytes.delete(pa);
    else this.bytes.set(pa, value & 0xff);
  }

  /**
   * The `size` bytes at [pa, pa + size) (a page a swap provider writes out), or null when all of
   * them are zero (no copy is made then: untouched memory costs nothing to move).
   */
  readBytes(pa: number, size: number): Uint8Array | null {
    if (this.bytes.size === 0) return null;
    const out = new Uint8Array(size);
    let any = false;
    if (size <= this.bytes.size) {
      for (let i = 0; i < size; i++) {
        const v = this.bytes.get(pa + i);
        if (v !== undefined) {
          out[i] = v;
          any = true;
        }
      }
    } else {
      for (const [a, v] of this.bytes) {
        if (a >= pa && a < pa + size) {
          out[a - pa] = v;
          any = true;
        }
      }
    }
    return any ? out : null;
  }

  /** Stores `size` bytes at pa: `data`, or zeros when it is null (a page read back from swap or a file). */
  writeBytes(pa: number, size: number, data: Uint8Array | null): void {
    this.zero(pa, size);
    if (data === null) return;
    for (let i = 0; i < size; i++) if (data[i] !== 0) this.bytes.set(pa + i, data[i]!);
  }

  /** Zero-fills [base, base+size): a new RAM dataspace must not see an old one's data. */
  zero(base: number, size: number): void {
    if (this.bytes.size === 0) return;
    if (size <= this.bytes.size) {
      for (let a = base; a < base + size; a++) this.bytes.delete(a);
    } else {
      for (const a of this.bytes.keys()) if (a >= base && a < base + size) this.bytes.delete(a);
    }
  }

  /** Returns a range to its partition. Freeing an unknown base is a broken invariant. */
  free(base: number): void {
    const o = this.owners.get(base);
    if (o === undefined) throw new InvariantError(`free of unknown physical range ${hex(base)}`);
    this.owners.delete(base);
    this.parts[o.partition]!.free(base, o.size);
  }

  /** Checks each partition's tree (for tests). */
  check(): void {
    for (const a of this.parts) a.check();
  }

  private allocIn(p: number, bytes: number): Omit<PhysAllocation, 'stolen'> | null {
    const a = this.parts[p]!;
    if (a.available < bytes) return null;
    for (let al = log2Floor(bytes); al >= this.pageSizeLog2; al--) {
      const base = a.allocAligned(bytes, al);
      if (base >= 0) {
        this.owners.set(base, { partition: p, size: bytes });
        this.zero(base, bytes);
        return { base, size: bytes, alignLog2: al, partition: p };
      }
    }
    return null;
  }
}
