/**
 * An address-range allocator in the manner of Genode's `Allocator_avl`: one AVL tree holds every
 * block of the managed space, used and free, ordered by address. Each node also knows the largest
 * free block in its subtree, so an aligned first-fit search skips whole subtrees that cannot fit.
 *
 * Physical memory (frames for RAM dataspaces) and region maps (virtual ranges for regions) both
 * use it: a used block carries a payload (the region), so `find(addr)` is the O(log n) region
 * lookup of the page-fault path.
 */
import { alignUp } from '../util/bits.js';
import { hex } from '../util/hex.js';
import { invariant } from '../util/result.js';

/** One block of the managed space. Free blocks have no payload. */
export class Block<T> {
  left: Block<T> | null = null;
  right: Block<T> | null = null;
  height = 1;
  /** Largest free block size in this subtree (0 when none). */
  maxFree: number;

  constructor(
    public start: number,
    public size: number,
    public used: boolean,
    public payload: T | undefined,
  ) {
    this.maxFree = used ? 0 : size;
  }

  /** One past the last address. */
  get end(): number {
    return this.start + this.size;
  }

  toString(): string {
    return `[${hex(this.start)}, ${hex(this.end)}) ${this.used ? 'used' : 'free'}`;
  }
}

const h = <T>(n: Block<T> | null): number => (n ? n.height : 0);
const mf = <T>(n: Block<T> | null): number => (n ? n.maxFree : 0);

function update<T>(n: Block<T>): void {
  const hl = h(n.left);
  const hr = h(n.right);
  n.height = (hl > hr ? hl : hr) + 1;
  let m = n.used ? 0 : n.size;
  const l = mf(n.left);
  const r = mf(n.right);
  if (l > m) m = l;
  if (r > m) m = r;
  n.maxFree = m;
}

