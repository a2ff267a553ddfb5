/** The runner: expectations that fail, steps that cannot proceed, simulated scenarios and logging. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, type RunReport, runScenario } from './run.js';

const HEAD = `name: t
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main, ip: 0x1000 }, { name: other }]
steps:
`;

function run(text: string): RunReport {
  const loaded = loadScenario(text, 't.yaml');
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  const r = runScenario(loaded.value);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

const failures = (steps: string) => run(HEAD + steps).failures.map(formatFailure);

describe('failed expectations', () => {
  it('name the step, its position and what was expected vs got, and do not stop the run', () => {
    const r = run(`${HEAD}  - read: { thread: app.main, address: 0x44, expect: { outcome: mapped } }
  - log: still running
`);
    expect(r.failures.map(formatFailure)).toEqual([
      "t.yaml:9:5 step 1 (read): expected outcome mapped, got error: error: illegal READ at address 0x44 by pager_object: pd='init -> app' thread='main' ip=0x1000",
    ]);
    expect(r.stopped).toBe(false);
    expect(r.log).toContain('step 2 (line 10): log: still running');
    expect(r.log.at(-1)).toBe('result: 2 step(s), 1 expectation(s), 1 failed');
  });

  const SETUP = `  - alloc_ram: { name: ds, owner: app, size: 8K }
  - attach: { map: app, dataspace: ds, at: 0x10000000, writeable: true }
  - create_region_map: { name: sub, owner: app, size: 64K }
  - fault_handler: { map: sub, signal: sig }
  - attach: { map: app, dataspace: sub, at: 0x20000000 }
  - write: { thread: app.main, address: 0x10000010, value: 7 }
`;
  it.each([
    ['read: { thread: app.main, address: 0x10000010, expect: { value: 8 } }', 'expected value 0x8, got 0x7'],
    [
      'read: { thread: app.main, address: 0x10000010, expect: { mapping_size: 2M } }',
      'expected a 2M mapping, got 4K',
    ],
    [
      'read: { thread: app.main, address: 0x10000010, expect: { depth: 1 } }',
      'expected a fault resolved through 1 level(s), got hit',
    ],
    [
      'read: { thread: app.main, address: 0x10000010, expect: { backed_by: { dataspace: ds, offset: 0x11 } } }',
      'expected 0x10000010 to translate to ds+0x11 (0x40000011), got 0x40000010',
    ],
    [
      'read: { thread: app.other, address: 0x20000010, expect: { map: app } }',
      'expected the fault reflected to app (region map #2), got sub (region map #7)',
    ],
    [
      'read: { thread: app.other, address: 0x20000010, expect: { address: 0x11 } }',
      'expected the fault reflected at 0x11, got 0x10',
    ],
    [
      'read: { thread: app.other, address: 0x20000010, expect: { error: oops } }',
      "expected error 'oops', got no error (outcome reflected)",
    ],
    ['expect_fault: { map: sub, type: READ }', 'expected fault() READ, got NONE'],
    [
      'expect_thread: { thread: app.main, state: dead-fault }',
      'expected thread app.main dead-fault, got ready',
    ],
    ['expect_signal: { signal: sig, count: 1 }', "expected signal 'sig' with count 1, got 0"],
    [
      'expect_mapping: { thread: app.main, address: 0x10000010, none: true }',
      'expected no mapping at 0x10000010, got 4K 0x10000000 -> 0x40000000 rw-',
    ],
    [
      'expect_mapping: { thread: app.main, address: 0x10001000 }',
      'expected a mapping at 0x10001000, got none',
    ],
    [
      'expect_mapping: { thread: app.main, address: 0x10000000, writeable: false }',
      'expected writeable false, got true',
    ],
    ['expect_regions: { map: app, count: 1 }', 'expected 1 region(s), got 2'],
    [
      'expect_regions: { map: app, at: [0x10000000] }',
      'expected regions at [0x10000000], got [0x10000000, 0x20000000]',
    ],
    ['expect_quota: { component: app, caps_used: 1 }', 'expected 1 capabilities used, got 8'],
    ['attach: { map: app, dataspace: ds, expect: { at: 0 } }', 'expected the region at 0x0, got 0x2000'],
    [
      'attach: { map: app, dataspace: ds, at: 0x10000000 }',
      'unexpected REGION_CONFLICT: [0x10000000, 0x10002000) overlaps a region of region map #2',
    ],
    [
      'attach: { map: app, dataspace: ds, expect_error: OUT_OF_CAPS }',
      'expected OUT_OF_CAPS, but the operation succeeded',
    ],
    [
      'detach: { map: app, at: 0x30000000, expect_error: REGION_CONFLICT }',
      'expected REGION_CONFLICT, but the operation succeeded',
    ],
    ['free: { dataspace: ds, by: app, expect: { outcome: ignored } }', 'expected outcome ignored, got done'],
  ])('%s', (step, message) => {
    expect(failures(`${SETUP}  - ${step}\n`)).toEqual([
      `t.yaml:15:5 step 7 (${step.split(':')[0]}): ${message}`,
    ]);
  });
});

describe('steps that cannot proceed', () => {
  it('stop the run when a name was not created because its step failed', () => {
    const r = run(`${HEAD}  - alloc_ram: { name: big, owner: app, size: 2M }
  - attach: { map: app, dataspace: big }
  - log: never reached
`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:9:5 step 1 (alloc_ram): unexpected OUT_OF_RAM: a ram dataspace of 2M needs 2M of RAM quota but only 1016K of 1M is left',
      "t.yaml:10:5 step 2 (attach): cannot proceed: dataspace 'big' does not exist: step 1, which creates it, failed",
    ]);
    expect(r.stopped).toBe(true);
    expect(r.log.slice(-3)).toEqual([
      "  FAILED: cannot proceed: dataspace 'big' does not exist: step 1, which creates it, failed",
      'run stopped',
      'result: 2 step(s), 0 expectation(s), 2 failed, run stopped',
    ]);
  });

  it('stop before the steps when a component cannot be created', () => {
    const r = run(`name: t
machine: { arch: x86_64, ram: 64M }
components: [{ name: tiny, ram: 4K, caps: 10 }]
steps: [{ log: never }]
`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:3:14 step setup (setup): cannot create component tiny: a region map needs 8K of RAM quota but only 4K of 4K is left',
    ]);
    expect(r.stopped).toBe(true);
    expect(r.steps).toBe(0);
  });
});

const SIM = `name: t
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main }]
    behaviours:
      - synthetic: { thread: app.main, pattern: sequential, records: 512, footprint: 2M, accessSize: 4K, seed: 1 }
  - name: manager
    ram: 8M
    caps: 100
    behaviours:
      - on_demand: { map: mem, chunk: 64K }
steps:
  - create_region_map: { name: mem, owner: manager, size: 2M }
  - attach: { map: app, dataspace: mem, at: 0x10000000, writeable: true }
`;

describe('simulated scenarios', () => {
  it('behaviours run on the machine: 512 pages in 64K chunks, 32 reflected faults', () => {
    const r = run(`${SIM}  - simulate: {}
  - expect_metrics: { records: 512, faults.reflected: 32, chunks: 32, mappings.4K: 512, pages.touched: 512 }
  - expect_mapping: { thread: app.main, address: 0x101ff000, size: 4K }
`);
    expect(r.simulated).toBe(true);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(r.expectations).toBe(6);
    expect(r.metrics).toMatchObject({ records: 512, 'faults.resolved': 512, 'mappings.4K': 512 });
    expect(r.log).toContainEqual(
      expect.stringMatching(
        /^step 3 \(line 18\): simulate -> 512 record\(s\) in \d+ cycles \([\d.]+ µs at 3 GHz\)$/,
      ),
    );
  });

  it('without a simulate step the behaviours run after the last step', () => {
    const r = run(SIM);
    expect(r.log.at(-2)).toMatch(/^ {4}core events: /);
    expect(r.log).toContainEqual(
      expect.stringMatching(/^simulate \(implicit, after the last step\) -> 512 record\(s\)/),
    );
    expect(r.metrics.chunks).toBe(32);
    expect(r.steps).toBe(3);
  });

  it('a failed metric names it at its key; a bound may name another metric', () => {
    const r = run(`${SIM}  - simulate: {}
  - expect_metrics:
      faults.reflected: 31
      chunks: { min: 1, max: faults.resolved }
      tlb.misses: { max: chunks }
`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:20:7 step 4 (expect_metrics): expected faults.reflected = 31, got 32',
      't.yaml:22:7 step 4 (expect_metrics): expected tlb.misses <= chunks (32), got 512',
    ]);
  });

  it('a design other than genode runs the scripted steps on its core (4k-only maps 4K)', () => {
    const r = run(`name: t
machine: { arch: x86_64, ram: 64M }
design: 4k-only
components: [{ name: app, ram: 4M, caps: 20, threads: [{ name: main }] }]
steps:
  - alloc_ram: { name: ds, owner: app, size: 2M }
  - attach: { map: app, dataspace: ds, at: 0x200000 }
  - read: { thread: app.main, address: 0x200000, expect: { outcome: mapped, mapping_size: 4K } }
`);
    expect(r.failures).toEqual([]);
    expect(r.simulated).toBe(true);
    expect(r.log[2]).toMatch(
      /^simulator: design 4k-only \(pagers=per-cpu, allocator=global, mapping=smallest, /,
    );
    expect(r.log).not.toContainEqual(expect.stringContaining('simulate'));
  });

  it('overrides and costs shape the machine', () => {
    const r =
      run(`${SIM.replace('steps:', 'overrides: { mapping: smallest }\ncosts: { ipcRoundTrip: 1 }\nsteps:')}  - simulate: {}
`);
    expect(r.log[2]).toContain('mapping=smallest');
    expect(r.log[2]).toContain('costs ipcRoundTrip=1');
    const base = run(`${SIM}  - simulate: {}
`).metrics.cycles!;
    expect(r.metrics.cycles).toBeLessThan(base);
  });

  it('an on_demand handler whose map is gone stops the run', () => {
    const r = run(`${SIM}  - destroy_region_map: { map: mem }
  - simulate: {}
  - log: never
`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:19:5 step 4 (simulate): cannot proceed: cannot start the on_demand handler of mem: region map #8 was destroyed',
    ]);
    expect(r.stopped).toBe(true);
  });

  it('a player thread the quota cannot pay for is a setup failure', () => {
    const r = run(
      SIM.replace('caps: 20\n    threads: [{ name: main }]', 'caps: 2\n    threads: [{ name: main }]'),
    );
    expect(r.failures.map(formatFailure)).toEqual([
      "t.yaml:7:15 step setup (setup): cannot create thread main: thread 'main' needs 1 capabilities but only 0 of 2 are left",
    ]);
  });

  it('a trace_player whose records were not supplied cannot run', () => {
    const loaded = loadScenario(
      SIM.replace(
        '- synthetic: { thread: app.main, pattern: sequential, records: 512, footprint: 2M, accessSize: 4K, seed: 1 }',
        '- trace_player: { thread: app.main, trace: t.txt }',
      ),
      't.yaml',
    );
    if (!loaded.ok) throw new Error(loaded.message);
    const r = runScenario(loaded.value);
    expect(r.ok || r.problems.map(formatProblem)).toEqual([
      "t.yaml:9:50 components[0].behaviours[0].trace_player.trace: trace 't.txt' was not read: the caller supplies trace records (faultline run reads the file relative to the scenario)",
    ]);
  });

  /** SIM with a driver component `drv` whose nic behaviour has `args`. */
  const withNic = (args: string, quota = 'ram: 4M\n    caps: 20') =>
    SIM.replace(
      'steps:',
      `  - name: drv\n    ${quota}\n    behaviours:\n      - nic: { rate_pps: 1000000, duration_us: 100${args} }\nsteps:`,
    );

  it('a nic behaviour runs its NIC on the same machine: the program and the drivers share the CPU', () => {
    const r = run(`${withNic(', rings: ram')}  - simulate: {}
  - expect_metrics: { records: 512, nic.packets.handled: { min: nic.packets.arrived }, nic.driverFaults: { min: 1 } }
`);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(r.log).toContain(
      '    nic: 1 queue(s) of drv on cpu(s) 0 (static routes), 1000000 packets/s for 100 µs, rings ram, direct IRQ delivery',
    );
    expect(r.log).toContainEqual(
      expect.stringMatching(
        /^ {4}nic \(drv\): \d+ packets arrived, \d+ handled, 0 dropped; IRQ latency µs p50 /,
      ),
    );
    // Arrivals went on for 100 µs; the same program without the NIC finishes earlier.
    const alone = run(`${SIM}  - simulate: {}\n`).metrics;
    expect(r.metrics['nic.packets.arrived']).toBeGreaterThan(50);
    expect(r.metrics.cycles).toBeGreaterThan(alone.cycles!);
    expect(r.metrics['cyclesBy.user']).toBe(alone['cyclesBy.user']);
    expect(Number.isInteger(r.metrics.cycles)).toBe(true);
  });

  it('a NIC whose rings the driver cannot pay for stops the run at the simulation', () => {
    const r = run(`${withNic(', rings: ram', 'ram: 1M\n    caps: 20')}  - simulate: {}\n`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:23:5 step 3 (simulate): cannot proceed: cannot start the NIC of drv: a ram dataspace of 2M needs 2M of RAM quota but only 1016K of 1M is left',
    ]);
    expect(r.stopped).toBe(true);
  });

  it('an irq step runs the IRQ simulation in a bare-core scenario too', () => {
    const r = run(`${HEAD}  - irq: { name: nic, rate_pps: 100000, duration_us: 100, cpus: 2 }
  - expect_metrics: { irq.nic.droppedPackets: 0, irq.nic.irqLatency.count: { min: 1 }, irq.nic.packetsPerSecond: 1 }
`);
    expect(r.simulated).toBe(false);
    expect(r.log[3]).toMatch(
      /^step 1 \(line 9\): irq nic: direct delivery, 2 CPU\(s\), 100000 packets\/s for 100 µs -> 2 queue\(s\), \d+ packets\/s handled$/,
    );
    expect(r.failures.map(formatFailure)).toEqual([
      expect.stringMatching(
        /^t\.yaml:10:88 step 2 \(expect_metrics\): expected irq\.nic\.packetsPerSecond = 1, got \d+$/,
      ),
    ]);
  });
});

