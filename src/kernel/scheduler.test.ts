import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { names, threads } from './kernel.testutil.js';
import { Scheduler } from './scheduler.js';
import type { BlockedState, Thread } from './thread.js';

// The model-based test against a naive reference is in scheduler.property.test.ts.

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

  it('keeps its own record of a thread that another scheduler admitted after it', () => {
    const [t] = threads(1);
    const a = new Scheduler(1, { quantum: 100 });
    const b = new Scheduler(1, { quantum: 100 });
    unwrap(a.admit(t!));
    a.pick(0);
    a.charge(0, 7);
    unwrap(b.admit(t!));
    expect(a.quantumUsed(t!)).toBe(7);
    expect(b.quantumUsed(t!)).toBe(0);
    unwrap(b.remove(t!));
    unwrap(a.block(t!, 'waiting-signal'));
    expect(a.current(0)).toBeNull();
    expect(unwrap(a.unblock(t!))).toBe(true);
    unwrap(a.remove(t!));
    expect(a.block(t!, 'waiting-signal').ok).toBe(false);
    expect(a.quantumUsed(t!)).toBe(0);
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
