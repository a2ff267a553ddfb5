/**
 * The browser's scenario session: it records every step as `runScenario` runs it, shows the state
 * after any step (also going back, by re-running), and reports load problems at their lines.
 * The state at step k is checked against a naive reference: the attach, detach and reserved
 * events of the first k steps replayed into sets of regions per map.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';
import { ScenarioSession } from './session.js';
import { SHIPPED, shippedTraces } from './shipped.js';
import type { SystemSnapshot, ViewEvent } from './types.js';

function session(name: string): ScenarioSession {
  const s = SHIPPED.find((x) => x.name === name)!;
  const r = ScenarioSession.load(s.text, `scenarios/${name}.yaml`, shippedTraces());
  if (!('steps' in r)) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r;
}

/** Regions per map after the first k steps, from the events alone. */
function regionsFromEvents(events: readonly ViewEvent[], k: number): Map<number, Set<string>> {
  const maps = new Map<number, Set<string>>();
  for (const e of events) {
    if (e.step >= k) break;
    if (e.type !== 'attach' && e.type !== 'detach' && e.type !== 'reserved') continue;
    const set = maps.get(e.map.id) ?? new Set<string>();
    maps.set(e.map.id, set);
    const key = `${e.region.base}+${e.region.size}`;
    if (e.type === 'detach') set.delete(key);
    else set.add(key);
  }
  return maps;
}

function regionsOf(s: SystemSnapshot): Map<number, Set<string>> {
  return new Map([...s.maps].map(([id, m]) => [id, new Set(m.regions.map((r) => `${r.base}+${r.size}`))]));
}

const CORE_SCENARIOS = [
  'rm_fault',
  'rm_nested',
  'reserved_hole',
  'superpages_x86_64',
  'sixth_level',
  'attach_conflicts',
];

describe('ScenarioSession', () => {
  it('records the steps and failures faultline run counts', () => {
    for (const s of SHIPPED.filter((x) =>
      ['rm_fault', 'violations', 'trace_player', 'sixth_level'].includes(x.name),
    )) {
      const loaded = loadScenario(s.text, s.name);
      if (!loaded.ok) throw new Error(`${s.name} does not load`);
      const report = runScenario(loaded.value, { traces: shippedTraces() });
      if (!report.ok) throw new Error(report.message);
      const ses = session(s.name);
      expect(ses.steps.length, s.name).toBe(report.value.steps);
      expect(
        ses.steps.flatMap((x) => x.failures),
        s.name,
      ).toHaveLength(report.value.failures.length);
    }
  });

  it('the state after step k holds exactly the regions the first k steps attached (forward and back)', () => {
    for (const name of CORE_SCENARIOS) {
      const ses = session(name);
      const n = ses.steps.length;
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: n }), { minLength: 1, maxLength: 6 }), (ks) => {
          for (const k of ks) {
            const want = regionsFromEvents(ses.events, k);
            const got = regionsOf(ses.stateAt(k));
            for (const [id, set] of want) {
              // A map destroyed by then is gone from the snapshot.
              if (got.has(id))
                expect([...got.get(id)!].sort(), `${name} map #${id} at ${k}`).toEqual([...set].sort());
            }
            expect(ses.stateAt(k).position).toBe(k);
          }
        }),
        { numRuns: 8 },
      );
    }
  });

  it('captures each fault with its walk, rebased at every level', () => {
    const ses = session('rm_nested');
    const f = ses.events.find((e) => e.type === 'fault');
    if (f?.type !== 'fault') throw new Error('no fault');
    expect(f.walk.map((w) => w.map.name)).toEqual(['app', 'level2', 'level3', 'level4']);
    // 0x10039234 - 0x10000000 = 0x39234; - 0x20000 = 0x19234; - 0x10000 = 0x9234 (each window at offset 0).
    expect(f.walk.map((w) => w.address)).toEqual([0x10039234, 0x39234, 0x19234, 0x9234]);
    expect(f.decision.kind).toBe('mapped');
    if (f.decision.kind === 'mapped') expect(f.decision.ds.name).toBe('ram');
  });

  it('reports YAML and schema problems at their lines', () => {
    const text = SHIPPED.find((x) => x.name === 'rm_nested')!.text;
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.includes('arch: x86_64'));
    lines[i] = lines[i]!.replace('x86_64', 'pdp11');
    const r = ScenarioSession.load(lines.join('\n'), 'x.yaml');
    expect('problems' in r && r.problems.map((p) => p.line)).toEqual([i + 1]);
    const dup = text.split('\n');
    dup.splice(i + 1, 0, '  arch: armv7');
    const r2 = ScenarioSession.load(dup.join('\n'), 'x.yaml');
    expect('problems' in r2 && r2.problems.map((p) => p.line)).toEqual([i + 2]);
  });

  it('names a trace it does not have at the trace_player line', () => {
    const text = SHIPPED.find((x) => x.name === 'trace_player')!.text;
    const r = ScenarioSession.load(text, 'x.yaml', new Map());
    if (!('problems' in r)) throw new Error('loaded without its trace');
    const line = text.split('\n').findIndex((l) => l.includes('trace_player:')) + 1;
    expect(r.problems.map((p) => p.line)).toEqual([line]);
    expect(r.problems[0]!.message).toMatch(/trace '..\/test\/fixtures\/lackey_small.txt' is not available/);
  });
});
