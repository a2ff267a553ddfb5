import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import { designOptions } from './designs.js';
import { SAMPLE_CYCLES } from './machine_timeline.js';
import { buildTracedSystem } from './replay.js';
import { CPU_PID, Timeline, type TraceEvent } from './timeline.js';
import { checkTimeline } from './timeline_check.js';

const MB = 2 ** 20;

function record(
  design: string,
  cpus: number,
  threads: number,
  handlerCpu?: number,
  overrides: Record<string, string> = {},
) {
  const timeline = new Timeline(3000);
  const sources = Array.from({ length: threads }, (_, i) =>
    unwrap(
      createWorkload({
        pattern: 'uniform',
        // With two threads, thread 0 soon runs from its TLB, for long, while thread 1 keeps faulting.
        records: i === 0 && threads > 1 ? 1_500_000 : 40_000,
        footprint: i === 0 && threads > 1 ? 64 * 1024 : 8 * MB,
        seed: 3 + i,
        base: 2 ** 30 * (i + 1),
      }),
    ),
  );
  const sys = buildTracedSystem(sources, {
    cpus,
    design: unwrap(designOptions(design, overrides)),
    timeline,
    handlerCpu,
  });
  sys.machine.run();
  const json = timeline.toJSON();
  expect(checkTimeline(json)).toEqual([]);
  return { sys, events: json.traceEvents };
}

/** Names of the CPU tracks, and the slices on CPU n's track. */
const cpuTracks = (ev: readonly TraceEvent[]) =>
  ev
    .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === CPU_PID)
    .map((e) => (e.args as { name: string }).name)
    .sort();
const onCpu = (ev: readonly TraceEvent[], n: number) =>
  ev.filter((e) => e.ph === 'X' && e.pid === CPU_PID && e.tid === CPU_PID * 1000 + n + 1);

describe('MachineTimeline', () => {
  it('gives every CPU that did anything a track: user code, pager and handler work', () => {
    // Threads on CPUs 0 and 1, the handler on CPU 2, one pager on CPU 0; CPU 3 stays idle. With
    // 4K mappings faults go on all along, and the pager's work for thread 1 often preempts thread 0
    // under a slice already drawn: it is drawn after that slice (clipped) or as an instant (hidden).
    const { sys, events } = record('genode-single-pager', 4, 2, 2, { mapping: 'smallest' });
    expect(cpuTracks(events)).toEqual(['CPU 0', 'CPU 1', 'CPU 2']);
    const names = (n: number) => new Set(onCpu(events, n).map((e) => e.name));
    // CPU 0 runs thread 0, takes its faults and runs the single pager, which receives thread 1's
    // faults by IPI; CPU 1 only runs thread 1 and enters the kernel for its faults.
    for (const n of ['thread 0', 'page-fault entry', 'pager ep 0', 'IPI: fault to pager', 'pager reply'])
      expect(names(0)).toContain(n);
    for (const n of ['thread 1', 'page-fault entry', 'pager reply']) expect(names(1)).toContain(n);
    expect(names(1)).not.toContain('pager ep 0');
    expect(names(2)).toContain('handler');
    expect(names(2)).toContain('signal');
    // The pager preempts thread 0: thread 0's run is cut into pieces around the pager's.
    expect(sys.machine.cpus[0]!.preemptions).toBeGreaterThan(0);
    // Nothing else runs on CPU 2: its handler slices add up to the handler's cycles plus the
    // address-space switches into the handler's PD (kernel cycles).
    const pieces = onCpu(events, 2).filter((e) => e.name === 'handler');
    const us = pieces.reduce((a, e) => a + (e as { dur: number }).dur, 0);
    const c2 = sys.machine.cpus[2]!;
    // Each piece's times are rounded to whole nanoseconds (3 cycles) in the JSON.
    const slack = pieces.length * 3;
    expect(us * 3000).toBeGreaterThanOrEqual(c2.handlerCycles - slack);
    expect(us * 3000).toBeLessThanOrEqual(c2.handlerCycles + c2.kernelCycles + slack);
  });

  it('samples the counters over time, and the samples add up to the run’s totals', () => {
    const { sys, events } = record('4k-only', 2, 1);
    const misses = events.filter((e) => e.ph === 'C' && e.name === 'TLB misses');
    const faults = events.filter((e) => e.ph === 'C' && e.name === 'page faults');
    const t = sys.threads[0]!;
    const sum = (es: TraceEvent[]) => es.reduce((a, e) => a + (e.args as { main: number }).main, 0);
    expect(sum(misses)).toBe(t.tlbMisses);
    expect(sum(faults)).toBe(t.faults);
    const times = misses.map((e) => (e as { ts: number }).ts);
    expect(new Set(times).size).toBe(times.length);
    // One sample per sampling period at least while the thread runs (4K pages fault all along).
    expect(times.length).toBeGreaterThan((sys.machine.elapsed / SAMPLE_CYCLES) * 0.5);
    expect(events.some((e) => e.ph === 'C' && e.name === 'TLB hit rate')).toBe(true);
  });
});
