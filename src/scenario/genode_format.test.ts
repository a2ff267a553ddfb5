/**
 * What the scenario format needs to state Genode's tests as they are written: stack and linker
 * areas per component, components and threads created during a run, several threads with one
 * name, the address an attach chose (`var`), a foreign free that silently succeeds, and checks
 * on every error line (`expect_errors`).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, type RunReport, runScenario } from './run.js';

const HEAD = `name: t
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 30
    areas: true
    threads: [{ name: ep, ip: 0x1000 }]
steps:
`;

function run(text: string): RunReport {
  const loaded = loadScenario(text, 't.yaml');
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  const r = runScenario(loaded.value);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

function problems(text: string): string[] {
  const r = loadScenario(text, 'bad.yaml');
  return r.ok ? [] : r.problems.map(formatProblem);
}

const lines = (r: RunReport, re: RegExp) => r.log.filter((l) => re.test(l));

describe('stack and linker areas', () => {
  it('are region maps named COMPONENT.stack_area and .linker_area, attached at 0x40000000 and 0x50000000', () => {
    const r = run(`${HEAD}  - fault_handler: { map: app.stack_area, signal: stack }
  - read: { thread: app.ep, address: 0x40001234, expect: { outcome: reflected, map: app.stack_area, address: 0x1234 } }
  - expect_fault: { map: app.stack_area, type: READ, address: 0x1234 }
  - expect_regions: { map: app, at: [0x40000000, 0x50000000] }
  - expect_regions: { map: app.linker_area, count: 0 }
`);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(r.log[2]).toBe(
      "component app: pd session 'init -> app' (quota ram 0x6100/1M caps 7/30), address space region map #2, stack area region map #4, linker area region map #6, threads ep (cpu 0, ip 0x1000)",
    );
    expect(r.expectations).toBe(4);
  });

  it('exist only when asked for', () => {
    expect(
      problems(`name: t
machine: { arch: x86_64, ram: 64M }
components: [{ name: app, ram: 1M, caps: 30 }]
steps:
  - expect_regions: { map: app.stack_area, count: 0 }
`),
    ).toEqual([
      "bad.yaml:5:28 steps[0].expect_regions.map: undefined component or region map 'app.stack_area'",
    ]);
  });
});

describe('components and threads created during the run', () => {
  it('get names steps can use, areas and threads included; threads may share a name', () => {
    const r = run(`${HEAD}  - create_component:
      name: child
      ram: 1M
      caps: 20
      areas: true
      threads: [{ name: ep }]
  - create_thread: { component: child, name: exec_fault, as: first, ip: 0x1100 }
  - create_thread: { component: child, name: exec_fault, as: second, ip: 0x1200 }
  - fault_handler: { map: child.stack_area, signal: stack }
  - exec: { thread: child.first, address: 0x1000, expect: { outcome: error } }
  - read: { thread: child.second, address: 0x40000010, expect: { outcome: reflected, map: child.stack_area } }
  - read: { thread: child.ep, address: 0x40000010, expect: { outcome: reflected } }
  - expect_quota: { component: child, caps_used: 10 }
`);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(lines(r, /create_thread/)).toEqual([
      'step 2 (line 16): create_thread child.first -> exec_fault as first (cpu 0, ip 0x1100)',
      'step 3 (line 17): create_thread child.second -> exec_fault as second (cpu 0, ip 0x1200)',
    ]);
    // Core's messages name the thread, not how the scenario refers to it.
    expect(lines(r, /^ {4}error:/)).toEqual([
      "    error: illegal EXEC at address 0x1000 by pager_object: pd='init -> child' thread='exec_fault' ip=0x1100",
    ]);
  });

  it('a creation that fails changes nothing; a thread that could not be created stops the run where it is used', () => {
    const r =
      run(`${HEAD}  - create_component: { name: poor, ram: 1M, caps: 2, threads: [{ name: a }], expect_error: OUT_OF_CAPS }
  - create_component: { name: rich, ram: 1M, caps: 3, threads: [{ name: a }] }
  - create_thread: { component: rich, name: b }
  - read: { thread: rich.b, address: 0x1000 }
  - log: never
`);
    expect(r.failures.map(formatFailure)).toEqual([
      "t.yaml:12:5 step 3 (create_thread): unexpected OUT_OF_CAPS: thread 'b' needs 1 capabilities but only 0 of 3 are left",
      "t.yaml:13:5 step 4 (read): cannot proceed: thread 'rich.b' does not exist: step 3, which creates it, failed",
    ]);
    // The failed component was taken back: no session of that name is left.
    expect(lines(r, /create_component/)).toEqual([
      expect.stringMatching(/^step 1 \(line 10\): create_component poor -> OUT_OF_CAPS \(as expected\): /),
      "step 2 (line 11): create_component rich -> pd session 'init -> rich' (quota ram 8K/1M caps 3/3), address space region map #13, threads a (cpu 0, ip 0x0)",
    ]);
    expect(r.stopped).toBe(true);
  });

  it('names are checked like those of the components list', () => {
    expect(
      problems(`${HEAD}  - create_thread: { component: app, name: ep }
  - create_thread: { component: nobody, name: x }
  - create_component: { name: app, ram: 1M, caps: 1 }
  - create_component: { name: c, ram: 1M, caps: 9, threads: [{ name: t }, { name: t }] }
  - read: { thread: c.u, address: 0 }
`),
    ).toEqual([
      "bad.yaml:10:44 steps[0].create_thread.name: thread 'ep' is already defined in app: threads may share a name when each has its own as",
      "bad.yaml:11:33 steps[1].create_thread.component: undefined component 'nobody'",
      "bad.yaml:12:31 steps[2].create_component.name: 'app' is already defined at line 4 (as a component)",
      "bad.yaml:13:83 steps[3].create_component.threads[1].name: thread 't' is already defined in c: threads may share a name when each has its own as",
      "bad.yaml:14:21 steps[4].read.thread: undefined thread 'c.u'",
    ]);
  });
});

describe('the address an attach chose (var)', () => {
  it('is a variable of later steps, rebound by a later attach, also inside repeat', () => {
    const r = run(`${HEAD}  - alloc_ram: { name: ds, owner: app, size: 8K }
  - attach: { map: app, dataspace: ds, writeable: true, var: a }
  - write: { thread: app.ep, address: '\${a + 4K}', value: 7 }
  - repeat:
      times: 3
      steps:
        - attach: { map: app, dataspace: ds, var: b }
        - read: { thread: app.ep, address: '\${b + 4K}', expect: { value: 7 } }
        - detach: { map: app, at: '\${b}' }
  - read: { thread: app.ep, address: '\${a + 4K}', expect: { outcome: hit, value: 7 } }
  - expect_regions: { map: app, at: ['\${a}', 0x40000000, 0x50000000] }
`);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(lines(r, /^step 2 /)).toEqual([
      'step 2 (line 11): attach ds to app -> [0x2000, 0x4000) of region map #2: ram dataspace #9 rw-, a = 0x2000',
    ]);
    expect(lines(r, /b = /)).toHaveLength(3);
    expect(r.expectations).toBe(5);
  });

  it('a var whose attach failed stops the run where it is used', () => {
    const r = run(`${HEAD}  - alloc_ram: { name: ds, owner: app, size: 8K }
  - attach: { map: app, dataspace: ds, at: 0x40000000, var: a }
  - read: { thread: app.ep, address: '\${a}' }
  - log: never
`);
    expect(r.failures.map(formatFailure)).toEqual([
      't.yaml:11:5 step 2 (attach): unexpected REGION_CONFLICT: [0x40000000, 0x40002000) overlaps a region of region map #2',
      `t.yaml:12:5 step 3 (read): in \${a}: unknown variable 'a' (no enclosing repeat or earlier attach var defines it) at column 2`,
    ]);
    expect(r.stopped).toBe(true);
    expect(r.log).not.toContain('step 4 (line 13): log: never');
  });

  it('is checked before the run as far as it can be: syntax, names, repeat counts, clashes', () => {
    expect(
      problems(`${HEAD}  - alloc_ram: { name: ds, owner: app, size: 8K }
  - read: { thread: app.ep, address: '\${a}' }
  - attach: { map: app, dataspace: ds, var: a }
  - read: { thread: app.ep, address: '\${a - 8K}' }
  - read: { thread: app.ep, address: '\${a +}' }
  - alloc_ram: { name: 'x\${a}', owner: app, size: 4K }
  - repeat: { times: '\${a}', steps: [] }
  - repeat: { times: 1, var: a, steps: [] }
  - repeat: { times: 1, steps: [{ attach: { map: app, dataspace: ds, var: i } }] }
  - attach: { map: app, dataspace: ds, var: c, expect_error: REGION_CONFLICT }
`),
    ).toEqual([
      `bad.yaml:11:38 steps[1].read.address: in \${a}: unknown variable 'a' (no enclosing repeat or earlier attach var defines it) at column 2`,
      `bad.yaml:14:38 steps[4].read.address: in \${a +}: unexpected end at column 4`,
      'bad.yaml:15:24 steps[5].alloc_ram.name: a name cannot use an attach var: names are fixed before the run; attach vars are for numbers',
      'bad.yaml:16:22 steps[6].repeat.times: a repeat count cannot use an attach var: it must be known before the run',
      "bad.yaml:17:30 steps[7].repeat.var: 'a' is an attach var; the loop variable needs another name",
      "bad.yaml:18:75 steps[8].repeat.steps[0].attach.var: 'i' is a loop variable here; an attach var needs another name (when i=0)",
      'bad.yaml:19:45 steps[9].attach.var: an attach expected to fail binds no variable',
    ]);
  });
});

describe('a foreign free', () => {
  it('silently succeeds and changes nothing; expect says whether it was done or ignored', () => {
    const r = run(`${HEAD}  - create_component: { name: other, ram: 1M, caps: 5 }
  - alloc_ram: { name: ds, owner: app, size: 4K }
  - free: { dataspace: ds, by: other }
  - seal: { dataspace: ds, by: other, expect: { outcome: ignored } }
  - attach: { map: app, dataspace: ds, writeable: true, var: a }
  - write: { thread: app.ep, address: '\${a}', value: 1, expect: { outcome: mapped } }
  - free: { dataspace: ds, by: other, expect: { outcome: done } }
`);
    expect(r.failures.map(formatFailure)).toEqual([
      "t.yaml:16:5 step 7 (free): expected outcome done, got ignored: 'init -> other' does not own ram dataspace #12 (4K, phys 0x40000000, rw)",
    ]);
    expect(lines(r, /^step 3 /)).toEqual([
      "step 3 (line 12): free ds by other -> ignored: 'init -> other' does not own ram dataspace #12 (4K, phys 0x40000000, rw)",
    ]);
  });
});

describe('checks on every error line (expect_errors)', () => {
  const faults = `  - read: { thread: app.ep, address: 0x10 }
  - create_thread: { component: app, name: ep, as: ep2 }
  - write: { thread: app.ep2, address: 0x20, value: 1 }
  - create_thread: { component: app, name: ep, as: ep3 }
  - exec: { thread: app.ep3, address: 0x30, expect: { error: { match: '^illegal EXEC' } } }
`;

  it('exactly N lines (that match), each checked once; count 0 without match: no other errors', () => {
    const r = run(`${HEAD}${faults}  - expect_errors: { count: 1, match: '^illegal READ at address 0x10 ' }
  - expect_errors: { count: 1 }
  - expect_errors: { count: 0 }
`);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(lines(r, /expect_errors/)).toEqual([
      'step 6 (line 15): expect_errors /^illegal READ at address 0x10 / -> 1 error line(s) matching /^illegal READ at address 0x10 /',
      'step 7 (line 16): expect_errors -> 1 error line(s)',
      'step 8 (line 17): expect_errors -> 0 error line(s)',
    ]);
  });

  it('names the lines it did not expect, with their steps', () => {
    const r = run(`${HEAD}${faults}  - expect_errors: { count: 0 }
  - expect_errors: { count: 1, match: WRITE }
`);
    expect(r.failures.map(formatFailure)).toEqual([
      "t.yaml:15:5 step 6 (expect_errors): expected 0 error line(s), got 2: 'illegal READ at address 0x10 by pager_object: pd='init -> app' thread='ep' ip=0x1000' (step 1), 'illegal WRITE at address 0x20 by pager_object: pd='init -> app' thread='ep' ip=0x0' (step 3)",
      't.yaml:16:5 step 7 (expect_errors): expected 1 error line(s) matching /WRITE/, got 0',
    ]);
  });

  it('a bad pattern is a load problem', () => {
    expect(problems(`${HEAD}  - expect_errors: { count: 0, match: '(' }\n`)).toEqual([
      'bad.yaml:10:39 steps[0].expect_errors.match: invalid regular expression: Invalid regular expression: /(/: Unterminated group',
    ]);
  });
});
