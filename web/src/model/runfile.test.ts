/** Result files: replay and compare JSON are told apart, anything else is named as such. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TlbSample } from '../../../src/sim/tlb_samples.js';
import { entriesBySize, intervals, parseRunFile } from './runfile.js';

const golden = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../test/golden/replay_small.json'), 'utf8'),
);

function sample(records: number, hits: number, misses: number, valid: Record<string, number>[]): TlbSample {
  return {
    records,
    cycles: records * 2,
    hits,
    misses,
    cpus: [{ cpu: 0, levels: valid.map((v, i) => ({ name: `L${i}`, valid: v, hits: 0, misses: 0 })) }],
  };
}

describe('parseRunFile', () => {
  it('recognises a replay and a comparison', () => {
    expect(parseRunFile(golden, 'r.json')).toMatchObject({ kind: 'replay', result: { design: 'genode' } });
    const cmp = parseRunFile(
      { results: [golden, { ...golden, design: '4k-only' }], trace: { file: 't' } },
      'c.json',
    );
    expect(cmp).toMatchObject({ kind: 'compare', trace: 't' });
    if (!('kind' in cmp) || cmp.kind !== 'compare') throw new Error('not a comparison');
    expect(cmp.results.map((r) => r.design)).toEqual(['genode', '4k-only']);
  });

  it('names what it expected otherwise', () => {
    expect(parseRunFile({ results: [] }, 'x.json')).toEqual({
      error: expect.stringMatching(/^x\.json: "results" must hold/),
    });
    expect(parseRunFile([1, 2], 'x.json')).toEqual({
      error: expect.stringMatching(/^x\.json: not the output of faultline replay/),
    });
    expect(parseRunFile(null, 'x.json')).toEqual({ error: 'x.json: expected a JSON object' });
  });
});

describe('samples', () => {
  it('sums entries by size over the levels of a CPU', () => {
    const s = sample(10, 0, 0, [{ '4K': 3 }, { '2M': 2 }, { '4K': 5, '2M': 1 }]);
    expect(entriesBySize(s, 0)).toEqual({ '4K': 8, '2M': 3 });
    expect(entriesBySize(s, 1)).toEqual({});
  });

  it('turns cumulative counts into per-interval hit rates and misses', () => {
    const s = [sample(100, 90, 10, []), sample(200, 190, 10, []), sample(300, 240, 60, [])];
    expect(intervals(s)).toEqual([
      { records: 100, rate: 0.9, misses: 10 },
      { records: 200, rate: 1, misses: 0 },
      { records: 300, rate: 0.5, misses: 50 },
    ]);
  });
});
