import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrqService } from '../core/irq_session.js';
import { MultiQueueNic, PeriodicTimer, type RandomSource } from '../hw/devices.js';
import { InterruptController } from '../hw/irq_controller.js';
import { unwrap } from '../util/result.js';
import { type HandlerStep, type IrqHandlerThread, NicDriver, TimerHandler } from './nic_driver.js';

const FIXED: RandomSource = { int: (lo) => lo, exponential: (m) => m };

function setup(queues: number, ringSize = 16) {
  const c = unwrap(InterruptController.create({ cpus: 4, lines: 1, msiVectors: queues }));
  const service = new IrqService(c);
  const nic = unwrap(
    MultiQueueNic.create({ queues, ringSize, flows: 100, ratePps: 1e6, clockHz: 3e9 }, c, {
      arrivals: FIXED,
      flows: FIXED,
    }),
  );
  const driver = unwrap(NicDriver.create(service, nic, { packetCycles: 700, cpus: 4 }));
  return { c, service, nic, driver };
}

/** Runs a thread's steps synchronously (work and acks take effect at once) until it blocks. */
function runUntilBlocked(t: IrqHandlerThread, between?: (step: HandlerStep) => void): HandlerStep[] {
  const steps: HandlerStep[] = [];
  for (let i = 0; i < 10_000; i++) {
    const s = t.next();
    steps.push(s);
    between?.(s);
    if (s === 'block') return steps;
    if (s === 'work') t.workDone();
    if (s === 'ack') t.ack();
  }
  throw new Error('handler never blocked');
}

/** A flow id that RSS steers to queue `q`. */
function flowFor(nic: MultiQueueNic, q: number): number {
  for (let f = 0; ; f++) if (nic.queueOf(f) === q) return f;
}

describe('NicDriver', () => {
  it('opens one session per queue vector and pins handler q to CPU q mod cpus', () => {
    const { driver, service, nic } = setup(6);
    expect(driver.handlers.map((h) => h.cpu)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(driver.handlers.map((h) => h.irq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let q = 0; q < 6; q++) expect(service.session(nic.irq(q))).toBe(driver.handlers[q]!.session);
  });

  it('fails with IRQ_BUSY on vectors already owned and changes nothing', () => {
    const { service, nic, driver } = setup(3);
    const r = NicDriver.create(service, nic, { packetCycles: 1 });
    expect(r).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
    expect(service.session(nic.irq(0))).toBe(driver.handlers[0]!.session);
    expect(NicDriver.create(service, nic, { packetCycles: -1 })).toMatchObject({ code: 'INVALID_DRIVER' });
  });

  it('acks first, then per signal drains the whole ring and acks again', () => {
    const { nic, driver } = setup(2);
    const h = driver.handlers[0]!;
    expect(runUntilBlocked(h)).toEqual(['ack', 'block']);
    const f = flowFor(nic, 0);
    for (let i = 0; i < 3; i++) nic.land(f); // the first raises and is delivered at once
    expect(h.pending).toBe(1);
    expect(runUntilBlocked(h)).toEqual(['wake', 'work', 'work', 'work', 'ack', 'block']);
    expect(h.handled).toBe(3);
    expect(h.stats).toEqual({ signals: 1, wakeups: 1, items: 3, acks: 2 });
  });

  it('strands no packet: one landing between the last take and the ack fires after the ack', () => {
    const { nic, driver, c } = setup(1);
    const h = driver.handlers[0]!;
    runUntilBlocked(h);
    const f = flowFor(nic, 0);
    nic.land(f);
    let landed = false;
    const steps = runUntilBlocked(h, (s) => {
      if (s === 'ack' && !landed) {
        landed = true;
        nic.land(f); // ring empty, IRQ still masked: latched
        expect(unwrap(c.state(nic.irq(0))).latched).toBe(true);
      }
    });
    expect(steps).toEqual(['wake', 'work', 'ack', 'wake', 'work', 'ack', 'block']);
    expect(h.handled).toBe(2);
    expect(nic.pending(0)).toBe(0);
  });

  it('handles every packet that is not dropped, whatever the interleaving (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 3 })), {
          maxLength: 200,
        }),
        (script) => {
          const { nic, driver } = setup(3, 4);
          for (const h of driver.handlers) runUntilBlocked(h);
          for (const [flow, steps] of script) {
            nic.land(flow);
            // Let some handler make a few steps, leaving it mid-drain.
            const h = driver.handlers[flow % 3]!;
            for (let i = 0; i < steps; i++) {
              const s = h.next();
              if (s === 'work') h.workDone();
              if (s === 'ack') h.ack();
            }
          }
          for (const h of driver.handlers) runUntilBlocked(h);
          const dropped = MultiQueueNic.total(nic.dropped);
          expect(driver.handled + dropped).toBe(script.length);
          for (let q = 0; q < 3; q++) expect(nic.pending(q)).toBe(0);
        },
      ),
    );
  });
});

describe('TimerHandler', () => {
  it('reads every expiry of a level timer, including one between read and ack', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: 1 }));
    const service = new IrqService(c);
    const timer = unwrap(PeriodicTimer.create({ periodCycles: 10, line: 0 }, c));
    const h = unwrap(TimerHandler.create(service, timer, 0, 50));
    runUntilBlocked(h);
    timer.advanceTo(25);
    let fired = false;
    runUntilBlocked(h, (s) => {
      if (s === 'ack' && !fired) {
        fired = true;
        timer.advanceTo(30); // asserts again after the read: delivered on the ack
      }
    });
    expect(h.ticks).toBe(3);
    expect(timer.expirations).toBe(3);
    expect(h.stats.wakeups).toBe(2);
    expect(TimerHandler.create(service, timer, 0, 1)).toMatchObject({ ok: false, code: 'IRQ_BUSY' });
  });
});
