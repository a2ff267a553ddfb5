import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { DEFAULT_COSTS } from './cost.js';
import { type IrqSimOptions, type IrqSimResult, runIrqSim } from './irq_run.js';

const MS = 3_000_000; // cycles per millisecond at the nominal clock

function run(o: IrqSimOptions): IrqSimResult {
  return unwrap(runIrqSim(o));
}

/** Invariant 10 and conservation, checked on any finished run without stalled queues. */
function expectNothingLost(r: IrqSimResult): void {
  expect(r.violations).toEqual({ deliveredWhileMasked: 0, misrouted: 0 });
  expect(r.packets.handled + r.packets.dropped).toBe(r.packets.arrived);
  expect(r.packets.queued).toBe(0);
  for (const i of r.interrupts) expect(i.delivered + i.coalesced).toBe(i.raised);
  if (r.timer) expect(r.timer.read).toBe(r.timer.expirations);
}

describe('IrqSim', () => {
  it('rejects bad options with INVALID_IRQ_SIM naming the option', () => {
    const base: IrqSimOptions = { design: 'direct', cpus: 2, ratePps: 1e6, durationCycles: MS };
    for (const [o, word] of [
      [{ ...base, cpus: 0 }, 'cpus'],
      [{ ...base, ratePps: -1 }, 'ratePps'],
      [{ ...base, design: 'polling' as never }, 'design'],
      [{ ...base, reroutes: [{ at: 0, queue: 0, cpu: 2 }] }, 'reroutes[0].cpu'],
      [{ ...base, stalledQueues: [5] }, 'stalledQueues[0]'],
      [{ ...base, timer: { periodCycles: 0 } }, 'timer periodCycles'],
    ] as const) {
      const r = runIrqSim(o);
      expect(r).toMatchObject({ ok: false, code: 'INVALID_IRQ_SIM' });
      expect(r.ok ? '' : r.message).toContain(word);
    }
  });

  it('is deterministic: the same seed gives identical results, another seed different ones', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('direct' as const, 'core-thread' as const),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        (design, cpus, seed) => {
          const o: IrqSimOptions = {
            design,
            cpus,
            queues: cpus + 1,
            ratePps: 3e6,
            durationCycles: MS / 2,
            seed,
            timer: { periodCycles: 50_000 },
            reroutes: [{ at: MS / 4, queue: 0, cpu: cpus - 1 }],
          };
          const a = run(o);
          expect(run(o)).toEqual(a);
          expect(run({ ...o, seed: seed + 1 })).not.toEqual(a);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('generates Poisson arrivals at the offered rate', () => {
    const r = run({ design: 'direct', cpus: 4, ratePps: 2e6, durationCycles: 10 * MS });
    expect(r.packets.arrived).toBeGreaterThan(19_000);
    expect(r.packets.arrived).toBeLessThan(21_000);
  });

  it('direct delivery scales packets/s with CPUs; both designs start from the same single CPU', () => {
    const pps = (design: 'direct' | 'core-thread', cpus: number) =>
      run({ design, cpus, ratePps: 20e6, durationCycles: 3 * MS }).packetsPerSecond;
    const d1 = pps('direct', 1);
    expect(pps('direct', 4)).toBeGreaterThan(3.5 * d1);
    expect(pps('direct', 16)).toBeGreaterThan(12 * d1);
    expect(Math.abs(pps('core-thread', 1) - d1)).toBeLessThan(0.02 * d1);
  });

  it('at 8 CPUs and a high rate, direct handles markedly more packets/s with a far lower p99', () => {
    const o = { cpus: 8, ratePps: 8e6, durationCycles: 5 * MS };
    const d = run({ ...o, design: 'direct' });
    const c = run({ ...o, design: 'core-thread' });
    expect(d.packetsPerSecond).toBeGreaterThan(1.05 * c.packetsPerSecond);
    expect(d.packets.dropped).toBe(0);
    expect(c.packets.dropped).toBeGreaterThan(0.04 * c.packets.arrived);
    expect(d.irqLatency.p99 * 5).toBeLessThan(c.irqLatency.p99);
    // The core thread saturates CPU 0 with interrupt work.
    expect(c.cpuBusy[0]).toBeGreaterThan(0.98);
    expect(c.cpuLoad[0]).toBeGreaterThan(3 * d.cpuLoad[0]!);
    expectNothingLost(d);
    expectNothingLost(c);
  });

  it('under core-thread, p99 latency grows with CPUs (queueing at CPU 0); under direct it does not', () => {
    const p99 = (design: 'direct' | 'core-thread', cpus: number) =>
      run({ design, cpus, ratePps: 4e6, durationCycles: 3 * MS }).irqLatency.p99;
    expect(p99('core-thread', 16)).toBeGreaterThan(2 * p99('core-thread', 4));
    expect(p99('direct', 16)).toBeLessThanOrEqual(p99('direct', 4));
  });

  it('loses no level-triggered timer interrupt, in both designs', () => {
    for (const design of ['direct', 'core-thread'] as const) {
      const r = run({
        design,
        cpus: 4,
        ratePps: 6e6,
        durationCycles: 4 * MS,
        timer: { periodCycles: 7_000, trigger: 'level', cpu: 2 },
      });
      const line = r.interrupts.find((i) => i.irq === 0)!;
      expect(r.timer!.expirations).toBe(Math.ceil((4 * MS) / 7_000) - 1);
      expect(r.timer!.read).toBe(r.timer!.expirations);
      expect(line.delivered).toBe(line.raised);
      expect(line.coalesced).toBe(0);
      expectNothingLost(r);
    }
  });

  it('never delivers a masked vector: a hung handler that never acks gets no delivery', () => {
    const r = run({ design: 'direct', cpus: 2, ratePps: 2e6, durationCycles: 2 * MS, stalledQueues: [1] });
    const stalled = r.interrupts.find((i) => i.irq === 2)!; // line 0, then vectors 0 and 1
    expect(stalled.raised).toBeGreaterThan(0);
    expect(stalled.delivered).toBe(0);
    expect(r.packets.queued).toBe(256);
    expect(r.packets.handled + r.packets.dropped + r.packets.queued).toBe(r.packets.arrived);
    expect(r.violations.deliveredWhileMasked).toBe(0);
    const live = r.interrupts.find((i) => i.irq === 1)!;
    expect(live.delivered).toBeGreaterThan(0);
  });

  it('irqbalance spreads queues all routed to CPU 0: it moves them, and the latency falls', () => {
    const o: IrqSimOptions = {
      design: 'direct',
      cpus: 4,
      queues: 8,
      ratePps: 4e6,
      durationCycles: 3 * MS,
      routing: { cpu: 0 },
    };
    const fixed = run(o);
    const balanced = run({ ...o, balance: { intervalCycles: MS / 10 } });
    expect(fixed.migrations).toEqual({ count: 0, cycles: 0, rebalances: 0 });
    // Static: CPU 0 does all the interrupt work and cannot keep up.
    expect(fixed.cpuLoad.slice(1)).toEqual([0, 0, 0]);
    expect(fixed.packets.dropped).toBeGreaterThan(0);
    // The balancer moved queues (each move costs irqMigration plus an IPI) onto every other CPU.
    expect(balanced.migrations.count).toBeGreaterThanOrEqual(3);
    expect(balanced.migrations.rebalances).toBe(balanced.migrations.count);
    expect(balanced.migrations.cycles).toBe(
      balanced.migrations.count * (DEFAULT_COSTS.irqMigration + DEFAULT_COSTS.ipi),
    );
    for (const load of balanced.cpuLoad.slice(1)) expect(load).toBeGreaterThan(0);
    expect(balanced.irqLatency.p99 * 2).toBeLessThan(fixed.irqLatency.p99);
    expect(balanced.packets.dropped).toBeLessThan(fixed.packets.dropped);
    expectNothingLost(fixed);
    expectNothingLost(balanced);
  });

  it('loses nothing when routes change at run time (property over random reroutes)', () => {
    const reroute = (cpus: number, queues: number) =>
      fc.record({
        at: fc.integer({ min: 0, max: 2 * MS }),
        queue: fc.integer({ min: 0, max: queues - 1 }),
        cpu: fc.integer({ min: 0, max: cpus - 1 }),
        moveHandler: fc.boolean(),
      });
    const scenario = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }))
      .chain(([cpus, queues]) =>
        fc.record({
          design: fc.constantFrom('direct' as const, 'core-thread' as const),
          cpus: fc.constant(cpus),
          queues: fc.constant(queues),
          ratePps: fc.integer({ min: 100_000, max: 12_000_000 }),
          ringSize: fc.integer({ min: 1, max: 64 }),
          seed: fc.integer({ min: 0, max: 1e6 }),
          trigger: fc.constantFrom('level' as const, 'edge' as const),
          reroutes: fc.array(reroute(cpus, queues), { maxLength: 12 }),
        }),
      );
    fc.assert(
      fc.property(scenario, (s) => {
        const r = run({
          ...s,
          durationCycles: 2 * MS,
          timer: { periodCycles: 20_000, trigger: s.trigger, cpu: s.cpus - 1 },
        });
        expectNothingLost(r);
      }),
      { numRuns: 40 },
    );
  });
});
