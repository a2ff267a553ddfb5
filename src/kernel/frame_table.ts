/**
 * The frames of a paged memory (Linux's `struct page` array, reduced to what swapping needs): per
 * frame the unit it holds and the accessed bit; per page of a frame the dirty bit and the swap
 * block that holds a copy of it (the swap cache: a page read back from swap keeps its block until
 * it is written again, so a clean page is evicted without I/O).
 *
 * A unit is `unitPages` consecutive pages replaced as a whole (one page for the kernel, a chunk
 * for a dataspace manager). Frames are numbered 0..capacity-1 and handed out lowest first;
 * without a limit the arrays grow by doubling. Typed arrays keep the bits without allocation.
 */
import { invariant } from '../util/result.js';
import type { AccessedBits } from './replacement.js';

/** No unit / no block. */
export const NONE = -1;

/** Per-frame and per-page state; frames are free, resident (holding a unit) or busy (in transit). */
export class FrameTable implements AccessedBits {
  /** Frames handed out so far (the lowest never used is `used`). */
  used = 0;
  /** Unit held by each frame, or NONE. */
  unit: Float64Array;
  /** Accessed bit per frame. */
  accessedBits: Uint8Array;
  /** Dirty bit per page (frame × unitPages + page). */
  dirty: Uint8Array;
  /** Swap block (global number) holding a copy of each page, or NONE. */
  block: Float64Array;
  /** Frames freed and not reused yet (lowest-address reuse is not needed: any free frame will do). */
  private readonly free: number[] = [];
  /** Units whose accessed bit a replacement scan cleared since the last `takeCleared`. */
  private cleared: number[] = [];

  /**
   * @param unitPages pages per frame.
   * @param capacity frames at most, or null for no limit.
   */
  constructor(
    readonly unitPages: number,
    readonly capacity: number | null,
  ) {
    invariant(Number.isSafeInteger(unitPages) && unitPages >= 1, () => `bad unit of ${unitPages} pages`);
    const n = capacity ?? 64;
    this.unit = new Float64Array(n).fill(NONE);
    this.accessedBits = new Uint8Array(n);
    this.dirty = new Uint8Array(n * unitPages);
    this.block = new Float64Array(n * unitPages).fill(NONE);
  }

  /** Frames holding a unit or in transit. */
  get inUse(): number {
    return this.used - this.free.length;
  }

  /** A free frame (lowest never used, else one freed), or NONE when the limit is reached. */
  alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.capacity !== null && this.used >= this.capacity) return NONE;
    if (this.used >= this.unit.length) this.grow();
    return this.used++;
  }

  /** Returns a frame: its bits and blocks are forgotten. */
  release(f: number): void {
    this.reset(f);
    this.free.push(f);
  }

  /** Clears a frame's state (it is about to hold a new unit, or is free). */
  reset(f: number): void {
    const u = this.unitPages;
    this.unit[f] = NONE;
    this.accessedBits[f] = 0;
    this.dirty.fill(0, f * u, (f + 1) * u);
    this.block.fill(NONE, f * u, (f + 1) * u);
  }

  accessed(frame: number): boolean {
    return this.accessedBits[frame] === 1;
  }

  /** Clock's hand passed the frame: its bit is cleared, and the unit noted (its TLB entries must go). */
  clearAccessed(frame: number): void {
    this.accessedBits[frame] = 0;
    this.cleared.push(this.unit[frame]!);
  }

  /** Units whose accessed bits were cleared since the last call. */
  takeCleared(): number[] {
    const c = this.cleared;
    this.cleared = [];
    return c;
  }

  /** True when some page of the frame is dirty. */
  anyDirty(f: number): boolean {
    const u = this.unitPages;
    for (let i = f * u; i < (f + 1) * u; i++) if (this.dirty[i] === 1) return true;
    return false;
  }

  private grow(): void {
    const n = this.unit.length * 2;
    const u = this.unitPages;
    const unit = new Float64Array(n).fill(NONE);
    unit.set(this.unit);
    const acc = new Uint8Array(n);
    acc.set(this.accessedBits);
    const dirty = new Uint8Array(n * u);
    dirty.set(this.dirty);
    const block = new Float64Array(n * u).fill(NONE);
    block.set(this.block);
    this.unit = unit;
    this.accessedBits = acc;
    this.dirty = dirty;
    this.block = block;
  }
}
