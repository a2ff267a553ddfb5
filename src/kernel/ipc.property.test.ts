/**
 * Model-based property test of the IPC endpoint: random calls, receives, replies, deadlines and
 * thread deaths run on a real Endpoint and on a naive reference; no call may be lost or
 * duplicated. Apart from the transition unit tests (ipc.test.ts) because of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Endpoint, type IpcOutcome } from './ipc.js';
import { threads } from './kernel.testutil.js';
import type { Thread } from './thread.js';

// ---- Model-based test: no call is lost or duplicated -----------------------------------------

const N = 5;

type CallStatus = 'queued' | 'taken' | 'replied' | 'timeout-send' | 'timeout-reply' | 'aborted' | 'discarded';
interface RefCall {
  id: number;
  seq: number;
  caller: number;
  sendDeadline: number;
  replyDeadline: number;
  server: number | null;
  status: CallStatus;
}
interface Model {
  now: number;
  seq: number;
  nextCall: number;
  calls: RefCall[];
  /** Waiting servers FIFO with deadline and start sequence. */
  waiters: { server: number; deadline: number; seq: number }[];
  /** Order in which each server took its calls. */
  taken: number[][];
  states: string[];
  log: string[];
}
interface Real {
  ep: Endpoint<number, number>;
  ts: Thread[];
  log: string[];
}

type Op =
  | { k: 'call'; i: number; send: number | null; reply: number | null }
  | { k: 'receive'; i: number; deadline: number | null }
  | { k: 'reply'; i: number }
  | { k: 'replyWait'; i: number; deadline: number | null }
  | { k: 'advance'; dt: number }
  | { k: 'destroyThread'; i: number };

const byId = (m: Model, id: number) => m.calls.find((c) => c.id === id)!;
const live = (m: Model, status: CallStatus) => m.calls.filter((c) => c.status === status);
const outstanding = (m: Model, i: number) =>
  m.calls.find((c) => c.caller === i && (c.status === 'queued' || c.status === 'taken'));

function refRunnable(m: Model, i: number): string | null {
  if (m.states[i] === 'destroyed') return 'THREAD_DESTROYED';
  if (m.states[i] !== 'ready') return 'THREAD_BLOCKED';
  return null;
}

function refTake(m: Model, c: RefCall, server: number): void {
  c.server = server;
  c.status = 'taken';
  m.taken[server]!.push(c.id);
  m.log.push(`recv ${server}<-${c.id}`);
}

function refReceive(m: Model, i: number, deadline: number | null): void {
  const head = live(m, 'queued').sort((a, b) => a.id - b.id)[0];
  if (head) refTake(m, head, i);
  else {
    m.states[i] = 'in-ipc';
    m.waiters.push({ server: i, deadline: deadline ?? Number.POSITIVE_INFINITY, seq: m.seq++ });
  }
}

function refAnswer(m: Model, i: number): boolean {
  const list = m.taken[i]!;
  const id = list.pop();
  if (id === undefined) return false;
  const c = byId(m, id);
  c.status = 'replied';
  m.states[c.caller] = 'ready';
  m.log.push(`reply ${i}->${id}`);
  return true;
}

