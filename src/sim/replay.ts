/**
 * The traced program's system (DESIGN.md §3): the program's memory is one managed dataspace
 * covering its address space, paged on demand by a user-level handler that backs each touched
 * chunk with a RAM dataspace. `summarize` turns a finished run into the versioned result that
 * `faultline replay --json` prints (documented in docs/OUTPUT.md).
 */
import type { Misbehaviour } from '../components/misbehaviour.js';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { SwapManager } from '../components/swap_manager.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import type { TlbLevelSpec } from '../hw/arch.js';
import { sizeName } from '../util/hex.js';
import { unwrap } from '../util/result.js';
import { Attribution, type TopLists } from './attribution.js';
import { Machine, type MachineConfig } from './machine.js';
import { type ReplayStop, threadStop } from './replay_stop.js';
import type { RunConfig } from './run_config.js';
import { bySizeName, diffStats, type LevelCounts, markStats, type StatsMark, zeroMark } from './run_stats.js';
import type { AccessSource, SimThread } from './sim_thread.js';
import { latencyOf } from './swap_figures.js';
import { mmap } from './swap_files.js';
import type { LatencyResult, PagingOptions, SwapResult } from './swap_options.js';
import { SwapSystem } from './swap_system.js';
import type { TrustEdge } from './trust.js';

/** Options of the traced system. */
export interface TracedSystemOptions extends MachineConfig {
  /** Bytes of RAM the handler attaches per touched chunk (default 2 MiB). */
  readonly chunk?: number;
  /** CPU of the handler thread (default: the last CPU). */
  readonly handlerCpu?: number;
  /** Attribute TLB misses and faults to pages and instructions (slow path only; default off). */
  readonly attribution?: boolean;
  /** Issue 16: a RAM limit for the program's memory, replacement and swap (`sim/swap_system.ts`). */
  readonly paging?: PagingOptions;
  /** How the program's memory manager misbehaves, if it does (`--misbehave`). */
  readonly misbehave?: Misbehaviour;
}

/** A built traced system. */
export interface TracedSystem {
  readonly machine: Machine;
  readonly app: PdSession;
  readonly manager: PdSession;
  /** The managed dataspace holding the traced program's memory. */
  readonly memory: RegionMap;
  readonly handler: OnDemandHandler | SwapManager;
  readonly threads: SimThread[];
  /** The paged memory, when the program has a RAM limit or the kernel pages it (issue 16). */
  readonly swap: SwapSystem | null;
}

/**
 * Builds the system and adds one traced thread per source (thread i on CPU i mod cpus).
 * The managed dataspace spans the user address space with identity coordinates, so that
 * virtual and physical alignment can agree and superpages remain possible.
 */
export function buildTracedSystem(
  sources: readonly AccessSource[],
  opts: TracedSystemOptions = {},
): TracedSystem {
  const machine = new Machine(opts);
  const core = machine.core;
  const page = core.pageSize;
  const app = unwrap(core.createPd('init -> traced', { ram: 2 ** 30, caps: 10_000 }));
  const manager = unwrap(core.createPd('init -> memory manager', { ram: 2 ** 52, caps: 1e9 }));
  const span = app.addressSpace.size;
  const memory = unwrap(core.createRegionMap(manager, span));
  unwrap(
    app.addressSpace.attach(memory.dataspace, { at: page, offset: page, writeable: true, executable: true }),
  );
  const ctx = unwrap(core.createSignalContext(manager, 'memory fault handler'));
  unwrap(core.setFaultHandler(memory, ctx));
  const chunk = opts.chunk ?? 2 ** 21;
  const handlerCpu = opts.handlerCpu ?? machine.cpus.length - 1;
  // faults-itself: the manager uses the memory it manages at the same addresses as the program.
  const selfAttach =
    opts.misbehave?.kind === 'faults-itself'
      ? unwrap(manager.addressSpace.attach(memory.dataspace, { at: page, offset: page, writeable: true }))
          .base - page
      : undefined;
  // A RAM limit, or the kernel as the pager, brings in the paged memory.
  const paging = opts.paging ?? { ram: null };
  const swap =
    paging.ram !== null || machine.design.swap === 'kernel' || (paging.mmaps?.length ?? 0) > 0
      ? unwrap(SwapSystem.create({ machine, app, manager, memory, chunk }, paging))
      : null;
  if (swap?.pager === 'kernel') swap.startKernel();
  for (const [i, r] of (paging.mmaps ?? []).entries()) {
    const file = unwrap(swap!.files.create(`/mmap${i}`, r.size));
    unwrap(mmap(swap!, { ...r, file, offset: 0 }));
  }
  let handler: OnDemandHandler | SwapManager;
  if (swap?.pager === 'manager') {
    const m = new SwapManager(core, manager, memory, swap.managerEnv(handlerCpu), { chunk, cpu: handlerCpu });
    swap.framePhys = (f) => m.framePhys(f);
    handler = m;
  } else
    handler = new OnDemandHandler(core, manager, memory, {
      chunk,
      cpu: handlerCpu,
      misbehave: opts.misbehave,
      selfAttach,
    });
  machine.addHandler(manager, 'handler', handlerCpu, handler, ctx);
  const threads = sources.map((src, i) =>
    machine.addThread(app, sources.length === 1 ? 'main' : `thread ${i}`, i % machine.cpus.length, src),
  );
  if (opts.attribution) for (const t of threads) t.attribution = new Attribution(page);
  return { machine, app, manager, memory, handler, threads, swap };
}

