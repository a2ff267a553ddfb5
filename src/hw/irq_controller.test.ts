import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { InterruptController, type InterruptControllerSpec, type LineSpec } from './irq_controller.js';

// The property test against a naive reference (invariant 10) is in irq_controller.property.test.ts.

interface Delivery {
  cpu: number;
  irq: number;
}

function make(spec: InterruptControllerSpec): { c: InterruptController; log: Delivery[] } {
  const c = unwrap(InterruptController.create(spec));
  const log: Delivery[] = [];
  c.setDeliveryListener((cpu, irq) => log.push({ cpu, irq }));
  return { c, log };
}

const LEVEL: LineSpec = { trigger: 'level', polarity: 'high' };
const EDGE: LineSpec = { trigger: 'edge', polarity: 'high' };

describe('InterruptController', () => {
  it('rejects a controller without CPUs or with a line routed to a missing CPU', () => {
    expect(InterruptController.create({ cpus: 0, lines: 4 })).toMatchObject({
      ok: false,
      code: 'INVALID_IRQ',
    });
    expect(InterruptController.create({ cpus: 2, lines: [{ ...LEVEL, cpu: 2 }] })).toMatchObject({
      ok: false,
      code: 'INVALID_IRQ',
    });
    expect(InterruptController.create({ cpus: 1, lines: -1 })).toMatchObject({
      ok: false,
      code: 'INVALID_IRQ',
    });
  });

  it('starts with every IRQ masked and delivers a level line on unmask', () => {
    const { c, log } = make({ cpus: 2, lines: [LEVEL, { ...LEVEL, cpu: 1 }] });
    unwrap(c.assert(1));
    expect(log).toEqual([]);
    expect(unwrap(c.state(1))).toMatchObject({ pending: true, masked: true });
    unwrap(c.unmask(1));
    expect(log).toEqual([{ cpu: 1, irq: 1 }]);
  });

  it('masks a line on delivery and does not deliver it again while masked', () => {
    const { c, log } = make({ cpus: 1, lines: [LEVEL] });
    unwrap(c.unmask(0));
    unwrap(c.assert(0));
    expect(log).toHaveLength(1);
    expect(unwrap(c.state(0)).masked).toBe(true);
    unwrap(c.deassert(0));
    unwrap(c.assert(0));
    expect(log).toHaveLength(1);
  });

  it('re-delivers a still-asserted level line on unmask, but not a deasserted one', () => {
    const { c, log } = make({ cpus: 1, lines: [LEVEL] });
    unwrap(c.unmask(0));
    unwrap(c.assert(0));
    unwrap(c.unmask(0));
    expect(log).toHaveLength(2);
    unwrap(c.deassert(0));
    unwrap(c.unmask(0));
    expect(log).toHaveLength(2);
    expect(unwrap(c.state(0)).masked).toBe(false);
  });

  it('honours active-low polarity: the idle wire is high and driving it low asserts', () => {
    const { c, log } = make({ cpus: 1, lines: [{ trigger: 'level', polarity: 'low' }, LEVEL] });
    unwrap(c.unmask(0));
    unwrap(c.unmask(1));
    expect(unwrap(c.state(0))).toMatchObject({ wireHigh: true, asserted: false });
    unwrap(c.setWire(0, true));
    unwrap(c.setWire(1, false));
    expect(log).toEqual([]);
    unwrap(c.setWire(0, false));
    expect(log).toEqual([{ cpu: 0, irq: 0 }]);
    unwrap(c.deassert(0));
    expect(unwrap(c.state(0)).wireHigh).toBe(true);
    unwrap(c.assert(0));
    expect(unwrap(c.state(0)).wireHigh).toBe(false);
  });

  it('keeps an edge that arrives while masked latched and fires it on unmask', () => {
    const { c, log } = make({ cpus: 1, lines: [EDGE] });
    unwrap(c.pulse(0));
    expect(log).toEqual([]);
    expect(unwrap(c.state(0)).latched).toBe(true);
    unwrap(c.unmask(0));
    expect(log).toEqual([{ cpu: 0, irq: 0 }]);
    expect(unwrap(c.state(0)).latched).toBe(false);
  });

  it('counts an edge that arrives while one is latched as coalesced (the only legitimate loss)', () => {
    const { c, log } = make({ cpus: 2, lines: [{ ...EDGE, cpu: 1 }] });
    unwrap(c.pulse(0));
    unwrap(c.pulse(0));
    unwrap(c.pulse(0));
    unwrap(c.unmask(0));
    expect(log).toHaveLength(1);
    expect(unwrap(c.irqStatsOf(0))).toEqual({ raised: 3, delivered: 1, coalesced: 2, spurious: 0 });
    expect(unwrap(c.cpuStatsOf(1))).toEqual({ raised: 3, delivered: 1, coalesced: 2, spurious: 0 });
    expect(unwrap(c.cpuStatsOf(0))).toEqual({ raised: 0, delivered: 0, coalesced: 0, spurious: 0 });
  });

  it('latches an edge on the inactive-to-active transition of an edge line, not while it is held', () => {
    const { c, log } = make({ cpus: 1, lines: [EDGE] });
    unwrap(c.unmask(0));
    unwrap(c.assert(0));
    unwrap(c.unmask(0));
    expect(log).toHaveLength(1);
    unwrap(c.deassert(0));
    unwrap(c.assert(0));
    expect(log).toHaveLength(2);
  });

  it('delivers MSI vectors once per message under their own IRQ number, mask and route', () => {
    const { c, log } = make({ cpus: 4, lines: 2, msiVectors: 3 });
    const irq = unwrap(c.msiIrq(2));
    expect(irq).toBe(4);
    unwrap(c.route(irq, 3));
    unwrap(c.raiseMsi(2));
    expect(log).toEqual([]);
    unwrap(c.unmask(irq));
    unwrap(c.raiseMsi(2));
    unwrap(c.unmask(irq));
    expect(log).toEqual([
      { cpu: 3, irq: 4 },
      { cpu: 3, irq: 4 },
    ]);
    expect(unwrap(c.state(irq))).toMatchObject({ kind: 'msi', trigger: 'edge' });
    expect(c.raiseMsi(3)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect(c.assert(irq)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect(c.msiIrq(3)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
  });

  it('delivers a pending line to the CPU it was rerouted to', () => {
    const { c, log } = make({ cpus: 4, lines: [LEVEL] });
    unwrap(c.assert(0));
    unwrap(c.route(0, 2));
    unwrap(c.unmask(0));
    unwrap(c.route(0, 3));
    unwrap(c.unmask(0));
    expect(log).toEqual([
      { cpu: 2, irq: 0 },
      { cpu: 3, irq: 0 },
    ]);
    expect(unwrap(c.cpuStatsOf(2)).delivered + unwrap(c.cpuStatsOf(3)).delivered).toBe(2);
  });

  it('rejects out-of-range lines, vectors and CPUs and changes nothing', () => {
    const { c, log } = make({ cpus: 2, lines: [LEVEL], msiVectors: 1 });
    const before = c.toString();
    for (const r of [
      c.assert(5),
      c.deassert(-1),
      c.pulse(1.5),
      c.setWire(9, true),
      c.mask(2),
      c.unmask(2),
      c.route(0, 2),
      c.route(7, 0),
      c.raiseMsi(1),
    ]) {
      expect(r).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    }
    expect(c.toString()).toBe(before);
    expect(unwrap(c.state(0)).cpu).toBe(0);
    expect(log).toEqual([]);
    expect(c.irqStatsOf(2)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
    expect(c.cpuStatsOf(2)).toMatchObject({ ok: false, code: 'INVALID_IRQ' });
  });

  it('queues deliveries raised from inside the listener and counts a vanished one as spurious', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: [EDGE, LEVEL, LEVEL] }));
    const log: number[] = [];
    c.setDeliveryListener((_cpu, irq) => {
      log.push(irq);
      if (irq === 0) {
        unwrap(c.pulse(1)); // asserted and deasserted before its turn
        unwrap(c.assert(2));
        expect(log).toEqual([0]); // not delivered re-entrantly
      }
    });
    unwrap(c.unmask(1));
    unwrap(c.unmask(2));
    unwrap(c.pulse(0));
    unwrap(c.unmask(0));
    expect(log).toEqual([0, 2]);
    expect(unwrap(c.irqStatsOf(1)).spurious).toBe(1);
    expect(unwrap(c.irqStatsOf(1)).delivered).toBe(0);
  });

  it('holds pending IRQs without a listener and delivers them when one is installed', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: [LEVEL, EDGE] }));
    unwrap(c.unmask(0));
    unwrap(c.unmask(1));
    unwrap(c.assert(0));
    unwrap(c.pulse(1));
    const log: number[] = [];
    c.setDeliveryListener((_cpu, irq) => log.push(irq));
    expect(log).toEqual([0, 1]);
  });

  it('describes itself', () => {
    const { c } = make({ cpus: 1, lines: [LEVEL, LEVEL] });
    unwrap(c.assert(1));
    expect(c.toString()).toBe('InterruptController(2 lines, 0 MSI, 1 CPUs, pending [1], unmasked [])');
  });
});
