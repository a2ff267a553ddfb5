/**
 * The mapping database's storage: the trees, the per-space and root indexes, and the memory each
 * node costs. It enforces no L4 rule (mapping_db.ts does); it only keeps the structures in step,
 * reports every mapping it enters, removes or changes, and charges and returns node memory.
 */
import type { Result } from '../util/result.js';
import type { MemRightsMask } from './flexpage.js';
import type { KernelMemory, KernelMemoryErrorCode } from './mapping_db_memory.js';
import {
  collectOverlapping,
  KidIndex,
  MdbChange,
  MdbNode,
  MdbSpace,
  type SpaceId,
} from './mapping_db_node.js';
import { linkChild, unlinkChild, walkSubtree } from './mapping_db_walk.js';

/** What the kernel-memory charge of one node says it is for. */
const WHAT = 'a mapping-database node';

/** Trees of mapping nodes with their indexes. */
export class MdbStore {
  /** Page sizes in bytes, ascending (index = size class). */
  readonly sizes: readonly number[];
  /** Live nodes. */
  live = 0;
  private readonly clsOf = new Int8Array(64).fill(-1);
  private readonly spaceRecs = new Map<SpaceId, MdbSpace>();
  /** Roots by size class and physical block. */
  private readonly roots: Map<number, MdbNode>[];

  constructor(
    readonly pageSizesLog2: readonly number[],
    private readonly memoryOf: (space: SpaceId) => KernelMemory,
    readonly nodeBytes: number,
    private readonly kidIndexAfter: number,
  ) {
    this.sizes = pageSizesLog2.map((v) => 2 ** v);
    pageSizesLog2.forEach((v, i) => {
      this.clsOf[v] = i;
    });
    this.roots = pageSizesLog2.map(() => new Map());
  }

  /** The size class of 2^sizeLog2 bytes, or -1. */
  cls(sizeLog2: number): number {
    return Number.isInteger(sizeLog2) && sizeLog2 >= 0 && sizeLog2 < 64 ? this.clsOf[sizeLog2]! : -1;
  }

  space(id: SpaceId): MdbSpace | undefined {
    return this.spaceRecs.get(id);
  }

  /** The space's record, made (and its payer asked for) on first use. */
  ensureSpace(id: SpaceId): MdbSpace {
    let sp = this.spaceRecs.get(id);
    if (sp === undefined) {
      sp = new MdbSpace(id, this.memoryOf(id), this.sizes.length);
      this.spaceRecs.set(id, sp);
    }
    return sp;
  }

  /** Forgets a space's record when it holds nothing (after a failed operation, or its destruction). */
  dropIfEmpty(sp: MdbSpace): void {
    if (sp.count === 0) this.spaceRecs.delete(sp.id);
  }

  /** Ids of the spaces holding mappings, ascending. */
  spaceIds(): SpaceId[] {
    return [...this.spaceRecs.values()]
      .filter((s) => s.count > 0)
      .map((s) => s.id)
      .sort((a, b) => a - b);
  }

  /** Who pays for `id`'s nodes, without making a record. */
  memoryFor(id: SpaceId): KernelMemory {
    return this.spaceRecs.get(id)?.memory ?? this.memoryOf(id);
  }

  /** Charges one node to `sp`; nothing changes on failure. */
  charge(sp: MdbSpace): Result<void, KernelMemoryErrorCode> {
    return sp.memory.charge(this.nodeBytes, WHAT);
  }

  /** The node of `sp` translating `va`. */
  find(sp: MdbSpace, va: number): MdbNode | undefined {
    for (let k = this.sizes.length - 1; k >= 0; k--) {
      const m = sp.byVa[k]!;
      if (m.size === 0) continue;
      const n = m.get(Math.floor(va / this.sizes[k]!));
      if (n !== undefined) return n;
    }
    return undefined;
  }

  /** Appends `sp`'s nodes overlapping [base, end) to `out`. */
  overlapping(sp: MdbSpace, base: number, end: number, out: MdbNode[]): void {
    if (sp.count > 0) collectOverlapping(sp.byVa, this.sizes, base, end, out);
  }

