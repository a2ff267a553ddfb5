import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InterruptController, type LineSpec } from '../hw/irq_controller.js';
import { unwrap } from '../util/result.js';
import { IrqService, type SignalTarget } from './irq_session.js';
import { type IrqSharer, SharedIrq } from './irq_shared.js';

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

function setup(lines: readonly LineSpec[] = [LEVEL, EDGE], msiVectors = 1) {
  const c = unwrap(InterruptController.create({ cpus: 2, lines, msiVectors }));
  return { c, svc: new IrqService(c) };
}

function sharer(line: SharedIrq, label: string): { s: IrqSharer; h: SignalTarget & { n: number } } {
  const s = unwrap(line.attach(label));
  const h = counter();
  unwrap(s.sigh(h));
  return { s, h };
}

const masked = (c: InterruptController, irq: number): boolean => unwrap(c.state(irq)).masked;

describe('SharedIrq', () => {
  it('refuses to share an edge line or an MSI vector and changes nothing', () => {
    const { svc } = setup();
    const e = SharedIrq.open(svc, 1);
    expect(e).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect(e.ok ? '' : e.message).toContain('only level-triggered lines can be shared');
    expect(SharedIrq.open(svc, 2)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect(SharedIrq.open(svc, 3)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect([svc.session(1), svc.session(2)]).toEqual([undefined, undefined]);
  });

  it('owns the line exclusively upstream', () => {
    const { svc } = setup();
    unwrap(svc.open(0, 'disk'));
    expect(SharedIrq.open(svc, 0)).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
    const { svc: svc2 } = setup();
    unwrap(SharedIrq.open(svc2, 0));
    expect(svc2.open(0)).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
  });

  it('keeps the line masked until every sharer acked once', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    const b = sharer(line, 'b');
    unwrap(c.assert(0));
    unwrap(a.s.ack());
    expect(masked(c, 0)).toBe(true);
    expect([a.h.n, b.h.n]).toEqual([0, 0]);
    unwrap(b.s.ack());
    expect([a.h.n, b.h.n]).toEqual([1, 1]);
  });

  it('signals every sharer per occurrence and unmasks upstream only after every sharer acked', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    const b = sharer(line, 'b');
    unwrap(a.s.ack());
    unwrap(b.s.ack());
    expect([masked(c, 0), line.upstreamAcks]).toEqual([false, 1]);
    unwrap(c.assert(0));
    expect([a.h.n, b.h.n, masked(c, 0)]).toEqual([1, 1, true]);
    unwrap(b.s.ack());
    unwrap(b.s.ack()); // a second ack by the same sharer does not count for the other
    expect(masked(c, 0)).toBe(true);
    unwrap(c.deassert(0));
    unwrap(a.s.ack());
    expect([masked(c, 0), line.upstreamAcks, a.h.n, b.h.n]).toEqual([false, 2, 1, 1]);
  });

  it('fires again when the line is still asserted after the last ack', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    const b = sharer(line, 'b');
    unwrap(a.s.ack());
    unwrap(b.s.ack());
    unwrap(c.assert(0));
    unwrap(a.s.ack());
    unwrap(b.s.ack());
    expect([a.h.n, b.h.n, line.occurrences]).toEqual([2, 2, 2]);
  });

  it('counts a sharer that detaches while an occurrence is outstanding as acked', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    const b = sharer(line, 'b');
    unwrap(a.s.ack());
    unwrap(b.s.ack());
    unwrap(c.pulse(0));
    unwrap(a.s.ack());
    expect(masked(c, 0)).toBe(true);
    b.s.close();
    expect(masked(c, 0)).toBe(false);
    expect(b.s.ack()).toMatchObject({ ok: false, code: 'SESSION_CLOSED' });
    expect(line.sharers).toEqual([a.s]);
  });

  it('requires a sharer attached during an outstanding occurrence to ack too', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    unwrap(a.s.ack());
    unwrap(c.pulse(0));
    const b = sharer(line, 'b');
    unwrap(a.s.ack());
    expect(masked(c, 0)).toBe(true);
    unwrap(b.s.ack());
    expect(masked(c, 0)).toBe(false);
  });

  it('keeps the line masked without sharers, counts the occurrence unhandled, and fires for the next sharer', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    unwrap(a.s.ack());
    a.s.close();
    unwrap(c.assert(0));
    expect([line.unhandled, masked(c, 0)]).toEqual([1, true]);
    const b = sharer(line, 'b');
    unwrap(b.s.ack());
    expect(b.h.n).toBe(1);
  });

  it('follows rerouting of the shared line', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    unwrap(c.route(0, 1));
    unwrap(c.assert(0));
    unwrap(a.s.ack());
    expect([a.h.n, unwrap(c.cpuStatsOf(1)).delivered]).toEqual([1, 1]);
  });

  it('close detaches every sharer, masks and releases the line', () => {
    const { c, svc } = setup();
    const line = unwrap(SharedIrq.open(svc, 0));
    const a = sharer(line, 'a');
    unwrap(a.s.ack());
    expect(line.toString()).toBe('SharedIrq(irq 0, 1 sharers, 1 acked, unmasked)');
    line.close();
    expect([a.s.isOpen, masked(c, 0), svc.session(0)]).toEqual([false, true, undefined]);
    expect(line.attach()).toMatchObject({ ok: false, code: 'SESSION_CLOSED' });
    unwrap(svc.open(0));
  });
});

