import type { MapView, RegionView, SystemSnapshot } from './types.js';

/** What a node stands for. */
export type NodeKind = 'system' | 'space' | 'loose' | 'managed' | 'leaf' | 'reserved' | 'gap' | 'phys';

/** A node of the icicle, placed: `x0..x1` is its share of the whole address axis (0..1). */
export interface SpaceNode {
  readonly kind: NodeKind;
  /** Path of keys from the root, e.g. `pd1/r30000000/g0`: stable across snapshots. */
  readonly key: string;
  readonly parent: SpaceNode | null;
  /** Column (0: the system, 1: address spaces, …). */
  readonly depth: number;
  readonly x0: number;
  readonly x1: number;
  /** Extent in the coordinates shown (the map's, or physical for `phys`). */
  readonly lo: number;
  readonly hi: number;
  /** The same extent in its protection domain's virtual addresses (null outside any PD). */
  readonly va: readonly [number, number] | null;
  /** The PD whose page table maps it. */
  readonly pd: number | null;
  /** The map the node lies in (region and gap nodes), or the map it is (space, loose). */
  readonly mapId: number | null;
  readonly region?: RegionView;
  /** For `space` and `loose`: the component or map name. */
  readonly name?: string;
  /** @internal lazily laid-out children */
  kids?: Children | null;
}

/** Nesting the icicle follows (core gives up after five levels anyway). */
const MAX_NEST = 6;

function log2(n: number): number {
  return Math.log2(Math.max(1, n));
}

/** Share weight of a region of `size` bytes (page = smallest page size). */
export function regionWeight(size: number, page: number): number {
  return 1 + log2(size / page) / 3;
}

/** Share weight of a free gap: smaller than a region of the same size, so regions stand out. */
export function gapWeight(size: number, page: number): number {
  return 0.25 + log2(size / page) / 24;
}

/** A node's children: cumulative shares, made into nodes on demand. */
export class Children {
  private readonly made = new Map<number, SpaceNode>();

  constructor(
    /** Number of children. */
    readonly count: number,
    /** cum[i]..cum[i+1] is child i's extent (absolute, cum[0] = parent.x0, cum[count] = parent.x1). */
    readonly cum: Float64Array,
    private readonly build: (i: number, x0: number, x1: number) => SpaceNode,
    /** Which children are free gaps (absent: none). */
    private readonly gap?: Uint8Array,
    /** The children's address ranges, in their map's coordinates (absent: not address segments). */
    readonly lo?: Float64Array,
    readonly hi?: Float64Array,
  ) {}

  /** Free gaps among children [from, to). */
  gapCount(from: number, to: number): number {
    if (!this.gap) return 0;
    let n = 0;
    for (let i = from; i < to; i++) n += this.gap[i]!;
    return n;
  }

  /** Child i as a node. */
  at(i: number): SpaceNode {
    let n = this.made.get(i);
    if (!n) {
      n = this.build(i, this.cum[i]!, this.cum[i + 1]!);
      this.made.set(i, n);
    }
    return n;
  }

  /** First child whose extent reaches past x. */
  firstAfter(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid + 1]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Every child as a node (for small lists and tests). */
  all(): SpaceNode[] {
    return Array.from({ length: this.count }, (_, i) => this.at(i));
  }
}

/** The icicle of a snapshot. */
export class Icicle {
  readonly root: SpaceNode;
  /** Deepest column any node can reach. */
  readonly maxDepth: number;
  private readonly page: number;

  constructor(private readonly s: SystemSnapshot) {
    this.page = 2 ** (s.mapSizesLog2[0] ?? 12);
    this.root = {
      kind: 'system',
      key: 'system',
      parent: null,
      depth: 0,
      x0: 0,
      x1: 1,
      lo: 0,
      hi: 0,
      va: null,
      pd: null,
      mapId: null,
    };
    this.maxDepth = this.depthOfAll();
  }