/** The statistics of a traced system now (see run_stats.ts). */
export function markSystem(sys: TracedSystem): StatsMark {
  return markStats(sys.machine, sys.threads, sys.handler.chunks);
}

/**
 * Resets every statistic of the system (the end of a warm-up): figures summarized later count
 * from here. Histograms, distinct pages and attributions start afresh; counters are subtracted
 * (pass the returned mark to {@link summarize}). The machine's state (TLBs, mappings) stays.
 */
export function resetStatistics(sys: TracedSystem): StatsMark {
  sys.machine.faultLatency.reset();
  sys.swap?.reset();
  for (const t of sys.threads) {
    t.resetPages();
    t.attribution?.clear();
  }
  return markSystem(sys);
}

/** Version of the result object; bump on incompatible changes (docs/OUTPUT.md). */
export const RESULT_SCHEMA_VERSION = 1;

/**
 * One TLB level's figures, summed over the CPUs (docs/OUTPUT.md). A level of a parallel stage
 * counts the hits it served and every miss of its stage.
 */
export interface TlbLevelResult {
  /** As in `--tlb` (or the architecture's default geometry). */
  readonly name: string;
  readonly kind: TlbLevelSpec['kind'];
  readonly hits: number;
  readonly misses: number;
  /** Hits by the size of the entry that hit (`"4K"`, `"2M"`), every size the level holds. */
  readonly hitsBySize: Readonly<Record<string, number>>;
  /** Misses by the size of the translation that resolved them: a later level's entry or the walk's mapping. */
  readonly missesBySize: Readonly<Record<string, number>>;
  /** Misses whose walk found no usable mapping (a page fault followed). */
  readonly missesUnresolved: number;
  readonly evictions: number;
  readonly invalidations: number;
}

/**
 * One lookup stage's figures: its levels (one, or several joined by `|` in `--tlb`) as one TLB,
 * e.g. `L1d|L1d-big`: a lookup hits if any level holds the translation.
 */
export interface TlbStageResult {
  /** The level names joined by `|`. */
  readonly name: string;
  readonly levels: readonly string[];
  readonly kind: TlbLevelSpec['kind'];
  /** Lookups that reached the stage: hits plus misses. */
  readonly lookups: number;
  readonly hits: number;
  readonly misses: number;
  readonly hitsBySize: Readonly<Record<string, number>>;
  readonly missesBySize: Readonly<Record<string, number>>;
  readonly missesUnresolved: number;
}

/** Figures of one interval of `--interval N` records. */
export interface IntervalResult {
  /** Measured records before the interval (0 for the first) and in it. */
  readonly start: number;
  readonly records: number;
  readonly translations: number;
  readonly tlb: { readonly hits: number; readonly misses: number; readonly hitRate: number };
  readonly walks: number;
  readonly faults: { readonly resolved: number; readonly reflected: number; readonly errors: number };
  /** Modelled time the interval took, and when it ended (since the measurement began). */
  readonly cycles: number;
  readonly endCycle: number;
  readonly shootdowns: number;
}

