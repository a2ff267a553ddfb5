/**
 * The memory-mapped file ranges of one address space (seed 003, Brendan): a list whose index a
 * not-present PTE holds (`hw/pte.ts`, flag 0), so a fault on a mapped page finds its file and
 * offset without searching. Indices start at 1 (an all-zero entry means "nothing here"), the
 * lowest free one is reused, and the largest is what the PTE's bits can hold.
 *
 * It lives in kernel/ because in Brendan's design the kernel resolves the fault from the PTE and
 * sends the read to the file provider; a user-level pager can keep one per address space just as
 * well. A range is mapped and unmapped whole (a partial munmap would have to renumber the PTEs
 * of the part that stays).
 */
import { hex } from '../util/hex.js';
import { LowestFreeAllocator } from '../util/lowest_free.js';
import { err, ok, type Result } from '../util/result.js';

/** What `map` is asked for. */
export interface MmapRangeSpec {
  /** First virtual address, page aligned. */
  readonly start: number;
  /** Bytes, a positive multiple of the page size. */
  readonly size: number;
  /** Port (IPC endpoint id) of the file provider that holds the file. */
  readonly provider: number;
  /** The file's handle at that provider. */
  readonly file: number;
  /** File offset of `start`, page aligned. */
  readonly offset: number;
  /** Writable and shared: dirty pages are written back to the file. */
  readonly writable: boolean;
}

/** A mapped range and the index its not-present PTEs hold. */
export interface MmapRange extends MmapRangeSpec {
  readonly index: number;
}

/** Error codes of the range list. */
export type MmapErrorCode = 'INVALID_ARGUMENT' | 'MMAP_OVERLAP' | 'MMAP_TABLE_FULL' | 'NO_SUCH_RANGE';

/** The memory-mapped ranges of an address space, by index and by address. */
export class MmapRangeList {
  readonly pageSize: number;
  readonly maxIndex: number;
  private readonly indices: LowestFreeAllocator;
  private readonly byIndex = new Map<number, MmapRange>();
  /** Ranges sorted by start, for lookup by address. */
  private sorted: MmapRange[] = [];

  /**
   * @param maxIndex largest index a not-present PTE holds (`maxRangeIndex` of `hw/pte.ts`).
   * @param pageSize the smallest page size (default 4 KiB).
   */
  constructor(maxIndex: number, pageSize = 4096) {
    this.maxIndex = Math.min(Math.floor(maxIndex), Number.MAX_SAFE_INTEGER - 1);
    this.pageSize = pageSize;
    this.indices = new LowestFreeAllocator(1, Math.max(this.maxIndex, 1) + 1);
  }

  /** Number of ranges. */
  get size(): number {
    return this.sorted.length;
  }

  /** Maps a range under the lowest free index; refuses (changing nothing) overlaps and a full table. */
  map(spec: MmapRangeSpec): Result<MmapRange, MmapErrorCode> {
    const p = this.pageSize;
    const aligned = (n: number) => Number.isSafeInteger(n) && n >= 0 && n % p === 0;
    if (!aligned(spec.start) || !aligned(spec.size) || spec.size === 0 || !aligned(spec.offset))
      return err(
        'INVALID_ARGUMENT',
        `mmap of [${hex(spec.start)}, +${hex(spec.size)}) at file offset ${hex(spec.offset)}: start, size and offset must be multiples of ${hex(p)}, size > 0`,
      );
    if (!Number.isSafeInteger(spec.start + spec.size) || !Number.isSafeInteger(spec.offset + spec.size))
      return err('INVALID_ARGUMENT', `mmap of ${hex(spec.size)} bytes at ${hex(spec.start)} runs past 2^53`);
    const i = this.firstEndingAfter(spec.start);
    const next = this.sorted[i];
    if (next && next.start < spec.start + spec.size) {
      return err(
        'MMAP_OVERLAP',
        `mmap of [${hex(spec.start)}, ${hex(spec.start + spec.size)}) overlaps range ${next.index} [${hex(next.start)}, ${hex(next.start + next.size)})`,
      );
    }
    if (this.maxIndex < 1 || this.indices.available === 0)
      return err(
        'MMAP_TABLE_FULL',
        `all ${this.maxIndex} memory-mapped range indices a PTE can hold are in use`,
      );
    const range: MmapRange = { ...spec, index: this.indices.alloc() };
    this.byIndex.set(range.index, range);
    this.sorted.splice(i, 0, range);
    return ok(range);
  }

  /** Unmaps a range by index; its index becomes free (the caller clears the PTEs holding it first). */
  unmap(index: number): Result<MmapRange, 'NO_SUCH_RANGE'> {
    const r = this.byIndex.get(index);
    if (!r) return err('NO_SUCH_RANGE', `no memory-mapped range with index ${index}`);
    this.byIndex.delete(index);
    this.sorted.splice(this.sorted.indexOf(r), 1);
    this.indices.free(index);
    return ok(r);
  }

  /** The range with this index (what a not-present PTE names). */
  get(index: number): MmapRange | undefined {
    return this.byIndex.get(index);
  }

  /** The range containing `va`, if any. */
  find(va: number): MmapRange | undefined {
    const r = this.sorted[this.firstEndingAfter(va)];
    return r && r.start <= va ? r : undefined;
  }

  /** File offset of the page holding `va` within range `r` (which must contain it). */
  pageOffset(r: MmapRange, va: number): number {
    return r.offset + (va - (va % this.pageSize) - r.start);
  }

  /** Every range, by start address. */
  ranges(): readonly MmapRange[] {
    return this.sorted;
  }

  /** Index in `sorted` of the first range whose end is after `va` (binary search). */
  private firstEndingAfter(va: number): number {
    const a = this.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]!.start + a[mid]!.size <= va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
