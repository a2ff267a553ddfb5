import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { names, threads } from './kernel.testutil.js';
import { Scheduler } from './scheduler.js';
import type { BlockedState, Thread } from './thread.js';

function setup(n: number, prio: (i: number) => number = () => 0, cpus = 1, quantum = 10) {
  const ts = threads(n, { priority: prio });
  const s = new Scheduler(cpus, { quantum });
  for (const t of ts) unwrap(s.admit(t));
  return { s, ts };
}

function snapshot(s: Scheduler, ts: readonly Thread[]) {
  return {
    str: s.toString(),
    cpus: Array.from({ length: s.cpuCount }, (_, c) => ({
      cur: s.current(c)?.name ?? null,
      ready: names(s.readyQueue(c)),
      stats: s.stats(c),
    })),
    threads: ts.map((t) => [t.state, t.cpu, t.priority, s.quantumUsed(t), s.has(t)]),
  };
}

describe('Scheduler transitions', () => {
  it('admits ready threads at the tail of their level and picks the highest priority', () => {
    const { s, ts } = setup(3, (i) => [1, 5, 5][i]!);
    expect(names(s.readyQueue(0))).toEqual(['t1', 't2', 't0']);
    expect(s.pick(0)).toBe(ts[1]);
    expect(ts[1]!.state).toBe('running');
    expect(s.current(0)).toBe(ts[1]);
    expect(names(s.readyQueue(0))).toEqual(['t2', 't0']);
  });

  it('admits a blocked thread as blocked until unblocked', () => {
    const [t] = threads(1);
    t!.state = 'blocked-fault';
    const s = new Scheduler(1, { quantum: 5 });
    unwrap(s.admit(t!));
    expect(s.pick(0)).toBeNull();
    expect(unwrap(s.unblock(t!))).toBe(true);
    expect(s.pick(0)).toBe(t);
  });

  it('round-robins within a priority on quantum expiry, charging across calls', () => {
    const { s, ts } = setup(3);
    const order: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      order.push(s.pick(0)?.name ?? null);
      expect(s.charge(0, 4)).toBe(false);
      expect(s.quantumUsed(s.current(0)!)).toBe(4);
      expect(s.charge(0, 6)).toBe(true);
      expect(s.current(0)).toBeNull();
    }
    expect(order).toEqual(['t0', 't1', 't2', 't0', 't1', 't2']);
    expect(s.stats(0)).toMatchObject({ preemptions: 6, quantumExpiries: 6, contextSwitches: 6 });
    expect(s.runtime(ts[0]!)).toBe(20);
  });

  it('keeps a lone thread running after expiry without counting a context switch', () => {
    const { s } = setup(1);
    s.pick(0);
    expect(s.charge(0, 25)).toBe(true);
    s.pick(0);
    expect(s.stats(0)).toMatchObject({ contextSwitches: 1, quantumExpiries: 1 });
  });

  it('counts cycles on an idle CPU as idle', () => {
    const s = new Scheduler(2, { quantum: 5 });
    expect(s.charge(1, 7)).toBe(false);
    expect(s.stats(1).idleCycles).toBe(7);
    expect(s.stats(0).idleCycles).toBe(0);
  });

  it('preempts for a higher priority: the preempted thread goes to the head and keeps its quantum', () => {
    const { s, ts } = setup(3, (i) => [1, 1, 7][i]!);
    unwrap(s.block(ts[2]!, 'waiting-signal'));
    expect(s.pick(0)).toBe(ts[0]);
    s.charge(0, 3);
    expect(s.needsReschedule(0)).toBe(false);
    unwrap(s.unblock(ts[2]!));
    expect(s.needsReschedule(0)).toBe(true);
    expect(s.pick(0)).toBe(ts[2]);
    expect(ts[0]!.state).toBe('ready');
    expect(names(s.readyQueue(0))).toEqual(['t0', 't1']);
    expect(s.quantumUsed(ts[0]!)).toBe(3);
    expect(s.stats(0)).toMatchObject({ preemptions: 1, quantumExpiries: 0, contextSwitches: 2 });
    unwrap(s.block(ts[2]!, 'in-ipc'));
    expect(s.pick(0)).toBe(ts[0]);
    expect(s.charge(0, 7)).toBe(true);
  });

  it('does not preempt for an equal priority', () => {
    const { s, ts } = setup(2);
    s.pick(0);
    expect(s.needsReschedule(0)).toBe(false);
    expect(s.pick(0)).toBe(ts[0]);
  });

  it('blocks the current or a queued thread with the given state', () => {
    const { s, ts } = setup(3);
    s.pick(0);
    unwrap(s.block(ts[0]!, 'in-ipc'));
    expect(ts[0]!.state).toBe('in-ipc');
    expect(s.current(0)).toBeNull();
    unwrap(s.block(ts[2]!, 'waiting-disk'));
    expect(names(s.readyQueue(0))).toEqual(['t1']);
    unwrap(s.block(ts[2]!, 'dead-fault'));
    expect(ts[2]!.state).toBe('dead-fault');
    expect(s.pick(0)).toBe(ts[1]);
  });

  it('unblocks at the tail by default and at the head on request', () => {
    const { s, ts } = setup(4);
    unwrap(s.block(ts[0]!, 'in-ipc'));
    unwrap(s.block(ts[1]!, 'waiting-disk'));
    unwrap(s.unblock(ts[0]!));
    unwrap(s.unblock(ts[1]!, { head: true }));
    expect(names(s.readyQueue(0))).toEqual(['t1', 't2', 't3', 't0']);
    expect(ts[1]!.state).toBe('ready');
  });

  it('treats unblocking a runnable thread as a no-op', () => {
    const { s, ts } = setup(2);
    s.pick(0);
    const before = snapshot(s, ts);
    expect(unwrap(s.unblock(ts[0]!))).toBe(false);
    expect(unwrap(s.unblock(ts[1]!, { head: true }))).toBe(false);
    expect(snapshot(s, ts)).toEqual(before);
  });

  it('yields to the tail with a fresh quantum', () => {
    const { s, ts } = setup(2);
    s.pick(0);
    s.charge(0, 4);
    expect(s.yield(0)).toBe(ts[0]);
    expect(s.quantumUsed(ts[0]!)).toBe(0);
    expect(names(s.readyQueue(0))).toEqual(['t1', 't0']);
    expect(s.yield(0)).toBeNull();
    expect(s.stats(0).yields).toBe(1);
  });

  it('migrates queued, running and blocked threads', () => {
    const { s, ts } = setup(3, () => 0, 2);
    s.pick(0);
    unwrap(s.migrate(ts[0]!, 1));
    expect(s.current(0)).toBeNull();
    expect(ts[0]!.cpu).toBe(1);
    expect(names(s.readyQueue(1))).toEqual(['t0']);
    unwrap(s.migrate(ts[1]!, 1));
    expect(names(s.readyQueue(0))).toEqual(['t2']);
    expect(names(s.readyQueue(1))).toEqual(['t0', 't1']);
    unwrap(s.block(ts[2]!, 'in-ipc'));
    unwrap(s.migrate(ts[2]!, 1));
    expect(names(s.readyQueue(0))).toEqual([]);
    unwrap(s.unblock(ts[2]!));
    expect(names(s.readyQueue(1))).toEqual(['t0', 't1', 't2']);
  });

  it('changes priority, re-queueing a runnable thread at the tail of its new level', () => {
    const { s, ts } = setup(3, () => 2);
    unwrap(s.setPriority(ts[2]!, 9));
    expect(s.pick(0)).toBe(ts[2]);
    unwrap(s.setPriority(ts[2]!, 2));
    expect(s.current(0)).toBeNull();
    expect(names(s.readyQueue(0))).toEqual(['t0', 't1', 't2']);
  });

  it('removes a thread without touching its state, also through Thread.unlink', () => {
    const { s, ts } = setup(3);
    s.pick(0);
    unwrap(s.remove(ts[0]!));
    expect(s.current(0)).toBeNull();
    expect(s.has(ts[0]!)).toBe(false);
    expect(ts[0]!.state).toBe('running');
    expect(ts[0]!.holders).toEqual([]);
    const tr = ts[1]!.unlink();
    expect(tr).toEqual({ wake: [], block: [], events: [] });
    expect(names(s.readyQueue(0))).toEqual(['t2']);
    expect(s.remove(ts[1]!).ok).toBe(false);
  });

  it('applies endpoint transitions and refuses unknown threads without change', () => {
    const { s, ts } = setup(3);
    const [stranger] = threads(1);
    s.pick(0);
    ts[0]!.state = 'in-ipc';
    ts[2]!.state = 'in-ipc';
    unwrap(s.apply({ wake: [], block: [ts[0]!, ts[2]!], events: [] }));
    expect(s.current(0)).toBeNull();
    expect(names(s.readyQueue(0))).toEqual(['t1']);
    const before = snapshot(s, ts);
    const r = s.apply({ wake: [ts[0]!], block: [stranger!], events: [] });
    expect(r.ok || r.code).toBe('NOT_ADMITTED');
    expect(snapshot(s, ts)).toEqual(before);
    ts[2]!.state = 'ready';
    unwrap(s.apply({ wake: [ts[2]!, ts[0]!], block: [], events: [] }, { head: true }));
    expect(names(s.readyQueue(0))).toEqual(['t0', 't2', 't1']);
  });

  it('reconciles with states another layer set directly', () => {
    const { s, ts } = setup(2);
    s.pick(0);
    ts[0]!.state = 'blocked-fault';
    ts[1]!.state = 'blocked-fault';
    expect(s.pick(0)).toBeNull();
    ts[0]!.state = 'ready';
    unwrap(s.sync(ts[0]!));
    unwrap(s.sync(ts[1]!));
    expect(s.pick(0)).toBe(ts[0]);
  });

  it('refuses invalid requests with typed errors and changes nothing', () => {
    const { s, ts } = setup(2, () => 0, 2);
    const [fresh, dead] = threads(2);
    dead!.state = 'destroyed';
    s.pick(0);
    const before = snapshot(s, ts);
    const codes = [
      s.admit(ts[0]!),
      s.admit(dead!),
      s.block(fresh!, 'in-ipc'),
      s.block(ts[0]!, 'ready' as BlockedState),
      s.unblock(fresh!),
      s.migrate(ts[0]!, 2),
      s.migrate(ts[0]!, -1),
      s.setPriority(ts[0]!, 256),
      s.setPriority(ts[0]!, 1.5),
      s.remove(fresh!),
      s.sync(fresh!),
    ].map((r) => (r.ok ? 'ok' : r.code));
    expect(codes).toEqual([
      'ALREADY_ADMITTED',
      'THREAD_DESTROYED',
      'NOT_ADMITTED',
      'INVALID_STATE',
      'NOT_ADMITTED',
      'INVALID_CPU',
      'INVALID_CPU',
      'INVALID_PRIORITY',
      'INVALID_PRIORITY',
      'NOT_ADMITTED',
      'NOT_ADMITTED',
    ]);
    expect(snapshot(s, ts)).toEqual(before);
    fresh!.cpu = 5;
    const r = s.admit(fresh!);
    expect(r.ok ? '' : r.message).toContain('cpu 5 does not exist');
    expect(() => s.charge(0, -1)).toThrow(/charged cycles/);
    expect(() => s.pick(3)).toThrow(/cpu 3/);
  });

  it('describes itself', () => {
    const { s } = setup(2);
    s.pick(0);
    expect(s.toString()).toBe("scheduler (quantum 10 cycles; cpu 0: 't0', 1 ready)");
  });
});

// ---- Model-based test against a naive reference -------------------------------------------

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
