/**
 * The mapping database's storage: the node table, the per-space and root indexes, the children
 * indexes of wide nodes, and the memory each node costs. It enforces no L4 rule (mapping_db.ts
 * does); it keeps the structures in step, reports every mapping it enters, removes or changes,
 * and charges and returns node memory.
 */
import { hex, sizeName } from '../util/hex.js';
import type { Result } from '../util/result.js';
import { type MemRightsMask, memRightsName } from './flexpage.js';
import type { KernelMemory, KernelMemoryErrorCode } from './mapping_db_memory.js';
import {
  collectOverlapping,
  KidIndex,
  type MdbChangeKind,
  type MdbChanges,
  MdbSpace,
  type SpaceId,
} from './mapping_db_node.js';
import { NONE, NodeTable } from './mapping_db_table.js';
import { linkChild, unlinkChild, walkSubtree } from './mapping_db_walk.js';

/** What the kernel-memory charge of one node says it is for. */
const WHAT = 'a mapping-database node';

/** Trees of mapping nodes with their indexes. */
export class MdbStore {
  /** Page sizes in bytes, ascending (index = size class). */
  readonly sizes: readonly number[];
  readonly t: NodeTable;
  /** Live nodes. */
  live = 0;
  private readonly clsOf = new Int8Array(64).fill(-1);
  private readonly spaceRecs = new Map<SpaceId, MdbSpace>();
  /** Space records by slot (what node columns refer to); a freed slot is reused. */
  private readonly spaceSlots: (MdbSpace | undefined)[] = [];
  private readonly freeSpaceSlots: number[] = [];
  /** Roots by size class and physical block. */
  private readonly roots: Map<number, number>[];
  /** Children-by-frame indexes of wide nodes, by node. */
  private readonly kids = new Map<number, KidIndex>();

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
    this.t = new NodeTable(pageSizesLog2);
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
      const slot = this.freeSpaceSlots.pop() ?? this.spaceSlots.length;
      sp = new MdbSpace(id, slot, this.memoryOf(id), this.sizes.length);
      this.spaceRecs.set(id, sp);
      this.spaceSlots[slot] = sp;
    }
    return sp;
  }

  /** Forgets a space's record when it holds nothing (after a failed operation, or its destruction). */
  dropIfEmpty(sp: MdbSpace): void {
    if (sp.count !== 0 || this.spaceRecs.get(sp.id) !== sp) return;
    this.spaceRecs.delete(sp.id);
    this.spaceSlots[sp.slot] = undefined;
    this.freeSpaceSlots.push(sp.slot);
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

  /** The node of `sp` translating `va`, or NONE. */
  find(sp: MdbSpace, va: number): number {
    for (let k = this.sizes.length - 1; k >= 0; k--) {
      const m = sp.byVa[k]!;
      if (m.size === 0) continue;
      const n = m.get(Math.floor(va / this.sizes[k]!));
      if (n !== NONE) return n;
    }
    return NONE;
  }

  /** Appends `sp`'s nodes overlapping [base, end) to `out`. */
  overlapping(sp: MdbSpace, base: number, end: number, out: number[]): void {
    if (sp.count === 0) return;
    for (let k = 0; k < this.sizes.length; k++) {
      const m = sp.byVa[k]!;
      if (m.size > 0) m.collect(Math.floor(base / this.sizes[k]!), Math.ceil(end / this.sizes[k]!), out);
    }
  }

  /** Appends the roots whose frames overlap [pa, end) to `out`. */
  rootsOverlapping(pa: number, end: number, out: number[]): void {
    collectOverlapping(this.roots, this.sizes, pa, end, out);
  }

  /** Enters a node (already paid for) below `parent`, or as a root (parent NONE). */
  insert(
    sp: MdbSpace,
    va: number,
    pa: number,
    cls: number,
    rights: MemRightsMask,
    parent: number,
    changes: MdbChanges,
  ): number {
    const n = this.t.alloc(va, pa, sp.id, sp.slot, cls, rights, parent);
    if (parent === NONE) this.roots[cls]!.set(pa / this.sizes[cls]!, n);
    else {
      linkChild(this.t, parent, n);
      if (this.kids.size > 0) this.kids.get(parent)?.add(n);
    }
    this.live++;
    this.enter(n, sp, changes);
    return n;
  }

  /** Moves a node to (sp, va) with `rights`, keeping its place in its tree; its memory moves to sp's payer. */
  move(n: number, sp: MdbSpace, va: number, rights: MemRightsMask, changes: MdbChanges): void {
    const t = this.t;
    const old = this.spaceSlots[t.sp[n]!]!;
    this.record('unmap', n, changes);
    old.byVa[t.cls[n]!]!.delete(t.va[n]! / this.sizes[t.cls[n]!]!);
    old.count--;
    if (old !== sp) old.memory.release(this.nodeBytes);
    t.sid[n] = sp.id;
    t.sp[n] = sp.slot;
    t.va[n] = va;
    t.rights[n] = rights;
    this.enter(n, sp, changes);
  }

  /** Gives a node more rights (its children keep theirs). */
  upgrade(n: number, rights: MemRightsMask, changes: MdbChanges): void {
    const r = this.t.rights[n]!;
    if ((r | rights) === r) return;
    this.t.rights[n] = r | rights;
    this.record('rights', n, changes);
  }

  /** Removes `top` and everything derived from it, returning their memory. */
  removeSubtree(top: number, changes: MdbChanges): void {
    const t = this.t;
    if (t.parent[top] !== NONE) {
      if (this.kids.size > 0) this.kids.get(t.parent[top]!)?.remove(top);
      unlinkChild(t, top);
    } else this.roots[t.cls[top]!]!.delete(t.pa[top]! / this.sizes[t.cls[top]!]!);
    const { nodeBytes: bytes, sizes, spaceSlots } = this;
    const dead: number[] = [];
    walkSubtree(t, top, (n) => {
      const sp = spaceSlots[t.sp[n]!]!;
      this.record('unmap', n, changes);
      sp.byVa[t.cls[n]!]!.delete(t.va[n]! / sizes[t.cls[n]!]!);
      sp.count--;
      sp.memory.release(bytes);
      t.kill(n);
      dead.push(n);
      return true;
    });
    if (this.kids.size > 0) for (const n of dead) this.kids.delete(n);
    t.recycle(dead);
    this.live -= dead.length;
  }

  /** Takes `mask` (no read) away from `top` and its descendants; stops where nothing changes. */
  downgrade(top: number, mask: MemRightsMask, changes: MdbChanges): void {
    const t = this.t;
    walkSubtree(t, top, (n) => {
      if ((t.rights[n]! & mask) === 0) return false; // children hold no more than their parent
      t.rights[n]! &= ~mask;
      this.record('rights', n, changes);
      return true;
    });
  }

  /** `m`'s children whose frames overlap [paLo, paHi): a scan of few children, else the KidIndex. */
  childrenOverlapping(m: number, paLo: number, paHi: number): number[] {
    const t = this.t;
    let idx = this.kids.get(m);
    if (idx === undefined && t.kidCount[m]! > this.kidIndexAfter) {
      idx = new KidIndex(t, this.sizes);
      for (let c = t.first[m]!; c !== NONE; c = t.next[c]!) idx.add(c);
      this.kids.set(m, idx);
    }
    if (idx !== undefined) return idx.overlapping(paLo, paHi);
    const out: number[] = [];
    for (let c = t.first[m]!; c !== NONE; c = t.next[c]!)
      if (t.pa[c]! < paHi && t.pa[c]! + this.sizes[t.cls[c]!]! > paLo) out.push(c);
    return out;
  }

  /** Node `n` in words, for error messages. */
  describe(n: number): string {
    const t = this.t;
    return `space ${t.sid[n]} ${hex(t.va[n]!)}+${sizeName(this.sizes[t.cls[n]!]!)} -> ${hex(t.pa[n]!)} ${memRightsName(t.rights[n]!)}`;
  }

  /** Records a change of node `n` as it is now. */
  record(kind: MdbChangeKind, n: number, changes: MdbChanges): void {
    const t = this.t;
    changes.push(kind, t.sid[n]!, t.va[n]!, this.pageSizesLog2[t.cls[n]!]!, t.pa[n]!, t.rights[n]!);
  }

  private enter(n: number, sp: MdbSpace, changes: MdbChanges): void {
    sp.byVa[this.t.cls[n]!]!.set(this.t.va[n]! / this.sizes[this.t.cls[n]!]!, n);
    sp.count++;
    this.record('map', n, changes);
  }
}
