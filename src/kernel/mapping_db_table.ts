/**
 * Mapping-database nodes as slots of typed-array columns. A node is an integer: a million of them
 * are a few flat arrays, not a million objects for the garbage collector to copy, and indexes
 * that refer to them hold small integers, not pointers from old objects to young ones. Tree links
 * are slot numbers, NONE (-1) for none. Freed slots are reused; an {@link MdbHandle} made for a
 * node (only when the public API hands one out) notices its node's death and keeps its last state.
 */
import { hex, sizeName } from '../util/hex.js';
import type { MemRightsMask } from './flexpage.js';
import { memRightsName } from './flexpage.js';
import type { MdbMapping, SpaceId } from './mapping_db_node.js';

/** No node. */
export const NONE = -1;

/** Flag bits of a slot. */
const LIVE = 1;
const HANDLE = 2;

/** The node columns. Slot fields are public for the store's hot loops; only the store writes them. */
export class NodeTable {
  /** Virtual base. */
  va = new Float64Array(0);
  /** Physical base. */
  pa = new Float64Array(0);
  /** The holding space's id (for change records and handles). */
  sid = new Float64Array(0);
  /** The holding space's record slot in the store. */
  sp = new Int32Array(0);
  /** Size class. */
  cls = new Uint8Array(0);
  rights = new Uint8Array(0);
  flags = new Uint8Array(0);
  depth = new Int32Array(0);
  parent = new Int32Array(0);
  first = new Int32Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  kidCount = new Int32Array(0);
  /** Chain within a parent's KidIndex bucket; for a free slot, the next free slot. */
  frameNext = new Int32Array(0);
  framePrev = new Int32Array(0);
  private top = 0;
  private freeHead = NONE;
  private readonly handles = new Map<number, MdbHandle>();

  constructor(
    /** log2 of the page size of each size class. */
    readonly sizesLog2: readonly number[],
  ) {
    this.grow(1024);
  }

  /** A fresh slot, linked to nothing. */
  alloc(
    va: number,
    pa: number,
    sid: SpaceId,
    sp: number,
    cls: number,
    rights: MemRightsMask,
    parent: number,
  ): number {
    let n = this.freeHead;
    if (n !== NONE) this.freeHead = this.frameNext[n]!;
    else {
      if (this.top === this.va.length) this.grow(this.top * 2);
      n = this.top++;
    }
    this.va[n] = va;
    this.pa[n] = pa;
    this.sid[n] = sid;
    this.sp[n] = sp;
    this.cls[n] = cls;
    this.rights[n] = rights;
    this.flags[n] = LIVE;
    this.depth[n] = parent === NONE ? 0 : this.depth[parent]! + 1;
    this.parent[n] = parent;
    this.first[n] = NONE;
    this.next[n] = NONE;
    this.prev[n] = NONE;
    this.kidCount[n] = 0;
    this.frameNext[n] = NONE;
    this.framePrev[n] = NONE;
    return n;
  }

  /** Marks a node dead (its links stay readable until {@link NodeTable.recycle}). */
  kill(n: number): void {
    if (this.flags[n]! & HANDLE) {
      this.handles.get(n)!.detach();
      this.handles.delete(n);
    }
    this.flags[n] = 0;
  }

  /** Returns dead slots to the free list. */
  recycle(dead: readonly number[]): void {
    for (const n of dead) {
      this.frameNext[n] = this.freeHead;
      this.freeHead = n;
    }
  }

  live(n: number): boolean {
    return (this.flags[n]! & LIVE) !== 0;
  }

  /** True when `h` was handed out by this table. */
  owns(h: MdbHandle): boolean {
    return h.table === this;
  }

  /** The handle of a live node (the same object each time while it lives). */
  handle(n: number): MdbHandle {
    let h = this.handles.get(n);
    if (h === undefined) {
      h = new MdbHandle(this, n);
      this.handles.set(n, h);
      this.flags[n]! |= HANDLE;
    }
    return h;
  }

  private grow(cap: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.va = f64(this.va);
    this.pa = f64(this.pa);
    this.sid = f64(this.sid);
    this.sp = i32(this.sp);
    this.cls = u8(this.cls);
    this.rights = u8(this.rights);
    this.flags = u8(this.flags);
    this.depth = i32(this.depth);
    this.parent = i32(this.parent);
    this.first = i32(this.first);
    this.next = i32(this.next);
    this.prev = i32(this.prev);
    this.kidCount = i32(this.kidCount);
    this.frameNext = i32(this.frameNext);
    this.framePrev = i32(this.framePrev);
  }
}

/** A mapping as the public API hands it out: reads its node while it lives, keeps its last state after. */
export class MdbHandle implements MdbMapping {
  // Fixed for a node's life.
  readonly pa: number;
  readonly sizeLog2: number;
  readonly depth: number;
  private last: { space: SpaceId; va: number; rights: MemRightsMask } | null = null;

  constructor(
    /** The table holding the node. */
    readonly table: NodeTable,
    /** The node's slot (meaningless once dead). */
    readonly slot: number,
  ) {
    this.pa = table.pa[slot]!;
    this.sizeLog2 = table.sizesLog2[table.cls[slot]!]!;
    this.depth = table.depth[slot]!;
  }

  get live(): boolean {
    return this.last === null;
  }
  get space(): SpaceId {
    return this.last?.space ?? this.table.sid[this.slot]!;
  }
  get va(): number {
    return this.last?.va ?? this.table.va[this.slot]!;
  }
  get rights(): MemRightsMask {
    return this.last?.rights ?? this.table.rights[this.slot]!;
  }

  /** Called when the node dies: keep what it was. */
  detach(): void {
    this.last = { space: this.space, va: this.va, rights: this.rights };
  }

  toString(): string {
    return `space ${this.space} ${hex(this.va)}+${sizeName(2 ** this.sizeLog2)} -> ${hex(this.pa)} ${memRightsName(this.rights)} depth ${this.depth}`;
  }
}
