/**
 * faultline's version, read once from package.json (two directories up from both src/cli and
 * dist/cli), and the configuration block of the sweeps' JSON.
 */
import { readFileSync } from 'node:fs';
import { arch as archOf } from '../hw/arch.js';
import { formatTlbSpec } from '../hw/tlb_spec.js';
import { type CostModel, DEFAULT_COSTS } from '../sim/cost.js';
import { type DesignOptions, designOptions } from '../sim/designs.js';

let cached: string | undefined;

/** The `version` field of faultline's package.json ("unknown" if it cannot be read). */
export function faultlineVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}

/** The configuration block of a sweep's JSON (`scale`, `irq`): version, machine, costs, the sweep. */
export interface SweepConfig {
  readonly faultline: string;
  readonly arch: string;
  /** TLB geometry per CPU in `--tlb` syntax. */
  readonly tlb: string;
  readonly costs: CostModel;
  /** Options of each design swept (machine designs only). */
  readonly designs: Readonly<Record<string, DesignOptions>>;
  /** The sweep's own parameters, as validated from the flags. */
  readonly sweep: Readonly<Record<string, unknown>>;
}

/** The configuration of a sweep on the default machine (x86_64, default TLBs and costs). */
export function sweepConfig(sweep: object, designs: readonly string[] = []): SweepConfig {
  const a = archOf('x86_64');
  const options: Record<string, DesignOptions> = {};
  for (const d of designs) {
    const o = designOptions(d);
    if (o.ok) options[d] = o.value;
  }
  return {
    faultline: faultlineVersion(),
    arch: a.name,
    tlb: formatTlbSpec(a.tlb, a.pageSizesLog2),
    costs: DEFAULT_COSTS,
    designs: options,
    sweep: { ...sweep },
  };
}
