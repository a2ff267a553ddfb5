import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { ARCH_NAMES, arch, type TlbLevelSpec } from './arch.js';
import { formatTlbSpec, kindOfTlbName, parseTlbSpec, TLB_SPEC_HELP } from './tlb_spec.js';

const X64 = arch('x86_64').pageSizesLog2; // 4K, 2M, 1G
const ARM7 = arch('armv7').pageSizesLog2; // 4K, 64K, 1M, 16M

describe('parseTlbSpec', () => {
  it('reads unified:N as one fully associative level holding every architecture size', () => {
    expect(unwrap(parseTlbSpec('unified:64', X64))).toEqual([
      { name: 'unified', kind: 'unified', entries: 64, ways: 64, pageSizesLog2: [12, 21, 30] },
    ]);
  });

  it('reads the multi-level form with kinds from the name prefix', () => {
    expect(unwrap(parseTlbSpec('l1i:64x4:4k,l1d:64x4:4k+2m,l2:1536x12:4k+2m', X64))).toEqual([
      { name: 'l1i', kind: 'instruction', entries: 64, ways: 4, pageSizesLog2: [12] },
      { name: 'l1d', kind: 'data', entries: 64, ways: 4, pageSizesLog2: [12, 21] },
      { name: 'l2', kind: 'unified', entries: 1536, ways: 12, pageSizesLog2: [12, 21] },
    ]);
  });

  it('joins levels written with | into one stage looked up in parallel', () => {
    expect(unwrap(parseTlbSpec('l1d:64x4:4k | l1d-big:32x4:2m|l1d-1g:4:1g,l1i:8,l2:64', X64))).toEqual([
      { name: 'l1d', kind: 'data', entries: 64, ways: 4, pageSizesLog2: [12] },
      { name: 'l1d-big', kind: 'data', entries: 32, ways: 4, pageSizesLog2: [21], parallel: true },
      { name: 'l1d-1g', kind: 'data', entries: 4, ways: 4, pageSizesLog2: [30], parallel: true },
      { name: 'l1i', kind: 'instruction', entries: 8, ways: 8, pageSizesLog2: [12, 21, 30] },
      { name: 'l2', kind: 'unified', entries: 64, ways: 64, pageSizesLog2: [12, 21, 30] },
    ]);
  });

  it('accepts itlb/dtlb names, omitted sizes and ways, any case, spaces and unsorted sizes', () => {
    expect(unwrap(parseTlbSpec(' ITLB-0 : 32 , dtlb:16X2:1M+64K , stlb:256x4:16m+4K ', ARM7))).toEqual([
      { name: 'ITLB-0', kind: 'instruction', entries: 32, ways: 32, pageSizesLog2: [12, 16, 20, 24] },
      { name: 'dtlb', kind: 'data', entries: 16, ways: 2, pageSizesLog2: [16, 20] },
      { name: 'stlb', kind: 'unified', entries: 256, ways: 4, pageSizesLog2: [12, 24] },
    ]);
    expect(['l1i', 'itlb2', 'L1D-big', 'dtlb', 'l2', 'utlb'].map(kindOfTlbName)).toEqual([
      'instruction',
      'instruction',
      'data',
      'data',
      'unified',
      'unified',
    ]);
  });

  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['unified:64,', 'a level is empty'],
    ['l1d:64||l2:64', 'a level is empty'],
    ['|unified:64', 'a level is empty'],
    ['unified', "level 'unified' has 1 ':'-separated parts"],
    ['l2:64x4:4k:x', 'has 4'],
    ['2l:64', "level name '2l' is not a name"],
    ['l2:64,L2:32', "level name 'L2' is used twice"],
    ['l2:', "level 'l2' has geometry ''"],
    ['l2:64y4', "has geometry '64y4'"],
    ['l2:-4', "has geometry '-4'"],
    ['l2:1.5', "has geometry '1.5'"],
    ['l2:0', "level 'l2' has 0 entries"],
    ['l2:100000', 'has 100000 entries; expected a positive integer up to 65536'],
    ['l2:64x0', "level 'l2' has 0 ways"],
    ['l2:64x3', "level 'l2' has 64 entries in 3 ways; expected ENTRIES a multiple of WAYS"],
    ['l2:64x128', 'has 64 entries in 128 ways'],
    ['l2:64:3k', "level 'l2' has page size '3k'; expected a power of two"],
    ['l2:64:4q', "has page size '4q'"],
    ['l2:64:4k+', "has page size ''"],
    ['l2:64:64k', 'page size 64k, which the architecture does not support; expected sizes among 4k+2m+1g'],
    ['l2:64:4k+4K', 'lists page size 4K twice'],
    ['l1i:64', 'no level serves data accesses; expected a l1d/dtlb or unified level'],
    ['dtlb:64', 'no level serves instruction fetches'],
  ])('rejects %j with INVALID_TLB_SPEC', (spec, fragment) => {
    const r = parseTlbSpec(spec, X64);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('INVALID_TLB_SPEC');
    expect(r.message).toContain(fragment);
    expect(r.message).toContain(`invalid TLB spec '${spec}'`);
    expect(r.message).toMatch(/; expected /);
  });
});

