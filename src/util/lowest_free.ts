/**
 * Lowest-free allocation of integer ids in [lo, limit): swap blocks of a provider, indices of
 * memory-mapped ranges. Memory grows with the ids freed, not with the id space, so a swap of
 * 2^30 blocks costs nothing until it is used. Deterministic: allocation always returns the
 * lowest free id, which also keeps a swap area's used blocks together (fewer seeks on a disk).
 */
import { invariant } from './result.js';

/** Ids never allocated start at `next`; ids freed below it wait in a min-heap. */
export class LowestFreeAllocator {
  /** Freed ids below `next`, as a binary min-heap. */
  private readonly heap: number[] = [];
  /** The same ids, for O(1) membership. */
  private readonly freed = new Set<number>();
  private readonly reserved: ReadonlySet<number>;
  private next: number;
  private inUse = 0;

  /**
   * @param lo first id.
   * @param limit one past the last id (a safe integer > lo).
   * @param reserved ids in [lo, limit) that are never handed out (a swap header, bad blocks).
   */
  constructor(
    readonly lo: number,
    readonly limit: number,
    reserved: Iterable<number> = [],
  ) {
    invariant(
      Number.isSafeInteger(lo) && Number.isSafeInteger(limit) && lo < limit,
      () => `bad id range [${lo}, ${limit})`,
    );
    const r = new Set<number>();
    for (const id of reserved) {
      invariant(Number.isSafeInteger(id) && id >= lo && id < limit, () => `reserved id ${id} out of range`);
      r.add(id);
    }
    this.reserved = r;
    this.next = lo;
    this.skipReserved();
  }

  /** Ids that can still be allocated. */
  get available(): number {
    return this.limit - this.lo - this.reserved.size - this.inUse;
  }

  /** Ids allocated now. */
  get allocated(): number {
    return this.inUse;
  }

  /** Allocates the lowest free id, or returns -1 when none is left. */
  alloc(): number {
    let id: number;
    if (this.heap.length > 0) {
      id = this.pop();
      this.freed.delete(id);
    } else {
      if (this.next >= this.limit) return -1;
      id = this.next++;
      this.skipReserved();
    }
    this.inUse++;
    return id;
  }

  /** True when `id` is allocated. */
  isAllocated(id: number): boolean {
    return id >= this.lo && id < this.next && !this.freed.has(id) && !this.reserved.has(id);
  }

  /** Frees an allocated id; returns false (and changes nothing) if it is not allocated. */
  free(id: number): boolean {
    if (!Number.isSafeInteger(id) || !this.isAllocated(id)) return false;
    this.inUse--;
    if (id === this.next - 1) {
      // Give the top id back to the untouched range instead of remembering it: allocations
      // freed in reverse order cost no memory.
      this.next--;
      return true;
    }
    this.freed.add(id);
    this.push(id);
    return true;
  }

  private skipReserved(): void {
    while (this.next < this.limit && this.reserved.has(this.next)) {
      this.next++;
    }
  }

  private push(id: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= id) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = id;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1]! < h[l]! ? l + 1 : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
