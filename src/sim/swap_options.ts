/**
 * Options and results of the paged memory of a traced system (issue 16): the RAM limit, the
 * replacement policy, the swap providers with their block devices, and the figures a run reports
 * (`swap` and `faults.major`/`faults.minor` in docs/OUTPUT.md).
 */
import { type ArchName, arch as archOf } from '../hw/arch.js';
import { BLOCK_DEVICE_PRESET_NAMES, type BlockDevicePresetName } from '../hw/block_device_presets.js';
import { type PteFormat, pteBudget, pteFormat, swapBudgetBlocks } from '../hw/pte.js';
import type { ReplacementName } from '../kernel/replacement.js';
import { type SwapPolicy, SwapRegistry } from '../kernel/swap_registry.js';
import { hex, sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import type { DesignOptions } from './designs.js';

type FaultHandling = DesignOptions['faultHandling'];

/** One swap provider: a block device preset and its size. */
export interface SwapProviderOptions {
  /** Display name (default swap0, swap1, ...). */
  readonly name?: string;
  readonly device: BlockDevicePresetName;
  /** Size in 4 KiB blocks. */
  readonly blocks: number;
  /** Higher is used first (policy `priority`). */
  readonly priority?: number;
  /** CPU of the provider's thread (default: the last CPU, the next one down for the next provider). */
  readonly cpu?: number;
}

/** The paged memory of a traced system. */
export interface PagingOptions {
  /** RAM limit in bytes for the program's memory, or null (no limit: nothing is evicted). */
  readonly ram: number | null;
  /** Page replacement (default clock). */
  readonly replacement?: ReplacementName;
  /** Swap providers (default: one NVMe of 1 GiB when there is a RAM limit). */
  readonly providers?: readonly SwapProviderOptions[];
  /** How the kernel picks a provider for a new block (default priority). */
  readonly policy?: SwapPolicy;
  /** How long a fault waits for a provider's reply before its thread is terminated, µs (default 30 s). */
  readonly timeoutUs?: number;
  /**
   * Ranges of the program's address space mapped from files of the file server (zero-filled
   * files of their size, `/mmapN`): their pages are read from the file on the fault and written
   * back when evicted dirty.
   */
  readonly mmaps?: readonly { readonly start: number; readonly size: number; readonly writable: boolean }[];
}

/** Default swap when a RAM limit is given without providers: one NVMe SSD of 1 GiB. */
export const DEFAULT_SWAP: SwapProviderOptions = { device: 'nvme', blocks: 2 ** 18 };

/** Default wait for a provider's reply: 30 s, Linux's default block-layer request timeout. */
export const DEFAULT_SWAP_TIMEOUT_US = 30_000_000;

/** Latency figures of one kind of fault, in cycles. */
export interface LatencyResult {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/** One swap provider's figures. */
export interface SwapProviderResult {
  readonly name: string;
  /** Its device preset. */
  readonly device: string;
  readonly blocks: number;
  /** Blocks holding pages at the end. */
  readonly used: number;
  /** Pages read back (swap-ins) and written (swap-outs) successfully, and their bytes. */
  readonly ins: number;
  readonly outs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Reads answered from the write-back cache (no device I/O). */
  readonly cacheHits: number;
  readonly ioErrors: number;
  readonly timeouts: number;
  readonly dead: boolean;
  /** Cycles requests waited for a device slot, summed. */
  readonly queueWaitCycles: number;
  /** Latency of the major faults it served. */
  readonly latency: LatencyResult;
}

/** Figures of the paged memory of a run (present when it had a RAM limit or the kernel paged). */
export interface SwapResult {
  /** RAM limit in bytes and in frames of `unit` bytes, or null. */
  readonly ram: number | null;
  readonly frames: number | null;
  /** Bytes replaced together: a page for the kernel, the chunk for a dataspace manager. */
  readonly unit: number;
  readonly pager: 'kernel' | 'manager';
  readonly data: 'copy' | 'map';
  readonly replacement: ReplacementName;
  /** Pages read from swap, pages written to swap, and their bytes. */
  readonly ins: number;
  readonly outs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Pages of memory-mapped files read in and written back. */
  readonly fileIns: number;
  readonly fileOuts: number;
  /** Cycles threads spent in `waiting-disk`, summed. */
  readonly diskWaitCycles: number;
  readonly evictions: number;
  /** Evicted units with at least one page to write. */
  readonly evictionsDirty: number;
  /** Units filled with zeros (anonymous memory never written, or dropped clean). */
  readonly zeroFills: number;
  /** Threads the paging path terminated (I/O error, timeout, dead provider, out of memory). */
  readonly terminated: number;
  readonly providers: readonly SwapProviderResult[];
}

/** Parses `--swap DEVICE[:SIZE][@PRIORITY]` sizes already in bytes; the CLI does the text. */
export function checkProviders(
  list: readonly SwapProviderOptions[],
): Result<readonly SwapProviderOptions[], 'INVALID_SWAP'> {
  const names = new Set<string>();
  for (const [i, p] of list.entries()) {
    const name = p.name ?? `swap${i}`;
    if (names.has(name)) return err('INVALID_SWAP', `two swap providers are named '${name}'`);
    names.add(name);
    if (!BLOCK_DEVICE_PRESET_NAMES.includes(p.device))
      return err(
        'INVALID_SWAP',
        `swap provider '${name}': unknown device '${p.device}'; expected one of ${BLOCK_DEVICE_PRESET_NAMES.join(', ')}`,
      );
    if (!Number.isSafeInteger(p.blocks) || p.blocks < 1)
      return err(
        'INVALID_SWAP',
        `swap provider '${name}': ${p.blocks} blocks, expected at least one 4 KiB block`,
      );
  }
  return ok(list);
}

/**
 * Checks paging options for an architecture and pager without building anything: the RAM limit
 * holds a unit (a page for the kernel, a chunk for the manager), the providers are well formed,
 * the architecture has a not-present PTE format, and every provider fits the block numbers its
 * PTE can hold (a provider too large is refused with the registry's message).
 */
export function checkPaging(
  arch: ArchName,
  pager: 'kernel' | 'manager',
  chunk: number,
  options: PagingOptions,
  faultHandling: FaultHandling = 'async',
): Result<{ fmt: PteFormat; providers: readonly SwapProviderOptions[] }, 'INVALID_SWAP'> {
  const page = 2 ** archOf(arch).pageSizesLog2[0]!;
  // The swapping manager is Genode's: it takes fault signals. The synchronous rivals' managers
  // answer calls instead, and have no paging under a limit in this model.
  const paged = options.ram !== null || (options.mmaps?.length ?? 0) > 0;
  if (pager === 'manager' && paged && faultHandling !== 'async')
    return err(
      'INVALID_SWAP',
      `a dataspace manager pages under a RAM limit or a memory-mapped file only with faultHandling=async (this design has ${faultHandling}); use swap=kernel or an async design`,
    );
  const unit = pager === 'kernel' ? page : chunk;
  if (options.ram !== null && !(options.ram >= unit)) {
    const what =
      pager === 'kernel'
        ? 'page'
        : 'chunk, the unit the dataspace manager evicts; use a smaller --chunk (e.g. 4K) or a larger limit';
    return err('INVALID_SWAP', `a RAM limit of ${sizeName(options.ram)} holds no ${sizeName(unit)} ${what}`);
  }
  const list = checkProviders(options.providers ?? (options.ram === null ? [] : [DEFAULT_SWAP]));
  if (!list.ok) return list;
  const ranges = [...(options.mmaps ?? [])].sort((a, b) => a.start - b.start);
  for (const [i, r] of ranges.entries()) {
    if (r.start % unit !== 0 || r.size % unit !== 0 || r.size <= 0 || r.start < page)
      return err(
        'INVALID_SWAP',
        `mmap at ${hex(r.start)}+${sizeName(r.size)}: start and size must be multiples of ${sizeName(unit)} (the paging unit), above the null page`,
      );
    const prev = ranges[i - 1];
    if (prev && prev.start + prev.size > r.start)
      return err('INVALID_SWAP', `mmap at ${hex(r.start)} overlaps the one at ${hex(prev.start)}`);
  }
  const fmt = pteFormat(arch);
  if (!fmt.ok) return err('INVALID_SWAP', `paging needs a not-present PTE format: ${fmt.message}`);
  const b = pteBudget(fmt.value);
  const registry = new SwapRegistry({
    budgetBlocks: swapBudgetBlocks(fmt.value),
    budgetSource: `the ${arch} not-present PTE (${b.blockBits}-bit block numbers)`,
  });
  for (const [i, p] of list.value.entries()) {
    const r = registry.register({
      name: p.name ?? `swap${i}`,
      blocks: p.blocks,
      port: i,
      priority: p.priority,
    });
    if (!r.ok) return err('INVALID_SWAP', r.message);
  }
  return ok({ fmt: fmt.value, providers: list.value });
}
