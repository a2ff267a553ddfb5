/**
 * TLB samples report what the TLBs hold: after a replay on a machine whose mappings are all 2M,
 * the data level holds 2M entries only; records, hits and misses match the thread's counters.
 */
import { describe, expect, it } from 'vitest';
import { designOptions } from './designs.js';
import { buildTracedSystem } from './replay.js';
import { PushSource } from './sim_thread.js';
import { sampleTlbs } from './tlb_samples.js';
import { LOAD, TraceBatch } from './trace_batch.js';

function run(design: string, pages: number) {
  const src = new PushSource();
  const d = designOptions(design, {});
  if (!d.ok) throw new Error(d.message);
  const sys = buildTracedSystem([src], { arch: 'x86_64', cpus: 2, design: d.value });
  const b = new TraceBatch(pages * 2);
  for (let i = 0; i < pages * 2; i++) b.push(LOAD, 0x10000000 + (i % pages) * 4096, 8);
  src.push(b);
  sys.machine.kick(sys.threads[0]!);
  sys.machine.run();
  src.end();
  sys.machine.kick(sys.threads[0]!);
  sys.machine.run();
  return sys;
}

describe('sampleTlbs', () => {
  it('counts valid entries by page size per CPU and level', () => {
    const sys = run('4k-only', 8);
    const s = sampleTlbs(sys.machine);
    expect(s.cpus.map((c) => c.cpu)).toEqual([0, 1]);
    const t = sys.threads[0]!;
    expect(s.records).toBe(t.records);
    expect([s.hits, s.misses]).toEqual([t.tlbHits, t.tlbMisses]);
    const cpu0 = s.cpus[0]!.levels;
    const total4k = cpu0.reduce((n, l) => n + (l.valid['4K'] ?? 0), 0);
    // Eight distinct 4K pages were touched and fit every level: each is held at least once.
    expect(total4k).toBeGreaterThanOrEqual(8);
    expect(cpu0.every((l) => Object.keys(l.valid).every((k) => k === '4K'))).toBe(true);
    const levelStats = sys.machine.cpus[0]!.tlb.stats();
    expect(cpu0.map((l) => [l.name, l.hits, l.misses])).toEqual(
      levelStats.map((l) => [l.name, l.hits, l.misses]),
    );
  });

  it('sees 2M entries where the design maps 2M', () => {
    const s = sampleTlbs(run('genode', 8).machine);
    const sizes = new Set(s.cpus[0]!.levels.flatMap((l) => Object.keys(l.valid)));
    expect(sizes.has('2M')).toBe(true);
    expect(sizes.has('4K')).toBe(false);
  });
});
