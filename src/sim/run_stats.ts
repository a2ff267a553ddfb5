/**
 * Statistics of a traced system at one moment, and what happened between two moments. A warm-up
 * ends with a mark that the summary subtracts (gem5's `resetstats`, ChampSim's warm-up); intervals
 * are the differences of consecutive marks. Counters are never zeroed in place: the hot loop's
 * fields stay as they are, and a mark costs a few hundred additions.
 */
import { sizeName } from '../util/hex.js';
import type { Machine } from './machine.js';
import type { SimThread } from './sim_thread.js';

/** Counters of one TLB level, summed over the CPUs. */
export interface LevelCounts {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
  /** By log2 of the hit entry's size. */
  readonly hitsBySizeLog2: Record<number, number>;
  /** By log2 of the size of the translation that resolved the miss. */
  readonly missesBySizeLog2: Record<number, number>;
}

/** Everything a summary or an interval subtracts. */
export interface StatsMark {
  readonly records: number;
  readonly translations: number;
  readonly tlbHits: number;
  readonly tlbMisses: number;
  readonly walks: number;
  readonly faultsResolved: number;
  readonly faultsReflected: number;
  readonly errors: number;
  /** Faults given up (a synchronous design's call to a manager failed). */
  readonly faultsLost: number;
  readonly shootdowns: number;
  readonly crossCpu: number;
  readonly signals: number;
  readonly eagerMappings: number;
  readonly lockWait: number;
  readonly lockContended: number;
  readonly steals: number;
  readonly user: number;
  readonly kernel: number;
  readonly pager: number;
  readonly handler: number;
  /** Simulated time: the latest point any CPU reached. */
  readonly elapsed: number;
  /** Error texts reported so far (the machine's list only grows). */
  readonly errorTexts: number;
  readonly chunks: number;
  /** Per TLB level (in --tlb order), summed over the CPUs. */
  readonly levels: readonly LevelCounts[];
}

function addTo(into: Record<number, number>, from: Readonly<Record<number, number>>, sign = 1): void {
  for (const [k, v] of Object.entries(from)) into[Number(k)] = (into[Number(k)] ?? 0) + sign * v;
}

function emptyLevel(): LevelCounts {
  return { hits: 0, misses: 0, evictions: 0, invalidations: 0, hitsBySizeLog2: {}, missesBySizeLog2: {} };
}

/** Per-level TLB counters of a machine, summed over its CPUs. */
export function levelCounts(m: Machine): LevelCounts[] {
  const out: LevelCounts[] = [];
  for (const cpu of m.cpus) {
    cpu.tlb.stats().forEach((s, i) => {
      const l = out[i] ?? emptyLevel();
      out[i] = l;
      l.hits += s.hits;
      l.misses += s.misses;
      l.evictions += s.evictions;
      l.invalidations += s.invalidations;
      addTo(l.hitsBySizeLog2, s.hitsBySizeLog2);
      addTo(l.missesBySizeLog2, s.missesBySizeLog2);
    });
  }
  return out;
}

/** The statistics of a system's machine and threads now; `chunks` is the handler's count. */
export function markStats(m: Machine, threads: readonly SimThread[], chunks: number): StatsMark {
  const sum = (f: (t: SimThread) => number) => threads.reduce((a, t) => a + f(t), 0);
  const cpuSum = (f: (c: Machine['cpus'][number]) => number) => m.cpus.reduce((a, c) => a + f(c), 0);
  const c = m.counters;
  return {
    records: sum((t) => t.records),
    translations: sum((t) => t.translations),
    tlbHits: sum((t) => t.tlbHits),
    tlbMisses: sum((t) => t.tlbMisses),
    walks: sum((t) => t.walks),
    faultsResolved: c.faultsResolved,
    faultsReflected: c.faultsReflected,
    errors: c.errors,
    faultsLost: c.faultsLost,
    shootdowns: c.shootdowns,
    crossCpu: c.crossCpu,
    signals: c.signals,
    eagerMappings: c.eagerMappings,
    lockWait: c.lockWait,
    lockContended: c.lockContended,
    steals: c.steals,
    user: cpuSum((x) => x.userCycles),
    kernel: cpuSum((x) => x.kernelCycles),
    pager: cpuSum((x) => x.pagerCycles),
    handler: cpuSum((x) => x.handlerCycles),
    elapsed: m.elapsed,
    errorTexts: m.errors.length,
    chunks,
    levels: levelCounts(m),
  };
}

/** A mark of nothing: subtracting it changes nothing. */
export function zeroMark(levels: number): StatsMark {
  return {
    records: 0,
    translations: 0,
    tlbHits: 0,
    tlbMisses: 0,
    walks: 0,
    faultsResolved: 0,
    faultsReflected: 0,
    errors: 0,
    faultsLost: 0,
    shootdowns: 0,
    crossCpu: 0,
    signals: 0,
    eagerMappings: 0,
    lockWait: 0,
    lockContended: 0,
    steals: 0,
    user: 0,
    kernel: 0,
    pager: 0,
    handler: 0,
    elapsed: 0,
    errorTexts: 0,
    chunks: 0,
    levels: Array.from({ length: levels }, emptyLevel),
  };
}

/** What happened from `a` to `b` (b taken later on the same system). */
export function diffStats(b: StatsMark, a: StatsMark): StatsMark {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number') out[k] = v - (a[k as keyof StatsMark] as number);
  }
  const levels = b.levels.map((l, i) => {
    const o = a.levels[i]!;
    const hitsBySizeLog2 = { ...l.hitsBySizeLog2 };
    const missesBySizeLog2 = { ...l.missesBySizeLog2 };
    addTo(hitsBySizeLog2, o.hitsBySizeLog2, -1);
    addTo(missesBySizeLog2, o.missesBySizeLog2, -1);
    return {
      hits: l.hits - o.hits,
      misses: l.misses - o.misses,
      evictions: l.evictions - o.evictions,
      invalidations: l.invalidations - o.invalidations,
      hitsBySizeLog2,
      missesBySizeLog2,
    };
  });
  return { ...(out as Omit<StatsMark, 'levels'>), levels };
}

/** Counts keyed by log2 size as counts keyed by size name (`"4K"`), ascending; zeros dropped unless `keep`. */
export function bySizeName(m: Readonly<Record<number, number>>, keep = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m)
    .map(Number)
    .sort((x, y) => x - y)) {
    if (keep || m[k]! !== 0) out[sizeName(2 ** k)] = m[k]!;
  }
  return out;
}