function rotateRight<T>(n: Block<T>): Block<T> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<T>(n: Block<T>): Block<T> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance<T>(n: Block<T>): Block<T> {
  update(n);
  const bf = h(n.left) - h(n.right);
  if (bf > 1) {
    if (h(n.left!.left) < h(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (h(n.right!.right) < h(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

function insertNode<T>(root: Block<T> | null, b: Block<T>): Block<T> {
  if (!root) return b;
  if (b.start < root.start) root.left = insertNode(root.left, b);
  else root.right = insertNode(root.right, b);
  return balance(root);
}

function removeMin<T>(n: Block<T>, out: { min: Block<T> | null }): Block<T> | null {
  if (!n.left) {
    out.min = n;
    return n.right;
  }
  n.left = removeMin(n.left, out);
  return balance(n);
}

function removeNode<T>(root: Block<T> | null, start: number): Block<T> | null {
  if (!root) return null;
  if (start < root.start) root.left = removeNode(root.left, start);
  else if (start > root.start) root.right = removeNode(root.right, start);
  else {
    if (!root.left) return root.right;
    if (!root.right) return root.left;
    const out: { min: Block<T> | null } = { min: null };
    const right = removeMin(root.right, out);
    const m = out.min!;
    m.left = root.left;
    m.right = right;
    root.left = root.right = null;
    return balance(m);
  }
  return balance(root);
}

/** An AVL tree of blocks covering one or more ranges of an address space. */
export class RangeAllocator<T> {
  private root: Block<T> | null = null;
  private usedCount = 0;
  private freeBytes = 0;

  /** Number of used blocks. */
  get used(): number {
    return this.usedCount;
  }

  /** Total free bytes. */
  get available(): number {
    return this.freeBytes;
  }

  /** Adds free space; the range must not overlap anything already managed. */
  addRange(start: number, size: number): void {
    invariant(size > 0, `addRange: size must be positive, got ${size}`);
    const below = this.floor(start + size - 1);
    invariant(!below || below.end <= start, `addRange ${hex(start)}+${hex(size)} overlaps ${below}`);
    this.insertFree(start, size);
  }

  /** The block containing addr, used or free, or null if addr is outside every managed range. */
  find(addr: number): Block<T> | null {
    let n = this.root;
    while (n) {
      if (addr < n.start) n = n.left;
      else if (addr >= n.start + n.size) n = n.right;
      else return n;
    }
    return null;
  }

  /** The block with the greatest start <= addr, or null. */
  floor(addr: number): Block<T> | null {
    let n = this.root;
    let best: Block<T> | null = null;
    while (n) {
      if (addr < n.start) n = n.left;
      else {
        best = n;
        n = n.right;
      }
    }
    return best;
  }

  /** The block with the smallest start > addr, or null. */
  next(addr: number): Block<T> | null {
    let n = this.root;
    let best: Block<T> | null = null;
    while (n) {
      if (addr < n.start) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  /**
   * Marks [start, start+size) used with the payload if the whole range is one free block's part.
   * Returns null (and changes nothing) when any byte is used or unmanaged.
   */
  allocAt(start: number, size: number, payload: T | undefined): Block<T> | null {
    const b = this.find(start);
    if (!b || b.used || start + size > b.end) return null;
    return this.carve(b, start, size, payload);
  }

  /**
   * Allocates `size` bytes aligned to 2^alignLog2 at the lowest fitting address within
   * [lo, hi). Returns the new used block or null when no free block fits.
   */
  allocAligned(
    size: number,
    alignLog2: number,
    payload: T | undefined,
    lo = 0, hi = Number.MAX_SAFE_INTEGER): Block<T> | null {
    const align = 2 ** alignLog2;
    const b = this.firstFit(this.root, size, align, lo, hi);
    if (!b) return null;
    const start = alignUp(Math.max(b.start, lo), align);
    return this.carve(b, start, size, payload);
  }

  /** Frees the used block containing addr, merging with free neighbours. Returns the freed block's payload. */
  free(addr: number): T | undefined {
    const b = this.find(addr);
    if (!b || !b.used) return undefined;
    const payload = b.payload;
    let start = b.start;
    let end = b.end;
    const prev = start > 0 ? this.find(start - 1) : null;
    const next = this.find(end);
    this.root = removeNode(this.root, b.start);
    this.usedCount--;
    if (prev && !prev.used) {
      start = prev.start;
      this.root = removeNode(this.root, prev.start);
      this.freeBytes -= prev.size;
    }
    if (next && !next.used) {
      end = next.end;
      this.root = removeNode(this.root, next.start);
      this.freeBytes -= next.size;
    }
    this.insertFree(start, end - start);
    return payload;
  }

  /** Visits every block in address order. */
  forEach(fn: (b: Block<T>) => void): void {
    const stack: Block<T>[] = [];
    let n = this.root;
    while (n || stack.length > 0) {
      while (n) {
        stack.push(n);
        n = n.left;
      }
      n = stack.pop()!;
      fn(n);
      n = n.right;
    }
  }

  /** Visits used blocks overlapping [lo, hi) in address order. */
  forEachUsedIn(lo: number, hi: number, fn: (b: Block<T>) => void): void {
    let b = this.floor(lo);
    if (!b || b.end <= lo) b = this.next(lo);
    while (b && b.start < hi) {
      if (b.used) fn(b);
      b = this.next(b.start);
    }
  }

  /** Checks AVL balance, order, coverage and the maxFree augmentation (for tests). */
  check(): void {
    let prevEnd = -1;
    let used = 0;
    let free = 0;
    const walk = (n: Block<T> | null): void => {
      if (!n) return;
      walk(n.left);
      invariant(n.start >= prevEnd, `blocks overlap or are out of order at ${n}`);
      prevEnd = n.end;
      if (n.used) used++;
      else free += n.size;
      const hl = h(n.left);
      const hr = h(n.right);
      invariant(Math.abs(hl - hr) <= 1 && n.height === Math.max(hl, hr) + 1, `unbalanced at ${n}`);
      invariant(n.maxFree === Math.max(n.used ? 0 : n.size, mf(n.left), mf(n.right)), `maxFree wrong at ${n}`);
      walk(n.right);
    };
    walk(this.root);
    invariant(used === this.usedCount, `used count ${this.usedCount} != ${used}`);
    invariant(free === this.freeBytes, `free bytes ${this.freeBytes} != ${free}`);
  }

  private insertFree(start: number, size: number): void {
    this.root = insertNode(this.root, new Block<T>(start, size, false, undefined));
    this.freeBytes += size;
  }

  /** Splits free block b into [free][used][free] around [start, start+size). */
  private carve(b: Block<T>, start: number, size: number, payload: T | undefined): Block<T> {
    const bStart = b.start;
    const bEnd = b.end;
    this.root = removeNode(this.root, bStart);
    this.freeBytes -= b.size;
    if (start > bStart) this.insertFree(bStart, start - bStart);
    if (start + size < bEnd) this.insertFree(start + size, bEnd - (start + size));
    const u = new Block<T>(start, size, true, payload);
    this.root = insertNode(this.root, u);
    this.usedCount++;
    return u;
  }

  /** Lowest-address free block that can hold an aligned [x, x+size) inside [lo, hi). */
  private firstFit(n: Block<T> | null, size: number, align: number, lo: number, hi: number): Block<T> | null {
    if (!n || n.maxFree < size) return null;
    if (n.start > lo) {
      const l = this.firstFit(n.left, size, align, lo, hi);
      if (l) return l;
    }
    if (!n.used && n.size >= size) {
      const s = alignUp(Math.max(n.start, lo), align);
      if (s + size <= n.end && s + size <= hi) return n;
    }
    if (n.end < hi) return this.firstFit(n.right, size, align, lo, hi);
    return null;
  }
}
