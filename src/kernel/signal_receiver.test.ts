import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { names, threads } from './kernel.testutil.js';
import { Scheduler } from './scheduler.js';
import { type SignalOutcome, SignalReceiver, type SignalSource } from './signal_receiver.js';
import type { Thread } from './thread.js';

/** Same shape as core's SignalContext (id, pending, take, label, listen, submit). */
class FakeContext implements SignalSource {
  pending = 0;
  submitted = 0;
  private listener: ((c: FakeContext) => void) | null = null;
  constructor(
    readonly id: number,
    readonly label: string,
  ) {}
  listen(fn: ((c: FakeContext) => void) | null): void {
    this.listener = fn;
  }
  submit(): void {
    this.submitted++;
    this.pending++;
    if (this.pending === 1) this.listener?.(this);
  }
  take(): number {
    const n = this.pending;
    this.pending = 0;
    return n;
  }
}

function show(o: SignalOutcome) {
  return {
    wake: names(o.wake),
    block: names(o.block),
    events: o.events.map((e) => `${e.thread.name}:${e.context.id}x${e.count}`),
  };
}

function setup() {
  const rx = new SignalReceiver(1, 'handler');
  const ctx = [new FakeContext(10, 'fault'), new FakeContext(11, 'irq'), new FakeContext(12, 'timer')];
  const outcomes: SignalOutcome[] = [];
  for (const c of ctx) {
    unwrap(rx.manage(c));
    c.listen((x) => outcomes.push(unwrap(rx.notify(x))));
  }
  const ts = threads(3);
  return { rx, ctx, outcomes, ts, a: ts[0]!, b: ts[1]! };
}

