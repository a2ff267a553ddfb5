/**
 * The effective configuration of a run, as every output states it (like gem5's config dump):
 * what was simulated, with every default filled in and every override applied, so that a result
 * file alone says how to reproduce it.
 */
import type { ArchName, TlbLevelSpec } from '../hw/arch.js';
import { arch as archOf } from '../hw/arch.js';
import { formatTlbSpec } from '../hw/tlb_spec.js';
import { hex, sizeName } from '../util/hex.js';
import { type CostModel, DEFAULT_COSTS } from './cost.js';
import { type DesignOptions, designOptions } from './designs.js';
import { DEFAULT_SWAP, type PagingOptions } from './swap_options.js';

/** The input file of a run. */
export interface TraceInfo {
  readonly file: string;
  readonly format: string;
  readonly gzip: boolean;
  /** Records read from the file (skipped, warm-up and measured ones, and any not replayed). */
  readonly records: number;
}

/** Which records of the trace count (docs/OUTPUT.md, "Warm-up, region of interest, intervals"). */
export interface WindowConfig {
  /** Records not simulated at all. */
  readonly skip: number;
  /** Records simulated before every statistic is reset. */
  readonly warmup: number;
  /** Measured records at most, or null (to the end of the trace). */
  readonly limit: number | null;
  /** Records per interval, or null (no intervals). */
  readonly interval: number | null;
}

/** One TLB level's geometry. */
export interface TlbLevelConfig {
  readonly name: string;
  readonly kind: TlbLevelSpec['kind'];
  readonly entries: number;
  readonly ways: number;
  /** Page sizes the level holds, ascending (`"4K"`, `"2M"`). */
  readonly pageSizes: readonly string[];
  /** Looked up in parallel with the level before it (one stage). */
  readonly parallel: boolean;
}

/** The effective configuration of one run (one design). */
export interface RunConfig {
  /** faultline's version. */
  readonly faultline: string;
  readonly design: {
    readonly name: string;
    readonly options: DesignOptions;
    /** Options that differ from the named design's (`--set`). */
    readonly overrides: Partial<DesignOptions>;
  };
  readonly arch: string;
  readonly cpus: number;
  readonly tlb: {
    /** The geometry in `--tlb` syntax. */
    readonly spec: string;
    readonly levels: readonly TlbLevelConfig[];
  };
  /** Every cost of the cost model in cycles, after `--cost` overrides (docs/COST_MODEL.md). */
  readonly costs: CostModel;
  /** Costs that differ from the defaults (`--cost`). */
  readonly costOverrides: Partial<CostModel>;
  /** RAM the on-demand handler attaches per touched chunk (`"2M"`). */
  readonly chunk: string;
  readonly seed: number;
  readonly window: WindowConfig;
  /** Length of the top lists (0: no attribution). */
  readonly top: number;
  readonly trace: TraceInfo;
  /** The RAM limit and swap (`--ram`, issue 16); absent without a limit. */
  readonly paging?: PagingConfig;
  /** How the program's memory manager misbehaved (`--misbehave`); absent when it behaved. */
  readonly misbehave?: string;
}

/** The paging part of a configuration. */
export interface PagingConfig {
  /** The limit, e.g. `"512K"`. */
  readonly ram: string;
  readonly replacement: string;
  readonly policy: string;
  /** Providers as `name device size [prio n]`. */
  readonly swap: readonly string[];
  /** Memory-mapped file ranges as `START+SIZE rw|ro` (`--mmap`). */
  readonly mmap: readonly string[];
}

/** What {@link runConfig} is built from. */
export interface RunConfigInput {
  readonly version: string;
  readonly design: string;
  readonly options: DesignOptions;
  readonly arch: ArchName;
  readonly cpus: number;
  readonly tlb: readonly TlbLevelSpec[];
  readonly costs: CostModel;
  readonly chunk: number;
  readonly seed: number;
  readonly window: WindowConfig;
  readonly top: number;
  readonly trace: TraceInfo;
  readonly paging?: PagingOptions;
  readonly misbehave?: string;
}