/** The result of a run, as `--json` prints it. */
export interface RunResult {
  readonly schemaVersion: number;
  readonly design: string;
  readonly arch: string;
  readonly cpus: number;
  readonly records: number;
  readonly translations: number;
  readonly tlb: {
    readonly hits: number;
    readonly misses: number;
    readonly hitRate: number;
    /** Per lookup stage, in lookup order. */
    readonly stages: readonly TlbStageResult[];
    /** Per level, in lookup order (`--tlb`). */
    readonly levels: readonly TlbLevelResult[];
  };
  readonly walks: number;
  readonly faults: {
    readonly resolved: number;
    readonly reflected: number;
    readonly errors: number;
    /** Faults given up: a synchronous design's call to their manager timed out or failed. */
    readonly lost: number;
    readonly latency: {
      readonly p50: number;
      readonly p99: number;
      readonly max: number;
      readonly count: number;
    };
    /**
     * With paged memory (issue 16): faults that waited for disk I/O (swap-in, file read) and
     * faults served without it (zero-fill), and their latencies.
     */
    readonly major?: number;
    readonly minor?: number;
    readonly latencyByKind?: { readonly major: LatencyResult; readonly minor: LatencyResult };
  };
  /** The paged memory's figures (issue 16; present with a RAM limit or when the kernel pages). */
  readonly swap?: SwapResult;
  /** Mappings installed and still present at the end, per size name. */
  readonly mappings: Readonly<Record<string, number>>;
  readonly pages: { readonly touched: number };
  readonly cycles: number;
  readonly cyclesBy: {
    readonly user: number;
    readonly kernel: number;
    readonly pager: number;
    readonly handler: number;
  };
  readonly shootdowns: number;
  readonly crossCpu: { readonly messages: number };
  readonly lock: { readonly waitCycles: number; readonly contended: number };
  /** Allocations served from another CPU's partition (partitioned memory ran dry). */
  readonly steals: number;
  /** Mappings installed at attach time (design option eagerMapping). */
  readonly eagerMappings: number;
  readonly signals: number;
  readonly chunks: number;
  readonly errors: readonly string[];
  /** Top pages and instructions by TLB misses and by faults (when attribution is on). */
  readonly top?: TopLists;
  /** Figures every `--interval` records, in order. */
  readonly intervals?: readonly IntervalResult[];
  /** The effective configuration (the command line adds it). */
  readonly config?: RunConfig;
  /** Why the run stopped before the end of its trace (a traced thread died), or null. */
  readonly stopped: ReplayStop | null;
  /**
   * The communication rights the run used (who called, signalled, mapped into or sent page faults
   * to whom), read off the machine's capability checks; the whole run, warm-up included.
   */
  readonly trust: readonly TrustEdge[];
}

/** How to summarize. */
export interface SummaryOptions {
  /** Count from this mark (the end of a warm-up, {@link resetStatistics}); default from the start. */
  readonly from?: StatsMark;
  /** Length of the top lists (when the system attributes; default 10). */
  readonly top?: number;
}

const rate = (hits: number, misses: number) =>
  hits + misses === 0 ? 0 : Number((hits / (hits + misses)).toFixed(6));

/** The figures of one interval: `d` is the difference of the marks at its ends. */
export function intervalResult(d: StatsMark, start: number, endCycle: number): IntervalResult {
  return {
    start,
    records: d.records,
    translations: d.translations,
    tlb: { hits: d.tlbHits, misses: d.tlbMisses, hitRate: rate(d.tlbHits, d.tlbMisses) },
    walks: d.walks,
    faults: { resolved: d.faultsResolved, reflected: d.faultsReflected, errors: d.errors },
    cycles: d.elapsed,
    endCycle,
    shootdowns: d.shootdowns,
  };
}

/**
 * Levels grouped into the stages of the full list (a level marked parallel joins the one before).
 * A stage's hits are its levels' hits; its misses, those of the level that missed most (every
 * level of a stage counts each of the stage's misses on its path).
 */
