/**
 * The not-present page-table entry (seed 003, DESIGN.md "Swap and memory-mapped files"): when
 * hardware finds an entry not present it ignores every other bit, so the kernel keeps there
 * where the page went. Brendan's layout, for every architecture: the bits hardware still
 * defines stay zero (that is what makes the entry not present), the lowest free bit says swap
 * (1) or memory-mapped file (0), and the bits above it hold a swap block number or the index of
 * a memory-mapped range in the address space's list. An all-zero entry is "nothing here"
 * (never touched), which is why memory-mapped indices start at 1 while swap block 0 is usable.
 *
 * Everything below is derived from two facts per architecture, the entry width and how many low
 * bits a not-present entry still defines (each format names its manual section): 32-bit x86
 * gives 31 free bits, one flag, 30-bit block numbers and 2^30 × 4 KiB = 4096 GiB of swap.
 * Entries are bigints so 64-bit entries are exact.
 */
import { err, ok, type Result } from '../util/result.js';
import type { ArchName } from './arch.js';

/** How one architecture's leaf page-table entry looks when it is not present. */
export interface PteFormat {
  readonly arch: ArchName;
  /** The paging mode and entry, e.g. `PAE paging PTE`. */
  readonly entry: string;
  /** Entry width in bits. */
  readonly entryBits: 32 | 64;
  /** Low bits hardware still defines in a not-present entry; all of them are 0 there. */
  readonly definedBits: number;
  /** What makes the entry not present, in the manual's words, e.g. `P (bit 0) = 0`. */
  readonly notPresentWhen: string;
  /** Where the manual says the other bits are ignored. */
  readonly manual: string;
}

/** Bit budget of a format: what {@link pteBudget} derives from a {@link PteFormat}. */
export interface PteBudget {
  /** Bits software may use in a not-present entry. */
  readonly freeBits: number;
  /** The bit that says swap (1) or memory-mapped (0): the lowest free bit. */
  readonly flagBit: number;
  /** Lowest bit of the block number or range index. */
  readonly payloadShift: number;
  /** Bits of block number (one less than the free bits: the flag takes one). */
  readonly blockBits: number;
  /** Largest swap block number. */
  readonly maxBlock: bigint;
  /** Swap blocks an entry can name: maxBlock + 1. */
  readonly blocks: bigint;
  /** Largest memory-mapped range index (index 0 would be the all-zero "none" entry). */
  readonly maxRangeIndex: bigint;
  /** Largest swap in bytes with `blockSize`-byte blocks. */
  readonly maxSwapBytes: bigint;
  /** Block size the byte figure assumes. */
  readonly blockSize: number;
}

/** What a page-table entry says. */
export type PteMeaning =
  | { readonly kind: 'present' }
  | { readonly kind: 'none' }
  | { readonly kind: 'swap'; readonly block: bigint }
  | { readonly kind: 'mmap'; readonly index: bigint };

/** Error codes of the PTE functions. */
export type PteErrorCode = 'PTE_OUT_OF_RANGE' | 'INVALID_PTE' | 'SWAP_TOO_LARGE';

const SDM = 'Intel SDM Vol. 3A';

const FORMATS: readonly PteFormat[] = [
  {
    arch: 'x86_32',
    entry: '32-bit paging PTE',
    entryBits: 32,
    definedBits: 1,
    notPresentWhen: 'P (bit 0) = 0',
    manual: `${SDM} §4.3, Figure 4-4 "PTE: not present" (bits 31:1 ignored)`,
  },
  {
    arch: 'x86_32-pae',
    entry: 'PAE paging PTE',
    entryBits: 64,
    definedBits: 1,
    notPresentWhen: 'P (bit 0) = 0',
    manual: `${SDM} §4.4, Figure 4-7 "PTE: not present" (bits 63:1 ignored)`,
  },
  {
    arch: 'x86_64',
    entry: '4-level paging PTE',
    entryBits: 64,
    definedBits: 1,
    notPresentWhen: 'P (bit 0) = 0',
    manual: `${SDM} §4.5, Figure 4-11 "PTE: not present" (bits 63:1 ignored)`,
  },
  {
    arch: 'armv7',
    entry: 'short-descriptor, level 2',
    entryBits: 32,
    definedBits: 2,
    notPresentWhen: 'bits[1:0] = 0b00 (Invalid, fault)',
    manual: 'ARM DDI 0406C §B3.5.1: Invalid entries, "the hardware ignores bits[31:2]"',
  },
  {
    arch: 'armv8',
    entry: 'VMSAv8-64, level 3 (4K granule)',
    entryBits: 64,
    definedBits: 1,
    notPresentWhen: 'bit[0] = 0 (invalid)',
    manual: 'ARM DDI 0487 "VMSAv8-64 translation table descriptor formats": invalid, bits[63:1] ignored',
  },
  {
    arch: 'riscv-sv39',
    entry: 'Sv39 PTE',
    entryBits: 64,
    definedBits: 1,
    notPresentWhen: 'V (bit 0) = 0',
    manual: 'RISC-V Privileged ISA §4.3.1 (v1.12; §10.3.1 in 2024): V=0, "all other bits ... don\'t-cares"',
  },
];

/** Every architecture with a hardware page-table format, in table order. */
export const PTE_FORMATS: readonly PteFormat[] = FORMATS;

/**
 * The not-present entry format of an architecture. MicroBlaze has a software-managed TLB and no
 * hardware page-table format: its kernel defines its own entries, so there is nothing to derive.
 */
