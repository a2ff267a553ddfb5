/**
 * Eager mapping (a design option): when a region is attached, core installs its mappings in
 * every address space that embeds the map at once, instead of waiting for faults. Mirror image
 * of revocation: find where the range is visible (through every embedding up to the address
 * spaces), then resolve it there, one best-size mapping at a time.
 */
import { Mapping } from '../hw/page_table.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { RegionMap } from './region_map.js';
import { resolve, type SizePolicy } from './resolve.js';

/** Where a range of a map is visible: an address space and the range there. */
interface Visible {
  readonly pd: ProtectionDomain;
  readonly space: RegionMap;
  readonly lo: number;
  readonly hi: number;
}

/** The address-space ranges through which [lo, hi) of `map` is visible. */
function visibility(map: RegionMap, lo: number, hi: number, out: Visible[]): void {
  for (const pd of map.addressSpaceOf) out.push({ pd, space: map, lo, hi });
  for (const e of map.dataspace.regions) {
    const l = Math.max(lo, e.offset);
    const h = Math.min(hi, e.offset + e.size);
    if (l < h) visibility(e.map, l - e.offset + e.base, h - e.offset + e.base, out);
  }
}

/**
 * Maps [lo, hi) of `map` (map coordinates) wherever it is visible. Holes, reserved regions and
 * managed regions with nothing inside are skipped a region at a time. Returns the mappings.
 */
export function mapEagerly(map: RegionMap, lo: number, hi: number, policy: SizePolicy): Mapping[] {
  const installed: Mapping[] = [];
  const where: Visible[] = [];
  visibility(map, lo, hi, where);
  const page = 2 ** policy.archSizesLog2[0]!;
  for (const v of where) {
    let va = v.lo;
    while (va < v.hi) {
      const r = resolve(v.space, va, 'read', policy);
      if (r.kind === 'mapped') {
        const m = new Mapping(r.va, r.pa, r.sizeLog2, r.writeable, r.executable);
        v.pd.pageTable.install(m);
        installed.push(m);
        va = r.va + m.size;
        continue;
      }
      // Nothing to map here: skip to the end of what the walk found empty, at least a page.
      va = Math.max(va + page, skipEmpty(v.space, va));
    }
  }
  return installed;
}

/**
 * The first address after `va` (address-space coordinates) where the walk may find something
 * mappable: past the hole or reserved region it ends in, but never past an enclosing window.
 */
function skipEmpty(space: RegionMap, va: number): number {
  let map = space;
  let addr = va;
  let shift = 0;
  let end = Number.MAX_SAFE_INTEGER;
  for (let depth = 0; depth < 6; depth++) {
    const region = map.lookup(addr);
    if (!region) {
      const next = map.nextRegion(addr);
      return Math.min(end, next ? next.base + shift : Number.MAX_SAFE_INTEGER);
    }
    end = Math.min(end, region.end + shift);
    if (!region.dataspace) return end;
    if (!region.dataspace.managed) return va;
    shift += region.base - region.offset;
    addr = addr - region.base + region.offset;
    map = region.dataspace.managed;
  }
  return end;
}
