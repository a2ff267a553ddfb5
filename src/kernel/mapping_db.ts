/**
 * The in-kernel mapping database (MDB) of the `local-rm` design (issue 15): which mapping was
 * derived from which, so that revoking one removes everything derived from it in every space.
 *
 * Design note: why this structure.
 * - Fiasco keeps one tree per physical frame, stored as a pre-order list with a depth byte per
 *   node (a subtree is the run of deeper nodes after its root); smaller pages hang below a frame
 *   in arrays of sub-frames; a (space, address) lookup scans the frame's tree, and depth stops at
 *   255. Here a node links to its parent, first child and siblings instead: insertion and
 *   unlinking are O(1), a subtree walk is O(its size) and iterative (mapping_db_walk.ts), so
 *   neither a chain nor a fan of a million mappings touches the call stack, and depth is free.
 * - Nodes are slots in typed-array columns (mapping_db_table.ts), and change lists are numbers
 *   too (MdbChanges): with one object per node, a million insertions spent most of their time in
 *   the garbage collector copying surviving nodes (measured: ~1 s of scavenges per million).
 * - Each space indexes its nodes by size class and virtual page, so lookup by (space, va) costs
 *   one probe per page size; Fiasco finds the frame through the sender's page table first, the
 *   MDB here stands alone and needs no scan. Pages are grouped 16 to a hash entry
 *   (mapping_db_vaindex.ts): a plain hash map per size spent the hot path in cache misses, and
 *   grouping halved the time of both insertion and revocation.
 * - A child may be smaller than its parent (a 2M mapping passed on as 4K pieces): each node keeps
 *   its own frame. A partial revocation of a wide parent asks a per-parent index of children by
 *   frame, built the first time one is needed (KidIndex): what Fiasco's sub-frame arrays give.
 * - Roots (core's or sigma0's own mapping, or a manager's) are indexed by physical block, so no
 *   two trees claim the same memory.
 * Semantics follow L4/Fiasco: mapping derives the piece at the same offset with rights ∩ the
 * parent's and a size <= the parent's; a destination already mapped is overmapped (its mappings
 * and what derives from them go), unless it is the same frame from the same parent, which only
 * gains rights; grant moves a node, which keeps its place in the tree; unmap never splits a
 * mapping: with `self` it removes each mapping the flexpage touches whole, without it the
 * children whose frames overlap the flexpage; a rights mask without read only downgrades. One
 * divergence: overmapping the source or one of its ancestors is an error here (Fiasco silently
 * unmaps it), so that a failed operation changes nothing. Every node's bytes are charged to the
 * kernel memory of the space holding it (Fiasco: the receiver's quota) and move with a grant.
 */
import { hex, sizeName } from '../util/hex.js';
import { type Err, err, invariant, ok, type Result } from '../util/result.js';
import { type Flexpage, MAX_FPAGE_LOG2, MemRights, type MemRightsMask } from './flexpage.js';
import type { KernelMemoryErrorCode } from './mapping_db_memory.js';
import {
  checkBlock,
  KID_INDEX_AFTER,
  MAX_END,
  type MappingDbOptions,
  MDB_NODE_BYTES,
  MdbChanges,
  type MdbErrorCode,
  type MdbMapping,
  MdbSpace,
  type SpaceId,
  type UnmapOptions,
} from './mapping_db_node.js';
import { MdbStore } from './mapping_db_store.js';
import { MdbHandle, NONE } from './mapping_db_table.js';
import { isAncestorOrSelf } from './mapping_db_walk.js';

export {
  type MappingDbOptions,
  MDB_NODE_BYTES,
  type MdbErrorCode,
  type UnmapOptions,
} from './mapping_db_node.js';

type Changes = Result<MdbChanges, MdbErrorCode>;

/** The mapping database: trees of derived mappings, indexed by space and virtual address. */
export class MappingDb {
  private readonly s: MdbStore;

  constructor(opts: MappingDbOptions) {
    const z = opts.pageSizesLog2;
    invariant(
      z.length > 0 &&
        z.every((v, i) => Number.isInteger(v) && v >= 0 && v <= MAX_FPAGE_LOG2 && (i === 0 || v > z[i - 1]!)),
      () =>
        `mapping database page sizes must be ascending integers in 0..${MAX_FPAGE_LOG2}, got [${z.join(', ')}]`,
    );
    this.s = new MdbStore(
      [...z],
      opts.memoryOf,
      opts.nodeBytes ?? MDB_NODE_BYTES,
      opts.kidIndexAfter ?? KID_INDEX_AFTER,
    );
  }

  /** log2 of the page sizes mappings may have, ascending. */
  get pageSizesLog2(): readonly number[] {
    return this.s.pageSizesLog2;
  }