describe('SignalReceiver', () => {
  it('blocks a waiting thread and wakes it with the context on submission', () => {
    const { rx, ctx, outcomes, a } = setup();
    expect(show(unwrap(rx.wait(a)))).toEqual({ wake: [], block: ['t0'], events: [] });
    expect(a.state).toBe('waiting-signal');
    expect(a.holders).toEqual([rx]);
    ctx[0]!.submit();
    expect(show(outcomes[0]!)).toEqual({ wake: ['t0'], block: [], events: ['t0:10x1'] });
    expect(a.state).toBe('ready');
    expect(a.holders).toEqual([]);
    expect(ctx[0]!.pending).toBe(0);
  });

  it('coalesces submissions before delivery into one count', () => {
    const { rx, ctx, outcomes, a } = setup();
    ctx[1]!.submit();
    ctx[1]!.submit();
    ctx[1]!.submit();
    expect(outcomes.length).toBe(1);
    expect(rx.pendingContexts()).toEqual([ctx[1]]);
    expect(show(unwrap(rx.wait(a)))).toEqual({ wake: [], block: [], events: ['t0:11x3'] });
    expect(rx.stats).toEqual({ deliveries: 1, signals: 3, blockedWaits: 0 });
  });

  it('delivers contexts in the order they became pending and wakes waiters FIFO', () => {
    const { rx, ctx, outcomes, a, b, ts } = setup();
    ctx[2]!.submit();
    ctx[0]!.submit();
    expect(show(unwrap(rx.wait(a))).events).toEqual(['t0:12x1']);
    expect(show(unwrap(rx.wait(b))).events).toEqual(['t1:10x1']);
    unwrap(rx.wait(a));
    unwrap(rx.wait(b));
    unwrap(rx.wait(ts[2]!));
    expect(names(rx.waiters())).toEqual(['t0', 't1', 't2']);
    ctx[1]!.submit();
    ctx[0]!.submit();
    expect(outcomes.slice(-2).map((o) => show(o).events[0])).toEqual(['t0:11x1', 't1:10x1']);
    expect(names(rx.waiters())).toEqual(['t2']);
  });

  it('ignores a notify with nothing pending or already deliverable, and skips a context drained elsewhere', () => {
    const { rx, ctx, a } = setup();
    expect(show(unwrap(rx.notify(ctx[0]!)))).toEqual({ wake: [], block: [], events: [] });
    ctx[0]!.submit();
    ctx[1]!.submit();
    expect(unwrap(rx.notify(ctx[0]!)).events).toEqual([]);
    expect(rx.pendingContexts()).toEqual([ctx[0], ctx[1]]);
    ctx[0]!.take();
    expect(show(unwrap(rx.wait(a))).events).toEqual(['t0:11x1']);
    expect(rx.pendingContexts()).toEqual([]);
  });

  it('makes an already pending context deliverable when managed', () => {
    const rx = new SignalReceiver(2, 'late');
    const c = new FakeContext(5, 'early');
    c.submit();
    const [a] = threads(1);
    unwrap(rx.wait(a!));
    expect(show(unwrap(rx.manage(c)))).toEqual({ wake: ['t0'], block: [], events: ['t0:5x1'] });
  });

  it('dissolves a context: it is no longer deliverable and keeps its count', () => {
    const { rx, ctx, a } = setup();
    ctx[0]!.submit();
    unwrap(rx.dissolve(ctx[0]!));
    expect(rx.manages(ctx[0]!)).toBe(false);
    expect(rx.pendingContexts()).toEqual([]);
    expect(ctx[0]!.pending).toBe(1);
    expect(unwrap(rx.wait(a)).block).toEqual([a]);
  });

  it('refuses unmanaged contexts, duplicates and blocked or destroyed threads, changing nothing', () => {
    const { rx, ctx, a, b } = setup();
    const stranger = new FakeContext(10, 'same id');
    unwrap(rx.wait(a));
    b.state = 'destroyed';
    const codes = [
      rx.manage(ctx[0]!),
      rx.manage(stranger),
      rx.notify(stranger),
      rx.dissolve(stranger),
      rx.wait(a),
      rx.wait(b),
    ].map((r) => (r.ok ? 'ok' : r.code));
    expect(codes).toEqual([
      'ALREADY_MANAGED',
      'ALREADY_MANAGED',
      'NOT_MANAGED',
      'NOT_MANAGED',
      'THREAD_BLOCKED',
      'THREAD_DESTROYED',
    ]);
    expect(names(rx.waiters())).toEqual(['t0']);
    const r = rx.notify(stranger);
    expect(r.ok ? '' : r.message).toBe(
      `cannot notify signal context #10 'same id': ${rx} does not manage it`,
    );
  });

  it('removes a destroyed waiter everywhere through Thread.unlink', () => {
    const { rx, ctx, outcomes, a, b } = setup();
    const sched = new Scheduler(1, { quantum: 10 });
    unwrap(sched.admit(a));
    unwrap(sched.admit(b));
    unwrap(sched.apply(unwrap(rx.wait(a))));
    unwrap(sched.apply(unwrap(rx.wait(b))));
    expect(a.holders).toEqual([sched, rx]);
    expect(a.unlink().wake).toEqual([]);
    expect(names(rx.waiters())).toEqual(['t1']);
    expect(sched.has(a)).toBe(false);
    ctx[0]!.submit();
    unwrap(sched.apply(outcomes[0]!));
    expect(sched.pick(0)).toBe(b);
  });

  it('describes itself', () => {
    const { rx, ctx, a } = setup();
    ctx[0]!.submit();
    unwrap(rx.dissolve(ctx[2]!));
    expect(rx.toString()).toBe("signal receiver #1 'handler' (2 contexts, 1 deliverable, 0 waiting)");
    expect(a.toString()).toContain("thread 't0'");
  });
});

// ---- Model-based test: every submission is delivered exactly once --------------------------

const C = 3;
const N = 3;
interface Model {
  pending: number[];
  queue: number[];
  waiters: number[];
  states: string[];
  delivered: number[];
}
interface Real {
  rx: SignalReceiver;
  ctx: FakeContext[];
  ts: Thread[];
  delivered: number[];
  log: SignalOutcome[];
}
type Op =
  | { k: 'submit'; c: number }
  | { k: 'wait'; t: number }
  | { k: 'destroy'; t: number }
  | { k: 'take'; c: number };

function refDeliver(m: Model, t: number, c: number): void {
  m.delivered[c]! += m.pending[c]!;
  m.pending[c] = 0;
  m.states[t] = 'ready';
}

