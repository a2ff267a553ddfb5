/**
 * The mapping database's data: nodes, per-space indexes and the change records its operations
 * return. mapping_db.ts explains why the structure looks like this.
 */
import { hex, sizeName } from '../util/hex.js';
import type { MemRightsMask } from './flexpage.js';
import { memRightsName } from './flexpage.js';
import type { KernelMemory } from './mapping_db_memory.js';

/** Names an address space (a task) in the mapping database, e.g. its protection domain's id. */
export type SpaceId = number;

/** One mapping as the database sees it: a live view (a grant moves it, an unmap kills it). */
export interface MdbMapping {
  /** The address space holding the mapping. */
  readonly space: SpaceId;
  /** Virtual base, aligned to the size. */
  readonly va: number;
  /** Physical base, aligned to the size. */
  readonly pa: number;
  /** log2 of the size (one of the database's page sizes). */
  readonly sizeLog2: number;
  /** Rights ({@link MemRights}); always include read, never more than the parent's. */
  readonly rights: MemRightsMask;
  /** 0 for a root, parent's depth + 1 otherwise. */
  readonly depth: number;
  /** False once unmapped or its space destroyed. */
  readonly live: boolean;
}

/** What an operation did to one mapping, so the caller can update page tables and TLBs. */
export type MdbChangeKind =
  /** A new mapping: install it. */
  | 'map'
  /** Removed: drop the page-table entry and flush the TLBs. */
  | 'unmap'
  /** Rights changed in place (downgrade or upgrade): rewrite the entry and flush the TLBs. */
  | 'rights';

/** One change: which mapping, and its rights after the change (before it, for an unmap). */
export class MdbChange {
  constructor(
    /** What happened. */
    readonly kind: MdbChangeKind,
    /** The address space whose page table changes. */
    readonly space: SpaceId,
    /** Virtual base of the mapping. */
    readonly va: number,
    /** log2 of its size. */
    readonly sizeLog2: number,
    /** Physical base. */
    readonly pa: number,
    /** Rights after the change; for an unmap, the rights it had. */
    readonly rights: MemRightsMask,
  ) {}

  /** Size in bytes. */
  get size(): number {
    return 2 ** this.sizeLog2;
  }

  toString(): string {
    return `${this.kind} space ${this.space} ${hex(this.va)}+${sizeName(this.size)} -> ${hex(this.pa)} ${memRightsName(this.rights)}`;
  }
}

/** A space's bookkeeping: its mappings by size class and virtual page, and who pays for them. */
export class MdbSpace {
  /** One map per size class, keyed by va / size. */
  readonly byVa: Map<number, MdbNode>[];
  /** Live nodes held. */
  count = 0;

  constructor(
    readonly id: SpaceId,
    readonly memory: KernelMemory,
    classes: number,
  ) {
    this.byVa = Array.from({ length: classes }, () => new Map());
  }
}

/**
 * A node of a mapping tree. Children hang off a first-child/next-sibling list (insertion O(1) at
 * the head, removal O(1) with the back link), and every walk over a subtree follows these links
 * and the parent pointers iteratively, so neither depth nor breadth touches the call stack.
 */
export class MdbNode implements MdbMapping {
  parent: MdbNode | null;
  firstChild: MdbNode | null = null;
  nextSibling: MdbNode | null = null;
  prevSibling: MdbNode | null = null;
  childCount = 0;
  /** Children by physical block, built the first time a partial unmap needs it (see KidIndex). */
  kids: KidIndex | null = null;
  /** Neighbours in the parent's KidIndex bucket (same size class and physical block). */
  frameNext: MdbNode | null = null;
  framePrev: MdbNode | null = null;
  live = true;
  readonly depth: number;

  constructor(
    public sp: MdbSpace,
    public va: number,
    readonly pa: number,
    readonly sizeLog2: number,
    /** Index of the size class in the database's page sizes. */
    readonly cls: number,
    public rights: MemRightsMask,
    parent: MdbNode | null,
  ) {
    this.parent = parent;
    this.depth = parent === null ? 0 : parent.depth + 1;
  }

  get space(): SpaceId {
    return this.sp.id;
  }

  toString(): string {
    return `space ${this.sp.id} ${hex(this.va)}+${sizeName(2 ** this.sizeLog2)} -> ${hex(this.pa)} ${memRightsName(this.rights)} depth ${this.depth}`;
  }
}

/**
 * Collects what a per-class block map holds in [base, end): per class, either probes each block
 * of the range or scans the class's entries, whichever is fewer (as hw/page_table.ts does).
 */
export function collectOverlapping(
  maps: readonly Map<number, MdbNode>[],
  sizes: readonly number[],
  base: number,
  end: number,
  out: MdbNode[],
): void {
  for (let k = 0; k < maps.length; k++) {
    const m = maps[k]!;
    if (m.size === 0) continue;
    const s = sizes[k]!;
    const first = Math.floor(base / s);
    const last = Math.ceil(end / s);
    if (last - first <= m.size) {
      for (let key = first; key < last; key++) {
        const n = m.get(key);
        if (n !== undefined) out.push(n);
      }
    } else {
      for (const [key, n] of m) if (key >= first && key < last) out.push(n);
    }
  }
}

/**
 * A wide node's children by physical block: one map per size class from pa / size to the first
 * child of that exact frame, the others chained through frameNext/framePrev. Fiasco gets the same
 * effect from its per-frame arrays of sub-page trees; here it is built on demand, so insertion
 * pays for it only under nodes that a partial unmap has already had to search.
 */
export class KidIndex {
  private readonly maps: Map<number, MdbNode>[];

  constructor(private readonly sizes: readonly number[]) {
    this.maps = sizes.map(() => new Map());
  }

  add(n: MdbNode): void {
    const m = this.maps[n.cls]!;
    const key = n.pa / this.sizes[n.cls]!;
    const head = m.get(key);
    n.framePrev = null;
    n.frameNext = head ?? null;
    if (head !== undefined) head.framePrev = n;
    m.set(key, n);
  }

  remove(n: MdbNode): void {
    if (n.framePrev !== null) n.framePrev.frameNext = n.frameNext;
    else {
      const m = this.maps[n.cls]!;
      const key = n.pa / this.sizes[n.cls]!;
      if (n.frameNext !== null) m.set(key, n.frameNext);
      else m.delete(key);
    }
    if (n.frameNext !== null) n.frameNext.framePrev = n.framePrev;
    n.frameNext = null;
    n.framePrev = null;
  }

  /** Children whose frames overlap [paBase, paEnd). */
  overlapping(paBase: number, paEnd: number): MdbNode[] {
    const heads: MdbNode[] = [];
    collectOverlapping(this.maps, this.sizes, paBase, paEnd, heads);
    const out: MdbNode[] = [];
    for (const h of heads) for (let n: MdbNode | null = h; n !== null; n = n.frameNext) out.push(n);
    return out;
  }
}
