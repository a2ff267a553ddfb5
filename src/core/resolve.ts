/**
 * Fault resolution (Genode's `Rm_client::pager` and `reverse_lookup`): walk from the faulter's
 * address space through nested managed dataspaces, at most MAX_DEPTH deep, rebasing the fault at
 * each level, ANDing rights and intersecting the window; at the leaf pick the best mapping: the
 * largest supported page size whose naturally aligned block around the fault lies inside every
 * window and whose virtual and physical addresses agree in their low bits.
 *
 * `resolve` is pure: it reads the region maps and returns a decision. The pager installs it.
 */
import { POW2 } from '../hw/page_table.js';
import { agreeingLowBits, alignDown } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import type { Dataspace } from './dataspace.js';
import type { AccessType } from './events.js';
import type { Region, RegionMap } from './region_map.js';
import { EXECUTABLE, WRITEABLE } from './region_records.js';

/** Nesting depth core follows; the sixth level is an error (as in Genode's core). */
export const MAX_DEPTH = 5;

/** One level of the walk. */
export interface WalkStep {
  readonly map: RegionMap;
  /** Fault address in this map's coordinates. */
  readonly address: number;
  /** Region found there, or null where the walk stopped. */
  readonly region: Region | null;
}

/** One constraint on the mapping size and the largest size (log2) it alone allows. */
export interface SizeConstraint {
  readonly kind: 'window' | 'dataspace' | 'alignment' | 'architecture' | 'kernel';
  readonly maxLog2: number;
  readonly detail: string;
}

/** Why the mapping has the size it has. */
export interface SizeExplanation {
  readonly constraints: readonly SizeConstraint[];
  /** The size chosen (log2). */
  readonly chosenLog2: number;
  /** The size an attach with matching virtual/physical alignment would have given (log2). */
  readonly ifAlignedLog2: number;
}

/** Reasons a fault stays unresolved. */
export type UnresolvedReason = 'NO_REGION' | 'RESERVED' | 'WRITE_VIOLATION' | 'EXEC_VIOLATION';

/** The outcome of resolving one fault. */
export type Resolution =
  | {
      readonly kind: 'mapped';
      /** Virtual and physical base of the mapping, aligned to its size. */
      readonly va: number;
      readonly pa: number;
      readonly sizeLog2: number;
      readonly writeable: boolean;
      readonly executable: boolean;
      readonly dataspace: Dataspace;
      /** Levels walked (1 = directly in the address space). */
      readonly depth: number;
      readonly walk?: readonly WalkStep[];
      readonly explain?: SizeExplanation;
    }
  | {
      readonly kind: 'unresolved';
      readonly reason: UnresolvedReason;
      /** The innermost region map the walk reached, where the fault is reflected. */
      readonly map: RegionMap;
      /** Fault address in that map's coordinates. */
      readonly address: number;
      readonly depth: number;
      readonly walk?: readonly WalkStep[];
    }
  | {
      readonly kind: 'too-deep';
      readonly map: RegionMap;
      readonly address: number;
      readonly depth: number;
      readonly walk?: readonly WalkStep[];
    };

/** What sizes may be mapped. */
export interface SizePolicy {
  /** Architecture page sizes (log2, ascending). */
  readonly archSizesLog2: readonly number[];
  /** Sizes the kernel maps (log2, ascending), a subset of the architecture's. */
  readonly mapSizesLog2: readonly number[];
}

/**
 * Resolves a fault at `va` of `space`. With `detail`, also returns the walk and the size
 * explanation (slower; the replay hot path leaves it off).
 */
export function resolve(
  space: RegionMap,
  va: number,
  access: AccessType,
  policy: SizePolicy,
  detail = false,
): Resolution {
  const walk: WalkStep[] | undefined = detail ? [] : undefined;
  const windows: Array<[number, number, Region]> | undefined = detail ? [] : undefined;
  let map = space;
  let addr = va;
  let winLo = 0;
  let winHi = Number.MAX_SAFE_INTEGER;
  let writeable = true;
  let executable = true;
  for (let depth = 1; ; depth++) {
    if (depth > MAX_DEPTH) return { kind: 'too-deep', map, address: addr, depth, walk };
    // The region's fields come from the index's records: at a million regions reading the Region
    // object itself would be the costliest memory access of the fault (region_records.ts).
    const index = map.slots;
    const rec = index.find(addr);
    const records = index.records;
    walk?.push({ map, address: addr, region: rec < 0 ? null : records.regions[rec]! });
    if (rec < 0) return { kind: 'unresolved', reason: 'NO_REGION', map, address: addr, depth, walk };
    const ds = records.dataspaces[rec];
    if (!ds) return { kind: 'unresolved', reason: 'RESERVED', map, address: addr, depth, walk };
    const rights = records.rights[rec]!;
    writeable &&= (rights & WRITEABLE) !== 0;
    executable &&= (rights & EXECUTABLE) !== 0;
    // The region's window expressed in the faulter's coordinates.
    const base = records.bases[rec]!;
    const shift = va - addr;
    const lo = base + shift;
    const hi = records.ends[rec]! + shift;
    if (lo > winLo) winLo = lo;
    if (hi < winHi) winHi = hi;
    windows?.push([lo, hi, records.regions[rec]!]);
    const dsAddr = addr - base + records.offsets[rec]!;
    if (ds.managed) {
      map = ds.managed;
      addr = dsAddr;
      continue;
    }
    if (access === 'write' && !(writeable && ds.writeable)) {
      return { kind: 'unresolved', reason: 'WRITE_VIOLATION', map, address: addr, depth, walk };
    }
    if (access === 'exec' && !executable) {
      return { kind: 'unresolved', reason: 'EXEC_VIOLATION', map, address: addr, depth, walk };
    }
    const pa = ds.phys + dsAddr;
    const sizeLog2 = bestSizeLog2(va, pa, winLo, winHi, policy.mapSizesLog2);
    const size = POW2[sizeLog2]!;
    return {
      kind: 'mapped',
      va: alignDown(va, size),
      pa: alignDown(pa, size),
      sizeLog2,
      writeable: writeable && ds.writeable,
      executable,
      dataspace: ds,
      depth,
      walk,
      explain: windows ? explainSize(va, pa, windows, va - dsAddr, ds, policy, sizeLog2) : undefined,
    };
  }
}

