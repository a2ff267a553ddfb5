/**
 * Plain-text tables for terminal output (`faultline compare`, `scale`, `irq`), and the number
 * formatting shared with the HTML report. Deterministic: numbers are formatted by hand, never
 * through the host locale, so the same rows give the same bytes on every machine.
 */
import { invariant } from '../util/result.js';

/** One table cell: text is shown as is, numbers are formatted per column. */
export type Cell = string | number;

/** Column alignment; `auto` right-aligns a column that holds any number and left-aligns the rest. */
export type Align = 'left' | 'right' | 'auto';

/** Per-column presentation, shared by `formatTable` and the HTML report's tables. */
export interface TableOptions {
  /** Alignment per column (default `auto` for every column). */
  readonly align?: readonly Align[];
  /**
   * Fixed decimals per column for its numbers (default: integers as they are, other numbers with
   * up to 2 decimals, trailing zeros dropped). `undefined` entries keep the default.
   */
  readonly decimals?: readonly (number | undefined)[];
  /** Thousands separators, for all columns or per column (default true). */
  readonly thousands?: boolean | readonly boolean[];
}

/** Options of `formatNumber`. */
export interface NumberFormat {
  /** Fixed number of decimals (0..20); default: up to 2, trailing zeros dropped. */
  readonly decimals?: number;
  /** Group the integer part with `,` every three digits (default true). */
  readonly thousands?: boolean;
}

/**
 * Formats a number without the host locale: `1234567.891` → `1,234,567.89`; with `decimals: 0`
 * → `1,234,568`. Non-finite numbers come out as `NaN`, `inf`, `-inf`; values too large for
 * fixed notation (>= 1e21) in JavaScript's exponent form.
 */
export function formatNumber(n: number, fmt: NumberFormat = {}): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const fixed = fmt.decimals;
  invariant(
    fixed === undefined || (Number.isInteger(fixed) && fixed >= 0 && fixed <= 20),
    `decimals ${fixed}: expected an integer in 0..20`,
  );
  if (Math.abs(n) >= 1e21) return String(n);
  let s = fixed !== undefined ? n.toFixed(fixed) : Number.isInteger(n) ? String(n) : n.toFixed(2);
  if (fixed === undefined && s.includes('.')) s = s.replace(/\.?0+$/, '');
  if (/^-0(\.0*)?$/.test(s)) s = s.slice(1);
  if (fmt.thousands === false) return s;
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot);
  return `${neg ? '-' : ''}${int.replace(/\B(?=(\d{3})+$)/g, ',')}${frac}`;
}

/** A column layout resolved from `TableOptions`: one alignment and number format per column. */
export interface ColumnLayout {
  readonly align: 'left' | 'right';
  readonly format: NumberFormat;
}

/**
 * Checks the table's shape (every row as wide as the header, option arrays no wider) and
 * resolves alignment and number format per column. A mismatch is a bug in the caller.
 */
export function layoutColumns(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): ColumnLayout[] {
  const w = headers.length;
  invariant(w > 0, 'table: expected at least one column');
  rows.forEach((r, i) => {
    invariant(r.length === w, `table row ${i} has ${r.length} cells: expected ${w} (one per header)`);
  });
  for (const [name, arr] of [
    ['align', opts.align],
    ['decimals', opts.decimals],
    ['thousands', Array.isArray(opts.thousands) ? opts.thousands : undefined],
  ] as const) {
    invariant(!arr || arr.length <= w, `table ${name} has ${arr?.length} entries: expected at most ${w}`);
  }
  return headers.map((_, c) => {
    const a = opts.align?.[c] ?? 'auto';
    const numeric = rows.some((r) => typeof r[c] === 'number');
    const th = opts.thousands;
    const thousands = typeof th === 'boolean' ? th : (th?.[c] ?? true);
    const decimals = opts.decimals?.[c];
    return {
      align: a === 'auto' ? (numeric ? 'right' : 'left') : a,
      format: decimals === undefined ? { thousands } : { thousands, decimals },
    };
  });
}

/** Formats one cell with its column's number format. */
export function formatCell(cell: Cell, col: ColumnLayout): string {
  return typeof cell === 'number' ? formatNumber(cell, col.format) : cell;
}

/** Display width of a string in a terminal: code points (no East Asian width handling). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(w - width(s));
  return align === 'right' ? fill + s : s + fill;
}

/**
 * Formats a table for a terminal: a header line, a rule of dashes under each column, then one
 * line per row; columns separated by two spaces, numbers right-aligned with thousands separators
 * (see `TableOptions`). Lines carry no trailing spaces and the result no trailing newline.
 * Throws InvariantError when a row's width differs from the header's.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): string {
  const cols = layoutColumns(headers, rows, opts);
  const body = rows.map((r) => r.map((cell, c) => formatCell(cell, cols[c] as ColumnLayout)));
  const widths = headers.map((h, c) => Math.max(width(h), ...body.map((r) => width(r[c] as string))));
  const line = (cells: readonly string[]) =>
    cells
      .map((s, c) => pad(s, widths[c] as number, (cols[c] as ColumnLayout).align))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
