/** Invalid simulated parts of scenario files: every problem as `file:line:col path: message`. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';

/** A simulated scenario: app.main runs a workload over memory paged on demand by manager. */
const SIM = `name: t
machine: { arch: x86_64, cpus: 2, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main }]
    behaviours:
      - synthetic: { thread: app.main, pattern: uniform, records: 100, footprint: 1M, seed: 1 }
  - name: manager
    ram: 8M
    caps: 20
    behaviours:
      - on_demand: { map: mem, chunk: 64K }
steps:
  - create_region_map: { name: mem, owner: manager, size: 1M }
  - attach: { map: app, dataspace: mem, at: 0x10000000, writeable: true }
  - simulate: {}
`;

/** The formatted problems of a scenario text (file `bad.yaml`), or [] when it loads. */
function problems(text: string): string[] {
  const r = loadScenario(text, 'bad.yaml');
  return r.ok ? [] : r.problems.map(formatProblem);
}

/** SIM with one text replaced (which must occur). */
function edit(from: string, to: string, text = SIM): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

describe('simulated scenarios load', () => {
  it('with behaviours, a simulate step and metric expectations', () => {
    expect(
      problems(
        `${SIM}  - expect_metrics: { records: 100, tlb.hitRate: { min: 0.5 }, mappings.4K: { max: records } }\n`,
      ),
    ).toEqual([]);
  });
});

describe('behaviours', () => {
  it.each([
    [
      'an unknown option, at its key',
      edit('seed: 1 }', 'seed: 1, colour: red }'),
      "bad.yaml:9:96 components[0].behaviours[0].synthetic.colour: unknown key 'colour'; expected one of: thread, pattern, records, footprint, seed, base, accessSize, writeRatio, modifyRatio, instrPerAccess, codeBase, codeFootprint, stride, skew, granule, scatter, phases, workingSet, phaseLength",
    ],
    [
      'an unknown behaviour',
      edit('- on_demand: { map: mem, chunk: 64K }', '- pager: { map: mem }'),
      "bad.yaml:14:9 components[1].behaviours[0].pager: unknown behaviour 'pager'; expected one of: on_demand, trace_player, synthetic",
    ],
    [
      'a bad pattern',
      edit('pattern: uniform', 'pattern: random'),
      "bad.yaml:9:49 components[0].behaviours[0].synthetic.pattern: expected 'sequential' or 'strided' or 'uniform' or 'zipf' or 'phased', got 'random'",
    ],
    [
      'a workload the generator rejects',
      edit('pattern: uniform', 'pattern: zipf'),
      'bad.yaml:9:20 components[0].behaviours[0].synthetic: invalid synthetic workload: skew undefined must be a number 0..10',
    ],
    [
      'a chunk that is not a power of two',
      edit('chunk: 64K', 'chunk: 48K'),
      'bad.yaml:14:39 components[1].behaviours[0].on_demand.chunk: an on_demand chunk is a power of two of at least one page (4K), got 0xc000',
    ],
    [
      'a handler CPU that does not exist',
      edit('chunk: 64K }', 'chunk: 64K, cpu: 2 }'),
      'bad.yaml:14:49 components[1].behaviours[0].on_demand.cpu: CPU 2 does not exist: the machine has 2 CPU(s), numbered from 0',
    ],
    [
      'a thread of another component',
      edit(
        '      - on_demand: { map: mem, chunk: 64K }',
        '      - on_demand: { map: mem, chunk: 64K }\n      - trace_player: { thread: app.other, trace: t.txt }',
        edit('threads: [{ name: main }]', 'threads: [{ name: main }, { name: other }]'),
      ),
      "bad.yaml:15:33 components[1].behaviours[1].trace_player.thread: a behaviour drives a thread of its own component: 'app.other' belongs to app, not manager",
    ],
    [
      'a thread driven twice',
      edit('seed: 1 }', 'seed: 1 }\n      - trace_player: { thread: app.main, trace: t.txt }'),
      "bad.yaml:10:33 components[0].behaviours[1].trace_player.thread: thread 'app.main' already runs the behaviour at line 9",
    ],
    [
      'an undefined thread',
      edit('thread: app.main,', 'thread: app.mian,'),
      "bad.yaml:9:30 components[0].behaviours[0].synthetic.thread: undefined thread 'app.mian'",
    ],
    [
      'a map not defined when the simulation starts',
      edit('  - simulate: {}\n', '').replace(
        '  - create_region_map',
        '  - simulate: {}\n  - create_region_map',
      ),
      "bad.yaml:14:27 components[1].behaviours[0].on_demand.map: undefined component or region map 'mem'",
    ],
    [
      'a map never defined (implicit simulation)',
      `${SIM.slice(0, SIM.indexOf('steps:'))}steps: [{ log: no map }]\n`,
      "bad.yaml:14:27 components[1].behaviours[0].on_demand.map: undefined component or region map 'mem'",
    ],
    [
      'a priority the scheduler does not have',
      edit('threads: [{ name: main }]', 'threads: [{ name: main, priority: 300 }]'),
      "bad.yaml:7:39 components[0].threads[0].priority: the scheduler's priorities are 0..255, got 300",
    ],
  ])('%s', (_what, text, problem) => {
    expect(problems(text)).toEqual([problem]);
  });
});

