import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InterruptController, type LineSpec } from '../hw/irq_controller.js';
import { unwrap } from '../util/result.js';
import { IrqService, type SignalTarget } from './irq_session.js';

const LEVEL: LineSpec = { trigger: 'level', polarity: 'high' };
const EDGE: LineSpec = { trigger: 'edge', polarity: 'high' };

function counter(): SignalTarget & { n: number } {
  return {
    n: 0,
    submit() {
      this.n++;
    },
  };
}

function setup(lines: readonly LineSpec[], msiVectors = 0, cpus = 2) {
  const c = unwrap(InterruptController.create({ cpus, lines, msiVectors }));
  return { c, svc: new IrqService(c) };
}

describe('IrqSession', () => {
  it('keeps the line masked until the first ack', () => {
    const { c, svc } = setup([LEVEL]);
    const s = unwrap(svc.open(0, 'nic'));
    const h = counter();
    unwrap(s.sigh(h));
    unwrap(c.assert(0));
    expect(h.n).toBe(0);
    expect(unwrap(c.state(0)).masked).toBe(true);
    unwrap(s.ack());
    expect(h.n).toBe(1);
  });

  it('submits exactly one signal per occurrence and masks until ack', () => {
    const { c, svc } = setup([EDGE]);
    const s = unwrap(svc.open(0));
    const h = counter();
    unwrap(s.sigh(h));
    unwrap(s.ack());
    unwrap(c.pulse(0));
    expect(h.n).toBe(1);
    unwrap(c.pulse(0)); // latched while masked
    expect(h.n).toBe(1);
    unwrap(s.ack());
    expect(h.n).toBe(2);
    unwrap(s.ack());
    expect(h.n).toBe(2);
    expect(s.stats).toEqual({ occurrences: 2, signals: 2, acks: 3 });
  });

  it('ack unmasks; a still-asserted level line fires again, a deasserted one does not', () => {
    const { c, svc } = setup([LEVEL]);
    const s = unwrap(svc.open(0));
    const h = counter();
    unwrap(s.sigh(h));
    unwrap(s.ack());
    expect(unwrap(c.state(0)).masked).toBe(false);
    unwrap(c.assert(0));
    unwrap(s.ack());
    expect(h.n).toBe(2);
    unwrap(c.deassert(0));
    unwrap(s.ack());
    expect(h.n).toBe(2);
    expect(unwrap(c.state(0)).masked).toBe(false);
  });

  it('works with an active-low line', () => {
    const { c, svc } = setup([{ trigger: 'level', polarity: 'low' }]);
    const s = unwrap(svc.open(0));
    const h = counter();
    unwrap(s.sigh(h));
    unwrap(s.ack());
    unwrap(c.setWire(0, true));
    expect(h.n).toBe(0);
    unwrap(c.setWire(0, false));
    expect(h.n).toBe(1);
  });

  it('owns its IRQ exclusively; a second open is IRQ_BUSY and changes nothing; close releases and masks', () => {
    const { c, svc } = setup([LEVEL, LEVEL]);
    const a = unwrap(svc.open(1, 'a'));
    const h = counter();
    unwrap(a.sigh(h));
    unwrap(a.ack());
    const busy = svc.open(1, 'b');
    expect(busy).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
    expect(busy.ok ? '' : busy.message).toContain("'a'");
    expect(svc.session(1)).toBe(a);
    expect(unwrap(c.state(1)).masked).toBe(false);
    a.close();
    expect(unwrap(c.state(1)).masked).toBe(true);
    expect(a.ack()).toMatchObject({ ok: false, code: 'SESSION_CLOSED' });
    expect(a.sigh(h)).toMatchObject({ ok: false, code: 'SESSION_CLOSED' });
    unwrap(c.assert(1));
    const b = unwrap(svc.open(1, 'b'));
    const hb = counter();
    unwrap(b.sigh(hb));
    unwrap(b.ack());
    expect([h.n, hb.n]).toEqual([0, 1]);
    expect(svc.open(2)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
  });

  it('counts occurrences for an IRQ without a session as unhandled and leaves it masked', () => {
    const { c, svc } = setup([LEVEL]);
    unwrap(c.unmask(0));
    unwrap(c.assert(0));
    expect(svc.unhandled(0)).toBe(1);
    expect(unwrap(c.state(0)).masked).toBe(true);
  });

  it('holds an occurrence that arrives without a handler and submits it on sigh', () => {
    const { c, svc } = setup([EDGE]);
    const s = unwrap(svc.open(0));
    unwrap(s.ack());
    unwrap(c.pulse(0));
    const h = counter();
    unwrap(s.sigh(h));
    expect(h.n).toBe(1);
  });

  it('signals on the CPU the line is routed to at run time, and handles MSI vectors', () => {
    const { c, svc } = setup([LEVEL], 2, 4);
    const irq = unwrap(c.msiIrq(1));
    const s = unwrap(svc.open(irq, 'queue1'));
    const h = counter();
    unwrap(s.sigh(h));
    unwrap(s.ack());
    unwrap(c.route(irq, 2));
    unwrap(c.raiseMsi(1));
    expect([h.n, s.lastCpu]).toEqual([1, 2]);
    unwrap(c.raiseMsi(1));
    unwrap(c.route(irq, 3)); // rerouted while pending: delivered to the new CPU
    unwrap(s.ack());
    expect([h.n, s.lastCpu]).toEqual([2, 3]);
    expect(svc.toString()).toBe('IrqService(1 sessions [2:queue1])');
  });
});

// ---- property test: controller + sessions against a naive reference (invariant 10) ----

interface RefLine {
  edge: boolean;
  activeLow: boolean;
  wireHigh: boolean;
  latched: boolean;
  masked: boolean;
  session: boolean;
  handler: boolean;
  held: number;
  signals: number;
  unhandled: number;
  /** Signals when the current assertion period of a level line began. */
  periodStart: number;
}

class Ref {
  readonly q: RefLine[];
  constructor(lines: readonly LineSpec[]) {
    this.q = lines.map((l) => ({
      edge: l.trigger === 'edge',
      activeLow: l.polarity === 'low',
      wireHigh: l.polarity === 'low',
      latched: false,
      masked: true,
      session: false,
      handler: false,
      held: 0,
      signals: 0,
      unhandled: 0,
      periodStart: 0,
    }));
  }
  asserted(i: number): boolean {
    return this.q[i]!.wireHigh !== this.q[i]!.activeLow;
  }
  settle(i: number): void {
    const l = this.q[i]!;
    if (l.masked || !(l.edge ? l.latched : this.asserted(i))) return;
    l.masked = true;
    l.latched = false;
    if (!l.session) l.unhandled++;
    else if (l.handler) l.signals++;
    else l.held++;
  }
  drive(i: number, high: boolean): void {
    const l = this.q[i]!;
    const was = this.asserted(i);
    l.wireHigh = high;
    if (!was && this.asserted(i)) {
      if (l.edge) l.latched = true;
      else l.periodStart = l.signals + l.held;
    }
    this.settle(i);
  }
}

type Op = { k: 'assert' | 'deassert' | 'pulse' | 'ack' | 'open' | 'close' | 'sighOn' | 'sighOff'; i: number };

interface Real {
  c: InterruptController;
  svc: IrqService;
  handlers: (SignalTarget & { n: number })[];
}

class OpCommand implements fc.Command<Ref, Real> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  run(m: Ref, { c, svc, handlers }: Real): void {
    const op = this.op;
    const l = m.q[op.i]!;
    const s = svc.session(op.i);
    expect(s !== undefined).toBe(l.session);
    switch (op.k) {
      case 'assert':
        m.drive(op.i, !l.activeLow);
        unwrap(c.assert(op.i));
        break;
      case 'deassert':
        m.drive(op.i, l.activeLow);
        unwrap(c.deassert(op.i));
        break;
      case 'pulse':
        if (l.edge) {
          l.latched = true;
          m.settle(op.i);
        } else {
          m.drive(op.i, !l.activeLow);
          m.drive(op.i, l.activeLow);
        }
        unwrap(c.pulse(op.i));
        break;
      case 'ack':
        if (!s) break;
        l.masked = false;
        m.settle(op.i);
        unwrap(s.ack());
        break;
      case 'open':
        if (s) {
          expect(svc.open(op.i)).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
        } else {
          l.session = true;
          l.handler = false;
          l.held = 0;
          unwrap(svc.open(op.i));
        }
        break;
      case 'close':
        if (!s) break;
        // Held signals die with the session; the period restarts its count from the signals seen.
        l.periodStart = Math.min(l.periodStart, l.signals);
        Object.assign(l, { session: false, handler: false, held: 0, masked: true });
        s.close();
        break;
      case 'sighOn':
      case 'sighOff':
        if (!s) break;
        l.handler = op.k === 'sighOn';
        if (l.handler) {
          l.signals += l.held;
          l.held = 0;
        }
        unwrap(s.sigh(l.handler ? handlers[op.i] : undefined));
        break;
    }
    for (let i = 0; i < m.q.length; i++) {
      const st = unwrap(c.state(i));
      const ref = m.q[i]!;
      expect(st.masked).toBe(ref.masked); // masked exactly when the reference says so
      expect(st.pending && !st.masked).toBe(false); // nothing deliverable left behind
      expect(handlers[i]!.n).toBe(ref.signals); // one signal per occurrence
      expect(svc.unhandled(i)).toBe(ref.unhandled);
    }
  }
  toString(): string {
    return `${this.op.k}(${this.op.i})`;
  }
}

