/**
 * The per-core scaling claims as assertions on the metrics: partitioned memory with per-CPU pagers needs
 * no cross-CPU message on the fault path; one global allocator's lock wait grows with CPUs; a
 * partition that runs dry steals, keeps the system working and counts the steal.
 */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { createThreadedWorkload } from '../workload/synthetic.js';
import { designOptions } from './designs.js';
import { buildScaleSystem, scalePoint } from './scale.js';

const MB = 2 ** 20;
const BASE = 2 ** 32;

function point(
  design: string,
  cpus: number,
  opts: { privateBytes?: number; ram?: number; records?: number; threads?: number } = {},
) {
  const privateBytes = opts.privateBytes ?? 4 * MB;
  const sources = unwrap(
    createThreadedWorkload({
      threads: opts.threads ?? cpus,
      recordsPerThread: opts.records ?? 20_000,
      sharedFootprint: 0,
      privateFootprint: privateBytes,
      shareRatio: 0,
      seed: 3,
      base: BASE,
      instrPerAccess: 0,
    }),
  );
  const sys = buildScaleSystem(sources, {
    cpus,
    design: unwrap(designOptions(design)),
    chunk: 64 * 1024,
    ram: opts.ram ? [{ base: 2 ** 30, size: opts.ram }] : undefined,
    layout: { privateBase: BASE, privateStride: privateBytes },
  });
  sys.machine.run();
  return { p: scalePoint(sys, design), sys };
}

describe('scaling across cores', () => {
  it('partitioned memory with per-CPU pagers: zero cross-CPU messages and no lock wait on the fault path', () => {
    const { p, sys } = point('partitioned', 8);
    expect(p.faults.count).toBeGreaterThan(8 * 64);
    expect(p.crossCpu.messages).toBe(0);
    expect(p.lock.waitCycles).toBe(0);
    expect(p.steals).toBe(0);
    expect(p.errors).toBe(0);
    expect(sys.threads.every((t) => t.done)).toBe(true);
  });

  it('one global allocator: lock wait grows with the number of CPUs', () => {
    const waits = [1, 2, 4, 8].map((c) => point('genode', c).p.lock.waitCycles);
    expect(waits[0]).toBe(0);
    for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThan(waits[i - 1]!);
    expect(point('genode', 8).p.crossCpu.messages).toBe(0);
  });

  it('a single pager on CPU 0 sends every fault of the other CPUs across and back', () => {
    const single = point('genode-single-pager', 4).p;
    const per = point('genode', 4).p;
    expect(single.faults.count).toBe(per.faults.count);
    expect(single.crossCpu.messages).toBeGreaterThan(0);
    expect(single.faults.latency.p99).toBeGreaterThan(per.faults.latency.p99);
  });

  it('a partition that runs dry steals from the next one: the run completes and the steal is counted', () => {
    // 40 MiB in 4 partitions of 10 MiB; three threads (CPUs 0-2) touch up to 12 MiB each, so
    // their partitions run dry and steal, while CPU 3's partition has memory to spare.
    const { p, sys } = point('partitioned', 4, {
      privateBytes: 12 * MB,
      ram: 40 * MB,
      records: 80_000,
      threads: 3,
    });
    expect(p.errors).toBe(0);
    expect(p.steals).toBeGreaterThan(0);
    expect(p.crossCpu.messages).toBeGreaterThanOrEqual(p.steals);
    expect(sys.threads.every((t) => t.done)).toBe(true);
    expect(sys.machine.core.phys.available(3)).toBeLessThan(10 * MB);
  });

  it('scaling runs are deterministic', () => {
    expect(JSON.stringify(point('genode', 4).p)).toBe(JSON.stringify(point('genode', 4).p));
  });

  it('faults/s per CPU is the clock over the mean fault latency: flat when handling scales, independent of the run length', () => {
    const at = (design: string, cpus: number, records: number) => {
      const { p, sys } = point(design, cpus, { records, privateBytes: 2 * MB });
      // The reference: 3e9 cycles per second over the exact mean latency of the resolved faults.
      const lat = sys.machine.faultLatency;
      expect(p.faults.perCpuRate).toBe(Math.round(3e9 / (lat.sum / lat.count)));
      return p.faults.perCpuRate;
    };
    const one = at('partitioned', 1, 6_000);
    // Partitioned memory with per-CPU pagers: every CPU's faults are served as fast as one alone.
    expect(at('partitioned', 4, 6_000)).toBe(one);
    // Four times the accesses after the memory is faulted in change nothing.
    expect(at('partitioned', 4, 24_000)).toBe(one);
    expect(
      Math.abs(at('genode-single-pager', 4, 24_000) / at('genode-single-pager', 4, 6_000) - 1),
    ).toBeLessThan(0.02);
    // One pager for four CPUs: each CPU gets its faults served at a fraction of that rate.
    expect(at('genode-single-pager', 4, 6_000)).toBeLessThan(one / 2);
  });
});
