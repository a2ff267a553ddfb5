/**
 * The parts of a run report besides the main figures: the configuration block, per-level TLB
 * tables and the top lists of misses and faults, as rows that the text and HTML reports share.
 */
import type { TopPair } from '../sim/attribution.js';
import type { RunResult, TlbStageResult } from '../sim/replay.js';
import type { RunConfig } from '../sim/run_config.js';
import { designText, hardwareText, machineLine, pagingText } from '../sim/run_config.js';
import { type Cell, formatNumber, type TableOptions } from './table.js';

/** A table with a caption: what the text report prints under a heading and the HTML as a table. */
export interface CaptionedTable {
  readonly caption: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly options?: TableOptions;
}

function plural(n: number, what: string): string {
  return `${formatNumber(n)} ${what}${n === 1 ? '' : 's'}`;
}

/** Which records were measured, in words. */
export function windowText(c: RunConfig): string {
  const { skip, warmup, limit, interval } = c.window;
  const parts: string[] = [];
  if (skip > 0) parts.push(`${plural(skip, 'record')} skipped`);
  if (warmup > 0) parts.push(`${plural(warmup, 'record')} of warm-up (statistics reset after them)`);
  const then = parts.length > 0 ? 'then ' : '';
  parts.push(
    limit === null ? `${then}every record measured` : `${then}at most ${plural(limit, 'record')} measured`,
  );
  if (interval !== null) parts.push(`figures every ${plural(interval, 'record')}`);
  return parts.join(', ');
}

/**
 * The configuration block: key/value pairs (version, trace, machine, designs, costs, window). With
 * several results, the machine is the first one's and each design gets a line.
 */
export function configPairs(results: readonly RunResult[]): Array<[string, string]> {
  const configs = results.map((r) => r.config).filter((c): c is RunConfig => c !== undefined);
  const c = configs[0];
  if (c === undefined) return [];
  const t = c.trace;
  const out: Array<[string, string]> = [
    ['faultline', c.faultline],
    ['trace', `${t.file} (${t.format}${t.gzip ? ', gzip' : ''}, ${plural(t.records, 'record')} read)`],
  ];
  if (configs.length === 1) {
    out.push(['machine', machineLine(c)]);
    out.push(['design options', optionsText(c)]);
  } else {
    out.push(['machine', hardwareText(c)]);
    for (const x of configs) out.push([`design ${designText(x)}`, optionsText(x)]);
  }
  const costs = Object.entries(c.costOverrides);
  out.push([
    'costs',
    costs.length === 0
      ? 'defaults (docs/COST_MODEL.md)'
      : `defaults except ${costs.map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ]);
  out.push(['handler chunk', c.chunk]);
  if (c.paging) out.push(['paging', pagingText(c.paging)]);
  if (c.misbehave !== undefined) out.push(['memory manager misbehaves', c.misbehave]);
  out.push(['records', windowText(c)]);
  return out;
}

function optionsText(c: RunConfig): string {
  return Object.entries(c.design.options)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The configuration block as text lines (`key: value`). */
export function configText(results: readonly RunResult[]): string {
  const pairs = configPairs(results);
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`).join('\n');
}

function sizes(m: Readonly<Record<string, number>>): string {
  const e = Object.entries(m);
  return e.length === 0 ? '-' : e.map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ');
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '-' : ((100 * part) / whole).toFixed(2);
}

/** Per-stage TLB figures of one result, in lookup order. */
export function levelTable(r: RunResult): CaptionedTable {
  return {
    caption: `TLB levels (${r.design}): lookups per stage (levels joined by | are looked up together); hits by the size of the entry that hit; misses by the size of the translation that resolved them, unresolved when a page fault followed`,
    headers: [
      'level',
      'kind',
      'lookups',
      'hits',
      'hit %',
      'hits by size',
      'misses',
      'resolved by size',
      'unresolved',
    ],
    rows: r.tlb.stages.map((l: TlbStageResult) => [
      l.name,
      l.kind,
      l.lookups,
      l.hits,
      pct(l.hits, l.lookups),
      sizes(l.hitsBySize),
      l.misses,
      sizes(l.missesBySize),
      l.missesUnresolved,
    ]),
    options: { align: ['left', 'left', 'right', 'right', 'right', 'left', 'right', 'left', 'right'] },
  };
}

/** One top list pair (pages and instructions side by side) of one result. */
function topTable(r: RunResult, what: string, p: TopPair): CaptionedTable {
  const n = Math.max(p.pages.length, p.instructions.length);
  const rows: Cell[][] = [];
  for (let i = 0; i < n; i++) {
    const pg = p.pages[i];
    const ins = p.instructions[i];
    rows.push([
      i + 1,
      pg?.address ?? '',
      pg?.count ?? '',
      pg ? pct(pg.count, p.total) : '',
      ins?.address ?? '',
      ins?.count ?? '',
      ins ? pct(ins.count, p.total) : '',
    ]);
  }
  return {
    caption: `Top pages and instructions by ${what} (${r.design}; ${formatNumber(p.total)} in all)`,
    headers: ['#', 'page', what, '%', 'instruction', what, '%'],
    rows,
    options: { align: ['right', 'left', 'right', 'right', 'left', 'right', 'right'] },
  };
}

/** The top lists of one result (none when it was not attributed or nothing happened). */
export function topTables(r: RunResult): CaptionedTable[] {
  if (!r.top) return [];
  const out: CaptionedTable[] = [];
  if (r.top.tlbMisses.total > 0) out.push(topTable(r, 'TLB misses', r.top.tlbMisses));
  if (r.top.faults.total > 0) out.push(topTable(r, 'faults', r.top.faults));
  return out;
}
