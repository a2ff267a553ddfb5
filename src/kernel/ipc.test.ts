import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { Endpoint, type IpcEvent, type IpcOutcome } from './ipc.js';
import { names, threads } from './kernel.testutil.js';
import { Scheduler } from './scheduler.js';
import type { Thread } from './thread.js';

// The model-based property test (no call is lost or duplicated) is in ipc.property.test.ts.

type Ev = IpcEvent<string, string>;

/** Events as short strings: kind, threads, call id and message. */
function evs(o: IpcOutcome<string, string>): string[] {
  return o.events.map((e: Ev) => {
    switch (e.kind) {
      case 'received':
        return `received ${e.server.name}<-${e.caller.name} #${e.call} ${e.msg}`;
      case 'replied':
        return `replied ${e.server.name}->${e.caller.name} #${e.call} ${e.msg}`;
      case 'call-failed':
        return `failed ${e.caller.name} #${e.call} ${e.code} ${e.phase} ${e.msg}`;
      case 'receive-failed':
        return `receive-failed ${e.server.name} ${e.code}`;
      case 'reply-dropped':
        return `reply-dropped ${e.server.name} ${e.msg}`;
    }
    throw new Error('unknown event');
  });
}

function tr(o: IpcOutcome<string, string>) {
  return { wake: names(o.wake), block: names(o.block), events: evs(o) };
}

function setup(n = 4) {
  const ts = threads(n);
  return {
    ep: new Endpoint<string, string>(3, 'fault service'),
    ts,
    a: ts[0]!,
    b: ts[1]!,
    c: ts[2]!,
    s: ts[3]!,
  };
}

function view(ep: Endpoint<string, string>, ts: readonly Thread[]) {
  return {
    str: ep.toString(),
    queued: names(ep.queued()),
    receivers: names(ep.receivers()),
    taken: ts.map((t) => names(ep.awaitingReply(t))),
    states: ts.map((t) => t.state),
    stats: { ...ep.stats },
  };
}

