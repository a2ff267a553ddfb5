/**
 * The paging flags of replay, compare and swap-sweep (issue 16): `--ram SIZE`, `--replacement`,
 * `--swap DEVICE[:SIZE][@PRIORITY]` (repeatable) and `--swap-policy`, validated into
 * `PagingOptions`; a provider that the architecture's not-present PTE cannot address is refused
 * here, with the registry's message.
 */
import type { Command } from 'commander';
import { BLOCK_DEVICE_PRESET_NAMES, type BlockDevicePresetName } from '../hw/block_device_presets.js';
import { REPLACEMENT_NAMES } from '../kernel/replacement.js';
import { SWAP_POLICIES } from '../kernel/swap_registry.js';
import { DEFAULT_SWAP, type PagingOptions, type SwapProviderOptions } from '../sim/swap_options.js';
import { collect, parseChoice, parseSize, UserError } from './io.js';

/** Raw paging flags. */
export interface PagingFlags {
  ram?: string;
  replacement?: string;
  swap?: string[];
  swapPolicy?: string;
  mmap?: string[];
}

/** Adds the paging flags to a command. */
export function addPagingFlags(cmd: Command): Command {
  return cmd
    .option(
      '--ram <size>',
      "RAM limit for the traced program's memory (e.g. 512K); beyond it pages are evicted to swap",
    )
    .option(
      '--replacement <policy>',
      `page replacement under --ram: ${REPLACEMENT_NAMES.join(', ')}`,
      'clock',
    )
    .option(
      '--swap <spec>',
      `a swap provider: DEVICE[:SIZE][@PRIORITY], DEVICE one of ${BLOCK_DEVICE_PRESET_NAMES.join(', ')}; repeatable (default nvme:1G)`,
      collect,
    )
    .option(
      '--swap-policy <policy>',
      `how the kernel picks a provider: ${SWAP_POLICIES.join(', ')}`,
      'priority',
    )
    .option(
      '--mmap <range>',
      'map START+SIZE[:ro] of the address space from a file (zero-filled): its pages are read from the file server and written back when evicted dirty; repeatable',
      collect,
    );
}

/** `--swap DEVICE[:SIZE][@PRIORITY]`, e.g. `nvme:1G`, `hdd:8G@-1`. */
export function parseSwapFlag(text: string): SwapProviderOptions {
  const m = /^([a-z-]+)(?::([^@]+))?(?:@(-?\d+))?$/i.exec(text.trim());
  if (!m) throw new UserError(`--swap: '${text}' is not DEVICE[:SIZE][@PRIORITY] (e.g. nvme:1G, hdd:8G@-1)`);
  const device = parseChoice(m[1]!, '--swap', BLOCK_DEVICE_PRESET_NAMES) as BlockDevicePresetName;
  const bytes = m[2] === undefined ? DEFAULT_SWAP.blocks * 4096 : parseSize(m[2], `--swap ${text}`);
  if (bytes < 4096 || bytes % 4096 !== 0)
    throw new UserError(`--swap ${text}: the size must be a multiple of 4 KiB, at least one block`);
  const priority = m[3] === undefined ? undefined : Number(m[3]);
  if (priority !== undefined && !Number.isSafeInteger(priority))
    throw new UserError(`--swap ${text}: the priority must be an integer`);
  return { device, blocks: bytes / 4096, ...(priority === undefined ? {} : { priority }) };
}

/** `--mmap START+SIZE[:ro]`, e.g. `0x4a2c000+4M`. */
export function parseMmapFlag(text: string): { start: number; size: number; writable: boolean } {
  const m = /^([^+]+)\+([^:]+)(:ro)?$/.exec(text.trim());
  if (!m) throw new UserError(`--mmap: '${text}' is not START+SIZE[:ro] (e.g. 0x4a2c000+4M)`);
  return {
    start: parseSize(m[1]!, `--mmap ${text}`),
    size: parseSize(m[2]!, `--mmap ${text}`),
    writable: m[3] === undefined,
  };
}

/** The paging options the flags ask for, or undefined when none of them is given. */
export function pagingOptions(f: PagingFlags): PagingOptions | undefined {
  const replacement = parseChoice(f.replacement ?? 'clock', '--replacement', REPLACEMENT_NAMES);
  const policy = parseChoice(f.swapPolicy ?? 'priority', '--swap-policy', SWAP_POLICIES);
  const providers = f.swap?.map(parseSwapFlag);
  const mmaps = f.mmap?.map(parseMmapFlag);
  if (f.ram === undefined) {
    if (providers !== undefined)
      throw new UserError('--swap: swap providers need a RAM limit to swap to (--ram SIZE)');
    return mmaps ? { ram: null, replacement, policy, mmaps } : undefined;
  }
  const ram = parseSize(f.ram, '--ram');
  if (ram === 0)
    throw new UserError("--ram: '0' leaves no memory at all; expected a size of at least one page");
  return { ram, replacement, policy, ...(providers ? { providers } : {}), ...(mmaps ? { mmaps } : {}) };
}
