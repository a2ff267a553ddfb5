/**
 * Turns the flags shared by replay, compare and scale into validated machine options, so every
 * command rejects the same mistakes with the same messages.
 */
import { ARCH_NAMES, type ArchName, arch as archOf } from '../hw/arch.js';
import { parseTlbSpec } from '../hw/tlb_spec.js';
import { type CostModel, DEFAULT_COSTS, overrideCosts, parseCostAssignments } from '../sim/cost.js';
import { type DesignOptions, designOptions, parseOverrides } from '../sim/designs.js';
import type { TracedSystemOptions } from '../sim/replay.js';
import { parsePositiveInt, parseSize, UserError } from './io.js';

/** Raw flags as commander hands them over. */
export interface RunFlags {
  arch?: string;
  cpus?: string;
  tlb?: string;
  cost?: string[];
  set?: string[];
  chunk?: string;
  seed?: string;
}

/** Validated options for one design. */
export interface RunOptions {
  readonly design: string;
  readonly options: DesignOptions;
  readonly system: TracedSystemOptions;
  readonly seed: number;
}

/** Builds options for each named design (the same machine for all of them). */
export function runOptions(designs: readonly string[], flags: RunFlags): RunOptions[] {
  const archName = flags.arch ?? 'x86_64';
  if (!(ARCH_NAMES as readonly string[]).includes(archName)) {
    throw new UserError(
      `--arch: unknown architecture '${archName}'; expected one of ${ARCH_NAMES.join(', ')}`,
    );
  }
  const arch = archOf(archName as ArchName);
  const cpus = flags.cpus ? parsePositiveInt(flags.cpus, '--cpus', 64) : 1;
  let tlb = arch.tlb;
  if (flags.tlb) {
    const t = parseTlbSpec(flags.tlb, arch.pageSizesLog2);
    if (!t.ok) throw new UserError(`--tlb: ${t.message}`);
    tlb = t.value;
  }
  let costs: CostModel = DEFAULT_COSTS;
  if (flags.cost?.length) {
    const parsed = parseCostAssignments(flags.cost);
    if (!parsed.ok) throw new UserError(`--cost: ${parsed.message}`);
    const c = overrideCosts(DEFAULT_COSTS, parsed.value);
    if (!c.ok) throw new UserError(`--cost: ${c.message}`);
    costs = c.value;
  }
  const overrides = parseOverrides(flags.set ?? []);
  if (!overrides.ok) throw new UserError(`--set: ${overrides.message}`);
  const chunk = flags.chunk ? parseSize(flags.chunk, '--chunk') : 2 ** 21;
  if (chunk < 2 ** arch.pageSizesLog2[0]! || ((chunk & (chunk - 1)) !== 0 && chunk < 2 ** 31)) {
    throw new UserError(`--chunk: ${flags.chunk} must be a power of two of at least one page`);
  }
  const seed = flags.seed ? parsePositiveInt(flags.seed, '--seed') : 1;
  return designs.map((design) => {
    const d = designOptions(design, overrides.value);
    if (!d.ok) throw new UserError(`--design: ${d.message}`);
    return {
      design,
      options: d.value,
      seed,
      system: { arch: archName as ArchName, cpus, tlb, costs, design: d.value, chunk },
    };
  });
}