describe('IrqSession invariants (property)', () => {
  const lineArb = fc.record({
    trigger: fc.constantFrom<LineSpec['trigger']>('level', 'edge'),
    polarity: fc.constantFrom<LineSpec['polarity']>('high', 'low'),
  });
  const kinds = ['assert', 'deassert', 'pulse', 'ack', 'open', 'close', 'sighOn', 'sighOff'] as const;

  it('one signal per occurrence, masked until ack, no level interrupt lost, exclusive ownership', () => {
    fc.assert(
      fc.property(
        fc
          .array(lineArb, { minLength: 1, maxLength: 3 })
          .chain((lines) =>
            fc.tuple(
              fc.constant(lines),
              fc.commands(
                [
                  fc
                    .record({ k: fc.constantFrom(...kinds), i: fc.nat(lines.length - 1) })
                    .map((op) => new OpCommand(op)),
                ],
                { maxCommands: 60 },
              ),
            ),
          ),
        ([lines, cmds]) => {
          const { c, svc } = setup(lines);
          const m = new Ref(lines);
          const handlers = lines.map(() => counter());
          fc.modelRun(() => ({ model: m, real: { c, svc, handlers } }), cmds);
          // Drain: every asserted level line with a session gets a signal in its current period once acked.
          for (let i = 0; i < lines.length; i++) {
            const s = svc.session(i);
            if (!s) continue;
            unwrap(s.sigh(handlers[i]));
            unwrap(s.ack());
            if (!m.q[i]!.edge && m.asserted(i)) expect(handlers[i]!.n).toBeGreaterThan(m.q[i]!.periodStart);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
