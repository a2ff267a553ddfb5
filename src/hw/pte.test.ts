import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARCH_NAMES } from './arch.js';
import {
  checkSwapBudget,
  decodePte,
  encodeMmapPte,
  encodeSwapPte,
  formatBinaryBytes,
  maxRangeIndex,
  PTE_FORMATS,
  type PteFormat,
  pteBudget,
  pteFormat,
  swapBudgetBlocks,
} from './pte.js';

function fmt(arch: string): PteFormat {
  const r = pteFormat(arch);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

// Hand-computed from the manuals: entry width minus the bits a not-present entry still defines
// gives the free bits; one of them is the swap/mmap flag; blocks are 4 KiB.
const ROWS = [
  // arch, free bits, flag bit, block bits, max block, max swap bytes, in GiB
  ['x86_32', 31, 1, 30, 1_073_741_823n, 4_398_046_511_104n, 4096n],
  ['x86_32-pae', 63, 1, 62, 4_611_686_018_427_387_903n, 18_889_465_931_478_580_854_784n, 17_592_186_044_416n],
  ['x86_64', 63, 1, 62, 4_611_686_018_427_387_903n, 18_889_465_931_478_580_854_784n, 17_592_186_044_416n],
  ['armv7', 30, 2, 29, 536_870_911n, 2_199_023_255_552n, 2048n],
  ['armv8', 63, 1, 62, 4_611_686_018_427_387_903n, 18_889_465_931_478_580_854_784n, 17_592_186_044_416n],
  ['riscv-sv39', 63, 1, 62, 4_611_686_018_427_387_903n, 18_889_465_931_478_580_854_784n, 17_592_186_044_416n],
] as const;

describe('not-present PTE budget per architecture', () => {
  it.each(ROWS)(
    '%s: %i free bits, flag at bit %i, %i-bit block numbers',
    (arch, free, flag, bits, maxBlock, bytes, gib) => {
      const b = pteBudget(fmt(arch));
      expect(b.freeBits).toBe(free);
      expect(b.flagBit).toBe(flag);
      expect(b.blockBits).toBe(bits);
      expect(b.maxBlock).toBe(maxBlock);
      expect(b.blocks).toBe(maxBlock + 1n);
      expect(b.maxSwapBytes).toBe(bytes);
      expect(b.maxSwapBytes / 2n ** 30n).toBe(gib);
    },
  );

  it("comes out at Brendan's figures on x86_32: 30-bit blocks, 4096 GiB", () => {
    const b = pteBudget(fmt('x86_32'));
    expect(b.blockBits).toBe(30);
    expect(b.maxSwapBytes).toBe(4096n * 1024n * 1024n * 1024n);
    expect(formatBinaryBytes(b.maxSwapBytes)).toBe('4 TiB');
    expect(swapBudgetBlocks(fmt('x86_32'))).toBe(1_073_741_824);
    expect(BigInt(swapBudgetBlocks(fmt('x86_64')))).toBe(4_611_686_018_427_387_904n);
    expect(maxRangeIndex(fmt('armv7'))).toBe(536_870_911);
    expect(maxRangeIndex(fmt('x86_64'))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('covers every architecture with a hardware page table, and refuses microblaze clearly', () => {
    expect(PTE_FORMATS.map((f) => f.arch)).toEqual(ARCH_NAMES.filter((a) => a !== 'microblaze'));
    const mb = pteFormat('microblaze');
    expect(mb.ok || mb.code).toBe('NO_HARDWARE_PAGE_TABLE');
    const bad = pteFormat('pdp11');
    expect(bad.ok || bad.code).toBe('UNKNOWN_ARCH');
  });

  it('scales the byte figure with the block size only', () => {
    expect(pteBudget(fmt('x86_32'), 8192).maxSwapBytes).toBe(8_796_093_022_208n);
    expect(pteBudget(fmt('x86_32'), 8192).blockBits).toBe(30);
  });
});

describe('encoding swap blocks and mmap indices', () => {
  it('lays bits out as hand-computed', () => {
    // x86_32: block 5 -> (5 << 2) | (1 << 1); armv7: block 5 -> (5 << 3) | (1 << 2).
    expect(encodeSwapPte(fmt('x86_32'), 5)).toEqual({ ok: true, value: 0x16n });
    expect(encodeSwapPte(fmt('armv7'), 5)).toEqual({ ok: true, value: 0x2cn });
    expect(encodeMmapPte(fmt('x86_32'), 1)).toEqual({ ok: true, value: 0x4n });
    expect(encodeMmapPte(fmt('armv7'), 3)).toEqual({ ok: true, value: 0x18n });
    expect(encodeSwapPte(fmt('x86_32'), 0)).toEqual({ ok: true, value: 0x2n });
    expect(encodeSwapPte(fmt('x86_32'), 1_073_741_823)).toEqual({ ok: true, value: 0xfffffffen });
    expect(encodeMmapPte(fmt('x86_32'), 1_073_741_823)).toEqual({ ok: true, value: 0xfffffffcn });
    expect(encodeSwapPte(fmt('x86_64'), 4_611_686_018_427_387_903n)).toEqual({
      ok: true,
      value: 0xfffffffffffffffen,
    });
  });

  it('round-trips every block number and index on every architecture', () => {
    for (const f of PTE_FORMATS) {
      const max = pteBudget(f).maxBlock;
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max }), fc.bigInt({ min: 1n, max }), (block, index) => {
          const s = encodeSwapPte(f, block);
          const m = encodeMmapPte(f, index);
          if (!s.ok || !m.ok) throw new Error('refused an in-range value');
          expect(s.value).not.toBe(m.value);
          expect(s.value >> BigInt(f.entryBits)).toBe(0n);
          expect(decodePte(f, s.value)).toEqual({ ok: true, value: { kind: 'swap', block } });
          expect(decodePte(f, m.value)).toEqual({ ok: true, value: { kind: 'mmap', index } });
        }),
        { numRuns: 200 },
      );
    }
  });

  it('refuses values out of range, changing nothing', () => {
    for (const f of PTE_FORMATS) {
      const max = pteBudget(f).maxBlock;
      for (const bad of [max + 1n, -1n]) {
        const r = encodeSwapPte(f, bad);
        expect(r.ok || r.code).toBe('PTE_OUT_OF_RANGE');
      }
      const zero = encodeMmapPte(f, 0);
      expect(zero.ok || zero.code).toBe('PTE_OUT_OF_RANGE');
      const frac = encodeSwapPte(f, 1.5);
      expect(frac.ok || frac.code).toBe('PTE_OUT_OF_RANGE');
    }
    const r = encodeSwapPte(fmt('x86_32'), 2 ** 30);
    expect(r.ok ? '' : r.message).toMatch(/from 0 to 1073741823 \(30 bits\)/);
    // An unsafe number cannot be exact: refused even where the bigint would fit.
    const unsafe = encodeSwapPte(fmt('x86_64'), 2 ** 53 + 2);
    expect(unsafe.ok || unsafe.code).toBe('PTE_OUT_OF_RANGE');
  });

  it('decodes present, none and invalid entries', () => {
    const x = fmt('x86_32');
    expect(decodePte(x, 0n)).toEqual({ ok: true, value: { kind: 'none' } });
    expect(decodePte(x, 0x1001n)).toEqual({ ok: true, value: { kind: 'present' } });
    const a = fmt('armv7');
    for (const low of [1n, 2n, 3n])
      expect(decodePte(a, 0x1000n | low)).toEqual({ ok: true, value: { kind: 'present' } });
    const big = decodePte(x, 1n << 32n);
    expect(big.ok || big.code).toBe('INVALID_PTE');
    const neg = decodePte(x, -2n);
    expect(neg.ok || neg.code).toBe('INVALID_PTE');
  });
});

describe('checkSwapBudget', () => {
  it('accepts exactly the budget and refuses one block more with the sizes in the message', () => {
    const x = fmt('x86_32');
    expect(checkSwapBudget(x, 2 ** 30).ok).toBe(true);
    const r = checkSwapBudget(x, 2 ** 30 + 1);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('SWAP_TOO_LARGE');
      expect(r.message).toMatch(/x86_32/);
      expect(r.message).toMatch(
        /30-bit block numbers name at most 1073741824 blocks \(4 TiB of 4 KiB blocks\)/,
      );
    }
    expect(checkSwapBudget(fmt('armv7'), 2 ** 29 + 1).ok).toBe(false);
    expect(checkSwapBudget(fmt('x86_64'), Number.MAX_SAFE_INTEGER).ok).toBe(true);
    expect(checkSwapBudget(x, -1).ok).toBe(false);
  });
});
