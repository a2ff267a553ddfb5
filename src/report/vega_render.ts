/**
 * The plumbing under `plot.ts`: the report theme, headless vega-lite → vega → SVG rendering and
 * the input checks shared by every chart. Rendering uses `renderer: 'none'`, so it needs no DOM
 * and runs in Node and in the browser alike. Vega numbers clip paths and gradients from global
 * counters, so the same chart would come out with different ids on a second call; `stableSvgIds`
 * renames them deterministically, with a content-derived prefix so that several charts inlined
 * in one HTML page do not share ids.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import { err, type Result } from '../util/result.js';

/** The error code of every chart function. */
export type PlotErrorCode = 'INVALID_PLOT';

/** The outcome of a chart function: an SVG document as a string, or what was wrong with the input. */
export type PlotResult = Result<string, PlotErrorCode>;

/** Font stack of every chart: DejaVu Sans is present on most Linux machines, the rest elsewhere. */
export const PLOT_FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Colour-blind-safe categorical palette (Okabe–Ito, black moved last), in series order. */
export const PLOT_PALETTE: readonly string[] = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

/** The report theme: readable sizes, light grid, left-aligned bold titles. */
export const PLOT_THEME: Config = {
  font: PLOT_FONT,
  background: 'white',
  padding: 12,
  view: { stroke: null },
  title: { fontSize: 16, fontWeight: 'bold', anchor: 'start', offset: 14, color: '#222' },
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    titleFontWeight: 'normal',
    titlePadding: 10,
    labelColor: '#333',
    titleColor: '#222',
    gridColor: '#e6e6e6',
    domainColor: '#888',
    tickColor: '#888',
  },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', symbolSize: 120 },
  range: { category: [...PLOT_PALETTE] },
};

/** Compiles a vega-lite spec (with the report theme merged in) and renders it to a stable SVG string. */
export async function renderSpec(spec: TopLevelSpec): Promise<string> {
  // Loaded on the first chart, not with the module: importing vega and vega-lite takes about
  // 0.3 s, which every command would otherwise pay at start-up (docs/BENCHMARKS.md).
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const themed = { ...spec, config: { ...PLOT_THEME, ...(spec.config ?? {}) } } as TopLevelSpec;
  const quiet = {
    level: () => quiet,
    error: () => quiet,
    warn: () => quiet,
    info: () => quiet,
    debug: () => quiet,
  };
  const vg = compile(themed, { logger: quiet as never }).spec;
  const view = new View(parse(vg), { renderer: 'none', logLevel: 0 });
  try {
    return stableSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** FNV-1a over UTF-16 code units, as 8 hex digits: a deterministic, dependency-free content hash. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Renames every `id="…"` in an SVG (and its `url(#…)` / `href="#…"` references) to
 * `fl<hash>-<n>`, numbered in order of first appearance. The hash is taken over the SVG with the
 * ids blanked, so the result depends only on what is drawn, not on vega's global counters.
 */
export function stableSvgIds(svg: string): string {
  const ids: string[] = [];
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) {
    const id = m[1] as string;
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) return svg;
  const pattern = new RegExp(`(\\sid="|url\\(#|href="#)(${ids.map(escapeRegExp).join('|')})(?=[")])`, 'g');
  const prefix = `fl${fnv1a(svg.replace(pattern, '$1'))}-`;
  return svg.replace(pattern, (_all, lead: string, id: string) => `${lead}${prefix}${ids.indexOf(id) + 1}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One named series of numbers. */
export interface Series {
  /** Legend label; unique within a chart. */
  readonly name: string;
  /** One value per category or x position. */
  readonly values: readonly number[];
}

/** Value-axis scale: linear, or logarithmic (base 10; every value must be > 0). */
export type YScale = 'linear' | 'log';

/** Builds the INVALID_PLOT error. */
export function invalid(message: string): Result<never, PlotErrorCode> {
  return err('INVALID_PLOT', message);
}

/** Checks a chart title or axis label: a non-empty string. Returns an error message or undefined. */
export function checkLabel(what: string, s: unknown): string | undefined {
  return typeof s === 'string' && s.trim() !== '' ? undefined : `${what}: expected a non-empty string`;
}

/** Checks that names are non-empty and unique. Returns an error message or undefined. */
export function checkNames(what: string, names: readonly unknown[]): string | undefined {
  if (names.length === 0) return `${what}: expected at least one`;
  const seen = new Set<string>();
  for (const n of names) {
    const bad = checkLabel(what, n);
    if (bad) return bad;
    if (seen.has(n as string)) return `${what}: "${n}" appears twice, expected unique names`;
    seen.add(n as string);
  }
  return undefined;
}

/**
 * Checks a list of numbers: the expected length, every value finite, and > 0 when `positive`.
 * Returns an error message or undefined.
 */
export function checkNumbers(
  what: string,
  values: readonly unknown[],
  length: number,
  positive: boolean,
): string | undefined {
  if (!Array.isArray(values)) return `${what}: expected an array of numbers`;
  if (values.length !== length) return `${what} has ${values.length} values: expected ${length}`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return `${what}[${i}] is ${String(v)}: expected a finite number`;
    }
    if (positive && v <= 0) return `${what}[${i}] is ${v}: a log scale needs values > 0`;
  }
  return undefined;
}

/** Checks a `yScale` option. Returns an error message or undefined. */
export function checkScale(what: string, s: unknown, allowed: readonly string[]): string | undefined {
  return s === undefined || allowed.includes(s as string)
    ? undefined
    : `${what} is ${String(s)}: expected one of ${allowed.join(', ')}`;
}

/** Axis number format for a linear value axis: thousands separators, no exponent, no trailing zeros. */
export const LINEAR_FORMAT = ',~f';

/**
 * Ticks and domain for a log-10 axis over positive values: whole decades covering the data, with
 * 2× and 5× steps added when the data spans two decades or less. Tick values are parsed from
 * decimal literals (`1e-3`) so they are exact, whatever `Math.pow` does on the platform. `tight`
 * makes the domain exactly [min, max] and keeps only the ticks inside it.
 */
export function logTicks(
  values: readonly number[],
  tight = false,
): { ticks: number[]; domain: [number, number] } {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (hi <= lo) hi = lo + 1;
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) {
    for (const m of steps) if (k < hi || m === 1) ticks.push(Number(`${m}e${k}`));
  }
  if (!tight) return { ticks, domain: [Number(`1e${lo}`), Number(`1e${hi}`)] };
  const inside = ticks.filter((t) => t >= min && t <= max);
  return { ticks: inside.length > 0 ? inside : [min, max], domain: [min, max] };
}

/**
 * The scale and axis part of a vega-lite positional encoding for a value axis: linear with
 * thousands separators, or log-10 with the ticks of `logTicks` (SI suffixes when all ticks are >= 1,
 * else plain decimals).
 */
export function valueScale(scale: YScale | undefined, values: readonly number[], tight = false): object {
  if (scale !== 'log') {
    return { scale: { type: 'linear', nice: 6 }, axis: { format: LINEAR_FORMAT, tickCount: 6 } };
  }
  const { ticks, domain } = logTicks(values, tight);
  return {
    scale: { type: 'log', domain, nice: false },
    axis: { values: ticks, format: (ticks[0] as number) >= 1 ? '~s' : LINEAR_FORMAT },
  };
}

/** Where bars start on a value axis: 0 on a linear scale, the bottom of the domain on a log scale. */
export function baseline(scale: YScale | undefined, values: readonly number[]): { datum: number } {
  return { datum: scale === 'log' ? logTicks(values).domain[0] : 0 };
}
