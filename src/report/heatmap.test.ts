import { describe, expect, it } from 'vitest';
import { heatmapChart } from './heatmap.js';

const spec = {
  title: 'Blast radius',
  rows: ['genode / none', 'sync-core-rpc / never-replies'],
  columns: ['victim', 'neighbour'],
  values: [
    [0.01, 0.01],
    [40, 40],
  ],
  labels: [
    ['8 µs', '7 µs'],
    ['∞', '∞'],
  ],
  legend: 'ms blocked',
};

describe('heatmapChart', () => {
  it('draws every cell with its label, the same bytes each time', async () => {
    const a = await heatmapChart(spec);
    const b = await heatmapChart(spec);
    expect(a.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.value).toBe(b.value);
    expect(a.value).toMatch(/^<svg/);
    for (const t of ['8 µs', '7 µs', '∞', 'victim', 'neighbour', 'sync-core-rpc / never-replies'])
      expect(a.value).toContain(t);
  });

  it('rejects a shape that does not match the rows and columns, and negative values', async () => {
    const short = await heatmapChart({ ...spec, values: [[1, 2]] });
    expect(short).toMatchObject({ ok: false, code: 'INVALID_PLOT' });
    expect(short.ok ? '' : short.message).toMatch(/values: expected 2 rows of 2 cells/);
    const negative = await heatmapChart({
      ...spec,
      values: [
        [1, -2],
        [3, 4],
      ],
    });
    expect(negative.ok ? '' : negative.message).toMatch(/finite numbers >= 0/);
  });
});