describe('design, machine and steps', () => {
  it.each([
    [
      'an unknown design',
      edit('steps:', 'design: fast\nsteps:'),
      "bad.yaml:15:9 design: unknown design 'fast'; expected one of genode, genode-single-pager, 4k-only, partitioned, trampoline, sync-core-rpc, local-rm, trampoline-pcid",
    ],
    [
      'an unknown override',
      edit('steps:', 'overrides: { pagers: single, speed: 2 }\nsteps:'),
      "bad.yaml:15:37 overrides.speed: unknown design option 'speed'; expected one of pagers, allocator, mapping, kernelEntry, asidTags, eagerMapping, irqDelivery, faultHandling, ipcTimeout",
    ],
    [
      'a bad override value',
      edit('steps:', 'overrides: { pagers: many }\nsteps:'),
      'bad.yaml:15:22 overrides.pagers: design option pagers=many is not valid; expected one of per-cpu, single',
    ],
    [
      'a bad TLB spec',
      edit('ram: 64M }', "ram: 64M, tlb: 'l1:0' }"),
      "bad.yaml:2:50 machine.tlb: invalid TLB spec 'l1:0': level 'l1' has 0 entries; expected a positive integer up to 65536",
    ],
    [
      'a kernel clamp with the simulator',
      edit('ram: 64M }', 'ram: 64M, kernel: { mapSizes: [4K] } }'),
      'bad.yaml:2:53 machine.kernel: machine.kernel clamps mapping sizes on a bare core only; a simulated scenario picks them by design (e.g. design 4k-only or overrides: { mapping: smallest })',
    ],
    [
      'simulate twice',
      `${SIM}  - simulate: {}\n`,
      'bad.yaml:19:15 steps[3].simulate: the machine runs once: there is a simulate step at line 18',
    ],
    [
      'simulate inside repeat',
      edit('  - simulate: {}\n', '  - repeat: { times: 1, steps: [{ simulate: {} }] }\n'),
      'bad.yaml:18:45 steps[2].repeat.steps[0].simulate: simulate is a top-level step: the machine runs once, not inside repeat (when i=0)',
    ],
  ])('%s', (_what, text, problem) => {
    expect(problems(text)).toEqual([problem]);
  });
});