function refRun(m: Model, op: Op): string {
  switch (op.k) {
    case 'submit':
      m.pending[op.c]!++;
      if (m.pending[op.c] === 1 && !m.queue.includes(op.c)) {
        const w = m.waiters.shift();
        if (w === undefined) m.queue.push(op.c);
        else refDeliver(m, w, op.c);
      }
      return 'ok';
    case 'take':
      m.pending[op.c] = 0;
      return 'ok';
    case 'wait': {
      if (m.states[op.t] === 'destroyed') return 'THREAD_DESTROYED';
      if (m.states[op.t] !== 'ready') return 'THREAD_BLOCKED';
      while (m.queue.length > 0) {
        const c = m.queue.shift()!;
        if (m.pending[c]! > 0) {
          refDeliver(m, op.t, c);
          return 'ok';
        }
      }
      m.waiters.push(op.t);
      m.states[op.t] = 'waiting-signal';
      return 'ok';
    }
    case 'destroy':
      m.waiters = m.waiters.filter((w) => w !== op.t);
      m.states[op.t] = 'destroyed';
      return 'ok';
  }
}

class OpCmd implements fc.Command<Model, Real> {
  constructor(readonly op: Op) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const want = refRun(m, this.op);
    const op = this.op;
    let got = 'ok';
    if (op.k === 'submit') r.ctx[op.c]!.submit();
    else if (op.k === 'take') r.ctx[op.c]!.take();
    else if (op.k === 'destroy') {
      r.ts[op.t]!.unlink();
      r.ts[op.t]!.state = 'destroyed';
    } else {
      const res = r.rx.wait(r.ts[op.t]!);
      if (res.ok) r.log.push(res.value);
      got = res.ok ? 'ok' : res.code;
    }
    expect(got).toBe(want);
    for (const o of r.log.splice(0)) {
      for (const e of o.events) {
        expect(e.count).toBeGreaterThan(0);
        r.delivered[r.ctx.indexOf(e.context as FakeContext)]! += e.count;
      }
    }
    expect(r.delivered).toEqual(m.delivered);
    expect(r.ctx.map((c) => c.pending)).toEqual(m.pending);
    expect(r.ts.map((t) => t.state)).toEqual(m.states);
    expect(r.rx.waiters().map((t) => r.ts.indexOf(t))).toEqual(m.waiters);
    // A thread never waits while a context with pending submissions is deliverable.
    if (r.rx.waiters().length > 0) expect(r.rx.pendingContexts().filter((c) => c.pending > 0)).toEqual([]);
    r.ts.forEach((t, i) => {
      expect(t.holders.includes(r.rx)).toBe(m.waiters.includes(i));
    });
  }
  toString = () => JSON.stringify(this.op);
}

const cArb = fc.integer({ min: 0, max: C - 1 });
const tArb = fc.integer({ min: 0, max: N - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: cArb.map((c) => ({ k: 'submit' as const, c })) },
  { weight: 4, arbitrary: tArb.map((t) => ({ k: 'wait' as const, t })) },
  cArb.map((c) => ({ k: 'take' as const, c })),
  tArb.map((t) => ({ k: 'destroy' as const, t })),
);

describe('SignalReceiver model', () => {
  it('delivers every submission exactly once, coalesced, to waiters in FIFO order', () => {
    fc.assert(
      fc.property(
        fc.commands([opArb.map((op) => new OpCmd(op))], { maxCommands: 100, size: 'medium' }),
        (cmds) => {
          const rx = new SignalReceiver(1, 'rx');
          const ctx = Array.from({ length: C }, (_, i) => new FakeContext(i, `c${i}`));
          const real: Real = { rx, ctx, ts: threads(N), delivered: Array(C).fill(0), log: [] };
          for (const c of ctx) {
            unwrap(rx.manage(c));
            c.listen((x) => real.log.push(unwrap(rx.notify(x))));
          }
          const model: Model = {
            pending: Array(C).fill(0),
            queue: [],
            waiters: [],
            states: Array(N).fill('ready'),
            delivered: Array(C).fill(0),
          };
          fc.modelRun(() => ({ model, real }), cmds);
        },
      ),
      { numRuns: 300 },
    );
  });
});