describe('formatTlbSpec', () => {
  it('writes the compact form and omits architecture-wide sizes when told them', () => {
    expect(formatTlbSpec(unwrap(parseTlbSpec('unified:64', X64)), X64)).toBe('unified:64');
    expect(formatTlbSpec(unwrap(parseTlbSpec('unified:64', X64)))).toBe('unified:64:4k+2m+1g');
    expect(formatTlbSpec(arch('x86_64').tlb, X64)).toBe(
      'L1i:128x8:4k|L1i-big:8:2m,L1d:64x4:4k|L1d-big:32x4:2m,L2:1536x12:4k+2m',
    );
    expect(formatTlbSpec(arch('microblaze').tlb)).toBe('UTLB:64:1k+4k+16k+64k+256k+1m+4m+16m');
  });

  it('prefixes a name that does not imply its kind', () => {
    const levels: TlbLevelSpec[] = [
      { name: 'fetch', kind: 'instruction', entries: 8, ways: 8, pageSizesLog2: [12] },
      { name: 'itlb', kind: 'data', entries: 8, ways: 2, pageSizesLog2: [12] },
      { name: 'l1d', kind: 'unified', entries: 8, ways: 8, pageSizesLog2: [12] },
    ];
    const text = formatTlbSpec(levels, X64);
    expect(text).toBe('itlb-fetch:8:4k,dtlb-itlb:8x2:4k,u-l1d:8:4k');
    expect(unwrap(parseTlbSpec(text, X64)).map((l) => l.kind)).toEqual(['instruction', 'data', 'unified']);
  });

  it('round-trips every built-in default geometry', () => {
    for (const name of ARCH_NAMES) {
      const a = arch(name);
      expect(unwrap(parseTlbSpec(formatTlbSpec(a.tlb, a.pageSizesLog2), a.pageSizesLog2))).toEqual(a.tlb);
    }
  });

  it('round-trips random valid geometries', () => {
    const level = fc.record({
      kind: fc.constantFrom<TlbLevelSpec['kind']>('instruction', 'data', 'unified'),
      sets: fc.integer({ min: 1, max: 64 }),
      ways: fc.integer({ min: 1, max: 16 }),
      pageSizesLog2: fc.subarray([...ARM7], { minLength: 1 }),
      parallel: fc.boolean(),
    });
    const prefix = { instruction: 'l1i', data: 'dtlb', unified: 'l2' } as const;
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), (ls) => {
        const levels: TlbLevelSpec[] = [
          ...ls.map((l, i) => ({
            name: `${prefix[l.kind]}_${i}`,
            kind: l.kind,
            entries: l.sets * l.ways,
            ways: l.ways,
            pageSizesLog2: l.pageSizesLog2,
            ...(l.parallel && i > 0 ? { parallel: true } : {}),
          })),
          { name: 'last', kind: 'unified', entries: 4, ways: 4, pageSizesLog2: [12] },
        ];
        expect(unwrap(parseTlbSpec(formatTlbSpec(levels, ARM7), ARM7))).toEqual(levels);
      }),
    );
  });
});

describe('TLB_SPEC_HELP', () => {
  it('describes the grammar, the kinds and an example that parses', () => {
    for (const piece of [
      'NAME:ENTRIES[xWAYS][:SIZES]',
      'l1i',
      'dtlb',
      'fully associative',
      'unified:N',
      'LRU',
    ]) {
      expect(TLB_SPEC_HELP).toContain(piece);
    }
    const example = /Example \(the x86_64 default\): (\S+);/.exec(TLB_SPEC_HELP)![1]!;
    expect(formatTlbSpec(unwrap(parseTlbSpec(example, X64)), X64)).toBe(
      formatTlbSpec(arch('x86_64').tlb, X64).toLowerCase(),
    );
  });
});