describe('expect_metrics and irq', () => {
  const withStep = (step: string) => problems(`${SIM}  - ${step}\n`);

  it('an unknown metric, at its key, with the names there are', () => {
    expect(withStep('expect_metrics: { records: 100, faults.bogus: 1 }')[0]).toMatch(
      /^bad\.yaml:19:37 steps\[3\]\.expect_metrics\.faults\.bogus: unknown metric 'faults\.bogus'; expected one of: records, translations, .*, mappings\.SIZE \(e\.g\. mappings\.2M\), irq\.NAME\.METRIC$/,
    );
  });

  it.each([
    [
      'expect_metrics: { mappings.3K: 1 }',
      "bad.yaml:19:23 steps[3].expect_metrics.mappings.3K: 'mappings.3K' names no mapping size; expected e.g. mappings.4K, mappings.2M, mappings.1G",
    ],
    [
      'expect_metrics: { records: { min: recordz } }',
      "bad.yaml:19:39 steps[3].expect_metrics.records.min: unknown metric 'recordz'; expected one of: records, translations, tlb.hits, tlb.misses, tlb.hitRate, walks, faults.resolved, faults.reflected, faults.errors, faults.lost, faults.latency.p50, faults.latency.p99, faults.latency.max, faults.latency.count, pages.touched, cycles, cyclesBy.user, cyclesBy.kernel, cyclesBy.pager, cyclesBy.handler, shootdowns, crossCpu.messages, lock.waitCycles, lock.contended, steals, signals, chunks, mappings.SIZE (e.g. mappings.2M), irq.NAME.METRIC",
    ],
    [
      'expect_metrics: { records: { min: 5, max: 1 } }',
      'bad.yaml:19:32 steps[3].expect_metrics.records: min 5 is above max 1',
    ],
    [
      'expect_metrics: { records: {} }',
      'bad.yaml:19:32 steps[3].expect_metrics.records: expected min, max or both',
    ],
    [
      'expect_metrics: { records: many }',
      "bad.yaml:19:32 steps[3].expect_metrics.records: expected a number or {min, max}, got 'many'",
    ],
    [
      'expect_metrics: { irq.nic.packetsPerSecond: 1 }',
      "bad.yaml:19:23 steps[3].expect_metrics.irq.nic.packetsPerSecond: unknown IRQ run 'nic' in metric 'irq.nic.packetsPerSecond': no irq step comes before this one",
    ],
    [
      'irq: { rate_pps: 1000, duration_us: 10, speed: 3 }',
      "bad.yaml:19:45 steps[3].irq.speed: unknown key 'speed'; expected one of: name, delivery, cpus, queues, rate_pps, duration_us, packet_cycles, ring, flows, seed, timer",
    ],
    [
      'irq: { rate_pps: 1000, duration_us: 10, timer: { period_us: 5, cpu: 7 } }',
      'bad.yaml:19:10 steps[3].irq: the IRQ simulation cannot run: timer cpu 7: expected an integer 0..1',
    ],
    [
      'irq: { rate_pps: 0, duration_us: 10 }',
      'bad.yaml:19:22 steps[3].irq.rate_pps: expected a number > 0, got 0',
    ],
  ])('%s', (step, problem) => {
    expect(withStep(step)).toEqual([problem]);
  });

  it('machine metrics before the simulation ran', () => {
    const text = edit('  - simulate: {}\n', '  - expect_metrics: { records: 1 }\n  - simulate: {}\n');
    expect(problems(text)).toEqual([
      "bad.yaml:18:23 steps[2].expect_metrics.records: metric 'records' is measured by the simulation: put this step after a simulate step",
    ]);
  });

  it('two IRQ runs of one name; metrics of a named run', () => {
    expect(
      withStep('irq: { rate_pps: 1000, duration_us: 10 }\n  - irq: { rate_pps: 1000, duration_us: 20 }'),
    ).toEqual([
      "bad.yaml:20:10 steps[4].irq: IRQ run 'direct' is already defined: give each irq step its own name",
    ]);
    expect(
      withStep(
        'irq: { name: a, rate_pps: 1000, duration_us: 10 }\n  - expect_metrics: { irq.a.irqLatency.p99: { max: irq.a.irqLatency.max }, irq.a.bogus: 1 }',
      ),
    ).toEqual([
      expect.stringMatching(
        /^bad\.yaml:20:76 steps\[4\]\.expect_metrics\.irq\.a\.bogus: unknown metric 'irq\.a\.bogus'; an IRQ run has irq\.a\.\{packetsPerSecond, /,
      ),
    ]);
  });
});
