/**
 * The mapping database's vocabulary (spaces, mappings, change records) and its indexes: per
 * space by virtual page, per wide parent by frame. Nodes themselves live in mapping_db_table.ts;
 * mapping_db.ts explains why the structure looks like this.
 */
import { hex, sizeName } from '../util/hex.js';
import { type Err, err } from '../util/result.js';
import { MAX_FPAGE_LOG2, type MemRightsMask, memRightsName } from './flexpage.js';
import type { KernelMemory, KernelMemoryErrorCode } from './mapping_db_memory.js';
import { NONE, type NodeTable } from './mapping_db_table.js';
import { VaIndex } from './mapping_db_vaindex.js';

/** Names an address space (a task) in the mapping database, e.g. its protection domain's id. */
export type SpaceId = number;

/**
 * Kernel memory one node costs: of the order of Fiasco's `Mapping` (space pointer, virtual page
 * with depth, list link: two to three words) plus its share of the frame arrays.
 */
export const MDB_NODE_BYTES = 32;

/** Why a mapping-database operation failed (it then changed nothing). */
export type MdbErrorCode =
  | 'SIZE_UNSUPPORTED'
  | 'MISALIGNED'
  | 'ADDRESS_RANGE'
  | 'NO_MAPPING'
  | 'SIZE_EXCEEDS_PARENT'
  | 'GRANT_PARTIAL'
  | 'NO_RIGHTS'
  | 'ONTO_ANCESTOR'
  | 'ROOT_OVERLAP'
  | KernelMemoryErrorCode;

/** Default of {@link MappingDbOptions.kidIndexAfter}. */
export const KID_INDEX_AFTER = 32;

/** How to build a mapping database (`MappingDb`). */
export interface MappingDbOptions {
  /** log2 of the page sizes mappings may have, ascending (the page tables' sizes). */
  readonly pageSizesLog2: readonly number[];
  /** Who pays for a space's nodes; asked when the space first holds a mapping (again after its destruction). */
  readonly memoryOf: (space: SpaceId) => KernelMemory;
  /** Kernel memory per node; default {@link MDB_NODE_BYTES}. */
  readonly nodeBytes?: number;
  /**
   * A partial unmap scans a parent's children directly while it has at most this many, and
   * otherwise indexes them by frame (once; kept up to date afterwards). Default 32.
   */
  readonly kidIndexAfter?: number;
}

/** Options of `MappingDb.unmap`. */
export interface UnmapOptions {
  /** Also unmap (or downgrade) the space's own mappings, not only what derives from them. */
  readonly self?: boolean;
  /** Rights to take away ({@link MemRights}); with read the mappings go, else they are downgraded. Default rwx. */
  readonly rights?: MemRightsMask;
}

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

const KINDS: readonly MdbChangeKind[] = ['map', 'unmap', 'rights'];
const EMPTY = new Float64Array(0);

/**
 * The changes one operation made, in order. Stored as numbers: revoking a million mappings
 * records a million changes without a million objects; {@link MdbChange} objects are made only
 * when a caller iterates or asks for one.
 */
export class MdbChanges implements Iterable<MdbChange> {
  /** Six numbers per change: kind, space, va, sizeLog2, pa, rights; allocated on first use. */
  private cols = EMPTY;
  private n = 0;

  /** Number of changes. */
  get length(): number {
    return this.n;
  }

  /** Records a change. */
  push(
    kind: MdbChangeKind,
    space: SpaceId,
    va: number,
    sizeLog2: number,
    pa: number,
    rights: MemRightsMask,
  ): void {
    let c = this.cols;
    const o = 6 * this.n++;
    if (o === c.length) {
      const grown = new Float64Array(Math.max(6, c.length * 2)); // one change fits in a small on-heap array
      grown.set(c);
      this.cols = c = grown;
    }
    c[o] = kind === 'map' ? 0 : kind === 'unmap' ? 1 : 2;
    c[o + 1] = space;
    c[o + 2] = va;
    c[o + 3] = sizeLog2;
    c[o + 4] = pa;
    c[o + 5] = rights;
  }

  /** Appends every change of `other`. */
  append(other: MdbChanges): void {
    for (let i = 0; i < other.n; i++)
      this.push(other.kind(i), other.space(i), other.va(i), other.sizeLog2(i), other.pa(i), other.rights(i));
  }