function refRun(m: Model, op: Op): string {
  switch (op.k) {
    case 'call': {
      const bad = refRunnable(m, op.i);
      if (bad) return bad;
      const c: RefCall = {
        id: m.nextCall++,
        seq: m.seq++,
        caller: op.i,
        sendDeadline: op.send === null ? Number.POSITIVE_INFINITY : m.now + op.send,
        replyDeadline: op.reply === null ? Number.POSITIVE_INFINITY : m.now + op.reply,
        server: null,
        status: 'queued',
      };
      m.calls.push(c);
      m.states[op.i] = 'in-ipc';
      const w = m.waiters.shift();
      if (w) {
        m.states[w.server] = 'ready';
        refTake(m, c, w.server);
      }
      return 'ok';
    }
    case 'receive': {
      const bad = refRunnable(m, op.i);
      if (bad) return bad;
      refReceive(m, op.i, op.deadline === null ? null : m.now + op.deadline);
      return 'ok';
    }
    case 'reply': {
      const bad = refRunnable(m, op.i);
      if (bad) return bad;
      return refAnswer(m, op.i) ? 'ok' : 'NO_REPLY_PENDING';
    }
    case 'replyWait': {
      const bad = refRunnable(m, op.i);
      if (bad) return bad;
      if (!refAnswer(m, op.i)) m.log.push(`dropped ${op.i}`);
      refReceive(m, op.i, op.deadline === null ? null : m.now + op.deadline);
      return 'ok';
    }
    case 'advance': {
      m.now += op.dt;
      const due: { d: number; s: number; label: string; fire: () => void }[] = [];
      for (const c of m.calls) {
        if (c.status === 'queued' && c.sendDeadline <= m.now)
          due.push({
            d: c.sendDeadline,
            s: c.seq,
            label: `expire ${c.id}`,
            fire: () => {
              c.status = 'timeout-send';
              m.states[c.caller] = 'ready';
            },
          });
        if (c.status === 'taken' && c.replyDeadline <= m.now)
          due.push({
            d: c.replyDeadline,
            s: c.seq,
            label: `expire ${c.id}`,
            fire: () => {
              c.status = 'timeout-reply';
              m.states[c.caller] = 'ready';
              const l = m.taken[c.server!]!;
              l.splice(l.indexOf(c.id), 1);
            },
          });
      }
      for (const w of m.waiters) {
        if (w.deadline <= m.now)
          due.push({
            d: w.deadline,
            s: w.seq,
            label: 'expire ?',
            fire: () => {
              m.waiters.splice(m.waiters.indexOf(w), 1);
              m.states[w.server] = 'ready';
            },
          });
      }
      due.sort((a, b) => a.d - b.d || a.s - b.s);
      for (const x of due) {
        x.fire();
        m.log.push(x.label);
      }
      return 'ok';
    }
    case 'destroyThread': {
      if (m.states[op.i] === 'destroyed') return 'ok';
      const own = outstanding(m, op.i);
      if (own) {
        own.status = 'discarded';
        if (own.server !== null) {
          const l = m.taken[own.server]!;
          l.splice(l.indexOf(own.id), 1);
        }
      }
      m.waiters = m.waiters.filter((w) => w.server !== op.i);
      for (const id of m.taken[op.i]!) {
        byId(m, id).status = 'aborted';
        m.states[byId(m, id).caller] = 'ready';
      }
      m.taken[op.i] = [];
      m.states[op.i] = 'destroyed';
      return 'ok';
    }
  }
}

function logEvents(r: Real, o: IpcOutcome<number, number>): void {
  for (const e of o.events) {
    const idx = (t: Thread) => r.ts.indexOf(t);
    if (e.kind === 'received') r.log.push(`recv ${idx(e.server)}<-${e.call}`);
    else if (e.kind === 'replied') r.log.push(`reply ${idx(e.server)}->${e.call}`);
    else if (e.kind === 'reply-dropped') r.log.push(`dropped ${idx(e.server)}`);
    else if (e.kind === 'call-failed' && e.code === 'IPC_TIMEOUT') r.log.push(`expire ${e.call}`);
    else if (e.kind === 'receive-failed') r.log.push(`expire ?`);
  }
}