/**
 * The largest size in `sizesLog2` whose aligned block around va lies in [winLo, winHi) and at
 * which va and pa agree in their low bits. The smallest size always qualifies: regions are
 * page-granular and page aligned on both sides.
 */
export function bestSizeLog2(
  va: number,
  pa: number,
  winLo: number,
  winHi: number,
  sizesLog2: readonly number[],
): number {
  const agree = agreeingLowBits(va, pa);
  for (let i = sizesLog2.length - 1; i > 0; i--) {
    const s = sizesLog2[i]!;
    if (s > agree) continue;
    const size = POW2[s]!;
    const base = alignDown(va, size);
    if (base >= winLo && base + size <= winHi) return s;
  }
  return sizesLog2[0]!;
}

/** Largest n (capped at 52) such that the aligned 2^n block around va lies in [lo, hi). */
function windowLimitLog2(va: number, lo: number, hi: number, minLog2: number): number {
  let n = minLog2;
  while (n < 52) {
    const size = 2 ** (n + 1);
    const base = alignDown(va, size);
    if (base < lo || base + size > hi) break;
    n++;
  }
  return n;
}

function explainSize(
  va: number,
  pa: number,
  windows: ReadonlyArray<[number, number, Region]>,
  dsBase: number,
  ds: Dataspace,
  policy: SizePolicy,
  chosenLog2: number,
): SizeExplanation {
  const min = policy.archSizesLog2[0]!;
  const constraints: SizeConstraint[] = [];
  windows.forEach(([lo, hi, r], i) => {
    constraints.push({
      kind: 'window',
      maxLog2: windowLimitLog2(va, lo, hi, min),
      detail: `level ${i + 1}: region [${hex(r.base)}, ${hex(r.end)}) of region map #${r.map.id} is [${hex(lo)}, ${hex(hi)}) here`,
    });
  });
  constraints.push({
    kind: 'dataspace',
    maxLog2: windowLimitLog2(va, dsBase, dsBase + ds.size, min),
    detail: `${ds.kind} dataspace #${ds.id} of ${sizeName(ds.size)} spans [${hex(dsBase)}, ${hex(dsBase + ds.size)}) here`,
  });
  const agree = Math.min(agreeingLowBits(va, pa), 52);
  constraints.push({
    kind: 'alignment',
    maxLog2: agree,
    detail: `virtual ${hex(va)} and physical ${hex(pa)} agree in their low ${agree} bits`,
  });
  const archMax = policy.archSizesLog2[policy.archSizesLog2.length - 1]!;
  constraints.push({
    kind: 'architecture',
    maxLog2: archMax,
    detail: `page sizes ${policy.archSizesLog2.map((s) => sizeName(2 ** s)).join(', ')}`,
  });
  if (policy.mapSizesLog2.length !== policy.archSizesLog2.length) {
    constraints.push({
      kind: 'kernel',
      maxLog2: policy.mapSizesLog2[policy.mapSizesLog2.length - 1]!,
      detail: `kernel maps only ${policy.mapSizesLog2.map((s) => sizeName(2 ** s)).join(', ')}`,
    });
  }
  // Matching alignment: what the size would be if the attach had put va congruent to pa.
  let winLo = 0;
  let winHi = Number.MAX_SAFE_INTEGER;
  for (const [lo, hi] of windows) {
    winLo = Math.max(winLo, lo);
    winHi = Math.min(winHi, hi);
  }
  const ifAlignedLog2 = bestSizeLog2(va, va, winLo, winHi, policy.mapSizesLog2);
  return { constraints, chosenLog2, ifAlignedLog2 };
}

/** Renders a size explanation as lines of text (used by `faultline explain` and the demo). */
export function formatExplanation(e: SizeExplanation): string[] {
  const lines = e.constraints.map(
    (c) => `  ${c.kind.padEnd(12)} allows up to ${sizeName(2 ** c.maxLog2).padStart(5)}  (${c.detail})`,
  );
  lines.push(`  chosen: ${sizeName(2 ** e.chosenLog2)}, the largest supported size no constraint forbids`);
  if (e.ifAlignedLog2 > e.chosenLog2) {
    lines.push(
      `  with matching virtual/physical alignment the same fault would get ${sizeName(2 ** e.ifAlignedLog2)}`,
    );
  }
  return lines;
}