// ---- property test against a naive reference (invariant 10, shared lines) ----

interface RefSharer {
  attached: boolean;
  acked: boolean;
  signals: number;
}

class Ref {
  asserted = false;
  masked = true;
  awaiting = true;
  upstreamAcks = 0;
  unhandled = 0;
  readonly sharers: RefSharer[] = [];
  attached(): RefSharer[] {
    return this.sharers.filter((s) => s.attached);
  }
  settle(): void {
    if (this.masked || !this.asserted) return;
    this.masked = true;
    this.awaiting = true;
    const live = this.attached();
    if (live.length === 0) this.unhandled++;
    for (const s of live) {
      s.acked = false;
      s.signals++;
    }
  }
  tryAck(): void {
    const live = this.attached();
    if (!this.awaiting || live.length === 0 || !live.every((s) => s.acked)) return;
    this.awaiting = false;
    this.upstreamAcks++;
    this.masked = false;
    this.settle();
  }
}

interface Real {
  c: InterruptController;
  line: SharedIrq;
  sharers: { s: IrqSharer; h: SignalTarget & { n: number } }[];
  /** The test's own bookkeeping: acked since the last signal, per sharer. */
  ackedSinceSignal: boolean[];
}

type Op = { k: 'assert' | 'deassert' | 'attach' | 'detach' | 'ack'; j: number } | { k: 'route'; cpu: number };

class OpCommand implements fc.Command<Ref, Real> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  run(m: Ref, r: Real): void {
    const op = this.op;
    const j = 'j' in op && r.sharers.length > 0 ? op.j % r.sharers.length : -1;
    switch (op.k) {
      case 'assert':
      case 'deassert':
        m.asserted = op.k === 'assert';
        m.settle();
        unwrap(r.c[op.k](0));
        break;
      case 'route':
        unwrap(r.c.route(0, op.cpu));
        break;
      case 'attach': {
        m.sharers.push({ attached: true, acked: false, signals: 0 });
        const idx = r.sharers.length;
        r.ackedSinceSignal.push(false);
        const s = unwrap(r.line.attach(`s${idx}`));
        const h: SignalTarget & { n: number } = {
          n: 0,
          submit() {
            this.n++;
            r.ackedSinceSignal[idx] = false;
          },
        };
        unwrap(s.sigh(h));
        r.sharers.push({ s, h });
        break;
      }
      case 'detach':
        if (j < 0) break;
        m.sharers[j]!.attached = false;
        m.tryAck();
        r.sharers[j]!.s.close();
        break;
      case 'ack': {
        if (j < 0) break;
        const ms = m.sharers[j]!;
        if (!ms.attached) {
          expect(r.sharers[j]!.s.ack()).toMatchObject({ ok: false, code: 'SESSION_CLOSED' });
          break;
        }
        ms.acked = true;
        m.tryAck();
        r.ackedSinceSignal[j] = true;
        unwrap(r.sharers[j]!.s.ack());
        break;
      }
    }
    const st = unwrap(r.c.state(0));
    expect(st.masked).toBe(m.masked);
    expect(st.pending && !st.masked).toBe(false); // no level interrupt left undelivered
    expect(r.sharers.map((x) => x.h.n)).toEqual(m.sharers.map((x) => x.signals)); // every sharer signalled
    expect([r.line.upstreamAcks, r.line.unhandled]).toEqual([m.upstreamAcks, m.unhandled]);
  }
  toString(): string {
    return JSON.stringify(this.op);
  }
}

describe('SharedIrq invariants (property)', () => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      k: fc.constantFrom('assert', 'deassert', 'attach', 'detach', 'ack'),
      j: fc.nat(7),
    }) as fc.Arbitrary<Op>,
    fc.record({ k: fc.constant('route'), cpu: fc.nat(1) }) as fc.Arbitrary<Op>,
  );

  it('unmasks upstream only after every sharer acked, signals every sharer, loses no level interrupt', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<LineSpec['polarity']>('high', 'low'),
        fc.commands([opArb.map((op) => new OpCommand(op))], { maxCommands: 80 }),
        (polarity, cmds) => {
          const { c, svc } = setup([{ trigger: 'level', polarity }], 0);
          const line = unwrap(SharedIrq.open(svc, 0));
          const real: Real = { c, line, sharers: [], ackedSinceSignal: [] };
          const unmask = c.unmask.bind(c);
          c.unmask = (irq: number) => {
            // Independent check at the moment of the upstream ack: every attached sharer acked.
            const live = real.sharers
              .map((x, i) => [x.s.isOpen, real.ackedSinceSignal[i]] as const)
              .filter((x) => x[0]);
            expect(live.length).toBeGreaterThan(0);
            expect(live.every((x) => x[1])).toBe(true);
            return unmask(irq);
          };
          const m = new Ref();
          fc.modelRun(() => ({ model: m, real }), cmds);
          // Drain: once every attached sharer acks, a still-asserted line signals each of them again.
          const before = real.sharers.map((x) => x.h.n);
          real.sharers.forEach((x, i) => {
            if (!x.s.isOpen) return;
            real.ackedSinceSignal[i] = true;
            unwrap(x.s.ack());
          });
          real.sharers.forEach((x, i) => {
            const expected = x.s.isOpen && m.asserted ? before[i]! + 1 : before[i]!;
            expect(x.h.n).toBe(expected);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