function differing<T extends object>(actual: T, base: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(actual) as (keyof T)[]) if (actual[k] !== base[k]) out[k] = actual[k];
  return out;
}

/** The effective configuration, overrides found by comparing with the defaults. */
export function runConfig(c: RunConfigInput): RunConfig {
  const named = designOptions(c.design);
  const sizes = archOf(c.arch).pageSizesLog2;
  return {
    faultline: c.version,
    design: {
      name: c.design,
      options: { ...c.options },
      overrides: named.ok ? differing(c.options, named.value) : {},
    },
    arch: c.arch,
    cpus: c.cpus,
    tlb: {
      spec: formatTlbSpec(c.tlb, sizes),
      levels: c.tlb.map((l) => ({
        name: l.name,
        kind: l.kind,
        entries: l.entries,
        ways: l.ways,
        pageSizes: [...l.pageSizesLog2].sort((a, b) => a - b).map((s) => sizeName(2 ** s)),
        parallel: l.parallel === true,
      })),
    },
    costs: { ...c.costs },
    costOverrides: differing(c.costs, DEFAULT_COSTS),
    chunk: sizeName(c.chunk),
    seed: c.seed,
    window: { ...c.window },
    top: c.top,
    trace: { file: c.trace.file, format: c.trace.format, gzip: c.trace.gzip, records: c.trace.records },
    ...(c.paging && (c.paging.ram !== null || (c.paging.mmaps?.length ?? 0) > 0)
      ? { paging: pagingConfig(c.paging) }
      : {}),
    ...(c.misbehave !== undefined ? { misbehave: c.misbehave } : {}),
  };
}

/** The paging options as a configuration states them. */
function pagingConfig(p: PagingOptions): PagingConfig {
  const providers = p.providers ?? (p.ram === null ? [] : [DEFAULT_SWAP]);
  return {
    ram: p.ram === null ? 'none' : sizeName(p.ram),
    replacement: p.replacement ?? 'clock',
    policy: p.policy ?? 'priority',
    swap: providers.map(
      (x, i) =>
        `${x.name ?? `swap${i}`} ${x.device} ${sizeName(x.blocks * 4096)}${x.priority === undefined ? '' : ` prio ${x.priority}`}`,
    ),
    mmap: (p.mmaps ?? []).map((m) => `${hex(m.start)}+${sizeName(m.size)} ${m.writable ? 'rw' : 'ro'}`),
  };
}

/** The paging line: `512K, clock, swap0 nvme 1G`. */
export function pagingText(p: PagingConfig): string {
  const swap =
    p.swap.length === 0
      ? 'no swap'
      : `swap ${p.swap.join(' + ')}${p.swap.length > 1 ? ` (${p.policy})` : ''}`;
  const files = p.mmap.length === 0 ? '' : `, files mapped at ${p.mmap.join(', ')}`;
  return `RAM ${p.ram}, replacement ${p.replacement}, ${swap}${files}`;
}

/** The design and its overrides: `genode (pagers=single)`. */
export function designText(c: RunConfig): string {
  const o = Object.entries(c.design.overrides).map(([k, v]) => `${k}=${v}`);
  return `${c.design.name}${o.length > 0 ? ` (${o.join(' ')})` : ''}`;
}

/** The machine without the design: `x86_64, 2 CPUs, TLB l1i:128x8:4k|…`. */
export function hardwareText(c: RunConfig): string {
  return `${c.arch}, ${c.cpus} CPU${c.cpus === 1 ? '' : 's'}, TLB ${c.tlb.spec}`;
}

/** One line describing the machine: `x86_64, 2 CPUs, TLB l1i:128x8:4k|…, design genode (pagers=single)`. */
export function machineLine(c: RunConfig): string {
  const costs = Object.entries(c.costOverrides).map(([k, v]) => `${k}=${v}`);
  return [
    hardwareText(c),
    `design ${designText(c)}`,
    ...(costs.length > 0 ? [`costs ${costs.join(' ')}`] : []),
  ].join(', ');
}
