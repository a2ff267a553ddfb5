/**
 * `--tlb-samples` (for the visualizer's replay panel): replay and compare add each run's TLB
 * samples to their JSON, the last one agreeing with the run's totals; without the flag the JSON
 * has no such field.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from './replay_run.js';
import { runOptions } from './run_options.js';

const ROOT = join(import.meta.dirname, '..', '..');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

interface Sample {
  records: number;
  hits: number;
  misses: number;
  cpus: { cpu: number; levels: { name: string; valid: Record<string, number> }[] }[];
}

describe('--tlb-samples', () => {
  it('replay: samples after each batch and at the end; the last matches the totals', () => {
    const j = cli('replay', 'test/fixtures/lackey_small.txt', '--json', '--cpus', '2', '--tlb-samples');
    const s = j.tlbSamples as Sample[];
    expect(s.length).toBeGreaterThanOrEqual(1);
    const last = s.at(-1)!;
    expect(last.records).toBe(j.records);
    expect([last.hits, last.misses]).toEqual([j.tlb.hits, j.tlb.misses]);
    expect(last.cpus.map((c) => c.cpu)).toEqual([0, 1]);
    // genode maps the three 2M chunks with 2M pages: the TLBs hold no 4K entry.
    const sizes = new Set(last.cpus[0]!.levels.flatMap((l) => Object.keys(l.valid)));
    expect([...sizes]).toEqual(['2M']);
  });

  it('every run of a comparison samples its own TLBs; none without the hook', async () => {
    const trace = join(ROOT, 'test/fixtures/lackey_small.txt');
    const runs = runOptions(['genode', '4k-only'], { cpus: '2' });
    const out = await replay(trace, runs, { tlbSamples: true });
    const sizes = (s: readonly Sample[]) =>
      new Set(s.at(-1)!.cpus[0]!.levels.flatMap((l) => Object.keys(l.valid)));
    expect([...sizes(out.samples[0]!)]).toEqual(['2M']);
    expect([...sizes(out.samples[1]!)]).toEqual(['4K']);
    expect(out.samples[1]!.at(-1)!.records).toBe(out.results[1]!.records);
    const plain = await replay(trace, runs, {});
    expect(plain.samples).toEqual([[], []]);
  });
});
