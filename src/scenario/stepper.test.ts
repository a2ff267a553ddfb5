/**
 * The stepper runs a scenario exactly as `runScenario` does, one step at a time: for every
 * shipped scenario both give the same failures, the same number of steps and the same log text
 * for every step the runner logs. Then what stepping adds: pausing, the state between steps, and
 * reaching the same state again from a fresh stepper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceBatch } from '../sim/trace_batch.js';
import { parseLackey } from '../workload/lackey.js';
import { type LoadedScenario, loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, runScenario } from './run.js';
import { traceRefs } from './simulation.js';
import { ScenarioStepper, type SteppedStep } from './stepper.js';

const DIR = join(import.meta.dirname, '..', '..', 'scenarios');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function lackey(path: string): TraceBatch[] {
  const out: TraceBatch[] = [];
  const r = parseLackey(readFileSync(path), (b) => {
    const copy = new TraceBatch(b.length);
    copy.kind.set(b.kind.subarray(0, b.length));
    copy.addr.set(b.addr.subarray(0, b.length));
    copy.size.set(b.size.subarray(0, b.length));
    copy.length = b.length;
    out.push(copy);
  });
  if (!r.ok) throw new Error(r.message);
  return out;
}

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