class OpCmd implements fc.Command<Model, Real> {
  constructor(readonly op: Op) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const want = refRun(m, this.op);
    const op = this.op;
    const t = 'i' in op ? r.ts[op.i]! : undefined;
    const abs = (d: number | null) => (d === null ? undefined : m.now + d);
    let res: { ok: boolean; code?: string; value?: IpcOutcome<number, number> };
    switch (op.k) {
      case 'call':
        res = r.ep.call(t!, 0, { sendDeadline: abs(op.send), replyDeadline: abs(op.reply) });
        break;
      case 'receive':
        res = r.ep.receive(t!, { deadline: abs(op.deadline) });
        break;
      case 'reply':
        res = r.ep.reply(t!, 0);
        break;
      case 'replyWait':
        res = r.ep.replyAndWait(t!, 0, { deadline: abs(op.deadline) });
        break;
      case 'advance':
        res = { ok: true, value: r.ep.expire(m.now) };
        break;
      case 'destroyThread':
        if (t!.state === 'destroyed') res = { ok: true, value: { wake: [], block: [], events: [] } };
        else {
          res = { ok: true, value: t!.unlink() as IpcOutcome<number, number> };
          t!.state = 'destroyed';
        }
        break;
    }
    expect(res.ok ? 'ok' : res.code).toBe(want);
    if (res.ok) logEvents(r, res.value!);
    expect(r.log).toEqual(m.log);
    this.invariants(m, r);
  }

  invariants(m: Model, r: Real): void {
    const qd = live(m, 'queued').sort((a, b) => a.id - b.id);
    const perThread = (t: Thread) => ({
      taken: r.ep.awaitingReply(t).map((c) => r.ep.callIdOf(c)),
      call: r.ep.callIdOf(t),
      phase: r.ep.phase(t),
      held: t.holders.includes(r.ep),
    });
    const refThread = (i: number) => {
      // Conservation: each thread has at most one outstanding call, and it is in exactly one place.
      const own = outstanding(m, i);
      const receiving = m.waiters.some((w) => w.server === i);
      return {
        taken: m.taken[i],
        call: own ? own.id : null,
        phase: own ? (own.status === 'queued' ? 'send' : 'reply') : receiving ? 'receive' : null,
        held: own !== undefined || m.taken[i]!.length > 0 || receiving,
      };
    };
    const s = r.ep.stats;
    const real = {
      states: r.ts.map((t) => t.state),
      queued: r.ep.queued().map((t) => r.ts.indexOf(t)),
      receivers: r.ep.receivers().map((t) => r.ts.indexOf(t)),
      threads: r.ts.map(perThread),
      calls: s.calls,
      accounted: s.replies + s.sendTimeouts + s.replyTimeouts + s.aborted + s.discarded + qd.length,
    };
    expect(real).toEqual({
      states: m.states,
      queued: qd.map((c) => c.caller),
      receivers: m.waiters.map((w) => w.server),
      threads: r.ts.map((_, i) => refThread(i)),
      calls: m.calls.length,
      accounted: m.calls.length - live(m, 'taken').length,
    });
    // A call never queues while a server waits.
    expect(real.queued.length === 0 || real.receivers.length === 0).toBe(true);
  }
  toString = () => JSON.stringify(this.op);
}

const who = fc.integer({ min: 0, max: N - 1 });
const dl = fc.option(fc.integer({ min: 0, max: 30 }), { nil: null });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('call' as const), i: who, send: dl, reply: dl }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('receive' as const), i: who, deadline: dl }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('reply' as const), i: who }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('replyWait' as const), i: who, deadline: dl }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('advance' as const), dt: fc.integer({ min: 0, max: 20 }) }),
  },
  fc.record({ k: fc.constant('destroyThread' as const), i: who }),
);

describe('Endpoint model', () => {
  it('never loses or duplicates a call: each is replied, timed out, aborted, discarded or still pending', () => {
    fc.assert(
      fc.property(
        fc.commands([opArb.map((op) => new OpCmd(op))], { maxCommands: 100, size: 'medium' }),
        (cmds) => {
          const model: Model = {
            now: 0,
            seq: 0,
            nextCall: 0,
            calls: [],
            waiters: [],
            taken: Array.from({ length: N }, () => []),
            states: Array(N).fill('ready'),
            log: [],
          };
          const real: Real = { ep: new Endpoint<number, number>(1, 'ep'), ts: threads(N), log: [] };
          fc.modelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 200 },
    );
  });
});