describe('the run log', () => {
  it('logs only the first iterations of a repeat, but every failure', () => {
    const r = run(`${HEAD}  - repeat:
      times: 5
      log: 1
      steps:
        - log: 'round \${i}'
        - read: { thread: app.main, address: 0x44, expect: { outcome: error } }
`);
    expect(r.log.slice(3)).toEqual([
      'step 1 (line 9): repeat 5 time(s) (i = 0..4)',
      '  step 1.1 [i=0] (line 13): log: round 0',
      "  step 1.2 [i=0] (line 14): read app.main at 0x44 -> error: illegal READ at address 0x44 by pager_object: pd='init -> app' thread='main' ip=0x1000",
      '      fault: main read at 0x44',
      "      error: illegal READ at address 0x44 by pager_object: pd='init -> app' thread='main' ip=0x1000",
      "  step 1.2 [i=1] (line 14): read app.main at 0x44 -> blocked: thread 'main' of pd 'init -> app' (dead-fault, cpu 0, ip 0x1000) cannot access memory while dead-fault",
      "    FAILED: expected outcome error, got blocked: blocked: thread 'main' of pd 'init -> app' (dead-fault, cpu 0, ip 0x1000) cannot access memory while dead-fault",
      expect.stringContaining('step 1.2 [i=2]'),
      expect.stringContaining('FAILED'),
      expect.stringContaining('step 1.2 [i=3]'),
      expect.stringContaining('FAILED'),
      expect.stringContaining('step 1.2 [i=4]'),
      expect.stringContaining('FAILED'),
      '  … 4 more iteration(s) ran without log (failures are logged)',
      'result: 10 step(s), 5 expectation(s), 4 failed',
    ]);
  });

  it('records explanations and core events beneath their step', () => {
    const r = run(`${HEAD}  - alloc_ram: { name: ds, owner: app, size: 4K }
  - attach: { map: app, dataspace: ds, at: 0x1000000 }
  - explain: { thread: app.main, address: 0x1000010 }
`);
    expect(r.log).toContain('    attach [0x1000000, 0x1001000) of region map #2: ram dataspace #6 r--');
    expect(r.log).toContain('      chosen: 4K, the largest supported size no constraint forbids');
    expect(r.failures).toEqual([]);
  });
});
