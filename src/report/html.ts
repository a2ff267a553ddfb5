/**
 * Self-contained HTML reports: one file with inline CSS and inline SVG charts, no external
 * assets and no scripts, so it opens offline and can be attached to a bug report. The report
 * never reads the clock: a date, seed or command line goes in as caller-supplied metadata, and
 * the same calls give the same bytes. All text is escaped; only SVG from the chart functions is
 * inserted verbatim.
 */
import { invariant } from '../util/result.js';
import { type Cell, type ColumnLayout, formatCell, layoutColumns, type TableOptions } from './table.js';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Options of an HTML table: the terminal table's column options plus a caption. */
export interface HtmlTableOptions extends TableOptions {
  /** Shown above the table. */
  readonly caption?: string;
}

/**
 * An HTML `<table>` for key figures: numbers right-aligned (class `num`) and formatted like the
 * terminal tables (thousands separators, per-column decimals; see `TableOptions`), text escaped.
 * Throws InvariantError when a row's width differs from the header's.
 */
export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: HtmlTableOptions = {},
): string {
  const cols = layoutColumns(headers, rows, opts);
  const cap = opts.caption === undefined ? '' : `<caption>${escapeHtml(opts.caption)}</caption>\n`;
  const cls = (c: number) => ((cols[c] as ColumnLayout).align === 'right' ? ' class="num"' : '');
  const head = headers.map((h, c) => `<th${cls(c)}>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((cell, c) => `<td${cls(c)}>${escapeHtml(formatCell(cell, cols[c] as ColumnLayout))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n${cap}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/**
 * Checks that a string is an SVG document fit to inline: it starts with `<svg`, ends with
 * `</svg>` and holds no script, event handler or foreign object. Charts from `plot.ts` pass.
 */
export function isInlineSafeSvg(svg: string): boolean {
  const s = svg.trim();
  return (
    s.startsWith('<svg') &&
    s.endsWith('</svg>') &&
    !/<script|<foreignObject|\son[a-z]+\s*=|javascript:/i.test(s)
  );
}

/** Report header data. Dates and other run facts come from the caller, never from the clock. */
export interface ReportHeader {
  readonly title: string;
  readonly subtitle?: string;
  /** Key/value lines under the title, in order: command line, seed, date, version… */
  readonly meta?: readonly (readonly [string, string])[];
}

interface Section {
  readonly heading: string | undefined;
  readonly blocks: string[];
}

/** Builds one self-contained HTML report. Content goes into the most recently opened section. */
export class HtmlReport {
  private readonly sections: Section[] = [{ heading: undefined, blocks: [] }];

  /** Starts a report with a title, optional subtitle and metadata lines. */
  constructor(private readonly header: ReportHeader) {}

  private get current(): string[] {
    return (this.sections[this.sections.length - 1] as Section).blocks;
  }

  /** Opens a new section with an `<h2>` heading; following content goes into it. */
  section(heading: string): this {
    this.sections.push({ heading, blocks: [] });
    return this;
  }

  /** Adds a paragraph of plain text (escaped; blank lines are not interpreted). */
  paragraph(text: string): this {
    this.current.push(`<p>${escapeHtml(text)}</p>`);
    return this;
  }

  /** Adds a bulleted list of plain-text items. */
  list(items: readonly string[]): this {
    this.current.push(`<ul>\n${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('\n')}\n</ul>`);
    return this;
  }

  /** Adds preformatted text, e.g. the terminal table of the same figures or a command's output. */
  pre(text: string): this {
    this.current.push(`<pre>${escapeHtml(text)}</pre>`);
    return this;
  }

  /** Adds a key-figure table (see `htmlTable`), with an optional caption. */
  table(headers: readonly string[], rows: readonly (readonly Cell[])[], opts: HtmlTableOptions = {}): this {
    this.current.push(htmlTable(headers, rows, opts));
    return this;
  }

  /**
   * Adds an inline SVG chart (from `plot.ts`) with an optional caption. Throws InvariantError if
   * the string is not an inline-safe SVG (see `isInlineSafeSvg`): that is a bug in the caller.
   */
  figure(svg: string, caption?: string): this {
    invariant(isInlineSafeSvg(svg), 'figure: expected an SVG document without scripts (from plot.ts)');
    const cap = caption === undefined ? '' : `\n<figcaption>${escapeHtml(caption)}</figcaption>`;
    this.current.push(`<figure>\n${svg.trim()}${cap}\n</figure>`);
    return this;
  }

  /** Renders the whole document. Pure: calling it twice gives the same string. */
  render(): string {
    const { title, subtitle, meta } = this.header;
    const head = [`<h1>${escapeHtml(title)}</h1>`];
    if (subtitle !== undefined) head.push(`<p class="subtitle">${escapeHtml(subtitle)}</p>`);
    if (meta && meta.length > 0) {
      const rows = meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`);
      head.push(`<dl class="meta">\n${rows.join('\n')}\n</dl>`);
    }
    const body = this.sections
      .filter((s) => s.heading !== undefined || s.blocks.length > 0)
      .map((s) => {
        const h = s.heading === undefined ? [] : [`<h2>${escapeHtml(s.heading)}</h2>`];
        return `<section>\n${[...h, ...s.blocks].join('\n')}\n</section>`;
      });
    return [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(title)}</title>`,
      `<style>${STYLE}</style>`,
      '</head>',
      '<body>',
      `<header>\n${head.join('\n')}\n</header>`,
      '<main>',
      ...body,
      '</main>',
      '</body>',
      '</html>',
      '',
    ].join('\n');
  }
}

/** The report stylesheet: system fonts, a readable measure, tabular numbers in tables. */
const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --rule: #d1d9e0; --stripe: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 2rem 1.5rem 4rem; color: var(--fg); background: #fff;
  font: 16px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--rule); }
.subtitle { color: var(--muted); font-size: 1.1rem; margin: 0 0 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0;
  font-size: .9rem; color: var(--muted); }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .95rem; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .4rem; }
th, td { padding: .35rem .8rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { border-bottom-width: 2px; }
tbody tr:nth-child(even) { background: var(--stripe); }
.num { text-align: right; white-space: nowrap; }
figure { margin: 1.5rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; }
pre { background: var(--stripe); padding: .8rem 1rem; overflow-x: auto; font-size: .85rem;
  font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; }
`;
