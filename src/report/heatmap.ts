/**
 * A heat map: one row per run, one column per party, a cell's colour its value (on a symmetric
 * log scale, so microseconds and seconds both show) and its text the value as written by the
 * caller (e.g. "∞" for a thread blocked for good). `faultline contain` draws its blast radius
 * with it: how long each component was blocked, per design and misbehaviour.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ok } from '../util/result.js';
import { checkLabel, checkNames, invalid, type PlotResult, renderSpec } from './vega_render.js';

/** Input of `heatmapChart`. */
export interface HeatmapSpec {
  readonly title: string;
  /** Row labels, top to bottom. */
  readonly rows: readonly string[];
  /** Column labels, left to right. */
  readonly columns: readonly string[];
  /** values[row][column], each ≥ 0 and finite (draw "for good" as a large value with its own text). */
  readonly values: readonly (readonly number[])[];
  /** The text of each cell (same shape as `values`). */
  readonly labels: readonly (readonly string[])[];
  /** Title of the colour legend. */
  readonly legend: string;
}

const CELL_W = 92;
const CELL_H = 22;

/** Heat map of values per row and column; see the module comment. */
export async function heatmapChart(spec: HeatmapSpec): Promise<PlotResult> {
  const { title, rows, columns, values, labels, legend } = spec;
  const shape = (what: string, m: readonly (readonly unknown[])[]) =>
    m.length !== rows.length || m.some((r) => r.length !== columns.length)
      ? `${what}: expected ${rows.length} rows of ${columns.length} cells`
      : undefined;
  const bad =
    checkLabel('title', title) ??
    checkLabel('legend', legend) ??
    checkNames('rows', rows) ??
    checkNames('columns', columns) ??
    shape('values', values) ??
    shape('labels', labels) ??
    (values.flat().some((v) => !Number.isFinite(v) || v < 0)
      ? 'values: expected finite numbers >= 0'
      : undefined);
  if (bad) return invalid(`heatmapChart: ${bad}`);
  const data = rows.flatMap((r, i) =>
    columns.map((c, j) => ({ row: r, column: c, v: values[i]![j]!, label: labels[i]![j]! })),
  );
  const max = Math.max(1, ...values.flat());
  const x = {
    field: 'column',
    type: 'nominal',
    title: null,
    sort: [...columns],
    axis: { orient: 'top', labelAngle: 0, labelLimit: CELL_W + 20 },
  };
  const y = { field: 'row', type: 'nominal', title: null, sort: [...rows], axis: { labelLimit: 320 } };
  const vl = {
    title,
    width: CELL_W * columns.length,
    height: CELL_H * rows.length,
    data: { values: data },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'v',
            type: 'quantitative',
            title: legend,
            scale: { type: 'symlog', domain: [0, max], scheme: 'orangered' },
            legend: { format: '~s', orient: 'bottom', direction: 'horizontal', gradientLength: 260 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label' },
          color: { condition: { test: `datum.v > ${max / 8}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return ok(await renderSpec(vl));
}