  /** Kernel memory one node costs its space. */
  get nodeBytes(): number {
    return this.s.nodeBytes;
  }

  /** Number of live mappings (nodes). */
  get size(): number {
    return this.s.live;
  }

  /**
   * Enters a root mapping: `space` (core, sigma0, or a manager given memory by core) maps the
   * physical block [pa, pa + size) at `va`. No other root may cover any of that block. Mappings
   * of `space` overlapping [va, va + size) are overmapped.
   */
  insertRoot(space: SpaceId, va: number, pa: number, sizeLog2: number, rights: MemRightsMask): Changes {
    const cls = this.s.cls(sizeLog2);
    if (cls < 0) return this.unsupported(sizeLog2);
    const size = this.s.sizes[cls]!;
    const bad = checkBlock('root virtual base', va, size) ?? checkBlock('root physical base', pa, size);
    if (bad) return bad;
    const r = rights & MemRights.RWX;
    if ((r & MemRights.R) === 0)
      return err('NO_RIGHTS', `a root mapping needs the read right, got ${rights}`);
    const clash: number[] = [];
    this.s.rootsOverlapping(pa, pa + size, clash);
    if (clash.length > 0)
      return err(
        'ROOT_OVERLAP',
        `physical ${hex(pa)}+${sizeName(size)} is already the root of ${this.s.describe(clash[0]!)}`,
      );
    const over: number[] = [];
    const sp = this.destination(space, va, size, NONE, true, over);
    if (!(sp instanceof MdbSpace)) return sp;
    const changes = new MdbChanges();
    for (const e of over) if (this.s.t.live(e)) this.s.removeSubtree(e, changes);
    this.s.insert(sp, va, pa, cls, r, NONE, changes);
    return ok(changes);
  }

  /**
   * Derives a mapping: the block of 2^sizeLog2 bytes at `fromVa` of the mapping `from` holds
   * there is mapped at `toVa` in `to`, with rights `rights` ∩ the parent's (read required). The
   * size may not exceed the parent's (a 4K piece of a 2M mapping is fine, the reverse is
   * SIZE_EXCEEDS_PARENT). Overmaps what `to` has there, except the source and its ancestors
   * (ONTO_ANCESTOR); the same frame again from the same parent only gains rights.
   */
  map(
    from: SpaceId,
    fromVa: number,
    to: SpaceId,
    toVa: number,
    sizeLog2: number,
    rights: MemRightsMask,
  ): Changes {
    const parent = this.source(from, fromVa, toVa, sizeLog2, rights);
    if (typeof parent !== 'number') return parent;
    const t = this.s.t;
    const eff = rights & t.rights[parent]!;
    const cls = this.s.cls(sizeLog2);
    const pa = t.pa[parent]! + (fromVa - t.va[parent]!);
    const over: number[] = [];
    const sp = this.destination(to, toVa, this.s.sizes[cls]!, parent, false, over);
    if (!(sp instanceof MdbSpace)) return sp;
    const changes = new MdbChanges();
    const e = over[0]!;
    if (
      over.length === 1 &&
      t.parent[e] === parent &&
      t.va[e] === toVa &&
      t.cls[e] === cls &&
      t.pa[e] === pa
    ) {
      this.s.upgrade(e, eff, changes);
      return ok(changes);
    }
    const charged = this.s.charge(sp);
    if (!charged.ok) {
      this.s.dropIfEmpty(sp);
      return charged;
    }
    for (const o of over) if (t.live(o)) this.s.removeSubtree(o, changes);
    this.s.insert(sp, toVa, pa, cls, eff, parent, changes);
    return ok(changes);
  }

  /**
   * Grants the whole mapping `from` holds at `fromVa` (of exactly 2^sizeLog2 bytes; a part is
   * GRANT_PARTIAL: map it instead) to `to` at `toVa`, keeping its place in its tree: what was
   * derived from it stays derived from it. Rights ∩= `rights`, and its descendants lose what it
   * lost. The node's kernel memory moves to `to`'s account. Overmaps like {@link MappingDb.map}.
   */
  grant(
    from: SpaceId,
    fromVa: number,
    to: SpaceId,
    toVa: number,
    sizeLog2: number,
    rights: MemRightsMask = MemRights.RWX,
  ): Changes {
    const n = this.source(from, fromVa, toVa, sizeLog2, rights);
    if (typeof n !== 'number') return n;
    const t = this.s.t;
    const had = t.rights[n]!;
    const eff = rights & had;
    if (sizeLog2 < this.s.pageSizesLog2[t.cls[n]!]!)
      return err(
        'GRANT_PARTIAL',
        `cannot grant ${sizeName(2 ** sizeLog2)} of ${this.s.describe(n)}: grant moves whole mappings`,
      );
    const changes = new MdbChanges();
    if (from === to && toVa === t.va[n]) {
      if (eff !== had) this.s.downgrade(n, had & ~eff, changes);
      return ok(changes);
    }
    const over: number[] = [];
    const sp = this.destination(to, toVa, this.s.sizes[t.cls[n]!]!, n, from !== to, over);
    if (!(sp instanceof MdbSpace)) return sp;
    for (const o of over) if (t.live(o)) this.s.removeSubtree(o, changes);
    const lost = had & ~eff;
    this.s.move(n, sp, toVa, eff, changes);
    if (lost !== 0) for (let c = t.first[n]!; c !== NONE; c = t.next[c]!) this.s.downgrade(c, lost, changes);
    return ok(changes);
  }

