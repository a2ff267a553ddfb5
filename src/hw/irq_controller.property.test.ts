/**
 * Property test of the InterruptController against a naive reference (DESIGN.md §5 invariant 10):
 * it never delivers a masked IRQ, loses no level interrupt and rerouting loses nothing. Apart from
 * the unit tests (irq_controller.test.ts) because of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { InterruptController, type LineSpec } from './irq_controller.js';

interface Delivery {
  cpu: number;
  irq: number;
}

interface RefIrq {
  edge: boolean;
  activeLow: boolean;
  wireHigh: boolean;
  latched: boolean;
  masked: boolean;
  cpu: number;
  raised: number;
  delivered: number;
  coalesced: number;
}

/** Naive reference: deliver whenever pending and unmasked, one IRQ at a time. */
class Ref {
  readonly irqs: RefIrq[];
  readonly expected: Delivery[] = [];
  constructor(
    lines: readonly LineSpec[],
    msi: number,
    readonly cpus: number,
  ) {
    const mk = (edge: boolean, activeLow: boolean, cpu: number): RefIrq => ({
      edge,
      activeLow,
      wireHigh: activeLow,
      latched: false,
      masked: true,
      cpu,
      raised: 0,
      delivered: 0,
      coalesced: 0,
    });
    this.irqs = [
      ...lines.map((l) => mk(l.trigger === 'edge', l.polarity === 'low', l.cpu ?? 0)),
      ...Array.from({ length: msi }, () => mk(true, false, 0)),
    ];
  }
  asserted(i: number): boolean {
    const q = this.irqs[i]!;
    return q.wireHigh !== q.activeLow;
  }
  pending(i: number): boolean {
    return this.irqs[i]!.edge ? this.irqs[i]!.latched : this.asserted(i);
  }
  settle(i: number): void {
    const q = this.irqs[i]!;
    if (q.masked || !this.pending(i)) return;
    q.masked = true;
    q.latched = false;
    q.delivered++;
    this.expected.push({ cpu: q.cpu, irq: i });
  }
  latch(i: number): void {
    const q = this.irqs[i]!;
    q.raised++;
    if (q.latched) q.coalesced++;
    q.latched = true;
  }
  drive(i: number, high: boolean): void {
    const was = this.asserted(i);
    this.irqs[i]!.wireHigh = high;
    if (!was && this.asserted(i)) {
      if (this.irqs[i]!.edge) this.latch(i);
      else this.irqs[i]!.raised++;
    }
    this.settle(i);
  }
}

interface Real {
  c: InterruptController;
  log: Delivery[];
  /** What the test asked for: masked by `mask` or by a delivery, unmasked by `unmask`. */
  shadowMasked: boolean[];
}

type Op =
  | { k: 'assert' | 'deassert' | 'pulse' | 'mask' | 'unmask'; i: number }
  | { k: 'wire'; i: number; high: boolean }
  | { k: 'msi'; v: number }
  | { k: 'route'; i: number; cpu: number };

class OpCommand implements fc.Command<Ref, Real> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  run(m: Ref, r: Real): void {
    const op = this.op;
    const lines = r.c.lineCount;
    switch (op.k) {
      case 'assert':
      case 'deassert':
      case 'wire':
      case 'pulse': {
        const q = m.irqs[op.i]!;
        if (op.k === 'assert') m.drive(op.i, !q.activeLow);
        if (op.k === 'deassert') m.drive(op.i, q.activeLow);
        if (op.k === 'wire') m.drive(op.i, op.high);
        if (op.k === 'pulse') {
          if (q.edge) {
            m.latch(op.i);
            m.settle(op.i);
          } else {
            m.drive(op.i, !q.activeLow);
            m.drive(op.i, q.activeLow);
          }
        }
        if (op.k === 'wire') unwrap(r.c.setWire(op.i, op.high));
        else unwrap(r.c[op.k](op.i));
        break;
      }
      case 'msi': {
        const i = lines + op.v;
        m.latch(i);
        m.settle(i);
        unwrap(r.c.raiseMsi(op.v));
        break;
      }
      case 'mask':
        m.irqs[op.i]!.masked = true;
        r.shadowMasked[op.i] = true;
        unwrap(r.c.mask(op.i));
        break;
      case 'unmask':
        m.irqs[op.i]!.masked = false;
        r.shadowMasked[op.i] = false;
        m.settle(op.i);
        unwrap(r.c.unmask(op.i));
        break;
      case 'route':
        m.irqs[op.i]!.cpu = op.cpu;
        unwrap(r.c.route(op.i, op.cpu));
        break;
    }
    // Deliveries equal the reference's, IRQ and CPU (rerouting loses nothing, goes to the new CPU).
    expect(r.log.splice(0)).toEqual(m.expected.splice(0));
    for (let i = 0; i < m.irqs.length; i++) {
      const s = unwrap(r.c.state(i));
      // Nothing deliverable is left undelivered: no pending IRQ is unmasked after an operation.
      expect(s.pending && !s.masked).toBe(false);
      expect(s.masked).toBe(m.irqs[i]!.masked);
      expect(s.pending).toBe(m.pending(i));
    }
  }
  toString(): string {
    return JSON.stringify(this.op);
  }
}

