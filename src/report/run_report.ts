/**
 * Presenting run results: one design as a summary, several side by side as a table, a bar chart
 * of the figures that differ most between designs, and a self-contained HTML report.
 */
import type { RunResult } from '../sim/replay.js';
import { ok, type Result } from '../util/result.js';
import { HtmlReport } from './html.js';
import { barChart } from './plot.js';
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
  for (const size of mappingSizes(results))
    rows.push([`${size} mappings`, ...results.map((r) => r.mappings[size] ?? 0)]);
  return rows;
}

/** The side-by-side table as text. */
export function comparisonTable(results: readonly RunResult[]): string {
  return formatTable(['', ...results.map((r) => r.design)], comparisonRows(results));
}

/** One run as text. */
export function summaryText(r: RunResult): string {
  return comparisonTable([r]);
}

/** A grouped bar chart: TLB misses, faults and cycles per design (normalised to the first design). */
export async function comparisonChart(results: readonly RunResult[], title: string): Promise<Result<string>> {
  const base = results[0]!;
  const rel = (f: (r: RunResult) => number) =>
    results.map((r) => (f(base) === 0 ? 0 : Number((f(r) / f(base)).toFixed(4))));
  return barChart({
    title,
    categories: results.map((r) => r.design),
    series: [
      { name: 'TLB misses', values: rel((r) => r.tlb.misses) },
      { name: 'faults', values: rel((r) => r.faults.resolved + r.faults.reflected) },
      { name: 'cycles', values: rel((r) => r.cycles) },
    ],
    yLabel: `relative to ${base.design}`,
  });
}

/** A self-contained HTML report of a comparison. */
export function comparisonHtml(
  results: readonly RunResult[],
  svg: string,
  meta: ReadonlyArray<readonly [string, string]>,
): Result<string> {
  const report = new HtmlReport({
    title: 'faultline comparison',
    subtitle: results.map((r) => r.design).join(' vs '),
    meta,
  });
  report.section('Figures').table(['', ...results.map((r) => r.design)], comparisonRows(results));
  report.section('Relative to the first design').figure(svg, 'TLB misses, faults and modelled cycles');
  const errors = results.flatMap((r) => r.errors.map((e) => `${r.design}: ${e}`));
  if (errors.length > 0) report.section('Errors').list(errors);
  return ok(report.render());
}
