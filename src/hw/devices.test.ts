import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import {
  MultiQueueNic,
  type NicSpec,
  PeriodicTimer,
  type RandomSource,
  RETA_SIZE,
  rssHash,
} from './devices.js';
import { InterruptController } from './irq_controller.js';

/** A small seeded source for device tests (the simulator uses sim/prng.ts). */
function source(seed: number): RandomSource {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    exponential: (mean) => -mean * Math.log(1 - next()),
  };
}

function nic(spec: Partial<NicSpec> & { queues: number }, vectors = spec.queues) {
  const c = unwrap(InterruptController.create({ cpus: 1, lines: 0, msiVectors: vectors }));
  const n = unwrap(
    MultiQueueNic.create({ ringSize: 8, flows: 64, ratePps: 1e6, clockHz: 3e9, ...spec }, c, {
      arrivals: source(1),
      flows: source(2),
    }),
  );
  return { c, n };
}

describe('MultiQueueNic', () => {
  it('rejects bad geometry and a controller without enough MSI vectors', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: 0, msiVectors: 2 }));
    const r = { arrivals: source(1), flows: source(1) };
    const base = { queues: 2, ringSize: 4, flows: 4, ratePps: 1, clockHz: 1 };
    expect(MultiQueueNic.create({ ...base, queues: 3 }, c, r)).toMatchObject({
      ok: false,
      code: 'INVALID_DEVICE',
    });
    expect(MultiQueueNic.create({ ...base, ringSize: 0 }, c, r)).toMatchObject({ ok: false });
    expect(MultiQueueNic.create({ ...base, ratePps: 0 }, c, r)).toMatchObject({ ok: false });
    expect(MultiQueueNic.create(base, c, r).ok).toBe(true);
  });

  it('RSS spreads flows evenly-ish over the queues', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 1e6 }), (queues, base) => {
        const { n } = nic({ queues });
        const counts = new Array<number>(queues).fill(0);
        const flows = 4096;
        for (let f = 0; f < flows; f++) counts[n.queueOf(base + f)]!++;
        const mean = flows / queues;
        for (const c of counts) {
          expect(c).toBeGreaterThan(0.7 * mean);
          expect(c).toBeLessThan(1.3 * mean);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps every flow on one queue, in arrival order (FIFO per ring)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }),
        (queues, flows) => {
          const { n } = nic({ queues, ringSize: 512 });
          for (const f of flows) expect(n.land(f)).toBe(true);
          for (let q = 0; q < queues; q++) {
            const got: number[] = [];
            for (let f = n.take(q); f >= 0; f = n.take(q)) got.push(f);
            expect(got).toEqual(flows.filter((f) => n.queueOf(f) === q));
          }
        },
      ),
    );
  });

  it('drops and counts packets that find their ring full', () => {
    const { n } = nic({ queues: 1, ringSize: 4 });
    for (let i = 0; i < 10; i++) n.land(7);
    expect([n.accepted[0], n.dropped[0], n.pending(0)]).toEqual([4, 6, 4]);
    expect([n.take(0), n.take(0), n.take(0), n.take(0), n.take(0)]).toEqual([7, 7, 7, 7, -1]);
    expect(n.land(7)).toBe(true);
  });

  it('matches a naive reference: rings, drops, raises and coalesced edges', () => {
    type Model = {
      rings: number[][];
      cause: boolean[];
      raised: number[];
      dropped: number[];
      latched: boolean[];
    };
    type Real = { n: MultiQueueNic; c: InterruptController };
    const Q = 3;
    const SIZE = 3;
    class Land implements fc.Command<Model, Real> {
      constructor(readonly flow: number) {}
      check = () => true;
      run(m: Model, r: Real): void {
        const q = r.n.queueOf(this.flow);
        const ring = m.rings[q]!;
        const accepted = ring.length < SIZE;
        if (accepted) {
          if (ring.length === 0 || !m.cause[q]) {
            m.cause[q] = true;
            m.raised[q]!++;
            m.latched[q] = true;
          }
          ring.push(this.flow);
        } else m.dropped[q]!++;
        expect(r.n.land(this.flow)).toBe(accepted);
      }
      toString = () => `land(${this.flow})`;
    }
    class Take implements fc.Command<Model, Real> {
      constructor(readonly q: number) {}
      check = () => true;
      run(m: Model, r: Real): void {
        expect(r.n.take(this.q)).toBe(m.rings[this.q]!.shift() ?? -1);
      }
      toString = () => `take(${this.q})`;
    }
    class Clear implements fc.Command<Model, Real> {
      constructor(readonly q: number) {}
      check = () => true;
      run(m: Model, r: Real): void {
        m.cause[this.q] = false;
        r.n.clearCause(this.q);
        expect(r.n.raised[this.q]).toBe(m.raised[this.q]);
        expect(r.n.dropped[this.q]).toBe(m.dropped[this.q]);
        const s = unwrap(r.c.irqStatsOf(r.n.irq(this.q)));
        // No listener: the first raise stays latched, every later one coalesces.
        expect(s).toMatchObject({ raised: m.raised[this.q], coalesced: Math.max(0, m.raised[this.q]! - 1) });
        expect(unwrap(r.c.state(r.n.irq(this.q))).latched).toBe(m.latched[this.q]);
      }
      toString = () => `clear(${this.q})`;
    }
    const cmds = [
      fc.integer({ min: 0, max: 20 }).map((f) => new Land(f)),
      fc.integer({ min: 0, max: Q - 1 }).map((q) => new Take(q)),
      fc.integer({ min: 0, max: Q - 1 }).map((q) => new Clear(q)),
    ];
    fc.assert(
      fc.property(fc.commands(cmds, { size: '+1' }), (cs) => {
        const z = () => new Array<number>(Q).fill(0);
        const m: Model = {
          rings: Array.from({ length: Q }, () => []),
          cause: new Array<boolean>(Q).fill(false),
          raised: z(),
          dropped: z(),
          latched: new Array<boolean>(Q).fill(false),
        };
        const { n, c } = nic({ queues: Q, ringSize: SIZE });
        fc.modelRun(() => ({ model: m, real: { n, c } }), cs);
      }),
    );
  });

  it('draws Poisson gaps with the configured mean and flows within range', () => {
    const { n } = nic({ queues: 2, ratePps: 3e6, clockHz: 3e9, flows: 5 });
    let sum = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) sum += n.nextGap();
    expect(sum / N).toBeGreaterThan(950);
    expect(sum / N).toBeLessThan(1050);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(n.nextFlow());
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('has a hash that depends on every byte of the flow id', () => {
    expect(new Set([0, 1, 256, 65536, 1 << 24].map(rssHash)).size).toBe(5);
    expect(RETA_SIZE).toBe(128);
  });
});