export function stageResults(
  specs: readonly TlbLevelSpec[],
  counts: readonly LevelCounts[],
): TlbStageResult[] {
  const groups: number[][] = [];
  specs.forEach((s, i) => {
    if (i > 0 && s.parallel === true) groups.at(-1)!.push(i);
    else groups.push([i]);
  });
  return groups.map((g) => {
    const hitsBySizeLog2: Record<number, number> = {};
    const missesBySizeLog2: Record<number, number> = {};
    let hits = 0;
    let misses = 0;
    for (const i of g) {
      const c = counts[i]!;
      hits += c.hits;
      misses = Math.max(misses, c.misses);
      for (const s of specs[i]!.pageSizesLog2)
        hitsBySizeLog2[s] = (hitsBySizeLog2[s] ?? 0) + (c.hitsBySizeLog2[s] ?? 0);
      for (const [s, n] of Object.entries(c.missesBySizeLog2))
        missesBySizeLog2[Number(s)] = Math.max(missesBySizeLog2[Number(s)] ?? 0, n);
    }
    const kinds = new Set(g.map((i) => specs[i]!.kind));
    const resolved = Object.values(missesBySizeLog2).reduce((a, n) => a + n, 0);
    return {
      name: g.map((i) => specs[i]!.name).join('|'),
      levels: g.map((i) => specs[i]!.name),
      kind: kinds.size === 1 ? specs[g[0]!]!.kind : 'unified',
      lookups: hits + misses,
      hits,
      misses,
      hitsBySize: bySizeName(hitsBySizeLog2, true),
      missesBySize: bySizeName(missesBySizeLog2),
      missesUnresolved: misses - resolved,
    };
  });
}

/** Summarizes a finished run. */
export function summarize(sys: TracedSystem, design: string, opts: SummaryOptions = {}): RunResult {
  const m = sys.machine;
  const from = opts.from ?? zeroMark(m.cpus[0]!.tlb.levels.length);
  const d = diffStats(markSystem(sys), from);
  const specs = m.cpus[0]!.tlb.levels;
  const levels = d.levels.map((l, i): TlbLevelResult => {
    const resolved = Object.values(l.missesBySizeLog2).reduce((a, n) => a + n, 0);
    const classes: Record<number, number> = {};
    for (const s of specs[i]!.pageSizesLog2) classes[s] = l.hitsBySizeLog2[s] ?? 0;
    return {
      name: specs[i]!.name,
      kind: specs[i]!.kind,
      hits: l.hits,
      misses: l.misses,
      hitsBySize: bySizeName(classes, true),
      missesBySize: bySizeName(l.missesBySizeLog2),
      missesUnresolved: l.misses - resolved,
      evictions: l.evictions,
      invalidations: l.invalidations,
    };
  });
  const mappings: Record<string, number> = {};
  for (const [size, n] of sys.app.pd.pageTable.countBySize()) mappings[sizeName(size)] = n;
  const lat = m.faultLatency;
  let top: TopLists | undefined;
  const attributed = sys.threads.filter((t) => t.attribution !== null);
  if (attributed.length > 0) {
    const all = new Attribution(sys.machine.core.pageSize);
    for (const t of attributed) all.merge(t.attribution!);
    top = all.top(opts.top ?? 10);
  }
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    design,
    arch: m.arch.name,
    cpus: m.cpus.length,
    records: d.records,
    translations: d.translations,
    tlb: {
      hits: d.tlbHits,
      misses: d.tlbMisses,
      hitRate: rate(d.tlbHits, d.tlbMisses),
      stages: stageResults(specs, d.levels),
      levels,
    },
    walks: d.walks,
    faults: {
      resolved: d.faultsResolved,
      reflected: d.faultsReflected,
      errors: d.errors,
      lost: d.faultsLost,
      latency: {
        p50: lat.count ? lat.percentile(0.5) : 0,
        p99: lat.count ? lat.percentile(0.99) : 0,
        max: lat.count ? lat.max : 0,
        count: lat.count,
      },
      ...(sys.swap
        ? {
            major: sys.swap.counters.major,
            minor: sys.swap.counters.minor,
            latencyByKind: {
              major: latencyOf(sys.swap.latency.major),
              minor: latencyOf(sys.swap.latency.minor),
            },
          }
        : {}),
    },
    mappings,
    pages: { touched: sys.threads.reduce((a, t) => a + t.pages.size, 0) },
    cycles: d.elapsed,
    cyclesBy: { user: d.user, kernel: d.kernel, pager: d.pager, handler: d.handler },
    shootdowns: d.shootdowns,
    crossCpu: { messages: d.crossCpu },
    lock: { waitCycles: d.lockWait, contended: d.lockContended },
    steals: d.steals,
    eagerMappings: d.eagerMappings,
    signals: d.signals,
    chunks: d.chunks,
    errors: m.errors.slice(from.errorTexts, from.errorTexts + 20),
    ...(top ? { top } : {}),
    ...(sys.swap ? { swap: sys.swap.result() } : {}),
    stopped: threadStop(sys.threads, m.arch, sys.app.addressSpace.size, m.core.pageSize),
    trust: m.programs.trust.list(),
  };
}
