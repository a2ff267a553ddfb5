/**
 * Small multiples of absolute values: one panel per figure (TLB misses, faults, cycles…), one
 * horizontal bar per category (a design) in each, with the value written at the end of its bar.
 * Figures of different magnitudes each get their own axis, and category names read horizontally
 * along the left edge however many there are and however long they get.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ok } from '../util/result.js';
import { formatNumber } from './table.js';
import { checkLabel, checkNames, checkNumbers, invalid, type PlotResult, renderSpec } from './vega_render.js';

/** One panel: a figure's name and one value per category. */
export interface Panel {
  readonly name: string;
  readonly values: readonly number[];
}

/** Input of `panelChart`. */
export interface PanelChartSpec {
  readonly title: string;
  /** Bar labels, top to bottom in every panel (e.g. the designs compared). */
  readonly categories: readonly string[];
  /** Panels, top to bottom. */
  readonly panels: readonly Panel[];
}

/** Width of a panel's plotting area, and of one bar's band. */
const WIDTH = 440;
const STEP = 24;

/** Panels of horizontal bars with absolute values, e.g. TLB misses, faults and cycles per design. */
export async function panelChart(spec: PanelChartSpec): Promise<PlotResult> {
  const { title, categories, panels } = spec;
  const bad =
    checkLabel('title', title) ??
    checkNames('categories', categories) ??
    checkNames(
      'panel names',
      panels.map((p) => p.name),
    ) ??
    panels.reduce<string | undefined>(
      (m, p) =>
        m ??
        checkNumbers(`panel "${p.name}" values`, p.values, categories.length, false) ??
        (p.values.some((v) => v < 0) ? `panel "${p.name}" values: expected values >= 0` : undefined),
      undefined,
    );
  if (bad) return invalid(`panelChart: ${bad}`);
  const bar = (p: Panel): object => {
    const values = categories.map((c, i) => ({
      category: c,
      v: p.values[i],
      label: formatNumber(p.values[i]!),
    }));
    const max = Math.max(...p.values);
    const y = {
      field: 'category',
      type: 'nominal',
      title: null,
      scale: { domain: [...categories], paddingInner: 0.2 },
      axis: { labelLimit: 320, labelFontSize: 12, ticks: false, domain: false },
    };
    // Room on the right for the largest value's label.
    const x = {
      field: 'v',
      type: 'quantitative',
      title: null,
      scale: { domain: [0, max === 0 ? 1 : max * 1.28], nice: false },
      axis: { format: '~s', tickCount: 5, grid: true, labelExpr: "datum.value === 0 ? '0' : datum.label" },
    };
    return {
      title: { text: p.name, fontSize: 13, anchor: 'start', offset: 6 },
      width: WIDTH,
      height: { step: STEP },
      data: { values },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            y,
            x,
            color: { field: 'category', type: 'nominal', scale: { domain: [...categories] }, legend: null },
          },
        },
        {
          mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 11, color: '#222' },
          encoding: { y, x, text: { field: 'label' } },
        },
      ],
    };
  };
  const vl = {
    title,
    vconcat: panels.map(bar),
    spacing: 18,
    resolve: { scale: { x: 'independent', color: 'shared' } },
  } as unknown as TopLevelSpec;
  return ok(await renderSpec(vl));
}