  kind(i: number): MdbChangeKind {
    return KINDS[this.cols[6 * i]!]!;
  }
  space(i: number): SpaceId {
    return this.cols[6 * i + 1]!;
  }
  va(i: number): number {
    return this.cols[6 * i + 2]!;
  }
  sizeLog2(i: number): number {
    return this.cols[6 * i + 3]!;
  }
  pa(i: number): number {
    return this.cols[6 * i + 4]!;
  }
  rights(i: number): MemRightsMask {
    return this.cols[6 * i + 5]!;
  }

  /** Change `i` as an object. */
  at(i: number): MdbChange {
    return new MdbChange(
      this.kind(i),
      this.space(i),
      this.va(i),
      this.sizeLog2(i),
      this.pa(i),
      this.rights(i),
    );
  }

  /** Every change as an object, in order. */
  toArray(): MdbChange[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  *[Symbol.iterator](): Iterator<MdbChange> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

/** A space's bookkeeping: its nodes by size class and virtual page, and who pays for them. */
export class MdbSpace {
  /** One index per size class, from va / size to node slot. */
  readonly byVa: VaIndex[];
  /** Live nodes held. */
  count = 0;

  constructor(
    readonly id: SpaceId,
    /** Its index in the store's space records (what node slots refer to). */
    readonly slot: number,
    readonly memory: KernelMemory,
    classes: number,
  ) {
    this.byVa = Array.from({ length: classes }, () => new VaIndex());
  }
}

/**
 * Collects what a per-class block map holds in [base, end): per class, either probes each block
 * of the range or scans the class's entries, whichever is fewer (as hw/page_table.ts does).
 */
export function collectOverlapping(
  maps: readonly Map<number, number>[],
  sizes: readonly number[],
  base: number,
  end: number,
  out: number[],
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
 * child of that exact frame, the others chained through the frameNext/framePrev columns. Fiasco
 * gets the same effect from its per-frame arrays of sub-page trees; here it is built on demand,
 * so insertion pays for it only under nodes that a partial unmap has already had to search.
 */
export class KidIndex {
  private readonly maps: Map<number, number>[];

  constructor(
    private readonly t: NodeTable,
    private readonly sizes: readonly number[],
  ) {
    this.maps = sizes.map(() => new Map());
  }

  add(n: number): void {
    const t = this.t;
    const m = this.maps[t.cls[n]!]!;
    const key = t.pa[n]! / this.sizes[t.cls[n]!]!;
    const head = m.get(key) ?? NONE;
    t.framePrev[n] = NONE;
    t.frameNext[n] = head;
    if (head !== NONE) t.framePrev[head] = n;
    m.set(key, n);
  }

  remove(n: number): void {
    const t = this.t;
    const prev = t.framePrev[n]!;
    const next = t.frameNext[n]!;
    if (prev !== NONE) t.frameNext[prev] = next;
    else {
      const m = this.maps[t.cls[n]!]!;
      const key = t.pa[n]! / this.sizes[t.cls[n]!]!;
      if (next !== NONE) m.set(key, next);
      else m.delete(key);
    }
    if (next !== NONE) t.framePrev[next] = prev;
    t.frameNext[n] = NONE;
    t.framePrev[n] = NONE;
  }

  /** Children whose frames overlap [paBase, paEnd). */
  overlapping(paBase: number, paEnd: number): number[] {
    const heads: number[] = [];
    collectOverlapping(this.maps, this.sizes, paBase, paEnd, heads);
    const out: number[] = [];
    for (const h of heads) for (let n = h; n !== NONE; n = this.t.frameNext[n]!) out.push(n);
    return out;
  }
}

/** One past the highest modelled address. */
export const MAX_END = 2 ** MAX_FPAGE_LOG2;

/** Why `addr` cannot be the base of a block of `size` bytes, or null. */
export function checkBlock(what: string, addr: number, size: number): Err<MdbErrorCode> | null {
  // Division by a power of two is exact; cheaper than a floating-point remainder above 2^31.
  if (Math.floor(addr / size) * size !== addr)
    return err('MISALIGNED', `${what} ${hex(addr)} must be a multiple of ${sizeName(size)}`);
  if (addr < 0 || addr + size > 2 ** MAX_FPAGE_LOG2)
    return err(
      'ADDRESS_RANGE',
      `${what} ${hex(addr)}+${sizeName(size)} must lie in [0, 2^${MAX_FPAGE_LOG2})`,
    );
  return null;
}
