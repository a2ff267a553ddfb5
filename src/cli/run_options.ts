/**
 * Turns the flags shared by replay, compare, capture, scale, irq and run into validated values,
 * so every command rejects the same mistakes with the same messages: an empty value is an error,
 * never the default; numbers state their range.
 */
import { type Misbehaviour, parseMisbehaviour } from '../components/misbehaviour.js';
import { ARCH_NAMES, type ArchName, arch as archOf } from '../hw/arch.js';
import { parseTlbSpec } from '../hw/tlb_spec.js';
import { type CostModel, DEFAULT_COSTS, overrideCosts, parseCostAssignments } from '../sim/cost.js';
import { type DesignOptions, designOptions, parseOverrides } from '../sim/designs.js';
import type { TracedSystemOptions } from '../sim/replay.js';
import { checkPaging } from '../sim/swap_options.js';
import { parseChoice, parseIntIn, parsePositiveInt, parseSize, UserError } from './io.js';
import { type PagingFlags, pagingOptions } from './paging_options.js';

/** Most simulated CPUs any command accepts. */
export const MAX_CPUS = 256;

/** Largest `--cost` value: 10^9 cycles, a third of a second at the nominal 3 GHz. */
export const MAX_COST_CYCLES = 1_000_000_000;

/** Raw flags as commander hands them over. */
export interface RunFlags extends PagingFlags {
  arch?: string;
  cpus?: string;
  tlb?: string;
  cost?: string[];
  set?: string[];
  chunk?: string;
  seed?: string;
  /** How the traced program's memory manager misbehaves (replay and compare). */
  misbehave?: string;
}

/** Validated options for one design. */
export interface RunOptions {
  readonly design: string;
  readonly options: DesignOptions;
  readonly system: TracedSystemOptions;
  readonly seed: number;
}

/** `--arch`: one of the architecture profiles. */
export function parseArch(text: string): ArchName {
  return parseChoice(text, '--arch', ARCH_NAMES);
}

/** `--seed`: a non-negative integer. */
export function parseSeed(text: string): number {
  return parseIntIn(text, '--seed', 0, Number.MAX_SAFE_INTEGER);
}

/** `--cpus` as one count. */
export function parseCpus(text: string): number {
  return parsePositiveInt(text, '--cpus', MAX_CPUS);
}

/** `--chunk`: a power of two of at least one page (`page` bytes). */
export function parseChunk(text: string, page: number): number {
  const chunk = parseSize(text, '--chunk');
  if (chunk < page || !Number.isInteger(Math.log2(chunk))) {
    throw new UserError(`--chunk: '${text}' is not a power of two of at least one page (${page} bytes)`);
  }
  return chunk;
}

/**
 * `--cost key=cycles` (repeatable): a known cost key (the cost model's check and wording) and a
 * whole number of cycles from 0 to {@link MAX_COST_CYCLES}.
 */
export function parseCostFlags(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = item.slice(0, Math.max(eq, 0)).trim();
    const shape = parseCostAssignments([eq > 0 ? `${key}=0` : item]);
    if (!shape.ok) throw new UserError(`--cost: ${shape.message}`);
    out[key] = parseIntIn(item.slice(eq + 1).trim(), `--cost ${key}`, 0, MAX_COST_CYCLES, 'cycles');
  }
  return out;
}

/** `--cost` applied over the default costs. */
export function costsOf(items: readonly string[]): CostModel {
  const c = overrideCosts(DEFAULT_COSTS, parseCostFlags(items));
  if (!c.ok) throw new UserError(`--cost: ${c.message}`);
  return c.value;
}

/** Builds options for each named design (the same machine for all of them). */
export function runOptions(designs: readonly string[], flags: RunFlags): RunOptions[] {
  const archName = parseArch(flags.arch ?? 'x86_64');
  const arch = archOf(archName);
  const cpus = flags.cpus !== undefined ? parseCpus(flags.cpus) : 1;
  let tlb = arch.tlb;
  if (flags.tlb !== undefined) {
    const t = parseTlbSpec(flags.tlb, arch.pageSizesLog2);
    if (!t.ok) throw new UserError(`--tlb: ${t.message}`);
    tlb = t.value;
  }
  const costs = costsOf(flags.cost ?? []);
  const overrides = parseOverrides(flags.set ?? []);
  if (!overrides.ok) throw new UserError(`--set: ${overrides.message}`);
  const chunk = flags.chunk !== undefined ? parseChunk(flags.chunk, 2 ** arch.pageSizesLog2[0]!) : 2 ** 21;
  const seed = flags.seed !== undefined ? parseSeed(flags.seed) : 1;
  const paging = pagingOptions(flags);
  let misbehave: Misbehaviour | undefined;
  if (flags.misbehave !== undefined) {
    const m = parseMisbehaviour(flags.misbehave);
    if (!m.ok) throw new UserError(`--misbehave: ${m.message}`);
    misbehave = m.value;
  }
  return designs.map((design) => {
    // The design's name first, then the overrides on it, each error under its own flag.
    const named = designOptions(design);
    if (!named.ok) throw new UserError(`--design: ${named.message}`);
    const d = designOptions(design, overrides.value);
    if (!d.ok) throw new UserError(`--set: ${d.message}`);
    if (paging) {
      const c = checkPaging(archName, d.value.swap, chunk, paging, d.value.faultHandling);
      if (!c.ok) {
        const flag = c.message.startsWith('mmap') ? '--mmap' : paging.providers ? '--swap' : '--ram';
        throw new UserError(`${flag}: ${design}: ${c.message}`);
      }
      if (misbehave && d.value.swap === 'manager')
        throw new UserError(
          `--misbehave: ${design}: the swapping dataspace manager (--ram, --mmap) does not misbehave`,
        );
    }
    return {
      design,
      options: d.value,
      seed,
      system: {
        arch: archName,
        cpus,
        tlb,
        costs,
        design: d.value,
        chunk,
        ...(paging ? { paging } : {}),
        ...(misbehave ? { misbehave } : {}),
      },
    };
  });
}
