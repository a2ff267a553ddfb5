/** Invalid scenario files: every problem is reported as `file:line:col path: message`. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';

const HEAD = `name: t
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main }]
`;

/** The formatted problems of a scenario text (file name `bad.yaml`), or [] when it loads. */
function problems(text: string): string[] {
  const r = loadScenario(text, 'bad.yaml');
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe('loadScenario accepts', () => {
  it('a minimal scenario, applying defaults', () => {
    const r = loadScenario(HEAD, 'ok.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.data.machine.cpus).toBe(1);
    expect(r.value.data.design).toBe('genode');
    expect(r.value.data.machine.ram).toBe(64 * 2 ** 20);
    expect(r.value.data.steps).toEqual([]);
  });

  it('numbers as integers, hex strings and sizes', () => {
    const r = loadScenario(
      `${HEAD}steps:\n  - alloc_ram: { name: a, owner: app, size: '0x2000' }\n  - alloc_ram: { name: b, owner: app, size: 4K }\n  - alloc_ram: { name: c, owner: app, size: 0x3000 }\n`,
      'ok.yaml',
    );
    expect(r.ok && r.value.data.steps).toEqual([
      { alloc_ram: { name: 'a', owner: 'app', size: 0x2000 } },
      { alloc_ram: { name: 'b', owner: 'app', size: 0x1000 } },
      { alloc_ram: { name: 'c', owner: 'app', size: 0x3000 } },
    ]);
  });
});

describe('loadScenario reports', () => {
  it('a YAML syntax error with its position', () => {
    expect(problems('name: t\nmachine: { arch: x86_64\nsteps: []\n')).toEqual([
      'bad.yaml:3:1: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(problems('name: t\nmachine:\n  arch: x86_64\n   ram: 4G\n')).toEqual([
      'bad.yaml:3:9: Nested mappings are not allowed in compact mappings',
      'bad.yaml:3:9: Implicit keys need to be on a single line',
    ]);
  });

  it('an unknown key at the key, with the keys allowed there', () => {
    expect(problems(`${HEAD}colour: red\n`)).toEqual([
      "bad.yaml:8:1 colour: unknown key 'colour'; expected one of: name, description, machine, design, overrides, costs, components, steps",
    ]);
    expect(
      problems(`${HEAD}steps:\n  - alloc_ram: { name: a, owner: app, size: 4K, colour: red }\n`),
    ).toEqual([
      "bad.yaml:9:49 steps[0].alloc_ram.colour: unknown key 'colour'; expected one of: name, owner, size, cpu, expect_error",
    ]);
  });

  it('a wrong type', () => {
    expect(problems(HEAD.replace('caps: 20', 'caps: many'))).toEqual([
      "bad.yaml:6:11 components[0].caps: expected number, got 'many'",
    ]);
    expect(problems(HEAD.replace('ram: 64M', 'ram: 64Q'))).toEqual([
      "bad.yaml:2:31 machine.ram: expected an integer, hex string (0x1000) or size (4K, 2M, 1G), got '64Q'",
    ]);
  });

  it('a missing required field at its mapping', () => {
    expect(problems(`${HEAD}steps:\n  - alloc_ram: { name: a, owner: app }\n`)).toEqual([
      "bad.yaml:9:16 steps[0].alloc_ram.size: missing required key 'size'",
    ]);
    expect(problems(HEAD.replace('name: t\n', ''))).toEqual([
      "bad.yaml:1:1 name: missing required key 'name'",
    ]);
  });

  it('an unknown step and a step with two keys', () => {
    expect(
      problems(`${HEAD}steps:\n  - atach: { map: app }\n  - { log: a, free: { dataspace: x, by: app } }\n`),
    ).toEqual([
      expect.stringMatching(
        /^bad\.yaml:9:5 steps\[0\]\.atach: unknown step 'atach'; expected one of: create_region_map, /,
      ),
      'bad.yaml:10:5 steps[1]: a step has exactly one key, got log, free',
    ]);
  });

  it('an invalid enum value', () => {
    expect(problems(`${HEAD}steps:\n  - expect_thread: { thread: app.main, state: sleeping }\n`)).toEqual([
      "bad.yaml:9:47 steps[0].expect_thread.state: expected 'ready' or 'running' or 'blocked-fault' or 'waiting-signal' or 'in-ipc' or 'waiting-disk' or 'dead-fault' or 'destroyed', got 'sleeping'",
    ]);
  });

  it('undefined component, thread, map, dataspace and signal references, in step order', () => {
    const text = `${HEAD}steps:
  - alloc_ram: { name: ds, owner: nobody, size: 4K }
  - read: { thread: app.mian, address: 0 }
  - read: { thread: ghost.main, address: 0 }
  - attach: { map: sub, dataspace: ds }
  - create_region_map: { name: sub, owner: app, size: 64K }
  - attach: { map: sub, dataspace: nothing }
  - expect_signal: { signal: sig, count: 1 }
  - fault_handler: { map: sub, signal: sig }
  - expect_signal: { signal: sig, count: 1 }
  - attach: { map: ds, dataspace: sub }
`;
    expect(problems(text)).toEqual([
      "bad.yaml:9:35 steps[0].alloc_ram.owner: undefined component 'nobody'",
      "bad.yaml:10:21 steps[1].read.thread: undefined thread 'app.mian'",
      "bad.yaml:11:21 steps[2].read.thread: undefined component 'ghost' in thread 'ghost.main'",
      "bad.yaml:12:20 steps[3].attach.map: undefined component or region map 'sub'",
      "bad.yaml:14:36 steps[5].attach.dataspace: undefined dataspace or region map 'nothing'",
      "bad.yaml:15:30 steps[6].expect_signal.signal: undefined signal 'sig'",
      "bad.yaml:18:20 steps[9].attach.map: 'ds' is a dataspace (defined at line 9), not a component or region map",
    ]);
  });

  it('a name defined twice, and a name defined only by a step expected to fail', () => {
    const text = `${HEAD}steps:
  - alloc_ram: { name: app, owner: app, size: 4K }
  - alloc_ram: { name: x, owner: app, size: 4K, expect_error: OUT_OF_RAM }
  - free: { dataspace: x, by: app }
`;
    expect(problems(text)).toEqual([
      "bad.yaml:9:24 steps[0].alloc_ram.name: 'app' is already defined at line 4 (as a component)",
      "bad.yaml:11:24 steps[2].free.dataspace: undefined dataspace or region map 'x'",
    ]);
  });

  it('placeholders: outside repeat, unknown variables, bad expressions, per-iteration names', () => {
    const text = `${HEAD}steps:
  - alloc_ram: { name: 'p\${i}', owner: app, size: 4K }
  - repeat:
      times: 2
      steps:
        - alloc_ram: { name: 'q\${j}', owner: app, size: 4K }
        - alloc_ram: { name: 'r\${i}', owner: app, size: '\${(i + 1) * }' }
        - alloc_ram: { name: same, owner: app, size: '\${(i + 1) * 4K}' }
`;
    expect(problems(text)).toEqual([
      `bad.yaml:9:24 steps[0].alloc_ram.name: in \${i}: unknown variable 'i' (no enclosing repeat or earlier attach var defines it) at column 2`,
      `bad.yaml:13:30 steps[1].repeat.steps[0].alloc_ram.name: in \${j}: unknown variable 'j' (variables here: i) at column 2 (when i=0)`,
      `bad.yaml:14:57 steps[1].repeat.steps[1].alloc_ram.size: in \${(i + 1) * }: unexpected end at column 11 (when i=0)`,
      "bad.yaml:15:30 steps[1].repeat.steps[2].alloc_ram.name: 'same' is already defined at line 15 (as a dataspace) (when i=1)",
    ]);
  });

  it('a placeholder filled with something that is not a number', () => {
    const text = `${HEAD}steps:
  - repeat: { times: 1, steps: [{ alloc_ram: { name: a, owner: app, size: '-\${i + 1}' } }] }
`;
    expect(problems(text)).toEqual([
      "bad.yaml:9:75 steps[0].repeat.steps[0].alloc_ram.size: expected an integer, hex string (0x1000) or size (4K, 2M, 1G), got '-1' (when i=0)",
    ]);
  });

  it('machine, component and cost problems', () => {
    const text = `name: t
machine: { arch: armv7, ram: 0x1800, cpus: 2, kernel: { mapSizes: [4K, 2M] } }
components:
  - { name: app, ram: 1M, caps: 20, threads: [{ name: main, cpu: 2 }, { name: main }] }
costs: { ipcRoundTrip: -1 }
`;
    expect(problems(text)).toEqual([
      'bad.yaml:2:30 machine.ram: RAM must be a positive multiple of the 4K page, got 0x1800',
      "bad.yaml:2:67 machine.kernel.mapSizes: kernel 'kernel' maps 2M, which armv7 does not support; expected a subset of 4K, 64K, 1M, 16M",
      'bad.yaml:4:66 components[0].threads[0].cpu: CPU 2 does not exist: the machine has 2 CPU(s), numbered from 0',
      "bad.yaml:4:79 components[0].threads[1].name: thread 'main' is already defined in app: threads may share a name when each has its own as",
      "bad.yaml:5:24 costs.ipcRoundTrip: cost 'ipcRoundTrip' is -1; expected a finite number of cycles >= 0",
    ]);
  });

  it('step rules the schema cannot express', () => {
    const text = `${HEAD}steps:
  - detach: { map: app }
  - fault_handler: { map: app }
  - write: { thread: app.main, address: 0, value: 256, expect: { value: 1 } }
  - expect_mapping: { thread: app.main, address: 0, none: true, size: 4K }
  - read: { thread: app.main, address: 0, expect: { mapping_size: 0x3000, error: { match: '(' } } }
`;
    expect(problems(text)).toEqual([
      'bad.yaml:9:13 steps[0].detach: detach needs either region, or map and at',
      'bad.yaml:10:20 steps[1].fault_handler: fault_handler needs either signal (to install) or remove: true',
      'bad.yaml:11:51 steps[2].write.value: a written byte is 0..255, got 256',
      'bad.yaml:11:73 steps[2].write.expect.value: expect.value applies to read only',
      'bad.yaml:12:59 steps[3].expect_mapping.none: none: true expects no mapping: drop size, writeable, executable and backed_by',
      'bad.yaml:13:67 steps[4].read.expect.mapping_size: mapping sizes are powers of two, got 0x3000',
      'bad.yaml:13:91 steps[4].read.expect.error.match: invalid regular expression: Invalid regular expression: /(/: Unterminated group',
    ]);
  });

  it('a repeat that runs too many steps', () => {
    const text = `${HEAD}steps:\n  - repeat: { times: 200000, steps: [{ log: x }] }\n`;
    expect(problems(text)).toEqual([
      'bad.yaml:9:22 steps[0].repeat.times: the scenario runs more than 100000 steps (repeats multiplied out)',
    ]);
  });

  it('all problems of a file, sorted by position', () => {
    const text = `name: t
machine: { arch: x86_65, ram: 4G, colour: red }
components: []
`;
    expect(problems(text)).toEqual([
      "bad.yaml:2:18 machine.arch: expected 'x86_32' or 'x86_32-pae' or 'x86_64' or 'armv7' or 'armv8' or 'riscv-sv39' or 'microblaze', got 'x86_65'",
      "bad.yaml:2:35 machine.colour: unknown key 'colour'; expected one of: arch, cpus, ram, tlb, kernel",
    ]);
  });
});
