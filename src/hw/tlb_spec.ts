/**
 * The `--tlb SPEC` grammar of the CLI: parses a TLB geometry into `TlbLevelSpec[]` and formats it
 * back. The level name's prefix carries the kind, so a formatted spec parses back to the same levels.
 */
import { sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import type { TlbLevelSpec } from './arch.js';

/** Largest accepted entry count of one level (keeps the typed arrays of the model small). */
export const MAX_TLB_ENTRIES = 65536;

/** One-paragraph description of the `--tlb` grammar, shown by `faultline replay --help`. */
export const TLB_SPEC_HELP =
  'TLB geometry, a comma-separated list of levels looked up in order: NAME:ENTRIES[xWAYS][:SIZES]; ' +
  'levels joined by | instead form one stage looked up in parallel (like an L1 DTLB with separate ' +
  'arrays for 4K and 2M pages: a hit in either is an L1 hit, a refill goes only to the array that ' +
  'holds the size best). ' +
  'NAME starting with l1i or itlb makes an instruction level, l1d or dtlb a data level, anything else ' +
  '(e.g. l2, stlb, unified) a level shared by instruction fetches and data accesses. ENTRIES and WAYS ' +
  'are positive integers with ENTRIES a multiple of WAYS; WAYS omitted means fully associative. SIZES ' +
  'lists the page sizes the level holds, joined by + (e.g. 4k+2m; units k, m, g), default every size ' +
  'of the architecture; larger mappings are held split into the largest listed size, smaller ones are ' +
  'not cached there. Every replacement is LRU. Example (the x86_64 default): ' +
  'l1i:128x8:4k|l1i-big:8:2m,l1d:64x4:4k|l1d-big:32x4:2m,l2:1536x12:4k+2m; ' +
  'unified:N is a single fully associative TLB of N entries holding every page size.';

type SpecError = Result<never, 'INVALID_TLB_SPEC'>;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const GEOMETRY_RE = /^(\d+)(?:x(\d+))?$/i;
const SIZE_RE = /^(\d+)([kmgt]?)b?$/i;
const UNIT_LOG2: Record<string, number> = { '': 0, k: 10, m: 20, g: 30, t: 40 };

/** The kind a level name implies: `l1i`/`itlb` instruction, `l1d`/`dtlb` data, otherwise unified. */
export function kindOfTlbName(name: string): TlbLevelSpec['kind'] {
  const n = name.toLowerCase();
  if (n.startsWith('l1i') || n.startsWith('itlb')) return 'instruction';
  if (n.startsWith('l1d') || n.startsWith('dtlb')) return 'data';
  return 'unified';
}

const sizesText = (sizes: readonly number[]): string =>
  sizes.map((s) => sizeName(2 ** s).toLowerCase()).join('+');

/**
 * Parses a `--tlb` spec (grammar in {@link TLB_SPEC_HELP}) for an architecture whose page sizes are
 * `archSizesLog2`. Sizes come back ascending; every error is `INVALID_TLB_SPEC` naming the bad part.
 */
export function parseTlbSpec(
  spec: string,
  archSizesLog2: readonly number[],
): Result<TlbLevelSpec[], 'INVALID_TLB_SPEC'> {
  const fail = (what: string, expected: string): SpecError =>
    err('INVALID_TLB_SPEC', `invalid TLB spec '${spec}': ${what}; expected ${expected}`);
  if (spec.trim() === '') return fail('it is empty', 'NAME:ENTRIES[xWAYS][:SIZES][,...] or unified:N');
  const levels: TlbLevelSpec[] = [];
  const items = spec
    .split(',')
    .flatMap((stage) => stage.split('|').map((raw, j) => ({ raw, parallel: j > 0 })));
  for (const { raw, parallel } of items) {
    const item = raw.trim();
    if (item === '') return fail('a level is empty', 'levels separated by single commas or |');
    const parts = item.split(':').map((p) => p.trim());
    if (parts.length < 2 || parts.length > 3) {
      return fail(`level '${item}' has ${parts.length} ':'-separated parts`, 'NAME:ENTRIES[xWAYS][:SIZES]');
    }
    const [name, geometry, sizeList] = parts as [string, string, string | undefined];
    if (!NAME_RE.test(name)) {
      return fail(`level name '${name}' is not a name`, 'a letter followed by letters, digits, _, . or -');
    }
    if (levels.some((l) => l.name.toLowerCase() === name.toLowerCase())) {
      return fail(`level name '${name}' is used twice`, 'distinct level names');
    }
    const g = GEOMETRY_RE.exec(geometry);
    if (!g)
      return fail(`level '${name}' has geometry '${geometry}'`, 'ENTRIES or ENTRIESxWAYS, e.g. 64 or 64x4');
    const entries = Number(g[1]);
    const ways = g[2] === undefined ? entries : Number(g[2]);
    if (entries < 1 || entries > MAX_TLB_ENTRIES) {
      return fail(`level '${name}' has ${entries} entries`, `a positive integer up to ${MAX_TLB_ENTRIES}`);
    }
    if (ways < 1) return fail(`level '${name}' has ${ways} ways`, 'a positive integer');
    if (entries % ways !== 0) {
      return fail(`level '${name}' has ${entries} entries in ${ways} ways`, 'ENTRIES a multiple of WAYS');
    }
    let sizes: number[];
    if (sizeList === undefined) {
      sizes = [...archSizesLog2];
    } else {
      sizes = [];
      for (const tok of sizeList.split('+')) {
        const m = SIZE_RE.exec(tok.trim());
        const bytes = m ? Number(m[1]) * 2 ** UNIT_LOG2[m[2]!.toLowerCase()]! : Number.NaN;
        const log2 = Math.log2(bytes);
        if (!Number.isInteger(log2)) {
          return fail(`level '${name}' has page size '${tok}'`, 'a power of two such as 4k, 64k, 2m or 1g');
        }
        if (!archSizesLog2.includes(log2)) {
          return fail(
            `level '${name}' has page size ${tok}, which the architecture does not support`,
            `sizes among ${sizesText(archSizesLog2)}`,
          );
        }
        if (sizes.includes(log2))
          return fail(`level '${name}' lists page size ${tok} twice`, 'distinct sizes');
        sizes.push(log2);
      }
    }
    sizes.sort((a, b) => a - b);
    const level: TlbLevelSpec = { name, kind: kindOfTlbName(name), entries, ways, pageSizesLog2: sizes };
    levels.push(parallel ? { ...level, parallel } : level);
  }
  for (const [kind, what] of [
    ['data', 'data accesses'],
    ['instruction', 'instruction fetches'],
  ] as const) {
    if (!levels.some((l) => l.kind === kind || l.kind === 'unified')) {
      return fail(
        `no level serves ${what}`,
        `a ${kind === 'data' ? 'l1d/dtlb' : 'l1i/itlb'} or unified level`,
      );
    }
  }
  return ok(levels);
}

/**
 * Formats levels in the `--tlb` grammar (`|` before a level parallel to the one before it). Ways equal to entries are omitted (fully associative), and so
 * are sizes equal to `archSizesLog2` when given. A name whose prefix does not imply the level's kind
 * gets an `itlb-`, `dtlb-` or `u-` prefix so that the result parses back to the same kinds.
 */
export function formatTlbSpec(levels: readonly TlbLevelSpec[], archSizesLog2?: readonly number[]): string {
  return levels
    .map((l, i) => {
      const prefix = { instruction: 'itlb-', data: 'dtlb-', unified: 'u-' }[l.kind];
      const name = kindOfTlbName(l.name) === l.kind ? l.name : `${prefix}${l.name}`;
      const geometry = l.ways === l.entries ? `${l.entries}` : `${l.entries}x${l.ways}`;
      const sizes = [...l.pageSizesLog2].sort((a, b) => a - b);
      const all =
        archSizesLog2 !== undefined &&
        sizes.length === archSizesLog2.length &&
        sizes.every((s, i) => s === [...archSizesLog2].sort((a, b) => a - b)[i]);
      const text = all ? `${name}:${geometry}` : `${name}:${geometry}:${sizesText(sizes)}`;
      return i === 0 ? text : `${l.parallel === true ? '|' : ','}${text}`;
    })
    .join('');
}