describe('InterruptController invariants (property)', () => {
  const lineArb = fc.record({
    trigger: fc.constantFrom<LineSpec['trigger']>('level', 'edge'),
    polarity: fc.constantFrom<LineSpec['polarity']>('high', 'low'),
    cpu: fc.integer({ min: 0, max: 2 }),
  });
  const setupArb = fc.record({ lines: fc.array(lineArb, { minLength: 1, maxLength: 4 }), msi: fc.nat(2) });

  it('matches the reference; never delivers a masked IRQ; loses no level interrupt; rerouting loses nothing', () => {
    fc.assert(
      fc.property(
        setupArb.chain(({ lines, msi }) => {
          const n = lines.length + msi;
          const line = fc.nat(lines.length - 1);
          const irq = fc.nat(n - 1);
          const ops: fc.Arbitrary<Op>[] = [
            fc.record({ k: fc.constantFrom('assert', 'deassert', 'pulse'), i: line }) as fc.Arbitrary<Op>,
            fc.record({ k: fc.constant('wire'), i: line, high: fc.boolean() }) as fc.Arbitrary<Op>,
            fc.record({ k: fc.constantFrom('mask', 'unmask'), i: irq }) as fc.Arbitrary<Op>,
            fc.record({ k: fc.constant('route'), i: irq, cpu: fc.nat(2) }) as fc.Arbitrary<Op>,
          ];
          if (msi > 0) ops.push(fc.record({ k: fc.constant('msi'), v: fc.nat(msi - 1) }) as fc.Arbitrary<Op>);
          const cmds = fc.commands(
            ops.map((a) => a.map((op) => new OpCommand(op))),
            { maxCommands: 60 },
          );
          return fc.tuple(fc.constant({ lines, msi }), cmds);
        }),
        ([{ lines, msi }, cmds]) => {
          const c = unwrap(InterruptController.create({ cpus: 3, lines, msiVectors: msi }));
          const real: Real = { c, log: [], shadowMasked: new Array<boolean>(c.irqCount).fill(true) };
          c.setDeliveryListener((cpu, irq) => {
            expect(real.shadowMasked[irq]).toBe(false); // a masked IRQ is never delivered
            real.shadowMasked[irq] = true;
            real.log.push({ cpu, irq });
          });
          const ref = new Ref(lines, msi, 3);
          fc.modelRun(() => ({ model: ref, real }), cmds);
          // Drain: unmasking everything delivers every still-asserted level line and latched edge.
          const pendingBefore = ref.irqs.map((_, i) => ref.pending(i));
          for (let i = 0; i < c.irqCount; i++) {
            real.shadowMasked[i] = false;
            unwrap(c.unmask(i));
          }
          const drained = new Set(real.log.map((d) => d.irq));
          pendingBefore.forEach((p, i) => {
            expect(drained.has(i)).toBe(p);
          });
          let total = 0;
          for (let i = 0; i < c.irqCount; i++) {
            const s = unwrap(c.irqStatsOf(i));
            const q = ref.irqs[i]!;
            expect(s).toMatchObject({ raised: q.raised, coalesced: q.coalesced });
            expect(s.delivered).toBe(q.delivered + (pendingBefore[i] ? 1 : 0));
            total += s.delivered;
          }
          let perCpu = 0;
          for (let cpu = 0; cpu < 3; cpu++) perCpu += unwrap(c.cpuStatsOf(cpu)).delivered;
          expect(perCpu).toBe(total);
        },
      ),
      { numRuns: 300 },
    );
  });
});
