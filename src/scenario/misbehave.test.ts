/** Misbehaving on_demand handlers in scenario files: the `misbehave` key, checked and run. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { runScenario } from './run.js';

function scenario(misbehave: string, design = 'genode', expect = ''): string {
  return `name: t
machine: { arch: x86_64, cpus: 2, ram: 64M }
design: ${design}
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main }]
    behaviours:
      - synthetic: { thread: app.main, pattern: uniform, records: 100, footprint: 1M, seed: 1, base: 0x10000000 }
  - name: manager
    ram: 8M
    caps: 100
    behaviours:
      - on_demand: { map: mem, chunk: 64K, cpu: 1, misbehave: ${misbehave} }
steps:
  - create_region_map: { name: mem, owner: manager, size: 1M }
  - attach: { map: app, dataspace: mem, at: 0x10000000, writeable: true }
  - simulate: {}
${expect}`;
}

/** The failures of a run (its expectations that did not hold). */
function failures(text: string): string[] {
  const s = loadScenario(text, 'm.yaml');
  if (!s.ok) throw new Error(s.problems.map(formatProblem).join('\n'));
  const r = runScenario(s.value);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  expect(r.value.stopped).toBe(false);
  return r.value.failures.map((f) => f.message);
}

describe('on_demand misbehave', () => {
  it('rejects an unknown misbehaviour at its line, naming the choices', () => {
    const r = loadScenario(scenario('sometimes'), 'm.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map(formatProblem)).toEqual([
      "m.yaml:15:63 components[1].behaviours[0].on_demand.misbehave: expected never-replies, replies-late:N (N cycles > 0), dies, faults-itself or wrong-mapping, got 'sometimes'",
    ]);
    expect(loadScenario(scenario('replies-late:0'), 'm.yaml').ok).toBe(false);
  });

  it('runs each misbehaviour: the program stays blocked, or is only delayed by a late handler', () => {
    const blocked = `  - expect_thread: { thread: app.main, state: blocked-fault }\n`;
    for (const m of ['never-replies', 'dies', 'faults-itself', 'wrong-mapping']) {
      expect(failures(scenario(m, 'genode', blocked)), m).toEqual([]);
    }
    const late = failures(
      scenario(
        'replies-late:300000',
        'genode',
        '  - expect_metrics: { records: 100, cycles: { min: 300000 } }\n',
      ),
    );
    expect(late).toEqual([]);
    // Under sync-core-rpc with a timeout shorter than the late reply, the fault is lost.
    const lost = failures(
      scenario(
        'replies-late:3000000',
        'sync-core-rpc',
        '  - expect_metrics: { records: 0, faults.lost: 1 }\n',
      ).replace('design: sync-core-rpc', 'design: sync-core-rpc\noverrides: { ipcTimeout: 1ms }'),
    );
    expect(lost).toEqual([]);
    // The same expectations fail when the handler behaves: the check can fail.
    expect(failures(scenario('replies-late:3', 'genode', blocked))).toHaveLength(1);
  });
});
