/**
 * A free-space allocator in the manner of Genode's `Allocator_avl`: an AVL tree of the free
 * ranges of an address space, ordered by address, where each node also knows the largest free
 * range in its subtree, so an aligned first-fit search skips whole subtrees that cannot fit.
 *
 * Physical memory (frames for RAM dataspaces) and region maps (virtual ranges for regions) both
 * use it. It knows only what is free; who owns the rest is the caller's business, which keeps
 * the tree small (no used blocks) and every operation at one or two tree updates.
 */
import { alignUp } from '../util/bits.js';
import { hex } from '../util/hex.js';
import { invariant } from '../util/result.js';

/** One free range. */
class Node {
  left: Node | null = null;
  right: Node | null = null;
  height = 1;
  /** Largest free range size in this subtree. */
  maxFree: number;

  constructor(
    public start: number,
    public size: number,
  ) {
    this.maxFree = size;
  }
}

const h = (n: Node | null): number => (n ? n.height : 0);
const mf = (n: Node | null): number => (n ? n.maxFree : 0);

function update(n: Node): void {
  n.height = Math.max(h(n.left), h(n.right)) + 1;
  n.maxFree = Math.max(n.size, mf(n.left), mf(n.right));
}

function rotateRight(n: Node): Node {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft(n: Node): Node {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance(n: Node): Node {
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

function insertNode(root: Node | null, b: Node): Node {
  if (!root) return b;
  if (b.start < root.start) root.left = insertNode(root.left, b);
  else root.right = insertNode(root.right, b);
  return balance(root);
}

function removeMin(n: Node, out: { min: Node | null }): Node | null {
  if (!n.left) {
    out.min = n;
    return n.right;
  }
  n.left = removeMin(n.left, out);
  return balance(n);
}

function removeNode(root: Node | null, start: number): Node | null {
  if (!root) return null;
  if (start < root.start) root.left = removeNode(root.left, start);
  else if (start > root.start) root.right = removeNode(root.right, start);
  else {
    if (!root.left) return root.right;
    if (!root.right) return root.left;
    const out: { min: Node | null } = { min: null };
    const right = removeMin(root.right, out);
    const m = out.min!;
    m.left = root.left;
    m.right = right;
    return balance(m);
  }
  return balance(root);
}

/** The free ranges of an address space. */
export class RangeAllocator {
  private root: Node | null = null;
  private freeBytes = 0;
  private count = 0;
  /** Scratch path for in-place updates (no allocation per operation). */
  private readonly path: Node[] = [];

  /** Total free bytes. */
  get available(): number {
    return this.freeBytes;
  }

  /** Number of separate free ranges. */
  get ranges(): number {
    return this.count;
  }

  /** Adds free space; it must not overlap free space already present. Merges with neighbours. */
  addRange(start: number, size: number): void {
    invariant(size > 0, () => `addRange: size must be positive, got ${size}`);
    this.free(start, size);
  }

  /** True when [start, start+size) is entirely free. */
  isFree(start: number, size: number): boolean {
    const b = this.floorNode(start);
    return b !== null && start + size <= b.start + b.size;
  }

  /** Takes [start, start+size) if it is entirely free; returns false and changes nothing otherwise. */
  allocAt(start: number, size: number): boolean {
    const b = this.floorNode(start);
    if (!b || start + size > b.start + b.size) return false;
    this.carve(b, start, size);
    return true;
  }

  /**
   * Takes `size` bytes aligned to 2^alignLog2 at the lowest fitting address within [lo, hi).
   * Returns the start, or -1 when no free range fits.
   */
  allocAligned(size: number, alignLog2: number, lo = 0, hi = Number.MAX_SAFE_INTEGER): number {
    const align = 2 ** alignLog2;
    const b = this.firstFit(this.root, size, align, lo, hi);
    if (!b) return -1;
    const start = alignUp(Math.max(b.start, lo), align);
    this.carve(b, start, size);
    return start;
  }

  /** Returns [start, start+size) to the free space, merging with adjacent free ranges. */
  free(start: number, size: number): void {
    const prev = start > 0 ? this.floorNode(start - 1) : null;
    invariant(
      !prev || prev.start + prev.size <= start,
      () => `free of [${hex(start)}, ${hex(start + size)}) overlaps free space`,
    );
    const next = this.nextNode(start);
    invariant(
      !next || next.start >= start + size,
      () => `free of [${hex(start)}, ${hex(start + size)}) overlaps free space`,
    );
    const mergePrev = prev !== null && prev.start + prev.size === start;
    const mergeNext = next !== null && next.start === start + size;
    this.freeBytes += size;
    if (mergePrev && mergeNext) {
      // prev grows over the freed range and next; next leaves the tree.
      const grown = next.start + next.size - prev.start;
      this.root = removeNode(this.root, next.start);
      this.count--;
      prev.size = grown;
      this.refresh(prev.start);
    } else if (mergePrev) {
      prev.size += size;
      this.refresh(prev.start);
    } else if (mergeNext) {
      // Moving next's start down keeps the order: nothing lies between.
      const key = next.start;
      next.size += size;
      next.start = start;
      this.refresh(key, start);
    } else {
      this.root = insertNode(this.root, new Node(start, size));
      this.count++;
    }
  }

  /** Visits every free range in address order. */
  forEachFree(fn: (start: number, size: number) => void): void {
    const stack: Node[] = [];
    let n = this.root;
    while (n || stack.length > 0) {
      while (n) {
        stack.push(n);
        n = n.left;
      }
      n = stack.pop()!;
      fn(n.start, n.size);
      n = n.right;
    }
  }

  /** Checks AVL balance, order, disjointness and the maxFree augmentation (for tests). */
  check(): void {
    let prevEnd = -1;
    let free = 0;
    let count = 0;
    const walk = (n: Node | null): void => {
      if (!n) return;
      walk(n.left);
      invariant(n.start > prevEnd, () => `free ranges touch, overlap or are out of order at ${hex(n.start)}`);
      prevEnd = n.start + n.size;
      free += n.size;
      count++;
      const hl = h(n.left);
      const hr = h(n.right);
      invariant(
        Math.abs(hl - hr) <= 1 && n.height === Math.max(hl, hr) + 1,
        () => `unbalanced at ${hex(n.start)}`,
      );
      invariant(
        n.maxFree === Math.max(n.size, mf(n.left), mf(n.right)),
        () => `maxFree wrong at ${hex(n.start)}`,
      );
      walk(n.right);
    };
    walk(this.root);
    invariant(free === this.freeBytes, () => `free bytes ${this.freeBytes} != ${free}`);
    invariant(count === this.count, () => `range count ${this.count} != ${count}`);
  }

  /** The free range with the greatest start <= addr. */
  private floorNode(addr: number): Node | null {
    let n = this.root;
    let best: Node | null = null;
    while (n) {
      if (addr < n.start) n = n.left;
      else {
        best = n;
        n = n.right;
      }
    }
    return best;
  }

  /** The free range with the smallest start > addr. */
  private nextNode(addr: number): Node | null {
    let n = this.root;
    let best: Node | null = null;
    while (n) {
      if (addr < n.start) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  /** Takes [start, start+size) out of free range b, in place where the shape allows. */
  private carve(b: Node, start: number, size: number): void {
    const end = start + size;
    const bEnd = b.start + b.size;
    this.freeBytes -= size;
    if (start === b.start && end === bEnd) {
      this.root = removeNode(this.root, b.start);
      this.count--;
    } else if (start === b.start) {
      const key = b.start;
      b.start = end;
      b.size = bEnd - end;
      this.refresh(key, end);
    } else {
      b.size = start - b.start;
      this.refresh(b.start);
      if (end < bEnd) {
        this.root = insertNode(this.root, new Node(end, bEnd - end));
        this.count++;
      }
    }
  }

  /**
   * Recomputes maxFree on the path to the node found by `key` (whose start may since have
   * moved to `newStart` without passing any other node, so the shape stays valid).
   */
  private refresh(key: number, newStart = key): void {
    const path = this.path;
    path.length = 0;
    let n = this.root;
    while (n) {
      path.push(n);
      if (n.start === newStart) break;
      n = key < n.start ? n.left : n.right;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const p = path[i]!;
      p.maxFree = Math.max(p.size, mf(p.left), mf(p.right));
    }
  }

  /** Lowest-address free range that can hold an aligned [x, x+size) inside [lo, hi). */
  private firstFit(n: Node | null, size: number, align: number, lo: number, hi: number): Node | null {
    if (!n || n.maxFree < size) return null;
    if (n.start > lo) {
      const l = this.firstFit(n.left, size, align, lo, hi);
      if (l) return l;
    }
    if (n.size >= size) {
      const s = alignUp(Math.max(n.start, lo), align);
      if (s + size <= n.start + n.size && s + size <= hi) return n;
    }
    if (n.start + n.size < hi) return this.firstFit(n.right, size, align, lo, hi);
    return null;
  }
}