describe('PeriodicTimer', () => {
  it('rejects a bad period and an MSI vector as its line', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: 1, msiVectors: 1 }));
    expect(PeriodicTimer.create({ periodCycles: 0, line: 0 }, c)).toMatchObject({
      ok: false,
      code: 'INVALID_DEVICE',
    });
    expect(PeriodicTimer.create({ periodCycles: 10, line: 1 }, c)).toMatchObject({ ok: false });
  });

  it('expires once per period and every expiry on an edge line is delivered', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 5000 })),
        (period, steps) => {
          const c = unwrap(
            InterruptController.create({ cpus: 1, lines: [{ trigger: 'edge', polarity: 'high' }] }),
          );
          let delivered = 0;
          c.setDeliveryListener((_cpu, irq) => {
            delivered++;
            c.unmask(irq); // an immediate ack
          });
          unwrap(c.unmask(0));
          const t = unwrap(PeriodicTimer.create({ periodCycles: period, line: 0 }, c));
          let now = 0;
          for (const s of steps) {
            now += s;
            t.advanceTo(now);
          }
          expect(t.expirations).toBe(Math.floor(now / period));
          expect(delivered).toBe(t.expirations);
          expect(t.next).toBe((t.expirations + 1) * period);
        },
      ),
    );
  });

  it('holds a level line asserted until the driver reads the expiry count', () => {
    const c = unwrap(InterruptController.create({ cpus: 1, lines: 1 }));
    const log: number[] = [];
    c.setDeliveryListener((_cpu, irq) => log.push(irq));
    const t = unwrap(PeriodicTimer.create({ periodCycles: 100, line: 0 }, c));
    t.advanceTo(350);
    expect(t.unread).toBe(3);
    expect(unwrap(c.state(0)).asserted).toBe(true);
    unwrap(c.unmask(0));
    expect(log).toEqual([0]);
    expect(t.read()).toBe(3);
    expect(unwrap(c.state(0)).asserted).toBe(false);
    unwrap(c.unmask(0));
    expect(log).toEqual([0]);
    t.advanceTo(400);
    expect(log).toEqual([0, 0]);
    expect(t.toString()).toContain('4 expiries');
  });
});