export function pteFormat(arch: string): Result<PteFormat, 'UNKNOWN_ARCH' | 'NO_HARDWARE_PAGE_TABLE'> {
  const f = FORMATS.find((x) => x.arch === arch);
  if (f) return ok(f);
  if (arch === 'microblaze') {
    return err(
      'NO_HARDWARE_PAGE_TABLE',
      `microblaze refills its TLB in software and has no hardware page-table format; expected one of ${FORMATS.map((x) => x.arch).join(', ')}`,
    );
  }
  return err(
    'UNKNOWN_ARCH',
    `unknown architecture '${arch}'; expected one of ${FORMATS.map((x) => x.arch).join(', ')}`,
  );
}

/** Derives the bit budget of a not-present entry; `blockSize` (default 4 KiB) only scales the byte figure. */
export function pteBudget(f: PteFormat, blockSize = 4096): PteBudget {
  const freeBits = f.entryBits - f.definedBits;
  const flagBit = f.definedBits;
  const payloadShift = flagBit + 1;
  const blockBits = freeBits - 1;
  const blocks = 1n << BigInt(blockBits);
  return {
    freeBits,
    flagBit,
    payloadShift,
    blockBits,
    maxBlock: blocks - 1n,
    blocks,
    maxRangeIndex: blocks - 1n,
    maxSwapBytes: blocks * BigInt(blockSize),
    blockSize,
  };
}

/** Swap blocks a not-present entry can name, as a number (a power of two, so exact even for 2^62). */
export function swapBudgetBlocks(f: PteFormat): number {
  return 2 ** pteBudget(f).blockBits;
}

/** Largest memory-mapped range index, as a number (clamped to the largest safe integer). */
export function maxRangeIndex(f: PteFormat): number {
  const m = pteBudget(f).maxRangeIndex;
  return m > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(m);
}

function toBig(v: number | bigint): bigint | null {
  if (typeof v === 'bigint') return v;
  return Number.isSafeInteger(v) ? BigInt(v) : null;
}

function encode(
  f: PteFormat,
  flag: 0n | 1n,
  value: number | bigint,
  min: bigint,
  what: string,
): Result<bigint, 'PTE_OUT_OF_RANGE'> {
  const b = pteBudget(f);
  const v = toBig(value);
  if (v === null || v < min || v > b.maxBlock) {
    return err(
      'PTE_OUT_OF_RANGE',
      `${what} ${String(value)} does not fit a not-present ${f.arch} entry: expected an integer from ${min} to ${b.maxBlock} (${b.blockBits} bits)`,
    );
  }
  return ok((v << BigInt(b.payloadShift)) | (flag << BigInt(b.flagBit)));
}

/** The not-present entry that holds swap block `block`. */
export function encodeSwapPte(f: PteFormat, block: number | bigint): Result<bigint, 'PTE_OUT_OF_RANGE'> {
  return encode(f, 1n, block, 0n, 'swap block');
}

/** The not-present entry that holds memory-mapped range index `index` (>= 1; 0 is the "none" entry). */
export function encodeMmapPte(f: PteFormat, index: number | bigint): Result<bigint, 'PTE_OUT_OF_RANGE'> {
  return encode(f, 0n, index, 1n, 'memory-mapped range index');
}

/** Reads an entry back: present, none (all zero), a swap block or a memory-mapped range index. */
export function decodePte(f: PteFormat, entry: bigint): Result<PteMeaning, 'INVALID_PTE'> {
  if (entry < 0n || entry >> BigInt(f.entryBits) !== 0n) {
    return err('INVALID_PTE', `0x${entry.toString(16)} is not a ${f.entryBits}-bit ${f.arch} entry`);
  }
  const defined = (1n << BigInt(f.definedBits)) - 1n;
  if ((entry & defined) !== 0n) return ok({ kind: 'present' });
  if (entry === 0n) return ok({ kind: 'none' });
  const b = pteBudget(f);
  const payload = entry >> BigInt(b.payloadShift);
  if (((entry >> BigInt(b.flagBit)) & 1n) === 1n) return ok({ kind: 'swap', block: payload });
  return ok({ kind: 'mmap', index: payload });
}

/** A byte count in the largest binary unit that divides it exactly: 2^42 is `4 TiB`, 2^74 `16 ZiB`. */
export function formatBinaryBytes(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  let u = 0;
  let v = bytes;
  while (u < units.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    u++;
  }
  return `${v} ${units[u]}`;
}

/**
 * Checks a swap of `blocks` blocks against the entry's budget. The message names the arch, the
 * bits and both sizes, so a refused provider tells its owner what would fit.
 */
export function checkSwapBudget(
  f: PteFormat,
  blocks: number,
  blockSize = 4096,
): Result<void, 'SWAP_TOO_LARGE'> {
  const b = pteBudget(f, blockSize);
  if (Number.isSafeInteger(blocks) && blocks >= 0 && BigInt(blocks) <= b.blocks) return ok(undefined);
  const asked = Number.isSafeInteger(blocks) ? formatBinaryBytes(BigInt(blocks) * BigInt(blockSize)) : '?';
  return err(
    'SWAP_TOO_LARGE',
    `a swap of ${blocks} blocks (${asked}) does not fit a not-present ${f.arch} entry: ${b.blockBits}-bit block numbers name at most ${b.blocks} blocks (${formatBinaryBytes(b.maxSwapBytes)} of ${formatBinaryBytes(BigInt(blockSize))} blocks)`,
  );
}