describe('Endpoint transitions', () => {
  it('queues a caller FIFO in-ipc when no server waits', () => {
    const { ep, a, b } = setup();
    const r = unwrap(ep.call(a, 'm1'));
    expect(tr(r)).toEqual({ wake: [], block: ['t0'], events: [] });
    expect(r.call).toBe(0);
    unwrap(ep.call(b, 'm2'));
    expect(a.state).toBe('in-ipc');
    expect(names(ep.queued())).toEqual(['t0', 't1']);
    expect(ep.phase(a)).toBe('send');
    expect(ep.callIdOf(b)).toBe(1);
  });

  it('lets a server take the head caller at once without blocking', () => {
    const { ep, a, b, s } = setup();
    unwrap(ep.call(a, 'm1'));
    unwrap(ep.call(b, 'm2'));
    expect(tr(unwrap(ep.receive(s)))).toEqual({ wake: [], block: [], events: ['received t3<-t0 #0 m1'] });
    expect(s.state).toBe('ready');
    expect(ep.phase(a)).toBe('reply');
    expect(names(ep.queued())).toEqual(['t1']);
  });

  it('blocks a server in receive and hands the next call over, waking it', () => {
    const { ep, a, s } = setup();
    expect(tr(unwrap(ep.receive(s)))).toEqual({ wake: [], block: ['t3'], events: [] });
    expect(ep.phase(s)).toBe('receive');
    expect(tr(unwrap(ep.call(a, 'm')))).toEqual({
      wake: ['t3'],
      block: ['t0'],
      events: ['received t3<-t0 #0 m'],
    });
    expect(s.state).toBe('ready');
    expect(ep.stats.handedOver).toBe(1);
  });

  it('replies to the last call taken by default, or to a named caller', () => {
    const { ep, a, b, s } = setup();
    unwrap(ep.call(a, 'x'));
    unwrap(ep.call(b, 'y'));
    unwrap(ep.receive(s));
    unwrap(ep.receive(s));
    expect(names(ep.awaitingReply(s))).toEqual(['t0', 't1']);
    expect(tr(unwrap(ep.reply(s, 'to-a', a)))).toEqual({
      wake: ['t0'],
      block: [],
      events: ['replied t3->t0 #0 to-a'],
    });
    expect(tr(unwrap(ep.reply(s, 'last')))).toEqual({
      wake: ['t1'],
      block: [],
      events: ['replied t3->t1 #1 last'],
    });
    expect([a.state, b.state]).toEqual(['ready', 'ready']);
    expect(a.holders).toEqual([]);
    expect(s.holders).toEqual([]);
  });

  it('refuses a reply nobody waits for and changes nothing', () => {
    const { ep, ts, a, b, s } = setup();
    unwrap(ep.call(a, 'x'));
    unwrap(ep.receive(s));
    const before = view(ep, ts);
    const r1 = ep.reply(s, 'r', b);
    const r2 = ep.reply(b, 'r');
    expect(r1.ok ? '' : r1.code).toBe('NO_REPLY_PENDING');
    expect(r2.ok ? '' : r2.message).toBe(`${b} has no call from any caller to answer on ${ep}`);
    expect(view(ep, ts)).toEqual(before);
  });

  it('replies and waits (the L4 fast path), taking the next queued call', () => {
    const { ep, a, b, s } = setup();
    unwrap(ep.call(a, 'x'));
    unwrap(ep.call(b, 'y'));
    unwrap(ep.receive(s));
    expect(tr(unwrap(ep.replyAndWait(s, 'rx')))).toEqual({
      wake: ['t0'],
      block: [],
      events: ['replied t3->t0 #0 rx', 'received t3<-t1 #1 y'],
    });
    expect(tr(unwrap(ep.replyAndWait(s, 'ry')))).toEqual({
      wake: ['t1'],
      block: ['t3'],
      events: ['replied t3->t1 #1 ry'],
    });
  });

  it('reports a dropped reply when replyAndWait finds no caller, and still waits', () => {
    const { ep, s } = setup();
    expect(tr(unwrap(ep.replyAndWait(s, 'late')))).toEqual({
      wake: [],
      block: ['t3'],
      events: ['reply-dropped t3 late'],
    });
    expect(ep.stats.repliesDropped).toBe(1);
  });

  it('times out a queued call at its send deadline: the message is lost', () => {
    const { ep, a, b, s } = setup();
    unwrap(ep.call(a, 'input-event', { sendDeadline: 50 }));
    unwrap(ep.call(b, 'other'));
    expect(ep.nextDeadline()).toBe(50);
    expect(tr(ep.expire(49))).toEqual({ wake: [], block: [], events: [] });
    expect(tr(ep.expire(50))).toEqual({
      wake: ['t0'],
      block: [],
      events: ['failed t0 #0 IPC_TIMEOUT send input-event'],
    });
    expect(a.state).toBe('ready');
    expect(ep.stats.sendTimeouts).toBe(1);
    expect(tr(unwrap(ep.receive(s))).events).toEqual(['received t3<-t1 #1 other']);
    expect(ep.nextDeadline()).toBeNull();
  });

  it('explains the failure in the call-failed message', () => {
    const { ep, a } = setup();
    unwrap(ep.call(a, 'x', { sendDeadline: 5 }));
    const e = ep.expire(5).events[0]!;
    expect(e.kind === 'call-failed' && e.message).toBe(
      `call #0 by ${a} on ${ep} failed with IPC_TIMEOUT: no server took it by 5: the message is lost`,
    );
  });

  it('applies the send deadline only until a server takes the call', () => {
    const { ep, a, s } = setup();
    unwrap(ep.call(a, 'x', { sendDeadline: 10 }));
    unwrap(ep.receive(s));
    expect(ep.nextDeadline()).toBeNull();
    expect(tr(ep.expire(1000))).toEqual({ wake: [], block: [], events: [] });
    expect(a.state).toBe('in-ipc');
  });

  it('times out a taken call at its reply deadline; the late reply is refused or dropped', () => {
    const { ep, a, s } = setup();
    unwrap(ep.call(a, 'fault', { replyDeadline: 30 }));
    unwrap(ep.receive(s));
    expect(ep.nextDeadline()).toBe(30);
    expect(tr(ep.expire(31))).toEqual({
      wake: ['t0'],
      block: [],
      events: ['failed t0 #0 IPC_TIMEOUT reply fault'],
    });
    expect(ep.reply(s, 'map').ok).toBe(false);
    expect(tr(unwrap(ep.replyAndWait(s, 'map'))).events).toEqual(['reply-dropped t3 map']);
    expect(ep.stats.replyTimeouts).toBe(1);
  });

  it('times out a waiting server at its receive deadline (IPC as a time source)', () => {
    const { ep, s } = setup();
    unwrap(ep.receive(s, { deadline: 100 }));
    expect(tr(ep.expire(100))).toEqual({
      wake: ['t3'],
      block: [],
      events: ['receive-failed t3 IPC_TIMEOUT'],
    });
    expect(s.state).toBe('ready');
    expect(ep.stats.receiveTimeouts).toBe(1);
    expect(s.holders).toEqual([]);
  });

  it('expires in deadline order, then in start order', () => {
    const { ep, a, b, c, s } = setup();
    unwrap(ep.call(a, 'a', { sendDeadline: 20 }));
    unwrap(ep.call(b, 'b', { sendDeadline: 10 }));
    unwrap(ep.call(c, 'c', { sendDeadline: 20 }));
    unwrap(ep.receive(s));
    expect(evs(ep.expire(25))).toEqual([
      'failed t1 #1 IPC_TIMEOUT send b',
      'failed t2 #2 IPC_TIMEOUT send c',
    ]);
  });

  it('shows seed 001: a short send timeout loses the message, a long one stalls the caller', () => {
    // The server is busy (other threads use their quanta) until t = 40, then receives.
    const busyUntil = 40;
    const run = (deadline: number) => {
      const { ep, a, s } = setup();
      unwrap(ep.call(a, 'input', { sendDeadline: deadline }));
      const lost = ep.expire(Math.min(deadline, busyUntil)).events.length > 0;
      const got = evs(unwrap(ep.receive(s)));
      return { lost, got, callerBlockedFor: lost ? deadline : busyUntil };
    };
    expect(run(5)).toEqual({ lost: true, got: [], callerBlockedFor: 5 });
    expect(run(500)).toEqual({ lost: false, got: ['received t3<-t0 #0 input'], callerBlockedFor: 40 });
  });

  it('refuses blocked or destroyed threads, bad deadlines and a destroyed endpoint, changing nothing', () => {
    const { ep, ts, a, b, s } = setup();
    unwrap(ep.call(a, 'x'));
    b.state = 'destroyed';
    const before = view(ep, ts);
    const codes = [
      ep.call(a, 'again'),
      ep.receive(a),
      ep.reply(a, 'r'),
      ep.replyAndWait(a, 'r'),
      ep.call(b, 'x'),
      ep.call(s, 'x', { sendDeadline: Number.NaN }),
      ep.call(s, 'x', { replyDeadline: -1 }),
      ep.receive(s, { deadline: Number.NaN }),
      ep.replyAndWait(s, 'r', { deadline: -5 }),
    ].map((r) => (r.ok ? 'ok' : r.code));
    expect(codes).toEqual([
      'THREAD_BLOCKED',
      'THREAD_BLOCKED',
      'THREAD_BLOCKED',
      'THREAD_BLOCKED',
      'THREAD_DESTROYED',
      'INVALID_DEADLINE',
      'INVALID_DEADLINE',
      'INVALID_DEADLINE',
      'INVALID_DEADLINE',
    ]);
    expect(view(ep, ts)).toEqual(before);
    const r = ep.call(s, 'x');
    expect(r.ok).toBe(true);
  });

  it('removes a destroyed queued caller, waiting server or waiting-for-reply caller everywhere', () => {
    const { ep, a, b, c, s } = setup();
    const ep2 = new Endpoint<string, string>(4, 'other');
    unwrap(ep.call(a, 'x'));
    unwrap(ep2.receive(b));
    unwrap(ep.call(c, 'y'));
    unwrap(ep.receive(s));
    expect(a.holders).toEqual([ep]);
    expect(tr(a.unlink() as IpcOutcome<string, string>)).toEqual({ wake: [], block: [], events: [] });
    expect(c.unlink().wake).toEqual([]);
    expect(names(ep.queued())).toEqual([]);
    expect(ep.receivers()).toEqual([]);
    expect(ep.awaitingReply(s)).toEqual([]);
    expect(ep.reply(s, 'r').ok).toBe(false);
    b.unlink();
    expect(ep2.receivers()).toEqual([]);
    expect(ep.stats.discarded).toBe(2);
    expect([a, b, c, s].map((t) => t.holders.length)).toEqual([0, 0, 0, 0]);
  });

  it('aborts the calls a destroyed server had taken', () => {
    const { ep, a, b, s } = setup();
    unwrap(ep.call(a, 'x'));
    unwrap(ep.call(b, 'y'));
    unwrap(ep.receive(s));
    unwrap(ep.receive(s));
    s.state = 'destroyed';
    const out = ep.remove(s);
    expect(tr(out)).toEqual({
      wake: ['t0', 't1'],
      block: [],
      events: ['failed t0 #0 IPC_ABORTED reply x', 'failed t1 #1 IPC_ABORTED reply y'],
    });
    expect([a.state, b.state]).toEqual(['ready', 'ready']);
    expect(s.holders).toEqual([]);
  });

  it('aborts every call when the endpoint is destroyed; later operations fail', () => {
    const { ep, a, b, c } = setup();
    unwrap(ep.receive(c));
    unwrap(ep.call(a, 'x'));
    unwrap(ep.call(b, 'y'));
    expect(tr(ep.destroy())).toEqual({
      wake: ['t0', 't1'],
      block: [],
      events: ['failed t0 #0 IPC_ABORTED reply x', 'failed t1 #1 IPC_ABORTED send y'],
    });
    expect(ep.isDestroyed).toBe(true);
    expect(ep.stats.aborted).toBe(2);
    const r = ep.reply(c, 'z');
    expect(r.ok ? '' : r.code).toBe('ENDPOINT_DESTROYED');
    expect(tr(ep.destroy()).wake).toEqual([]);
    expect([a, b, c].map((t) => t.holders.length)).toEqual([0, 0, 0]);
  });

  it('aborts waiting servers when the endpoint is destroyed', () => {
    const { ep, s } = setup();
    unwrap(ep.receive(s));
    expect(tr(ep.destroy())).toEqual({ wake: ['t3'], block: [], events: ['receive-failed t3 IPC_ABORTED'] });
    expect(s.state).toBe('ready');
    expect(s.holders).toEqual([]);
  });

  it('drives the scheduler through apply', () => {
    const { ep, a, s } = setup();
    const sched = new Scheduler(1, { quantum: 100 });
    unwrap(sched.admit(a));
    unwrap(sched.admit(s));
    expect(sched.pick(0)).toBe(a);
    unwrap(sched.apply(unwrap(ep.call(a, 'x'))));
    expect(sched.pick(0)).toBe(s);
    unwrap(sched.apply(unwrap(ep.receive(s))));
    unwrap(sched.apply(unwrap(ep.replyAndWait(s, 'r')), { head: true }));
    expect(sched.current(0)).toBeNull();
    expect(sched.pick(0)).toBe(a);
    expect(a.holders).toEqual([sched]);
    expect(s.holders).toEqual([sched, ep]);
    s.unlink();
    expect(ep.receivers()).toEqual([]);
    expect(sched.has(s)).toBe(false);
  });
});