  /** Columns below the root: 1 + the deepest nesting (phys included). */
  private depthOfAll(): number {
    const memo = new Map<number, number>();
    const depthOf = (id: number, guard: number): number => {
      const got = memo.get(id);
      if (got !== undefined) return got;
      const m = this.s.maps.get(id);
      let d = 1;
      if (m && guard < MAX_NEST) {
        for (const r of m.regions) {
          const inner = r.ds?.managedMapId;
          if (inner !== null && inner !== undefined) d = Math.max(d, 1 + depthOf(inner, guard + 1));
          else if (r.ds) d = Math.max(d, 2);
        }
      }
      memo.set(id, d);
      return d;
    };
    let max = 0;
    for (const p of this.s.pds) max = Math.max(max, depthOf(p.spaceId, 0));
    for (const id of this.s.loose) max = Math.max(max, depthOf(id, 0));
    return max + 1;
  }

  /** The children of a node (null for a leaf of the tree). */
  children(n: SpaceNode): Children | null {
    if (n.kids !== undefined) return n.kids;
    n.kids = this.makeChildren(n);
    return n.kids;
  }

  private makeChildren(n: SpaceNode): Children | null {
    const s = this.s;
    if (n.kind === 'system') {
      const items: Array<{ w: number; make: (x0: number, x1: number) => SpaceNode }> = [];
      for (const pd of s.pds) {
        const m = s.maps.get(pd.spaceId);
        if (!m) continue;
        items.push({
          w: 1,
          make: (x0, x1) => ({
            kind: 'space',
            key: `pd${pd.id}`,
            parent: n,
            depth: 1,
            x0,
            x1,
            lo: 0,
            hi: m.size,
            va: [0, m.size],
            pd: pd.id,
            mapId: m.ref.id,
            name: pd.name,
          }),
        });
      }
      for (const id of s.loose) {
        const m = s.maps.get(id)!;
        items.push({
          w: 0.6,
          make: (x0, x1) => ({
            kind: 'loose',
            key: `loose${id}`,
            parent: n,
            depth: 1,
            x0,
            x1,
            lo: 0,
            hi: m.size,
            va: null,
            pd: null,
            mapId: id,
            name: m.ref.name,
          }),
        });
      }
      if (items.length === 0) return null;
      const cum = shares(
        n,
        items.map((i) => i.w),
      );
      return new Children(items.length, cum, (i, x0, x1) => items[i]!.make(x0, x1));
    }
    if (n.kind === 'space' || n.kind === 'loose') {
      const m = s.maps.get(n.mapId!)!;
      return this.segments(n, m, 0, m.size, n.kind === 'space' ? 0 : null);
    }
    if (n.kind === 'managed') {
      const r = n.region!;
      const inner =
        r.ds?.managedMapId !== null && r.ds?.managedMapId !== undefined
          ? s.maps.get(r.ds.managedMapId)
          : undefined;
      if (!inner || n.depth >= MAX_NEST + 1) return null;
      // Nested map coordinates: a - base + offset.
      const d = r.offset - r.base;
      const shift = n.va ? n.va[0] - n.lo : null;
      return this.segments(n, inner, n.lo + d, n.hi + d, shift === null ? null : shift - d);
    }
    if (n.kind === 'leaf') {
      const r = n.region!;
      const pa = r.ds!.phys + r.offset - r.base;
      const cum = new Float64Array([n.x0, n.x1]);
      return new Children(1, cum, (_, x0, x1) => ({
        kind: 'phys',
        key: `${n.key}/p`,
        parent: n,
        depth: n.depth + 1,
        x0,
        x1,
        lo: n.lo + pa,
        hi: n.hi + pa,
        va: n.va,
        pd: n.pd,
        mapId: null,
      }));
    }
    return null;
  }

