/**
 * A deliberately naive reference of the region-map semantics for model-based tests: regions are
 * plain lists scanned linearly, addresses are walked page by page, nothing is clever. The real
 * model (AVL trees, window arithmetic, exact revocation) must agree with it.
 */

export interface RefDs {
  id: number;
  kind: 'ram' | 'managed';
  bytes: number;
  phys: number;
  owner: number;
  destroyed: boolean;
  /** Sealed RAM: attachments made from now on are read-only. */
  sealed: boolean;
  map: RefMap | null;
  regions: Set<RefRegion>;
}

export interface RefRegion {
  map: RefMap;
  base: number;
  size: number;
  ds: RefDs | null;
  offset: number;
  w: boolean;
  x: boolean;
}

export interface RefFaulter {
  thread: number;
  type: 'READ' | 'WRITE' | 'EXEC';
  address: number;
}

export interface RefMap {
  id: number;
  size: number;
  first: number;
  owner: number;
  regions: RefRegion[];
  handler: boolean;
  faulters: RefFaulter[];
  destroyed: boolean;
  ds: RefDs;
  isAddressSpace: boolean;
}

export type RefWalk =
  | { kind: 'mapped'; chain: RefRegion[]; pa: number; w: boolean; x: boolean }
  | { kind: 'unresolved'; reason: string; map: RefMap; address: number }
  | { kind: 'too-deep' };

/** A region map's size: the bytes asked for, rounded up to whole pages. */
export function roundedMapSize(bytes: number, page: number): number {
  return Math.ceil(bytes / page) * page;
}

/** A new region is writeable when asked to be, unless its dataspace was sealed before the attach. */
export function attachWriteable(ds: RefDs, asked: boolean): boolean {
  return asked && !ds.sealed;
}

/** What free or seal by session `actor` does: an error, `done`, or `ignored` (nothing changes). */
export function ownerOnlyOutcome(
  ds: RefDs,
  actor: number,
  op: 'free' | 'seal',
): 'DESTROYED' | 'done' | 'ignored' {
  if (ds.destroyed) return 'DESTROYED';
  if (ds.owner !== actor) return 'ignored';
  return op === 'seal' && ds.kind !== 'ram' ? 'ignored' : 'done';
}

/** Detaches the region containing addr and returns it; where there is none, nothing happens (null). */
export function detachAt(map: RefMap, addr: number): RefRegion | null {
  const r = lookup(map, addr);
  if (!r) return null;
  map.regions.splice(map.regions.indexOf(r), 1);
  r.ds?.regions.delete(r);
  return r;
}

export function lookup(map: RefMap, addr: number): RefRegion | null {
  for (const r of map.regions) if (addr >= r.base && addr < r.base + r.size) return r;
  return null;
}

/** Walks one address exactly as DESIGN.md §2 words it. */
export function walk(space: RefMap, va: number, access: 'read' | 'write' | 'exec'): RefWalk {
  let map = space;
  let addr = va;
  let w = true;
  let x = true;
  const chain: RefRegion[] = [];
  for (let depth = 1; ; depth++) {
    if (depth > 5) return { kind: 'too-deep' };
    const r = lookup(map, addr);
    if (!r) return { kind: 'unresolved', reason: 'NO_REGION', map, address: addr };
    if (!r.ds) return { kind: 'unresolved', reason: 'RESERVED', map, address: addr };
    chain.push(r);
    w = w && r.w;
    x = x && r.x;
    const dsAddr = addr - r.base + r.offset;
    if (r.ds.kind === 'managed') {
      map = r.ds.map!;
      addr = dsAddr;
      continue;
    }
    if (access === 'write' && !w)
      return { kind: 'unresolved', reason: 'WRITE_VIOLATION', map, address: addr };
    if (access === 'exec' && !x) return { kind: 'unresolved', reason: 'EXEC_VIOLATION', map, address: addr };
    return { kind: 'mapped', chain, pa: r.ds.phys + dsAddr, w, x };
  }
}

/** Brute force: the largest size whose every page walks through the same regions and whose low bits agree. */
export function bruteForceSizeLog2(
  space: RefMap,
  va: number,
  pa: number,
  sizesLog2: readonly number[],
  page: number,
): number {
  const ref = walk(space, va, 'read');
  if (ref.kind !== 'mapped') throw new Error('brute force on an unmapped address');
  for (let i = sizesLog2.length - 1; i >= 0; i--) {
    const size = 2 ** sizesLog2[i]!;
    const base = va - (va % size);
    if ((va - pa) % size !== 0) continue;
    let same = true;
    for (let p = base; p < base + size && same; p += page) {
      const w = walk(space, p, 'read');
      same =
        w.kind === 'mapped' &&
        w.chain.length === ref.chain.length &&
        w.chain.every((r, k) => r === ref.chain[k]);
    }
    if (same) return sizesLog2[i]!;
  }
  throw new Error('no size fits, not even the smallest page');
}

/** Is `inner` reachable from `outer` by descending through managed dataspaces (or equal)? */
export function contains(outer: RefMap, inner: RefMap): boolean {
  if (outer === inner) return true;
  return outer.regions.some((r) => r.ds?.kind === 'managed' && contains(r.ds.map!, inner));
}
