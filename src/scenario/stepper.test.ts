/**
 * The stepper runs a scenario exactly as `runScenario` does, one step at a time: for every
 * shipped scenario both give the same failures, the same number of steps and the same log text
 * for every step the runner logs (both drive the one `Runner`; this keeps it so). Then what
 * stepping adds: pausing, the state between steps (what the setup and create_component create,
 * Genode's stack and linker areas included), and reaching the same state again from a fresh
 * stepper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceBatch } from '../sim/trace_batch.js';
import { type LoadedScenario, loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, runScenario } from './run.js';
import { lackey } from './scenario.testutil.js';
import { traceRefs } from './sim_spec.js';
import { ScenarioStepper, type SteppedStep } from './stepper.js';

const DIR = join(import.meta.dirname, '..', '..', 'scenarios');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function load(text: string, file = 'test.yaml'): LoadedScenario {
  const s = loadScenario(text, file);
  if (!s.ok) throw new Error(s.problems.map(formatProblem).join('\n'));
  return s.value;
}

function stepper(s: LoadedScenario, traces = new Map<string, TraceBatch[]>()): ScenarioStepper {
  const r = ScenarioStepper.create(s, { traces });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

function all(st: ScenarioStepper): SteppedStep[] {
  const out: SteppedStep[] = [];
  for (let r = st.next(); r; r = st.next()) out.push(r);
  return out;
}

describe('ScenarioStepper agrees with runScenario', () => {
  it.each(files)('%s', (file) => {
    const s = load(readFileSync(join(DIR, file), 'utf8'), `scenarios/${file}`);
    const traces = new Map(traceRefs(s).map((t) => [t.trace, lackey(join(DIR, t.trace))]));
    const report = runScenario(s, { traces });
    if (!report.ok) throw new Error(report.problems.map(formatProblem).join('\n'));
    const st = stepper(s, traces);
    const steps = all(st);
    expect(steps.length).toBe(report.value.steps);
    expect(st.failures.map(formatFailure)).toEqual(report.value.failures.map(formatFailure));
    expect(steps.map((x) => x.index)).toEqual(steps.map((_, i) => i));
    // Every step line of the runner's log is one of the stepper's steps, in order.
    const byLabel = new Map(steps.map((x) => [x.label, x]));
    const logged = report.value.log.filter((l) => /^\s*step /.test(l) && !/: repeat \d+ time/.test(l));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      const m = /^\s*step (\S+(?: \[[^\]]*\])?) \(line (\d+)\): (.*)$/.exec(line);
      expect(m, line).not.toBeNull();
      const x = byLabel.get(m![1]!);
      expect(x, line).toBeDefined();
      expect(x!.line).toBe(Number(m![2]));
      expect(x!.text).toBe(m![3]);
    }
    expect(st.done).toBe(true);
    expect(st.next()).toBeNull();
  });
});

const TWO_STEPS = `
name: two
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 4M
    caps: 20
    threads: [{ name: main }]
steps:
  - alloc_ram: { name: ds, owner: app, size: 2M }
  - repeat:
      times: 2
      steps:
        - attach: { map: app, dataspace: ds, at: '\${0x40000000 + i * 2M}' }
  - read: { thread: app.main, address: 0x40200010, expect: { outcome: mapped, mapping_size: 4K } }
`;

describe('stepping', () => {
  it('pauses after every executed step, repeats unrolled, with labels and lines', () => {
    const st = stepper(load(TWO_STEPS));
    const a = st.next()!;
    expect([a.label, a.kind, a.line]).toEqual(['1', 'alloc_ram', 10]);
    expect(st.core.sessions()[0]!.addressSpace.regionCount).toBe(0);
    const b = st.next()!;
    expect([b.label, b.kind, b.depth]).toEqual(['2.1 [i=0]', 'attach', 1]);
    expect(st.names.map('app').regionCount).toBe(1);
    const c = st.next()!;
    expect(c.label).toBe('2.1 [i=1]');
    expect(
      st.names
        .map('app')
        .regions()
        .map((r) => r.base),
    ).toEqual([0x40000000, 0x40200000]);
    expect(st.position).toBe(3);
    expect(st.done).toBe(false);
  });

  it('records a failed expectation on its step and goes on', () => {
    const st = stepper(load(TWO_STEPS));
    const steps = all(st);
    const read = steps[3]!;
    expect(read.kind).toBe('read');
    // The 2M region is 2M-aligned on both sides, so the read gets 2M, not the 4K expected.
    expect(read.failures.map((f) => f.message)).toEqual(['expected a 4K mapping, got 2M']);
    expect(read.stopped).toBe(false);
    expect(st.failures).toHaveLength(1);
  });

  it('a fresh stepper stepped to the same position reaches the same state', () => {
    const s = load(readFileSync(join(DIR, 'rm_fault.yaml'), 'utf8'));
    const a = stepper(s);
    for (let i = 0; i < 40; i++) a.next();
    const b = stepper(s);
    for (let i = 0; i < 40; i++) b.next();
    const regions = (st: ScenarioStepper) =>
      st.names
        .map('sub')
        .regions()
        .map((r) => `${r}`);
    expect(regions(a)).toEqual(regions(b));
    expect(regions(a).length).toBeGreaterThan(0);
    expect(a.names.thread('app.main').state).toBe(b.names.thread('app.main').state);
  });

  it('stops after a step that cannot proceed', () => {
    const text = TWO_STEPS.replace('dataspace: ds, at', 'dataspace: nope, at').replace(
      '  - alloc_ram: { name: ds, owner: app, size: 2M }\n',
      '  - alloc_ram: { name: ds, owner: app, size: 2M }\n  - alloc_ram: { name: nope, owner: app, size: 64M }\n',
    );
    const st = stepper(load(text));
    const steps = all(st);
    expect(steps.at(-1)!.stopped).toBe(true);
    expect(steps.at(-1)!.failures[0]!.message).toMatch(/^cannot proceed: dataspace 'nope' does not exist/);
    expect(st.done).toBe(true);
  });

  it('hands every core event to the listener', () => {
    const seen: string[] = [];
    const r = ScenarioStepper.create(load(TWO_STEPS), {}, () => (e) => seen.push(e.type));
    if (!r.ok) throw new Error(r.message);
    all(r.value);
    expect(seen.filter((t) => t === 'attach')).toHaveLength(2);
    expect(seen).toContain('fault');
    expect(seen).toContain('resolved');
  });
});

const AREAS = `
name: areas
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 4M
    caps: 100
    areas: true
    threads: [{ name: main, ip: 0x1000 }]
steps:
  - create_component:
      name: child
      ram: 1M
      caps: 20
      areas: true
      threads: [{ name: ep, ip: 0x2000 }]
  - alloc_ram: { name: stack, owner: child, size: 16K }
  - attach: { map: child.stack_area, dataspace: stack, writeable: true, var: stack_at }
  - alloc_ram: { name: ds, owner: app, size: 8K }
  - attach: { map: app, dataspace: ds, writeable: true, var: ds_at }
  - write: { thread: app.main, address: '\${ds_at + 4K}', value: 0x42, expect: { outcome: mapped } }
  - create_thread: { component: child, name: worker }
  - read: { thread: child.ep, address: 0x18000000, expect: { outcome: error } }
  - expect_errors: { count: 1 }
`;

describe('stepping what the setup and the steps create', () => {
  it("names a component's stack and linker areas after the setup and after create_component", () => {
    const s = load(AREAS);
    const st = stepper(s);
    // Genode's areas: region maps attached at 0x40000000 (stack) and 0x50000000 (linker).
    const bases = (map: string) =>
      st.names
        .map(map)
        .regions()
        .map((r) => r.base);
    expect(bases('app')).toEqual([0x40000000, 0x50000000]);
    expect(st.names.maps.has('app.stack_area')).toBe(true);
    expect(st.names.maps.has('app.linker_area')).toBe(true);
    expect(st.names.components.has('child')).toBe(false);

    const created = st.next()!;
    expect(created.kind).toBe('create_component');
    expect(created.failures).toEqual([]);
    expect(bases('child')).toEqual([0x40000000, 0x50000000]);
    expect(st.names.thread('child.ep').ip).toBe(0x2000);

    st.next();
    const attach = st.next()!;
    // The stack area is its own region map: the attach lands at its start, and binds the var.
    expect(bases('child.stack_area')).toEqual([0]);
    expect(attach.text).toMatch(/, stack_at = 0x0$/);
  });

  it('runs attach vars, create_thread and expect_errors as runScenario does', () => {
    const s = load(AREAS);
    const steps = all(stepper(s));
    const report = runScenario(s);
    if (!report.ok) throw new Error(report.message);
    expect(report.value.failures.map(formatFailure)).toEqual([]);
    expect(steps.flatMap((x) => x.failures)).toEqual([]);
    expect(steps.map((x) => x.kind)).toEqual([
      'create_component',
      'alloc_ram',
      'attach',
      'alloc_ram',
      'attach',
      'write',
      'create_thread',
      'read',
      'expect_errors',
    ]);
    const write = steps[5]!;
    expect(write.step?.kind === 'write' && write.step.args.address).toBe(
      Number(/ds_at = (0x[0-9a-f]+)/.exec(steps[4]!.text)![1]) + 0x1000,
    );
    expect(steps[8]!.text).toBe('expect_errors -> 1 error line(s)');
    for (const x of steps) expect(report.value.log).toContain(`step ${x.label} (line ${x.line}): ${x.text}`);
  });

  it('an expect_errors that finds an unchecked line fails in the stepper too', () => {
    const s = load(AREAS.replace('expect_errors: { count: 1 }', 'expect_errors: { count: 0 }'));
    const st = stepper(s);
    const last = all(st).at(-1)!;
    expect(last.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^expected 0 error line\(s\), got 1: '.*' \(step 8\)$/),
    ]);
    const report = runScenario(s);
    if (!report.ok) throw new Error(report.message);
    expect(st.failures.map(formatFailure)).toEqual(report.value.failures.map(formatFailure));
  });

  it('a failed setup leaves nothing to step, with the failure the runner reports', () => {
    const s = load(TWO_STEPS.replace('caps: 20', 'caps: 1'));
    const st = stepper(s);
    expect(st.done).toBe(true);
    expect(st.next()).toBeNull();
    expect(st.position).toBe(0);
    expect(st.failures.map((f) => [f.step, f.line])).toEqual([['setup', 5]]);
    const report = runScenario(s);
    if (!report.ok) throw new Error(report.message);
    expect(report.value.stopped).toBe(true);
    expect(st.failures.map(formatFailure)).toEqual(report.value.failures.map(formatFailure));
  });
});
