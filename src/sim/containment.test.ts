import { describe, expect, it } from 'vitest';
import { type Misbehaviour, parseMisbehaviour } from '../components/misbehaviour.js';
import { unwrap } from '../util/result.js';
import { type ContainResult, type ContainRun, type ContainSpec, runContainment } from './containment.js';
import { designOptions } from './designs.js';

const LATE = 3_000_000; // 1 ms
const BEHAVIOURS = ['never-replies', `replies-late:${LATE}`, 'dies', 'faults-itself', 'wrong-mapping'];

function spec(designs: string[], behaviours = BEHAVIOURS, set: Record<string, string> = {}): ContainSpec {
  return {
    designs: designs.map((name) => ({ name, options: unwrap(designOptions(name, set)) })),
    behaviours: behaviours.map((b): Misbehaviour => unwrap(parseMisbehaviour(b))),
    memory: 2 ** 20,
    chunk: 64 * 1024,
    touches: 120,
    computeCycles: 30_000,
    seed: 5,
    horizon: 3e9,
    stallThreshold: 300_000,
  };
}

const cache = new Map<string, Promise<ContainResult>>();
function study(design: string): Promise<ContainResult> {
  let r = cache.get(design);
  if (!r) {
    r = runContainment(spec([design]));
    cache.set(design, r);
  }
  return r;
}

const runOf = (r: ContainResult, misbehave: string): ContainRun =>
  r.runs.find((x) => x.misbehave === misbehave)!;
const stalledComponents = (r: ContainRun) => r.stalled.map((s) => s.component).sort();
const delayOf = (r: ContainRun, c: string) => r.uninvolved.find((d) => d.component === c)!;

