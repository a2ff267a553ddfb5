/**
 * A protection domain's page table: the mappings the kernel installed, of several sizes, with
 * rights. It is a cache of the region maps (DESIGN.md §2): core may flush any of it at any time.
 * One hash map per page-size class keyed by virtual page number keeps lookup and install O(1).
 */
import { hex, sizeName } from '../util/hex.js';
import { invariant } from '../util/result.js';

/** Powers of two by exponent: `2 ** n` is a call to Math.pow on the hot path, a table is not. */
export const POW2: readonly number[] = Array.from({ length: 64 }, (_, n) => 2 ** n);

/** One installed mapping. */
export class Mapping {
  /** Size in bytes. */
  readonly size: number;

  constructor(
    /** Virtual base, aligned to the size. */
    readonly va: number,
    /** Physical base, aligned to the size. */
    readonly pa: number,
    readonly sizeLog2: number,
    readonly writeable: boolean,
    readonly executable: boolean,
  ) {
    this.size = POW2[sizeLog2]!;
  }

  /** Virtual base (the TLB's name for it). */
  get vaBase(): number {
    return this.va;
  }

  /** Physical base (the TLB's name for it). */
  get paBase(): number {
    return this.pa;
  }

  toString(): string {
    const r = `r${this.writeable ? 'w' : '-'}${this.executable ? 'x' : '-'}`;
    return `${sizeName(this.size)} ${hex(this.va)} -> ${hex(this.pa)} ${r}`;
  }
}

/** The page table of one address space. */
export class PageTable {
  private readonly classes: Map<number, Mapping>[];
  private readonly sizes: number[];
  private count = 0;

  /** @param sizesLog2 page sizes the table can hold, ascending. */
  constructor(readonly sizesLog2: readonly number[]) {
    this.sizes = sizesLog2.map((s) => 2 ** s);
    this.classes = sizesLog2.map(() => new Map());
  }

  /** Number of installed mappings. */
  get size(): number {
    return this.count;
  }

  /** The mapping translating va, or undefined (a page-table walk). */
  lookup(va: number): Mapping | undefined {
    for (let i = this.classes.length - 1; i >= 0; i--) {
      const m = this.classes[i]!.get(Math.floor(va / this.sizes[i]!));
      if (m) return m;
    }
    return undefined;
  }

  /**
   * Installs a mapping, replacing whatever overlapped it (a re-fault after a flush may install a
   * different size). Returns how many mappings were replaced.
   */
  install(m: Mapping): number {
    const i = this.sizesLog2.indexOf(m.sizeLog2);
    invariant(i >= 0, () => `page table cannot hold ${sizeName(m.size)} mappings`);
    const replaced = this.count === 0 ? 0 : this.dropOverlapping(m.va, m.size, i);
    this.classes[i]!.set(m.va / m.size, m);
    this.count++;
    return replaced;
  }

  /**
   * Drops what overlaps a new mapping of class i without allocating: its own slot, the one slot
   * of each larger class containing it, and (rarely non-empty) the slots of smaller classes.
   */
  private dropOverlapping(va: number, size: number, i: number): number {
    let n = 0;
    for (let k = 0; k < this.classes.length; k++) {
      const cls = this.classes[k]!;
      if (cls.size === 0) continue;
      if (k >= i) {
        if (cls.delete(Math.floor(va / this.sizes[k]!))) n++;
      } else n += this.unmapClass(k, va, va + size, null);
    }
    this.count -= n;
    return n;
  }

  /** Removes every mapping overlapping [va, va+size) and returns them. */
  unmap(va: number, size: number): Mapping[] {
    const removed: Mapping[] = [];
    if (this.count === 0) return removed;
    for (let i = 0; i < this.classes.length; i++) this.unmapClass(i, va, va + size, removed);
    this.count -= removed.length;
    return removed;
  }

  /** Removes class-i mappings overlapping [va, end), collecting them when `out` is given; returns the count. */
  private unmapClass(i: number, va: number, end: number, out: Mapping[] | null): number {
    const cls = this.classes[i]!;
    if (cls.size === 0) return 0;
    const s = this.sizes[i]!;
    const first = Math.floor(va / s);
    const last = Math.ceil(end / s);
    let n = 0;
    if (last - first <= cls.size) {
      for (let vpn = first; vpn < last; vpn++) {
        const m = cls.get(vpn);
        if (m) {
          cls.delete(vpn);
          out?.push(m);
          n++;
        }
      }
    } else {
      for (const [vpn, m] of cls) {
        if (vpn >= first && vpn < last) {
          cls.delete(vpn);
          out?.push(m);
          n++;
        }
      }
    }
    return n;
  }

  /** Removes everything. */
  clear(): void {
    for (const c of this.classes) c.clear();
    this.count = 0;
  }

  /** Every mapping, ordered by virtual address (for tests, reports and invariant checks). */
  mappings(): Mapping[] {
    const all: Mapping[] = [];
    for (const c of this.classes) for (const m of c.values()) all.push(m);
    return all.sort((a, b) => a.va - b.va);
  }

  /** Count of mappings per size in bytes, ascending by size. */
  countBySize(): Map<number, number> {
    const out = new Map<number, number>();
    this.classes.forEach((c, i) => {
      out.set(this.sizes[i]!, c.size);
    });
    return out;
  }

  toString(): string {
    return `PageTable(${this.count} mappings)`;
  }
}
