/** Invalid simulated parts of scenario files: every problem as `file:line:col path: message`. */
import { describe, expect, it } from 'vitest';
import { DESIGNS, optionChoices } from '../sim/designs.js';
import { loadScenario } from './load.js';
import { MACHINE_METRICS } from './metrics.js';
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
      "bad.yaml:14:9 components[1].behaviours[0].pager: unknown behaviour 'pager'; expected one of: on_demand, trace_player, synthetic, nic",
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
      'a RAM limit below one chunk (issue 16)',
      edit('chunk: 64K }', 'chunk: 64K, ram: 32K }'),
      'bad.yaml:14:49 components[1].behaviours[0].on_demand.ram: a RAM limit of 0x8000 holds no chunk of 64K',
    ],
    [
      'a RAM limit under the kernel pager',
      edit('chunk: 64K }', 'chunk: 64K, ram: 1M }', edit('name: t\n', 'name: t\ndesign: kernel-swap\n')),
      'bad.yaml:15:49 components[1].behaviours[0].on_demand.ram: in a scenario the on_demand handler swaps (a dataspace manager); the kernel pager (swap=kernel) runs with replay and compare',
    ],
    [
      'a RAM limit under a synchronous fault-handling design',
      edit('chunk: 64K }', 'chunk: 64K, ram: 1M }', edit('name: t\n', 'name: t\ndesign: local-rm\n')),
      'bad.yaml:15:49 components[1].behaviours[0].on_demand.ram: a swapping dataspace manager takes fault signals: it needs faultHandling=async (the design has local-rm)',
    ],
    [
      'a swapping manager that misbehaves',
      edit('chunk: 64K }', 'chunk: 64K, ram: 1M, misbehave: dies }'),
      'bad.yaml:14:64 components[1].behaviours[0].on_demand.misbehave: a swapping dataspace manager (ram:) does not misbehave',
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

describe('the nic behaviour', () => {
  /** SIM with a driver component whose nic behaviour has `args` added to its required ones. */
  const nic = (args = '', more = '') =>
    edit(
      'steps:',
      `  - name: drv\n    ram: 8M\n    caps: 20\n    behaviours:\n      - nic: { rate_pps: 1000000, duration_us: 100${args} }\n${more}steps:`,
    );

  it('loads with every option, and its metrics are known after simulate', () => {
    expect(
      problems(
        `${nic(', queues: 3, routing: [0, 1, 1], rings: managed, ring_chunk: 64K, ring_pager_cpu: 1, balance: irqbalance, balance_interval_us: 10, packet_cycles: 500, ring: 64, flows: 8, seed: 2')}  - expect_metrics: { nic.irqLatency.p99: { max: 5 }, nic.driverFaults: 0, nic.migrations.count: { min: 1 } }\n`,
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'a routing CPU that does not exist',
      nic(', routing: { cpu: 2 }'),
      'bad.yaml:19:69 components[2].behaviours[0].nic.routing.cpu: CPU 2 does not exist: the machine has 2 CPU(s), numbered from 0',
    ],
    [
      'a routing list of the wrong length',
      nic(', queues: 3, routing: [0, 1]'),
      'bad.yaml:19:73 components[2].behaviours[0].nic.routing: the NIC cannot run: routing lists 2 CPU(s) for 3 queue(s): expected one per queue',
    ],
    [
      'a routing that is none of the three forms',
      nic(', routing: cpu0'),
      "bad.yaml:19:62 components[2].behaviours[0].nic.routing: expected 'spread', { cpu: N } or a list of CPUs, one per queue, got 'cpu0'",
    ],
    [
      'a ring chunk that is not a power of two',
      nic(', rings: managed, ring_chunk: 48K'),
      'bad.yaml:19:81 components[2].behaviours[0].nic.ring_chunk: a ring chunk is a power of two of at least one page (4K), got 0xc000',
    ],
    [
      'a balance interval with static routes',
      nic(', balance_interval_us: 10'),
      'bad.yaml:19:74 components[2].behaviours[0].nic.balance_interval_us: balance_interval_us needs balance: irqbalance',
    ],
    [
      'two NICs',
      nic('', '      - nic: { rate_pps: 1000, duration_us: 10 }\n'),
      'bad.yaml:20:14 components[2].behaviours[1].nic: the machine has one NIC: there is a nic behaviour at line 19',
    ],
    [
      'NIC metrics without a NIC',
      `${SIM}  - expect_metrics: { nic.driverFaults: 0 }\n`,
      "bad.yaml:19:23 steps[3].expect_metrics.nic.driverFaults: metric 'nic.driverFaults' is measured on the NIC of a nic behaviour, and no component has one",
    ],
    [
      'an unknown NIC metric',
      `${nic()}  - expect_metrics: { nic.timer.read: 0 }\n`,
      "bad.yaml:24:23 steps[3].expect_metrics.nic.timer.read: unknown metric 'nic.timer.read'; the NIC has nic.{packetsPerSecond, irqLatency.p50, irqLatency.p99, irqLatency.max, irqLatency.count, lostInterrupts, droppedPackets, packets.arrived, packets.handled, packets.handledInDuration, packets.dropped, packets.queued, endCycles, violations.deliveredWhileMasked, violations.misrouted, migrations.count, migrations.cycles, migrations.rebalances, driverFaults}",
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
      `bad.yaml:15:9 design: unknown design 'fast'; expected one of ${DESIGNS.map((d) => d.name).join(', ')}`,
    ],
    [
      'an unknown override',
      edit('steps:', 'overrides: { pagers: single, speed: 2 }\nsteps:'),
      `bad.yaml:15:37 overrides.speed: unknown design option 'speed'; expected one of ${Object.keys(optionChoices()).join(', ')}`,
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
      /^bad\.yaml:19:37 steps\[3\]\.expect_metrics\.faults\.bogus: unknown metric 'faults\.bogus'; expected one of: records, translations, .*, mappings\.SIZE \(e\.g\. mappings\.2M\), nic\.METRIC, irq\.NAME\.METRIC$/,
    );
  });

  it.each([
    [
      'expect_metrics: { mappings.3K: 1 }',
      "bad.yaml:19:23 steps[3].expect_metrics.mappings.3K: 'mappings.3K' names no mapping size; expected e.g. mappings.4K, mappings.2M, mappings.1G",
    ],
    [
      'expect_metrics: { records: { min: recordz } }',
      `bad.yaml:19:39 steps[3].expect_metrics.records.min: unknown metric 'recordz'; expected one of: ${MACHINE_METRICS.join(', ')}, mappings.SIZE (e.g. mappings.2M), nic.METRIC, irq.NAME.METRIC`,
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
      "bad.yaml:19:45 steps[3].irq.speed: unknown key 'speed'; expected one of: name, delivery, cpus, queues, rate_pps, duration_us, packet_cycles, ring, flows, seed, routing, balance, balance_interval_us, timer",
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