  /**
   * Revokes through the flexpage `fpage` of `space` (its rights are ignored; `opts.rights` says
   * what to take away): every mapping derived from the space's mappings there, recursively, and
   * with `self` those mappings too. A mapping is never split: with `self` one the flexpage only
   * touches goes whole; without it, only children whose frames overlap the flexpage go. Without
   * the read right in `opts.rights` the mappings stay with fewer rights. Returns every change.
   */
  unmap(space: SpaceId, fpage: Flexpage, opts: UnmapOptions = {}): MdbChanges {
    const mask = (opts.rights ?? MemRights.RWX) & MemRights.RWX;
    const sp = this.s.space(space);
    const changes = new MdbChanges();
    if (mask === 0 || sp === undefined) return changes;
    const t = this.s.t;
    const full = (mask & MemRights.R) !== 0;
    const act = (m: number): void =>
      full ? this.s.removeSubtree(m, changes) : this.s.downgrade(m, mask, changes);
    const hit: number[] = [];
    this.s.overlapping(sp, fpage.base, fpage.end, hit);
    for (const m of hit) {
      if (!t.live(m)) continue; // gone with an earlier one (the space mapped to itself)
      if (opts.self) {
        act(m);
        continue;
      }
      const va = t.va[m]!;
      const end = va + this.s.sizes[t.cls[m]!]!;
      if (fpage.base <= va && fpage.end >= end) {
        if (full) while (t.first[m] !== NONE) act(t.first[m]!);
        else for (let c = t.first[m]!; c !== NONE; c = t.next[c]!) act(c);
        continue;
      }
      const paLo = t.pa[m]! + (Math.max(fpage.base, va) - va);
      const paHi = t.pa[m]! + (Math.min(fpage.end, end) - va);
      for (const c of this.s.childrenOverlapping(m, paLo, paHi)) act(c);
    }
    return changes;
  }

  /** Task destruction: removes every mapping `space` holds and everything derived from them. */
  destroySpace(space: SpaceId): MdbChanges {
    const sp = this.s.space(space);
    const changes = new MdbChanges();
    if (sp === undefined) return changes;
    // values() copies: removal edits the index being iterated.
    for (const m of sp.byVa)
      for (const n of m.values()) if (this.s.t.live(n)) this.s.removeSubtree(n, changes);
    invariant(sp.count === 0, () => `space ${space} still holds ${sp.count} mappings after its destruction`);
    this.s.dropIfEmpty(sp);
    return changes;
  }

  /**
   * Whether `space` could pay for `nodes` more nodes now (charged and given back at once): lets
   * a caller that performs several operations check before it starts.
   */
  canPay(space: SpaceId, nodes: number): Result<void, KernelMemoryErrorCode> {
    const mem = this.s.memoryFor(space);
    const bytes = nodes * this.s.nodeBytes;
    const r = mem.charge(bytes, `${nodes} mapping-database nodes`);
    if (r.ok) mem.release(bytes);
    return r;
  }

  /** The mapping of `space` that translates `va`. */
  lookup(space: SpaceId, va: number): MdbMapping | undefined {
    const sp = this.s.space(space);
    const n = sp === undefined ? NONE : this.s.find(sp, va);
    return n === NONE ? undefined : this.s.t.handle(n);
  }

  /** The mappings of `space` overlapping [base, base + size), by virtual address. */
  overlapping(space: SpaceId, base: number, size: number): MdbMapping[] {
    const sp = this.s.space(space);
    const out: number[] = [];
    if (sp !== undefined) this.s.overlapping(sp, base, base + size, out);
    return out.map((n) => this.s.t.handle(n)).sort((a, b) => a.va - b.va);
  }