  /** Appends the roots whose frames overlap [pa, end) to `out`. */
  rootsOverlapping(pa: number, end: number, out: MdbNode[]): void {
    collectOverlapping(this.roots, this.sizes, pa, end, out);
  }

  /** Enters a node (already paid for) below `parent`, or as a root. */
  insert(
    sp: MdbSpace,
    va: number,
    pa: number,
    cls: number,
    rights: MemRightsMask,
    parent: MdbNode | null,
    changes: MdbChange[],
  ): MdbNode {
    const n = new MdbNode(sp, va, pa, this.pageSizesLog2[cls]!, cls, rights, parent);
    if (parent === null) this.roots[cls]!.set(pa / this.sizes[cls]!, n);
    else linkChild(parent, n);
    this.live++;
    this.enter(n, changes);
    return n;
  }

  /** Moves a node to (sp, va) with `rights`, keeping its place in its tree; its memory moves to sp's payer. */
  move(n: MdbNode, sp: MdbSpace, va: number, rights: MemRightsMask, changes: MdbChange[]): void {
    changes.push(new MdbChange('unmap', n.sp.id, n.va, n.sizeLog2, n.pa, n.rights));
    n.sp.byVa[n.cls]!.delete(n.va / this.sizes[n.cls]!);
    n.sp.count--;
    if (n.sp !== sp) n.sp.memory.release(this.nodeBytes);
    n.sp = sp;
    n.va = va;
    n.rights = rights;
    this.enter(n, changes);
  }

  /** Gives a node more rights (its children keep theirs). */
  upgrade(n: MdbNode, rights: MemRightsMask, changes: MdbChange[]): void {
    if ((n.rights | rights) === n.rights) return;
    n.rights |= rights;
    changes.push(new MdbChange('rights', n.sp.id, n.va, n.sizeLog2, n.pa, n.rights));
  }

  /** Removes `top` and everything derived from it, returning their memory. */
  removeSubtree(top: MdbNode, changes: MdbChange[]): void {
    if (top.parent !== null) unlinkChild(top);
    else this.roots[top.cls]!.delete(top.pa / this.sizes[top.cls]!);
    const bytes = this.nodeBytes;
    const sizes = this.sizes;
    let dead = 0;
    walkSubtree(top, (n) => {
      changes.push(new MdbChange('unmap', n.sp.id, n.va, n.sizeLog2, n.pa, n.rights));
      n.sp.byVa[n.cls]!.delete(n.va / sizes[n.cls]!);
      n.sp.count--;
      n.sp.memory.release(bytes);
      n.live = false;
      dead++;
      return true;
    });
    this.live -= dead;
  }

  /** Takes `mask` (no read) away from `top` and its descendants; stops where nothing changes. */
  downgrade(top: MdbNode, mask: MemRightsMask, changes: MdbChange[]): void {
    walkSubtree(top, (n) => {
      if ((n.rights & mask) === 0) return false; // children hold no more than their parent
      n.rights &= ~mask;
      changes.push(new MdbChange('rights', n.sp.id, n.va, n.sizeLog2, n.pa, n.rights));
      return true;
    });
  }

  /** `m`'s children whose frames overlap [paLo, paHi): a scan of few children, else the KidIndex. */
  childrenOverlapping(m: MdbNode, paLo: number, paHi: number): MdbNode[] {
    if (m.kids === null && m.childCount > this.kidIndexAfter) {
      m.kids = new KidIndex(this.sizes);
      for (let c = m.firstChild; c !== null; c = c.nextSibling) m.kids.add(c);
    }
    if (m.kids !== null) return m.kids.overlapping(paLo, paHi);
    const out: MdbNode[] = [];
    for (let c = m.firstChild; c !== null; c = c.nextSibling)
      if (c.pa < paHi && c.pa + this.sizes[c.cls]! > paLo) out.push(c);
    return out;
  }

  private enter(n: MdbNode, changes: MdbChange[]): void {
    n.sp.byVa[n.cls]!.set(n.va / this.sizes[n.cls]!, n);
    n.sp.count++;
    changes.push(new MdbChange('map', n.sp.id, n.va, n.sizeLog2, n.pa, n.rights));
  }
}
