/**
 * The vocabulary of a paged memory (`paged_memory.ts`): its options, where pages come from and
 * go to, the plans of a page-in and an eviction, its counters and error codes.
 */
import type { PteFormat } from '../hw/pte.js';
import type { MmapRange, MmapRangeList } from './mmap_ranges.js';
import type { ReplacementName } from './replacement.js';
import type { SwapRegistry, SwapSlot } from './swap_registry.js';

/** How a paged memory is set up. */
export interface PagedMemoryOptions {
  readonly pageSize: number;
  /** Pages replaced together (a power of two; 1 for the kernel, chunk / page for a manager). */
  readonly unitPages: number;
  /** RAM limit in units, or null for none (nothing is ever evicted). */
  readonly frames: number | null;
  readonly replacement: ReplacementName;
  /** The not-present entry format the block numbers and range indices are stored in. */
  readonly pte: PteFormat;
  readonly swap: SwapRegistry;
  readonly mmaps: MmapRangeList;
}

/** Where one page comes from when its unit is brought in. */
export type PageSource =
  | { readonly kind: 'zero' }
  | { readonly kind: 'swap'; readonly slot: SwapSlot }
  | { readonly kind: 'file'; readonly range: MmapRange; readonly offset: number };

/** Where a dirty page goes when it is written out. */
export type PageTarget =
  | { readonly kind: 'swap'; readonly slot: SwapSlot }
  | { readonly kind: 'file'; readonly range: MmapRange; readonly offset: number };

/** One page to write: its address, its index in the unit and where it goes. */
export interface PageWrite {
  readonly va: number;
  readonly page: number;
  readonly target: PageTarget;
}

/** A unit being brought in: the frame it goes to and a source per page. */
export interface PageIn {
  readonly unit: number;
  readonly va: number;
  readonly frame: number;
  readonly sources: readonly PageSource[];
  /** Some page needs I/O (a major fault). */
  readonly major: boolean;
}

/** A unit being evicted: its frame and the dirty pages to write. */
export interface Eviction {
  readonly unit: number;
  readonly va: number;
  readonly frame: number;
  readonly writes: readonly PageWrite[];
  /** Blocks allocated for this eviction (freed again if it fails). */
  readonly allocated: readonly number[];
}

/** Counters of a paged memory. */
export interface PagedMemoryStats {
  pageIns: number;
  zeroFills: number;
  evictions: number;
  /** Evicted units with at least one dirty page. */
  evictionsDirty: number;
  /** Pages dropped without I/O (clean, or never written). */
  pagesDropped: number;
  /** Victims put back because swap had no block for them. */
  swapFullRetries: number;
}

/** Error codes of a paged memory. */
export type PagedMemoryErrorCode = 'SWAP_FULL' | 'NO_VICTIM' | 'BUSY' | 'MMAP_BUSY' | 'INVALID_ARGUMENT';
