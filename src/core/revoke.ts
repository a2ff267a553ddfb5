/**
 * Exact revocation. A mapping lies inside every window on its walk, so the mappings derived from
 * a range of a region map are exactly those inside that range as seen through each embedding:
 * directly in the page tables of protection domains using the map as address space, and,
 * translated through each region that attaches the map as a managed dataspace, in every map
 * that embeds it, up to the address spaces.
 */
import type { CoreEvent } from './events.js';
import type { RegionMap } from './region_map.js';

/** Unmaps [lo, hi) of `map` (map coordinates) everywhere it is visible. Returns mappings removed. */
export function revokeRange(map: RegionMap, lo: number, hi: number, emit: (e: CoreEvent) => void): number {
  let removed = 0;
  for (const pd of map.addressSpaceOf) {
    if (pd.pageTable.size === 0) continue;
    const gone = pd.pageTable.unmap(lo, hi - lo);
    removed += gone.length;
    if (gone.length > 0) emit({ type: 'revoke', pd, va: lo, size: hi - lo, mappings: gone });
  }
  for (const e of map.dataspace.regions) {
    // Map coordinates [e.offset, e.offset + e.size) appear at [e.base, e.end) of e.map.
    const l = Math.max(lo, e.offset);
    const h = Math.min(hi, e.offset + e.size);
    if (l < h) removed += revokeRange(e.map, l - e.offset + e.base, h - e.offset + e.base, emit);
  }
  return removed;
}