describe('containment: the blast radius of a misbehaving manager', () => {
  it('the baselines stall nobody and every component finishes', async () => {
    for (const d of ['genode', 'sync-core-rpc', 'local-rm']) {
      const base = runOf(await study(d), 'none');
      expect(base.stalled).toEqual([]);
      expect(base.uninvolved.every((u) => u.delayUs === 0 && u.finishedUs !== null)).toBe(true);
      expect(base.threads.find((t) => t.name === 'victim: main')!.finishedUs).not.toBeNull();
      expect(base.mappings).toMatchObject({ wrong: 0, stale: 0 });
      expect(base.mappings.checked).toBeGreaterThan(100);
    }
  });

  it('genode confines the damage to the faulting component: core never waits, nobody else is delayed', async () => {
    const r = await study('genode');
    for (const b of BEHAVIOURS) {
      const run = runOf(r, b);
      expect(stalledComponents(run), b).toEqual(['victim']);
      expect(run.core.waitedUs, b).toBe(0);
      expect(run.kernel.blocked, b).toBe(false);
      for (const u of run.uninvolved) {
        expect(u.finishedUs, `${b} ${u.component}`).not.toBeNull();
        // Not later than in the baseline (earlier, in fact: the victim no longer competes for CPU 0).
        expect(u.delayUs!, `${b} ${u.component}`).toBeLessThanOrEqual(10);
      }
    }
  });

  it('sync-core-rpc stalls every component served by that pager entrypoint, and only those', async () => {
    const r = await study('sync-core-rpc');
    const never = runOf(r, 'never-replies');
    expect(stalledComponents(never)).toEqual(['compute', 'neighbour', 'victim']);
    expect(never.core.blocked).toBe(true);
    expect(never.threads.find((t) => t.name === 'core: pager ep 0')!.blockedAtEnd).toBe(true);
    expect(never.threads.find((t) => t.name === 'core: pager ep 1')!.blockedAtEnd).toBe(false);
    expect(delayOf(never, 'neighbour').finishedUs).toBeNull();
    expect(delayOf(never, 'compute').finishedUs).toBeNull();
    expect(delayOf(never, 'remote').finishedUs).not.toBeNull();
    // A late manager delays the neighbour by about the victim's faults × the delay.
    const late = runOf(r, `replies-late:${LATE}`);
    const victimFaults = late.threads.find((t) => t.name === 'victim: main')!;
    expect(delayOf(late, 'neighbour').delayUs).toBeGreaterThan(5000);
    expect(delayOf(late, 'neighbour').delayUs).toBeLessThanOrEqual(victimFaults.faultUs);
    expect(delayOf(late, 'remote').delayUs!).toBeLessThanOrEqual(10);
    // A manager that faults in its own map deadlocks both pager entrypoints: everyone stalls.
    const self = runOf(r, 'faults-itself');
    expect(stalledComponents(self)).toEqual(['compute', 'neighbour', 'remote', 'victim']);
  });

  it('local-rm confines it to the client task, but needs the MDB and direct rights', async () => {
    const r = await study('local-rm');
    for (const b of ['never-replies', `replies-late:${LATE}`, 'dies', 'faults-itself']) {
      const run = runOf(r, b);
      expect(stalledComponents(run), b).toEqual(['victim']);
      expect(run.core.waitedUs, b).toBe(0);
      for (const u of run.uninvolved) expect(u.finishedUs, `${b} ${u.component}`).not.toBeNull();
    }
    const base = runOf(r, 'none');
    expect(base.mdbPeakBytes).toBeGreaterThan(0);
    const trust = r.designs[0]!.trust;
    const has = (from: string, to: string, kind: string) =>
      trust.some((e) => e.from === from && e.to === to && e.kind === kind);
    expect(has('victim', 'victim manager', 'call')).toBe(true);
    expect(has('victim manager', 'victim', 'map')).toBe(true);
    for (const d of ['genode', 'sync-core-rpc']) {
      const t = (await study(d)).designs[0]!.trust;
      expect(t.some((e) => e.from !== 'core' && e.to !== 'core' && e.from !== e.to)).toBe(false);
      expect(runOf(await study(d), 'none').mdbPeakBytes).toBe(0);
    }
  });

  it('a wrong map item is installed under local-rm only', async () => {
    const l = runOf(await study('local-rm'), 'wrong-mapping');
    expect(l.mappings.wrong).toBeGreaterThan(0);
    expect(l.mappings.wrongMapItems).toBeGreaterThan(0);
    for (const d of ['genode', 'sync-core-rpc']) {
      const run = runOf(await study(d), 'wrong-mapping');
      expect(run.mappings.wrong, d).toBe(0);
      expect(run.mappings.stale, d).toBe(0);
      expect(run.mappings.wrongMapItems, d).toBe(0);
    }
  });

  it('when the manager dies, the party waiting in a call recovers and the faulting thread does not', async () => {
    const sync = runOf(await study('sync-core-rpc'), 'dies').recovery!;
    expect(sync.recovered).toEqual(['core: pager ep 0']);
    expect(sync.unrecovered).toEqual(['victim: main']);
    const rm = runOf(await study('local-rm'), 'dies').recovery!;
    expect(rm.recovered).toEqual(['victim: region mapper']);
    expect(rm.unrecovered).toEqual(['victim: main']);
    const g = runOf(await study('genode'), 'dies').recovery!;
    expect(g.recovered).toEqual([]);
    expect(g.unrecovered).toEqual(['victim: main']);
  });

  it('is deterministic: same inputs, same bytes, also when timeouts fire', async () => {
    const s = spec(['sync-core-rpc', 'local-rm'], ['never-replies', `replies-late:${LATE}`], {
      ipcTimeout: '500us',
    });
    const a = await runContainment(s);
    const b = await runContainment(s);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const late = a.runs.filter((x) => x.misbehave !== 'none');
    expect(late.every((x) => x.ipc.replyTimeouts + x.ipc.lostMessages > 0)).toBe(true);
    expect(late.some((x) => x.faultsLost > 0)).toBe(true);
  });
});