  /**
   * The regions and gaps of `map` within [from, to) (map coordinates) as children of `n`.
   * `shift` turns a map address into the PD's virtual address (null outside a PD).
   */
  private segments(n: SpaceNode, map: MapView, from: number, to: number, shift: number | null): Children {
    const regions = map.regions;
    const first = firstRegion(regions, from);
    // Upper bound on segments: a gap before each region, the regions, a gap at the end.
    let last = first;
    while (last < regions.length && regions[last]!.base < to) last++;
    const cap = 2 * (last - first) + 1;
    const lo = new Float64Array(cap);
    const hi = new Float64Array(cap);
    const reg = new Int32Array(cap);
    const w = new Float64Array(cap);
    let k = 0;
    let at = from;
    const push = (a: number, b: number, ri: number) => {
      lo[k] = a;
      hi[k] = b;
      reg[k] = ri;
      w[k] = ri < 0 ? gapWeight(b - a, this.page) : regionWeight(b - a, this.page);
      k++;
    };
    for (let i = first; i < last; i++) {
      const r = regions[i]!;
      const a = Math.max(r.base, from);
      const b = Math.min(r.base + r.size, to);
      if (a > at) push(at, a, -1);
      push(a, b, i);
      at = b;
    }
    if (at < to) push(at, to, -1);
    const cum = shares(n, w.subarray(0, k));
    const gap = new Uint8Array(k);
    for (let i = 0; i < k; i++) gap[i] = reg[i]! < 0 ? 1 : 0;
    const va = (a: number, b: number) => (shift === null ? null : ([a + shift, b + shift] as const));
    return new Children(
      k,
      cum,
      (i, x0, x1) => {
        const a = lo[i]!;
        const b = hi[i]!;
        const ri = reg[i]!;
        const base = {
          parent: n,
          depth: n.depth + 1,
          x0,
          x1,
          lo: a,
          hi: b,
          va: va(a, b),
          pd: n.pd,
          mapId: map.ref.id,
        };
        if (ri < 0) return { ...base, kind: 'gap', key: `${n.key}/g${a.toString(16)}` };
        const r = regions[ri]!;
        const kind: NodeKind = !r.ds ? 'reserved' : r.ds.kind === 'managed' ? 'managed' : 'leaf';
        return { ...base, kind, key: `${n.key}/r${a.toString(16)}`, region: r };
      },
      gap,
    );
  }

  /** The node with this key (or its deepest existing ancestor). */
  find(key: string): SpaceNode {
    let n = this.root;
    if (key === 'system') return n;
    const parts = key.split('/');
    for (let depth = 0; depth < parts.length; depth++) {
      const ch = this.children(n);
      if (!ch) return n;
      const want = parts.slice(0, depth + 1).join('/');
      let found: SpaceNode | undefined;
      if (depth === 0 || parts[depth] === 'p') {
        found = ch.all().find((c) => c.key === want);
      } else {
        // Children are in address order: find by the address the key names.
        const addr = Number.parseInt(parts[depth]!.slice(1), 16);
        let a = 0;
        let b = ch.count;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (ch.at(mid).hi <= addr) a = mid + 1;
          else b = mid;
        }
        const c = a < ch.count ? ch.at(a) : undefined;
        found = c?.key === want ? c : undefined;
      }
      if (!found) return n;
      n = found;
    }
    return n;
  }
}

/** Cumulative absolute extents of children with weights `w` inside parent n. */
function shares(n: SpaceNode, w: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i]!;
  const cum = new Float64Array(w.length + 1);
  const span = n.x1 - n.x0;
  cum[0] = n.x0;
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    acc += w[i]!;
    cum[i + 1] = n.x0 + (span * acc) / total;
  }
  cum[w.length] = n.x1;
  return cum;
}

/** First index of a region ending after `addr`. */
function firstRegion(regions: readonly RegionView[], addr: number): number {
  let lo = 0;
  let hi = regions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = regions[mid]!;
    if (r.base + r.size <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The ancestors of a node, root first. */
export function ancestors(n: SpaceNode): SpaceNode[] {
  const out: SpaceNode[] = [];
  for (let x: SpaceNode | null = n; x; x = x.parent) out.push(x);
  return out.reverse();
}
