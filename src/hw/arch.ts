/**
 * Architecture profiles: address width, supported page sizes, page-table levels and default
 * TLB geometry (DESIGN.md §2). Sizes are kept as log2 so alignment checks stay exact.
 */

import { sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';

/** Names of the built-in architecture profiles. */
export type ArchName = 'x86_32' | 'x86_32-pae' | 'x86_64' | 'armv7' | 'armv8' | 'riscv-sv39' | 'microblaze';

/** One TLB level of a default geometry (the simulator may override it). */
export interface TlbLevelSpec {
  /** Display name, e.g. `L1d`. */
  readonly name: string;
  /** Which accesses use it. */
  readonly kind: 'instruction' | 'data' | 'unified';
  /** Total number of entries. */
  readonly entries: number;
  /** Associativity; `entries` means fully associative. */
  readonly ways: number;
  /** log2 of the page sizes this level holds natively; larger mappings are split into the largest size it holds. */
  readonly pageSizesLog2: readonly number[];
  /**
   * Looked up at the same time as the level before it in the list, as one stage (an L1 DTLB's
   * arrays for 4K and 2M pages): a hit in either is a hit of the stage, and a refill goes to the
   * one array of the stage that holds the mapping's size best, not to every array.
   */
  readonly parallel?: boolean;
}

/** A hardware architecture profile. */
export interface Arch {
  readonly name: ArchName;
  /** Virtual address width in bits. */
  readonly vaBits: number;
  /** Supported page sizes as log2, ascending. The first is the smallest page. */
  readonly pageSizesLog2: readonly number[];
  /** Levels of the hardware page-table walk for the smallest page. */
  readonly walkLevels: number;
  /** Default TLB geometry. */
  readonly tlb: readonly TlbLevelSpec[];
}

const K4 = 12;
const M2 = 21;
const G1 = 30;

// Intel Skylake-class: the first-level arrays for small and large pages are looked up in
// parallel, so a large page is neither split into 4K pieces nor charged an STLB hit.
const x86Tlb = (big: number): TlbLevelSpec[] => [
  { name: 'L1i', kind: 'instruction', entries: 128, ways: 8, pageSizesLog2: [K4] },
  { name: 'L1i-big', kind: 'instruction', entries: 8, ways: 8, pageSizesLog2: [big], parallel: true },
  { name: 'L1d', kind: 'data', entries: 64, ways: 4, pageSizesLog2: [K4] },
  { name: 'L1d-big', kind: 'data', entries: 32, ways: 4, pageSizesLog2: [big], parallel: true },
  { name: 'L2', kind: 'unified', entries: 1536, ways: 12, pageSizesLog2: [K4, big] },
];

const PROFILES: Record<ArchName, Arch> = {
  x86_32: { name: 'x86_32', vaBits: 32, pageSizesLog2: [K4, 22], walkLevels: 2, tlb: x86Tlb(22) },
  'x86_32-pae': { name: 'x86_32-pae', vaBits: 32, pageSizesLog2: [K4, M2], walkLevels: 3, tlb: x86Tlb(M2) },
  x86_64: { name: 'x86_64', vaBits: 48, pageSizesLog2: [K4, M2, G1], walkLevels: 4, tlb: x86Tlb(M2) },
  armv7: {
    name: 'armv7',
    vaBits: 32,
    pageSizesLog2: [K4, 16, 20, 24],
    walkLevels: 2,
    tlb: [
      { name: 'L1i', kind: 'instruction', entries: 32, ways: 32, pageSizesLog2: [K4, 16, 20, 24] },
      { name: 'L1d', kind: 'data', entries: 32, ways: 32, pageSizesLog2: [K4, 16, 20, 24] },
      { name: 'L2', kind: 'unified', entries: 512, ways: 4, pageSizesLog2: [K4, 16, 20, 24] },
    ],
  },
  armv8: {
    name: 'armv8',
    vaBits: 48,
    pageSizesLog2: [K4, M2, G1],
    walkLevels: 4,
    tlb: [
      { name: 'L1i', kind: 'instruction', entries: 48, ways: 48, pageSizesLog2: [K4, M2, G1] },
      { name: 'L1d', kind: 'data', entries: 48, ways: 48, pageSizesLog2: [K4, M2, G1] },
      { name: 'L2', kind: 'unified', entries: 1280, ways: 5, pageSizesLog2: [K4, M2] },
    ],
  },
  'riscv-sv39': {
    name: 'riscv-sv39',
    vaBits: 39,
    pageSizesLog2: [K4, M2, G1],
    walkLevels: 3,
    tlb: [
      { name: 'L1i', kind: 'instruction', entries: 32, ways: 32, pageSizesLog2: [K4, M2, G1] },
      { name: 'L1d', kind: 'data', entries: 32, ways: 32, pageSizesLog2: [K4, M2, G1] },
      { name: 'L2', kind: 'unified', entries: 512, ways: 4, pageSizesLog2: [K4] },
    ],
  },
  microblaze: {
    name: 'microblaze',
    vaBits: 32,
    // 1K, 4K, 16K, 64K, 256K, 1M, 4M, 16M: powers of four as the seed thread describes.
    pageSizesLog2: [10, 12, 14, 16, 18, 20, 22, 24],
    walkLevels: 2,
    tlb: [
      {
        name: 'UTLB',
        kind: 'unified',
        entries: 64,
        ways: 64,
        pageSizesLog2: [10, 12, 14, 16, 18, 20, 22, 24],
      },
    ],
  },
};

/** Every built-in architecture name. */
export const ARCH_NAMES: readonly ArchName[] = Object.keys(PROFILES) as ArchName[];

/** Looks up an architecture profile by name. */
export function archByName(name: string): Result<Arch, 'UNKNOWN_ARCH'> {
  const a = (PROFILES as Record<string, Arch | undefined>)[name];
  if (!a)
    return err('UNKNOWN_ARCH', `unknown architecture '${name}'; expected one of ${ARCH_NAMES.join(', ')}`);
  return ok(a);
}

/** The architecture profile for a known name. */
export function arch(name: ArchName): Arch {
  return PROFILES[name];
}

/** Smallest page size in bytes. */
export function pageSize(a: Arch): number {
  return 2 ** a.pageSizesLog2[0]!;
}

/**
 * The mapping sizes a kernel may install: the architecture's sizes, optionally clamped to a
 * kernel profile's subset (e.g. a kernel that maps only 4K and 1M).
 */
export interface KernelProfile {
  /** Display name. */
  readonly name: string;
  /** log2 of sizes the kernel maps; undefined means every size the architecture supports. */
  readonly mapSizesLog2?: readonly number[];
}

/** Intersects the architecture's sizes with a kernel clamp; errors if nothing is left or the clamp names unsupported sizes. */
export function mappingSizesLog2(a: Arch, k?: KernelProfile): Result<readonly number[], 'INVALID_ARGUMENT'> {
  if (!k?.mapSizesLog2) return ok(a.pageSizesLog2);
  const bad = k.mapSizesLog2.filter((s) => !a.pageSizesLog2.includes(s));
  if (bad.length > 0) {
    return err(
      'INVALID_ARGUMENT',
      `kernel '${k.name}' maps ${bad.map((s) => sizeName(2 ** s)).join(', ')}, which ${a.name} does not support; expected a subset of ${a.pageSizesLog2.map((s) => sizeName(2 ** s)).join(', ')}`,
    );
  }
  if (!k.mapSizesLog2.includes(a.pageSizesLog2[0]!)) {
    return err(
      'INVALID_ARGUMENT',
      `kernel '${k.name}' must map the smallest page size ${sizeName(2 ** a.pageSizesLog2[0]!)}`,
    );
  }
  return ok([...k.mapSizesLog2].sort((x, y) => x - y));
}
