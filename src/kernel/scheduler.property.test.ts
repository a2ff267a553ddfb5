/**
 * Model-based property test of the Scheduler: random admit, block, unblock, pick, charge, yield
 * and migrate sequences run on the real scheduler and on a naive ticket-ordered reference, which
 * must agree after every step. Apart from the transition unit tests (scheduler.test.ts) because
 * of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { threads } from './kernel.testutil.js';
import { Scheduler } from './scheduler.js';
import type { BlockedState, Thread } from './thread.js';

const QUANTUM = 10;
const CPUS = 2;
const N = 6;

interface RefT {
  admitted: boolean;
  cpu: number;
  prio: number;
  runnable: boolean;
  state: string;
  ticket: number;
  used: number;
}
interface Model {
  ts: RefT[];
  current: (number | null)[];
  lastRan: (number | null)[];
  tail: number;
  head: number;
  stats: {
    contextSwitches: number;
    preemptions: number;
    quantumExpiries: number;
    yields: number;
    idleCycles: number;
  }[];
}
interface Real {
  s: Scheduler;
  ts: Thread[];
}

/** The reference: one flat list; order inside a level is a ticket (head tickets count down). */
function refQueue(m: Model, cpu: number): number[] {
  return m.ts
    .map((t, i) => ({ t, i }))
    .filter(({ t, i }) => t.admitted && t.runnable && t.cpu === cpu && m.current[cpu] !== i)
    .sort((a, b) => b.t.prio - a.t.prio || a.t.ticket - b.t.ticket)
    .map(({ i }) => i);
}

function refEnqueue(m: Model, i: number, head: boolean): void {
  const t = m.ts[i]!;
  t.runnable = true;
  t.state = 'ready';
  t.ticket = head ? m.head-- : m.tail++;
}

function refDeschedule(m: Model, i: number): void {
  const t = m.ts[i]!;
  if (!t.runnable) return;
  if (m.current[t.cpu] === i) m.current[t.cpu] = null;
  t.runnable = false;
}

function compare(m: Model, r: Real): void {
  for (let c = 0; c < CPUS; c++) {
    expect(r.s.current(c)).toBe(m.current[c] === null ? null : r.ts[m.current[c]!]);
    expect(r.s.readyQueue(c)).toEqual(refQueue(m, c).map((i) => r.ts[i]));
    expect(r.s.stats(c)).toEqual(m.stats[c]);
  }
  m.ts.forEach((t, i) => {
    const rt = r.ts[i]!;
    expect([rt.state, rt.cpu, rt.priority, r.s.has(rt)]).toEqual([t.state, t.cpu, t.prio, t.admitted]);
    if (t.admitted) expect(r.s.quantumUsed(rt)).toBe(t.used);
  });
}

type Op =
  | { k: 'admit'; i: number }
  | { k: 'block'; i: number; state: BlockedState }
  | { k: 'unblock'; i: number; head: boolean }
  | { k: 'pick'; cpu: number }
  | { k: 'charge'; cpu: number; cycles: number }
  | { k: 'yield'; cpu: number }
  | { k: 'migrate'; i: number; cpu: number }
  | { k: 'prio'; i: number; p: number }
  | { k: 'remove'; i: number };

function refRun(m: Model, op: Op): unknown {
  const t = 'i' in op ? m.ts[op.i]! : undefined;
  switch (op.k) {
    case 'admit':
      if (t!.admitted) return 'ALREADY_ADMITTED';
      t!.admitted = true;
      t!.used = 0;
      if (t!.state === 'ready' || t!.state === 'running') refEnqueue(m, op.i, false);
      return 'ok';
    case 'block':
      if (!t!.admitted) return 'NOT_ADMITTED';
      refDeschedule(m, op.i);
      t!.state = op.state;
      return 'ok';
    case 'unblock':
      if (!t!.admitted) return 'NOT_ADMITTED';
      if (t!.runnable) return false;
      refEnqueue(m, op.i, op.head);
      return true;
    case 'pick': {
      const q = refQueue(m, op.cpu);
      const cur = m.current[op.cpu]!;
      const best = q[0];
      if (cur !== null) {
        if (best === undefined || m.ts[best]!.prio <= m.ts[cur]!.prio) return cur;
        m.current[op.cpu] = null;
        refEnqueue(m, cur, true);
        m.stats[op.cpu]!.preemptions++;
      }
      if (best === undefined) return null;
      m.current[op.cpu] = best;
      m.ts[best]!.state = 'running';
      if (m.lastRan[op.cpu] !== best) m.stats[op.cpu]!.contextSwitches++;
      m.lastRan[op.cpu] = best;
      return best;
    }
    case 'charge': {
      const cur = m.current[op.cpu]!;
      if (cur === null) {
        m.stats[op.cpu]!.idleCycles += op.cycles;
        return false;
      }
      const ct = m.ts[cur]!;
      ct.used += op.cycles;
      if (ct.used < QUANTUM) return false;
      ct.used = 0;
      m.current[op.cpu] = null;
      refEnqueue(m, cur, false);
      m.stats[op.cpu]!.preemptions++;
      m.stats[op.cpu]!.quantumExpiries++;
      return true;
    }
    case 'yield': {
      const cur = m.current[op.cpu]!;
      if (cur === null) return null;
      m.ts[cur]!.used = 0;
      m.current[op.cpu] = null;
      refEnqueue(m, cur, false);
      m.stats[op.cpu]!.yields++;
      return cur;
    }
    case 'migrate':
    case 'prio': {
      if (!t!.admitted) return 'NOT_ADMITTED';
      if (op.k === 'migrate' && t!.cpu === op.cpu) return 'ok';
      const was = t!.runnable;
      refDeschedule(m, op.i);
      if (op.k === 'migrate') t!.cpu = op.cpu;
      else t!.prio = op.p;
      if (was) refEnqueue(m, op.i, false);
      return 'ok';
    }
    case 'remove':
      if (!t!.admitted) return 'NOT_ADMITTED';
      refDeschedule(m, op.i);
      t!.admitted = false;
      return 'ok';
  }
}

