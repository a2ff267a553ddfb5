/**
 * TLB contents over time: a sample of every CPU's TLB levels (valid entries by page size, hits and
 * misses so far) and of the replayed threads' translations, taken between batches of a replay.
 * `faultline replay --tlb-samples` prints them for the visualizer's replay panel.
 */
import { sizeName } from '../util/hex.js';
import type { Machine } from './machine.js';

/** One TLB level of one CPU at a sample. */
export interface TlbLevelSample {
  readonly name: string;
  /** Valid entries by page size name (`"4K"`, `"2M"`, …); sizes without entries are left out. */
  readonly valid: Readonly<Record<string, number>>;
  /** Lookups so far that hit or missed in this level. */
  readonly hits: number;
  readonly misses: number;
}

/** The TLBs of every CPU after `records` records. */
export interface TlbSample {
  /** Records replayed so far (all threads). */
  readonly records: number;
  /** Modelled time so far. */
  readonly cycles: number;
  /** Translations so far that hit some TLB level, and that missed every level. */
  readonly hits: number;
  readonly misses: number;
  readonly cpus: readonly { readonly cpu: number; readonly levels: readonly TlbLevelSample[] }[];
}

/** Samples the machine's TLBs now. */
export function sampleTlbs(m: Machine): TlbSample {
  let records = 0;
  let hits = 0;
  let misses = 0;
  for (const t of m.threads) {
    records += t.records;
    hits += t.tlbHits;
    misses += t.tlbMisses;
  }
  const cpus = m.cpus.map((c) => {
    const stats = c.tlb.stats();
    const levels = stats.map((s, i) => {
      const valid: Record<string, number> = {};
      const bySize = new Map<number, number>();
      for (const e of c.tlb.entries(i)) bySize.set(e.sizeLog2, (bySize.get(e.sizeLog2) ?? 0) + 1);
      for (const [log2, n] of [...bySize].sort((a, b) => a[0] - b[0])) valid[sizeName(2 ** log2)] = n;
      return { name: s.name, valid, hits: s.hits, misses: s.misses };
    });
    return { cpu: c.id, levels };
  });
  return { records, cycles: m.elapsed, hits, misses, cpus };
}
