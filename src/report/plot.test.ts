import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../util/result.js';
import { barChart, histogramChart, lineChart, percentileChart } from './plot.js';
import { logTicks, stableSvgIds } from './vega_render.js';

/** Number of item elements (`<path>`, or `<line>` for rules) in every `<g class="mark-TYPE role-mark …">` group of an SVG. */
function markCount(svg: string, type: 'rect' | 'line' | 'symbol' | 'rule'): number {
  let n = 0;
  for (const m of svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>`, 'g'))) {
    const start = (m.index as number) + m[0].length;
    const inner = svg.slice(start, svg.indexOf('</g>', start));
    expect(inner).not.toContain('<g');
    // test data has no zero values, so no bar may be flat
    if (type === 'rect') expect(inner).not.toMatch(/ d="[^"]*(v-?0h|h-?0v)/);
    n += inner.match(type === 'rule' ? /<line\b/g : /<path\b/g)?.length ?? 0;
  }
  return n;
}

/** Checks that every start tag has its end tag, properly nested, and returns the root tag name. */
function checkWellFormed(svg: string): string {
  const stack: string[] = [];
  let root = '';
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:[^>"]|"[^"]*")*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m as unknown as [string, string, string, string, string];
    if (!root) root = name;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClose) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  return root;
}

function checkSvg(r: Result<string>, title: string): string {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  const svg = r.value;
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(checkWellFormed(svg)).toBe('svg');
  expect(svg).toContain(`>${title}</text>`);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  return svg;
}

const DESIGNS = ['flat', 'nested-rm', 'managed-ds', 'superpages'];
const BAR = {
  title: 'TLB misses per design',
  categories: DESIGNS,
  series: [
    { name: 'seq', values: [120345, 98000, 150000, 40210] },
    { name: 'random', values: [812345, 790000, 1020000, 512000] },
  ],
  yLabel: 'TLB misses',
};
const CPUS = [1, 2, 4, 8, 16, 32, 64];
const LINE = {
  title: 'Fault throughput',
  x: { label: 'CPUs', values: CPUS, scale: 'log2' as const },
  series: [
    { name: 'flat', values: CPUS.map((c) => 1e5 * c) },
    { name: 'nested', values: CPUS.map((c) => (1e5 * c) / (1 + 0.05 * c)) },
    { name: 'managed', values: CPUS.map((c) => (8e4 * c) / (1 + 0.2 * c)) },
  ],
  yLabel: 'faults / s',
};
const PCT = {
  title: 'Fault latency',
  yLabel: 'ns',
  series: [
    { name: 'flat', p50: 800, p90: 1500, p99: 4200, p999: 9000 },
    { name: 'nested', p50: 1100, p90: 2500, p99: 8800, p999: 20000 },
  ],
};
const HIST = {
  title: 'IRQ latency',
  xLabel: 'ns',
  bins: [100, 200, 400, 800, 1600].map((lo, i) => ({
    lo,
    hi: lo * 2,
    count: [5, 40, 300, 900, 3][i] as number,
  })),
};

describe('barChart', () => {
  it('draws one bar per category and series, titled, with the axis label', async () => {
    const svg = checkSvg(await barChart(BAR), BAR.title);
    expect(markCount(svg, 'rect')).toBe(8);
    expect(svg).toContain('>TLB misses</text>');
    expect(svg).toContain('>1,000,000</text>');
    for (const d of DESIGNS) expect(svg).toContain(`>${d}</text>`);
  });

  it('draws bars on a log scale', async () => {
    const svg = checkSvg(await barChart({ ...BAR, yScale: 'log' }), BAR.title);
    expect(markCount(svg, 'rect')).toBe(8);
    expect(svg).toContain('>10M</text>');
  });

  it('has one bar per data point for any shape of input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), async (nc, ns) => {
        const categories = Array.from({ length: nc }, (_, i) => `c${i}`);
        const series = Array.from({ length: ns }, (_, j) => ({
          name: `s${j}`,
          values: categories.map((_, i) => (i + 1) * (j + 2)),
        }));
        const svg = checkSvg(await barChart({ title: 'T', categories, series, yLabel: 'y' }), 'T');
        expect(markCount(svg, 'rect')).toBe(nc * ns);
      }),
      { numRuns: 12 },
    );
  });

  it('escapes markup in labels', async () => {
    const svg = checkSvg(
      await barChart({ ...BAR, title: 'a <script>x</script> & b', categories: ['<b>', 'c', 'd', 'e'] }),
      'a &lt;script&gt;x&lt;/script&gt; &amp; b',
    );
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
  });
});

describe('lineChart', () => {
  it('draws a line per series and a point per value, with a tick at each CPU count', async () => {
    const svg = checkSvg(await lineChart(LINE), LINE.title);
    expect(markCount(svg, 'line')).toBe(3);
    expect(markCount(svg, 'symbol')).toBe(21);
    for (const c of CPUS) expect(svg).toContain(`>${c}</text>`);
    expect(svg).toContain('>CPUs</text>');
  });

  it('draws a linear x axis and a log y axis', async () => {
    const r = await lineChart({ ...LINE, x: { label: 'CPUs', values: CPUS }, yScale: 'log' });
    const svg = checkSvg(r, LINE.title);
    expect(markCount(svg, 'symbol')).toBe(21);
    expect(svg).toContain('>1M</text>');
  });
});

describe('percentileChart', () => {
  it('draws a dot per percentile and a rule per series', async () => {
    const svg = checkSvg(await percentileChart(PCT), PCT.title);
    expect(markCount(svg, 'symbol')).toBe(6);
    expect(markCount(svg, 'rule')).toBe(2);
    expect(svg).toContain('>p99</text>');
    expect(svg).not.toContain('>p99.9</text>');
  });

  it('draws chosen percentiles on a log scale', async () => {
    const r = await percentileChart({ ...PCT, percentiles: ['p50', 'p99', 'p999'], yScale: 'log' });
    const svg = checkSvg(r, PCT.title);
    expect(markCount(svg, 'symbol')).toBe(6);
    expect(svg).toContain('>p99.9</text>');
  });
});

describe('histogramChart', () => {
  it('draws one bar per bin, on linear and log axes', async () => {
    expect(markCount(checkSvg(await histogramChart(HIST), HIST.title), 'rect')).toBe(5);
    const log = checkSvg(await histogramChart({ ...HIST, xScale: 'log', yScale: 'log' }), HIST.title);
    expect(markCount(log, 'rect')).toBe(5);
  });
});

describe('determinism', () => {
  it('gives byte-identical SVG for the same input, whatever was rendered in between', async () => {
    const make = [
      () => barChart(BAR),
      () => lineChart(LINE),
      () => percentileChart(PCT),
      () => histogramChart(HIST),
    ];
    const first = await Promise.all(make.map((f) => f()));
    const second: Result<string>[] = [];
    for (const f of [...make].reverse()) second.unshift(await f());
    expect(second).toEqual(first);
  });

  it('renames vega ids to content-derived ones, the same whatever the counters were', () => {
    const mk = (n: number) =>
      `<svg><defs><clipPath id="clip${n}"><rect/></clipPath></defs><g clip-path="url(#clip${n})"/></svg>`;
    const a = stableSvgIds(mk(1));
    expect(a).toBe(stableSvgIds(mk(17)));
    expect(a).toMatch(
      /^<svg><defs><clipPath id="fl[0-9a-f]{8}-1"><rect\/><\/clipPath><\/defs><g clip-path="url\(#fl[0-9a-f]{8}-1\)"\/><\/svg>$/,
    );
    const prefix = (svg: string) => svg.match(/id="(fl[0-9a-f]{8})-/)?.[1];
    expect(prefix(stableSvgIds(mk(1).replace('<rect/>', '<circle/>')))).not.toBe(prefix(a));
    expect(stableSvgIds('<svg><g/></svg>')).toBe('<svg><g/></svg>');
  });
});

describe('logTicks', () => {
  it('covers the data with decades, adding 2x and 5x steps over short spans', () => {
    expect(logTicks([3, 40000])).toEqual({ ticks: [1, 10, 100, 1000, 10000, 100000], domain: [1, 100000] });
    expect(logTicks([0.5, 7])).toEqual({ ticks: [0.1, 0.2, 0.5, 1, 2, 5, 10], domain: [0.1, 10] });
    expect(logTicks([100, 100])).toEqual({ ticks: [100, 200, 500, 1000], domain: [100, 1000] });
    expect(logTicks([150, 3000], true)).toEqual({ ticks: [200, 500, 1000, 2000], domain: [150, 3000] });
  });
});

describe('invalid input', () => {
  const cases: [string, () => Promise<Result<string>>, string][] = [
    ['empty title', () => barChart({ ...BAR, title: ' ' }), 'title'],
    ['no categories', () => barChart({ ...BAR, categories: [], series: [] }), 'categories'],
    ['duplicate category', () => barChart({ ...BAR, categories: ['a', 'a', 'b', 'c'] }), 'appears twice'],
    ['short series', () => barChart({ ...BAR, series: [{ name: 'x', values: [1, 2, 3] }] }), 'expected 4'],
    [
      'NaN value',
      () => barChart({ ...BAR, series: [{ name: 'x', values: [1, Number.NaN, 3, 4] }] }),
      'finite',
    ],
    ['Infinity', () => barChart({ ...BAR, series: [{ name: 'x', values: [1, 2, 3, 1 / 0] }] }), 'finite'],
    [
      'zero on log',
      () => barChart({ ...BAR, yScale: 'log', series: [{ name: 'x', values: [1, 0, 3, 4] }] }),
      '> 0',
    ],
    ['bad scale', () => barChart({ ...BAR, yScale: 'sqrt' as 'log' }), 'yScale'],
    ['duplicate series', () => lineChart({ ...LINE, series: [LINE.series[0]!, LINE.series[0]!] }), 'twice'],
    [
      'x not increasing',
      () => lineChart({ ...LINE, x: { label: 'x', values: [1, 4, 2, 8, 16, 32, 64] } }),
      'increasing',
    ],
    ['0 on log2 x', () => lineChart({ ...LINE, x: { ...LINE.x, values: [0, 1, 2, 4, 8, 16, 32] } }), '> 0'],
    ['line length', () => lineChart({ ...LINE, x: { ...LINE.x, values: [1, 2] } }), 'expected 2'],
    ['no x label', () => lineChart({ ...LINE, x: { ...LINE.x, label: '' } }), 'x.label'],
    ['missing p99', () => percentileChart({ ...PCT, series: [{ name: 'a', p50: 1, p90: 2 }] }), 'p99'],
    [
      'p90 < p50',
      () => percentileChart({ ...PCT, series: [{ name: 'a', p50: 5, p90: 2, p99: 9 }] }),
      'non-decreasing',
    ],
    ['unknown pct', () => percentileChart({ ...PCT, percentiles: ['p75' as 'p50'] }), 'p75'],
    ['pct order', () => percentileChart({ ...PCT, percentiles: ['p99', 'p50'] }), 'ascending'],
    ['empty bins', () => histogramChart({ ...HIST, bins: [] }), 'bins'],
    ['overlap', () => histogramChart({ ...HIST, bins: [HIST.bins[1]!, HIST.bins[0]!] }), 'non-overlapping'],
    ['lo >= hi', () => histogramChart({ ...HIST, bins: [{ lo: 2, hi: 2, count: 1 }] }), 'lo < hi'],
    ['negative count', () => histogramChart({ ...HIST, bins: [{ lo: 1, hi: 2, count: -1 }] }), '>= 0'],
  ];
  it.each(cases)('%s gives INVALID_PLOT', async (_name, run, says) => {
    const r = await run();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('INVALID_PLOT');
      expect(r.message).toContain(says);
    }
  });
});