function realRun(r: Real, op: Op): unknown {
  const code = (x: { ok: boolean; code?: string; value?: unknown }) =>
    x.ok ? (typeof x.value === 'boolean' ? x.value : 'ok') : x.code;
  const idx = (t: Thread | null) => (t === null ? null : r.ts.indexOf(t));
  const t = 'i' in op ? r.ts[op.i]! : undefined;
  switch (op.k) {
    case 'admit':
      return code(r.s.admit(t!));
    case 'block':
      return code(r.s.block(t!, op.state));
    case 'unblock':
      return code(r.s.unblock(t!, { head: op.head }));
    case 'pick':
      return idx(r.s.pick(op.cpu));
    case 'charge':
      return r.s.charge(op.cpu, op.cycles);
    case 'yield':
      return idx(r.s.yield(op.cpu));
    case 'migrate':
      return code(r.s.migrate(t!, op.cpu));
    case 'prio':
      return code(r.s.setPriority(t!, op.p));
    case 'remove':
      return code(r.s.remove(t!));
  }
}

class OpCmd implements fc.Command<Model, Real> {
  constructor(readonly op: Op) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const want = refRun(m, this.op);
    const got = realRun(r, this.op);
    expect(got).toEqual(want);
    compare(m, r);
  }
  toString = () => JSON.stringify(this.op);
}

const idxArb = fc.integer({ min: 0, max: N - 1 });
const cpuArb = fc.integer({ min: 0, max: CPUS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  idxArb.map((i) => ({ k: 'admit' as const, i })),
  fc.record({
    k: fc.constant('block' as const),
    i: idxArb,
    state: fc.constantFrom<BlockedState>('in-ipc', 'waiting-signal', 'blocked-fault', 'waiting-disk'),
  }),
  fc.record({ k: fc.constant('unblock' as const), i: idxArb, head: fc.boolean() }),
  { weight: 3, arbitrary: cpuArb.map((cpu) => ({ k: 'pick' as const, cpu })) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('charge' as const),
      cpu: cpuArb,
      cycles: fc.integer({ min: 0, max: 14 }),
    }),
  },
  cpuArb.map((cpu) => ({ k: 'yield' as const, cpu })),
  fc.record({ k: fc.constant('migrate' as const), i: idxArb, cpu: cpuArb }),
  fc.record({ k: fc.constant('prio' as const), i: idxArb, p: fc.integer({ min: 0, max: 3 }) }),
  idxArb.map((i) => ({ k: 'remove' as const, i })),
);

describe('Scheduler model', () => {
  it('matches a naive ticket-ordered list under random admit/block/unblock/pick/charge/yield/migrate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cpuArb, fc.integer({ min: 0, max: 3 })), { minLength: N, maxLength: N }),
        fc.commands([opArb.map((op) => new OpCmd(op))], { maxCommands: 120, size: 'medium' }),
        (init, cmds) => {
          const ts = threads(N, { cpu: (i) => init[i]![0], priority: (i) => init[i]![1] });
          const model: Model = {
            ts: init.map(([cpu, prio]) => ({
              admitted: false,
              cpu,
              prio,
              runnable: false,
              state: 'ready',
              ticket: 0,
              used: 0,
            })),
            current: Array(CPUS).fill(null),
            lastRan: Array(CPUS).fill(null),
            tail: 0,
            head: -1,
            stats: Array.from({ length: CPUS }, () => ({
              contextSwitches: 0,
              preemptions: 0,
              quantumExpiries: 0,
              yields: 0,
              idleCycles: 0,
            })),
          };
          const real: Real = { s: new Scheduler(CPUS, { quantum: QUANTUM, levels: 4 }), ts };
          fc.modelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 200 },
    );
  });
});
