/**
 * Presenting run results: one design as a summary, several side by side as a table, panels of
 * the absolute figures per design, and a self-contained HTML report. Every form starts with the
 * effective configuration and carries the per-level TLB figures and the top lists of misses and
 * faults (run_sections.ts).
 */
import type { RunResult } from '../sim/replay.js';
import { ok, type Result } from '../util/result.js';
import { HtmlReport } from './html.js';
import { panelChart } from './plot_panels.js';
import { type CaptionedTable, configPairs, configText, levelTable, topTables } from './run_sections.js';
import { swapRows, swapTables } from './swap_sections.js';
import { type Cell, formatTable } from './table.js';

/** The rows every comparison shows: label and how to read it from a result. */
const ROWS: ReadonlyArray<readonly [string, (r: RunResult) => number | string]> = [
  ['records', (r) => r.records],
  ['translations', (r) => r.translations],
  ['TLB hits', (r) => r.tlb.hits],
  ['TLB misses', (r) => r.tlb.misses],
  ['TLB hit rate %', (r) => (r.tlb.hitRate * 100).toFixed(3)],
  ['page walks', (r) => r.walks],
  ['faults resolved by core', (r) => r.faults.resolved],
  ['faults reflected to handler', (r) => r.faults.reflected],
  ['errors', (r) => r.faults.errors],
  ['faults lost (calls to managers failed)', (r) => r.faults.lost ?? 0],
  ['fault latency p50 (cycles)', (r) => r.faults.latency.p50],
  ['fault latency p99 (cycles)', (r) => r.faults.latency.p99],
  ['pages touched', (r) => r.pages.touched],
  ['cycles', (r) => r.cycles],
  ['  user', (r) => r.cyclesBy.user],
  ['  kernel', (r) => r.cyclesBy.kernel],
  ['  pager', (r) => r.cyclesBy.pager],
  ['  handler', (r) => r.cyclesBy.handler],
  ['TLB shootdowns', (r) => r.shootdowns],
  ['cross-CPU messages', (r) => r.crossCpu.messages],
  ['allocator lock wait (cycles)', (r) => r.lock.waitCycles],
];

/** Mapping sizes present in any result, smallest first. */
function mappingSizes(results: readonly RunResult[]): string[] {
  const all = new Set<string>();
  for (const r of results) for (const [k, v] of Object.entries(r.mappings)) if (v > 0) all.add(k);
  const bytes = (s: string) =>
    Number.parseInt(s, 10) * { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, B: 1 }[s.at(-1)!]!;
  return [...all].sort((a, b) => bytes(a) - bytes(b));
}

/** Rows of the side-by-side table (metric, then one column per design). */
export function comparisonRows(results: readonly RunResult[]): Cell[][] {
  const rows: Cell[][] = ROWS.map(([label, f]) => [label, ...results.map(f)]);
  rows.push(...swapRows(results));
  for (const size of mappingSizes(results))
    rows.push([`${size} mappings`, ...results.map((r) => r.mappings[size] ?? 0)]);
  const intervals = results.map((r) => r.intervals?.length);
  if (intervals.some((n) => n !== undefined))
    rows.push(['intervals (in --json, --timeline)', ...intervals.map((n) => n ?? 0)]);
  return rows;
}

/**
 * The communication rights the runs used, one row per right (`from -kind-> to`), one column per
 * design with how often it was used ('-': the design never needed it).
 */
export function trustTable(results: readonly RunResult[]): CaptionedTable {
  const keys: string[] = [];
  const uses = results.map(() => new Map<string, number>());
  results.forEach((r, i) => {
    for (const e of r.trust ?? []) {
      const k = `${e.from} -${e.kind}-> ${e.to}`;
      if (!keys.includes(k)) keys.push(k);
      uses[i]!.set(k, (uses[i]!.get(k) ?? 0) + e.uses);
    }
  });
  return {
    caption: 'Communication rights used (uses; - = not needed)',
    headers: ['right', ...results.map((r) => r.design)],
    rows: keys.map((k) => [k, ...uses.map((u) => u.get(k) ?? '-')]),
    options: { align: ['left', ...results.map(() => 'right' as const)] },
  };
}

/** The per-level and top-list tables of every result, in result order. */
export function detailTables(results: readonly RunResult[]): CaptionedTable[] {
  return results.flatMap((r) => [levelTable(r), ...swapTables(r), ...topTables(r)]);
}

/**
 * The side-by-side report as text: the configuration block, the figures table, then per design
 * its TLB levels and its top lists.
 */
export function comparisonTable(results: readonly RunResult[]): string {
  const parts: string[] = [];
  const config = configText(results);
  if (config !== '') parts.push(config);
  parts.push(formatTable(['', ...results.map((r) => r.design)], comparisonRows(results)));
  const trust = trustTable(results);
  if (trust.rows.length > 0)
    parts.push(`${trust.caption}\n${formatTable(trust.headers, trust.rows, trust.options)}`);
  for (const t of detailTables(results))
    parts.push(`${t.caption}\n${formatTable(t.headers, t.rows, t.options)}`);
  return parts.join('\n\n');
}

/** One run as text. */
export function summaryText(r: RunResult): string {
  return comparisonTable([r]);
}

/** Panels of absolute figures per design: TLB misses, faults, page walks and modelled cycles. */
export async function comparisonChart(results: readonly RunResult[], title: string): Promise<Result<string>> {
  return panelChart({
    title,
    categories: results.map((r) => r.design),
    panels: [
      { name: 'TLB misses', values: results.map((r) => r.tlb.misses) },
      {
        name: 'page faults (resolved by core + reflected to the handler)',
        values: results.map((r) => r.faults.resolved + r.faults.reflected),
      },
      { name: 'modelled cycles', values: results.map((r) => r.cycles) },
    ],
  });
}

/** Title and subtitle of an HTML report (default: a comparison of the results' designs). */
export interface ReportTitle {
  readonly title: string;
  readonly subtitle?: string;
}

/** A self-contained HTML report of a comparison (or, titled so, of one replay). */
export function comparisonHtml(
  results: readonly RunResult[],
  svg: string,
  meta: ReadonlyArray<readonly [string, string]>,
  heading: ReportTitle = {
    title: 'faultline comparison',
    subtitle: results.map((r) => r.design).join(' vs '),
  },
): Result<string> {
  const report = new HtmlReport({ ...heading, meta });
  const config = configPairs(results);
  if (config.length > 0)
    report.section('Configuration').table(['setting', 'value'], config, { align: ['left', 'left'] });
  report.section('Figures').table(['', ...results.map((r) => r.design)], comparisonRows(results));
  const trust = trustTable(results);
  if (trust.rows.length > 0)
    report
      .section('Communication rights')
      .table(trust.headers, trust.rows, { ...trust.options, caption: trust.caption });
  report.section('TLB levels and top lists');
  for (const t of detailTables(results))
    report.table(t.headers, t.rows, { ...t.options, caption: t.caption });
  report.section('Per design').figure(svg, 'TLB misses, page faults and modelled cycles (absolute values)');
  const errors = results.flatMap((r) => r.errors.map((e) => `${r.design}: ${e}`));
  if (errors.length > 0) report.section('Errors').list(errors);
  return ok(report.render());
}
