import { describe, expect, it } from 'vitest';
import { arch } from '../hw/arch.js';
import { DEFAULT_COSTS } from '../sim/cost.js';
import { DESIGNS, designOptions } from '../sim/designs.js';
import { buildTracedSystem, type RunResult, summarize } from '../sim/replay.js';
import { runConfig } from '../sim/run_config.js';
import { unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import { panelChart } from './plot_panels.js';
import { comparisonChart, comparisonHtml, comparisonTable, summaryText } from './run_report.js';

/** A small run of a design, with its configuration as the command line adds it. */
function result(design: string, overrides: Record<string, string> = {}): RunResult {
  const options = unwrap(designOptions(design, overrides));
  const src = unwrap(createWorkload({ pattern: 'uniform', records: 5000, footprint: 2 ** 22, seed: 2 }));
  const sys = buildTracedSystem([src], { cpus: 2, design: options, attribution: true });
  sys.machine.run();
  const costs = { ...DEFAULT_COSTS, ipi: 999 };
  const config = runConfig({
    version: '9.9.9',
    design,
    options,
    arch: 'x86_64',
    cpus: 2,
    tlb: arch('x86_64').tlb,
    costs,
    chunk: 2 ** 21,
    seed: 1,
    window: { skip: 10, warmup: 20, limit: null, interval: 100 },
    top: 3,
    trace: { file: 'prog.trace', format: 'lackey', gzip: true, records: 5030 },
  });
  return { ...summarize(sys, design, { top: 3 }), config };
}

describe('text reports', () => {
  it('start with the configuration, then the figures, the TLB stages and the top lists', () => {
    const r = result('genode', { pagers: 'single', mapping: 'smallest' });
    const text = summaryText(r);
    const lines = text.split('\n');
    expect(lines[0]).toBe('faultline:      9.9.9');
    expect(text).toContain('trace:          prog.trace (lackey, gzip, 5,030 records read)');
    expect(text).toMatch(
      /^machine: +x86_64, 2 CPUs, TLB L1i:128x8:4k\|L1i-big:8:2m,.*design genode \(pagers=single mapping=smallest\), costs ipi=999$/m,
    );
    expect(text).toContain('costs:          defaults except ipi=999');
    expect(text).toContain(
      'records:        10 records skipped, 20 records of warm-up (statistics reset after them), then every record measured, figures every 100 records',
    );
    // One row per lookup stage, parallel levels joined as in --tlb.
    for (const s of ['L1i|L1i-big', 'L1d|L1d-big', 'L2'])
      expect(text).toMatch(new RegExp(`^${s.replace('|', '\\|')} `, 'm'));
    const l1d = r.tlb.stages[1]!;
    expect(text).toMatch(
      new RegExp(
        `^L1d\\|L1d-big +data +${l1d.lookups.toLocaleString('en-US')} +${l1d.hits.toLocaleString('en-US')} `,
        'm',
      ),
    );
    // The top lists: three pages and instructions by misses, with shares of all misses.
    const top = r.top!.tlbMisses;
    expect(top.pages).toHaveLength(3);
    const first = new RegExp(
      `^1 +${top.pages[0]!.address} +${top.pages[0]!.count} +${((100 * top.pages[0]!.count) / top.total).toFixed(2)}( |$)`,
      'm',
    );
    expect(text).toMatch(first);
  });

  it('show each design side by side and then each one’s details', () => {
    const text = comparisonTable([result('genode'), result('4k-only')]);
    expect(text).toMatch(/^design 4k-only: +pagers=per-cpu allocator=global mapping=smallest /m);
    expect(text).not.toMatch(/^design options:/m);
    expect(text).toMatch(/^ +genode +4k-only$/m);
    expect(text.indexOf('TLB levels (genode)')).toBeLessThan(text.indexOf('TLB levels (4k-only)'));
  });
});

describe('the comparison chart', () => {
  it('shows absolute values and every design name in full, even with six designs', async () => {
    const designs = DESIGNS.map((d) => d.name);
    expect(designs.length).toBeGreaterThanOrEqual(6);
    const results = designs.map((d) => result(d));
    const svg = unwrap(await comparisonChart(results, 'designs on prog.trace'));
    for (const d of designs) expect(svg).toContain(`>${d}</text>`);
    for (const r of results) expect(svg).toContain(`>${r.tlb.misses.toLocaleString('en-US')}</text>`);
    expect(svg).toContain(`>${results[0]!.cycles.toLocaleString('en-US')}</text>`);
    expect(svg).not.toContain('…'); // no label cut short
    expect(svg).not.toMatch(/rotate\(-/); // no slanted labels
    expect(svg).not.toMatch(/relative to/);
  });

  it('rejects bad input with INVALID_PLOT', async () => {
    const bad = await panelChart({
      title: 't',
      categories: ['a', 'a'],
      panels: [{ name: 'x', values: [1, 2] }],
    });
    expect(bad.ok || bad.code).toBe('INVALID_PLOT');
    const neg = await panelChart({ title: 't', categories: ['a'], panels: [{ name: 'x', values: [-1] }] });
    expect(neg.ok ? '' : neg.message).toMatch(/>= 0/);
  });
});

describe('the HTML report', () => {
  it('is titled as asked and carries the configuration, the stages and the top lists', async () => {
    const r = result('genode');
    const svg = unwrap(await comparisonChart([r], 'genode on prog.trace'));
    const html = unwrap(
      comparisonHtml([r], svg, [['command', 'faultline replay prog.trace --cpus 2']], {
        title: 'faultline replay',
        subtitle: 'genode on prog.trace',
      }),
    );
    expect(html).toContain('<title>faultline replay</title>');
    expect(html).toContain('<dd>faultline replay prog.trace --cpus 2</dd>');
    expect(html).toContain('<h2>Configuration</h2>');
    expect(html).toContain(
      '<td>x86_64, 2 CPUs, TLB L1i:128x8:4k|L1i-big:8:2m,L1d:64x4:4k|L1d-big:32x4:2m,L2:1536x12:4k+2m, design genode, costs ipi=999</td>',
    );
    expect(html).toContain('<td>L1d|L1d-big</td>');
    expect(html).toContain(`<td>${r.top!.tlbMisses.pages[0]!.address}</td>`);
    const cmp = unwrap(comparisonHtml([r, result('4k-only')], svg, []));
    expect(cmp).toContain('<title>faultline comparison</title>');
  });
});
