/**
 * `faultline pte`: the not-present page-table entry of each architecture (seed 003): which bits
 * are free, the swap vs memory-mapped flag, the block-number width and the largest swap that fits.
 * Every figure is derived by `hw/pte.ts` from the entry width and the bits hardware defines.
 */
import type { Command } from 'commander';
import { formatBinaryBytes, PTE_FORMATS, type PteFormat, pteBudget, pteFormat } from '../hw/pte.js';
import { formatTable } from '../report/table.js';
import { parseSize, UserError } from './io.js';

/** One row of `faultline pte --json`; bigints are decimal strings. */
export interface PteRow {
  readonly arch: string;
  readonly entry: string;
  readonly entryBits: number;
  readonly notPresentWhen: string;
  readonly freeBits: number;
  readonly flagBit: number;
  readonly blockBits: number;
  readonly maxBlock: string;
  readonly maxRangeIndex: string;
  readonly blockSize: number;
  readonly maxSwapBytes: string;
  readonly manual: string;
}

/** The rows for the given formats and block size. */
export function pteRows(formats: readonly PteFormat[], blockSize: number): PteRow[] {
  return formats.map((f) => {
    const b = pteBudget(f, blockSize);
    return {
      arch: f.arch,
      entry: f.entry,
      entryBits: f.entryBits,
      notPresentWhen: f.notPresentWhen,
      freeBits: b.freeBits,
      flagBit: b.flagBit,
      blockBits: b.blockBits,
      maxBlock: b.maxBlock.toString(),
      maxRangeIndex: b.maxRangeIndex.toString(),
      blockSize,
      maxSwapBytes: b.maxSwapBytes.toString(),
      manual: f.manual,
    };
  });
}

function grouped(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bitRange(hi: number, lo: number): string {
  return hi === lo ? `${hi}` : `${hi}:${lo}`;
}

/** The table `faultline pte` prints, with the manual sections as numbered notes below it. */
export function pteTable(rows: readonly PteRow[]): string {
  const table = formatTable(
    [
      'arch',
      'entry',
      'bits',
      'not present when',
      'free bits',
      'swap/mmap flag',
      'block bits',
      'largest block',
      'largest swap',
    ],
    rows.map((r, i) => {
      const bytes = BigInt(r.maxSwapBytes);
      const gib = bytes % 2n ** 30n === 0n ? ` = ${grouped((bytes / 2n ** 30n).toString())} GiB` : '';
      return [
        `${r.arch} [${i + 1}]`,
        r.entry,
        r.entryBits,
        r.notPresentWhen,
        `${r.freeBits} (${bitRange(r.entryBits - 1, r.flagBit)})`,
        `bit ${r.flagBit}`,
        `${r.blockBits} (${bitRange(r.entryBits - 1, r.flagBit + 1)})`,
        grouped(r.maxBlock),
        `${formatBinaryBytes(bytes)}${gib}`,
      ];
    }),
  );
  const size = rows[0] ? formatBinaryBytes(BigInt(rows[0].blockSize)) : '';
  return [
    table,
    '',
    `Flag 1 = swap block, 0 = memory-mapped range index (from 1; an all-zero entry means nothing is there).`,
    `Largest swap = 2^(block bits) blocks of ${size}.`,
    ...rows.map((r, i) => `[${i + 1}] ${r.manual}`),
  ].join('\n');
}

/** Registers `faultline pte`. */
export function registerPteCommand(program: Command): void {
  program
    .command('pte')
    .description('the not-present page-table entry per architecture: free bits, swap/mmap flag, largest swap')
    .option('--arch <name>', 'only this architecture')
    .option('--block-size <size>', 'swap block size for the byte figures', '4K')
    .option('--json', 'print {"rows": [...]} (bigints as decimal strings) instead of the table')
    .action((f: { arch?: string; blockSize: string; json?: boolean }) => {
      const blockSize = parseSize(f.blockSize, '--block-size');
      let formats: readonly PteFormat[] = PTE_FORMATS;
      if (f.arch !== undefined) {
        const one = pteFormat(f.arch);
        if (!one.ok) throw new UserError(`--arch: ${one.message}`);
        formats = [one.value];
      }
      const rows = pteRows(formats, blockSize);
      process.stdout.write(f.json ? `${JSON.stringify({ rows })}\n` : `${pteTable(rows)}\n`);
    });
}
