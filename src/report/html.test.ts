import { describe, expect, it } from 'vitest';
import { InvariantError, unwrap } from '../util/result.js';
import { escapeHtml, HtmlReport, htmlTable, isInlineSafeSvg } from './html.js';
import { barChart } from './plot.js';

const EVIL = '<script>alert("x")</script> & \'q\'';
const EVIL_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;';

function build(svg: string): HtmlReport {
  return new HtmlReport({
    title: `Compare ${EVIL}`,
    subtitle: 'three designs',
    meta: [
      ['command', 'faultline compare --seed 7 <designs>'],
      ['date', '2026-01-02'],
    ],
  })
    .paragraph('intro before any section')
    .section('TLB misses')
    .paragraph(`label ${EVIL}`)
    .table(
      ['design', 'misses'],
      [
        [EVIL, 1234567],
        ['flat', 42],
      ],
      { caption: EVIL },
    )
    .figure(svg, `fig ${EVIL}`)
    .section('Notes')
    .list(['a < b', 'c'])
    .pre('x  1,000\ny <z>');
}

describe('escapeHtml', () => {
  it('escapes the five markup characters and nothing else', () => {
    expect(escapeHtml(EVIL)).toBe(EVIL_ESCAPED);
    expect(escapeHtml('plain µs 1,000')).toBe('plain µs 1,000');
  });
});

describe('HtmlReport', () => {
  it('escapes every piece of caller text and inlines the chart', async () => {
    const svg = unwrap(
      await barChart({ title: EVIL, categories: ['a'], series: [{ name: 's', values: [1] }], yLabel: 'y' }),
    );
    const html = build(svg).render();
    expect(html).not.toContain('<script');
    expect(html.match(/&lt;script&gt;/g)?.length).toBe(8);
    expect(html).toContain(`<title>Compare ${EVIL_ESCAPED}</title>`);
    expect(html).toContain(`<h1>Compare ${EVIL_ESCAPED}</h1>`);
    expect(html).toContain(`<td>${EVIL_ESCAPED}</td><td class="num">1,234,567</td>`);
    expect(html).toContain(`<caption>${EVIL_ESCAPED}</caption>`);
    expect(html).toContain('<dd>faultline compare --seed 7 &lt;designs&gt;</dd>');
    expect(html).toContain('<li>a &lt; b</li>');
    expect(html).toContain('<pre>x  1,000\ny &lt;z&gt;</pre>');
    expect(html).toContain(svg);
  });

  it('is a self-contained document in a fixed order', () => {
    const html = build('<svg width="1"></svg>').render();
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html).not.toMatch(/<link|<script|\ssrc=|url\(http|@import/);
    const order = [
      '<h1>',
      'class="subtitle"',
      '<dl class="meta">',
      'intro before',
      '<h2>TLB misses</h2>',
      '<figure>',
      '<h2>Notes</h2>',
    ];
    const at = order.map((s) => html.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(html.match(/<section>/g)?.length).toBe(3);
    expect(html.match(/<\/section>/g)?.length).toBe(3);
  });

  it('renders the same bytes every time', () => {
    const r = build('<svg></svg>');
    expect(r.render()).toBe(r.render());
    expect(build('<svg></svg>').render()).toBe(r.render());
  });

  it('leaves out what was not given', () => {
    const html = new HtmlReport({ title: 't' }).render();
    expect(html).not.toMatch(/subtitle"|<dl|<section>/);
  });

  it('refuses to inline anything but a script-free SVG', () => {
    const r = new HtmlReport({ title: 't' });
    for (const bad of ['<div></div>', '<svg><script>x</script></svg>', '<svg onload="x()"></svg>', EVIL]) {
      expect(isInlineSafeSvg(bad)).toBe(false);
      expect(() => r.figure(bad)).toThrow(InvariantError);
    }
    expect(r.render()).not.toContain('<figure>');
  });
});

describe('htmlTable', () => {
  it('right-aligns and formats numeric columns, with per-column decimals', () => {
    expect(
      htmlTable(
        ['cpu', 'rate', 'p99'],
        [
          ['0', 1500000.25, 3],
          ['1', 12, 4.5],
        ],
        { decimals: [undefined, 0, 1] },
      ),
    ).toBe(
      [
        '<table>',
        '<thead><tr><th>cpu</th><th class="num">rate</th><th class="num">p99</th></tr></thead>',
        '<tbody>',
        '<tr><td>0</td><td class="num">1,500,000</td><td class="num">3.0</td></tr>',
        '<tr><td>1</td><td class="num">12</td><td class="num">4.5</td></tr>',
        '</tbody>',
        '</table>',
      ].join('\n'),
    );
  });

  it('throws on a ragged row', () => {
    expect(() => htmlTable(['a', 'b'], [['x', 1, 2]])).toThrow(InvariantError);
  });
});