  /** Every mapping of `space`, by virtual address. */
  mappingsOf(space: SpaceId): MdbMapping[] {
    return this.overlapping(space, 0, 2 ** MAX_FPAGE_LOG2);
  }

  /** The spaces holding at least one mapping, ascending. */
  spaces(): SpaceId[] {
    return this.s.spaceIds();
  }

  /** The mapping `m` was derived from (null for a root, or when `m` is no longer live). */
  parentOf(m: MdbMapping): MdbMapping | null {
    const n = this.slot(m);
    const p = n === NONE ? NONE : this.s.t.parent[n]!;
    return p === NONE ? null : this.s.t.handle(p);
  }

  /** The mappings derived directly from `m`, newest first (none once `m` is dead). */
  childrenOf(m: MdbMapping): MdbMapping[] {
    const t = this.s.t;
    const out: MdbMapping[] = [];
    const n = this.slot(m);
    if (n !== NONE) for (let c = t.first[n]!; c !== NONE; c = t.next[c]!) out.push(t.handle(c));
    return out;
  }

  /** True when `m` is `ancestor` or derived from it, directly or not (both live). */
  isDerivedFrom(m: MdbMapping, ancestor: MdbMapping): boolean {
    const n = this.slot(m);
    const a = this.slot(ancestor);
    return n !== NONE && a !== NONE && isAncestorOrSelf(this.s.t, a, n);
  }

  toString(): string {
    return `mapping database (${this.s.live} mappings in ${this.spaces().length} spaces)`;
  }

  /** The slot of a live handle of this database, NONE for a dead one. */
  private slot(m: MdbMapping): number {
    invariant(m instanceof MdbHandle && this.s.t.owns(m), 'not a mapping of this MappingDb');
    return m.live ? m.slot : NONE;
  }

  private unsupported(sizeLog2: number): Err<MdbErrorCode> {
    return err(
      'SIZE_UNSUPPORTED',
      `mapping size 2^${sizeLog2} is not one of the page sizes 2^{${this.s.pageSizesLog2.join(', ')}}`,
    );
  }

  /** Checks a map or grant request's size and addresses and finds the sender's mapping. */
  private source(
    from: SpaceId,
    fromVa: number,
    toVa: number,
    sizeLog2: number,
    rights: MemRightsMask,
  ): number | Err<MdbErrorCode> {
    const cls = this.s.cls(sizeLog2);
    if (cls < 0) return this.unsupported(sizeLog2);
    const size = this.s.sizes[cls]!;
    // The common case in one test; checkBlock says what is wrong otherwise.
    const fine =
      Math.floor(fromVa / size) * size === fromVa &&
      Math.floor(toVa / size) * size === toVa &&
      fromVa >= 0 &&
      toVa >= 0 &&
      fromVa + size <= MAX_END &&
      toVa + size <= MAX_END;
    if (!fine)
      return (checkBlock('send address', fromVa, size) ?? checkBlock('receive address', toVa, size))!;
    const sp = this.s.space(from);
    const n = sp === undefined ? NONE : this.s.find(sp, fromVa);
    if (n === NONE) return err('NO_MAPPING', `space ${from} has no mapping at ${hex(fromVa)} to send`);
    const t = this.s.t;
    if (sizeLog2 > this.s.pageSizesLog2[t.cls[n]!]!)
      return err(
        'SIZE_EXCEEDS_PARENT',
        `cannot send ${sizeName(size)} from ${this.s.describe(n)}: larger than the mapping`,
      );
    if ((rights & t.rights[n]! & MemRights.R) === 0)
      return err('NO_RIGHTS', `sending ${this.s.describe(n)} with rights ${rights} leaves no read right`);
    return n;
  }

  /**
   * Collects into `over` what the destination block overlaps, refuses to overmap `src` or an
   * ancestor of it, and (when `charge`) charges one node to the destination. Changes nothing on
   * failure.
   */
  private destination(
    to: SpaceId,
    va: number,
    size: number,
    src: number,
    charge: boolean,
    over: number[],
  ): MdbSpace | Err<MdbErrorCode> {
    const known = this.s.space(to);
    if (known !== undefined) this.s.overlapping(known, va, va + size, over);
    if (src !== NONE)
      for (const e of over)
        if (isAncestorOrSelf(this.s.t, e, src))
          return err(
            'ONTO_ANCESTOR',
            `mapping to space ${to} at ${hex(va)} would overmap ${this.s.describe(e)}, which ${this.s.describe(src)} derives from`,
          );
    const sp = known ?? this.s.ensureSpace(to);
    if (charge) {
      const c = this.s.charge(sp);
      if (!c.ok) {
        this.s.dropIfEmpty(sp);
        return c;
      }
    }
    return sp;
  }
}
