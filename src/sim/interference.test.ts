import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { steadyFaulter } from '../workload/programs.js';
import {
  COMBINATIONS,
  type Combination,
  type InterferencePoint,
  type InterferenceSpec,
  runInterferencePoint,
} from './interference.js';

const SPEC: InterferenceSpec = {
  cpus: 4,
  rates: [0, 500_000, 2_000_000],
  durationCycles: 4_500_000,
  privateBytes: 32 * 2 ** 20,
  chunk: 65536,
  computePerAccess: 64,
  rings: 'ram',
  seed: 3,
};

const CPU0: Combination = { pagers: 'single', irqDelivery: 'core-thread', allocator: 'global' };
const LOCAL: Combination = { pagers: 'per-cpu', irqDelivery: 'direct', allocator: 'partitioned' };

function point(c: Combination, rate: number, spec: InterferenceSpec = SPEC): InterferencePoint {
  return unwrap(runInterferencePoint(spec, c, rate, steadyFaulter));
}

describe('the interference study (faults and interrupts on the same CPUs)', () => {
  it('covers the eight combinations, everything-on-CPU-0 first and fully local last', () => {
    expect(COMBINATIONS).toHaveLength(8);
    expect(COMBINATIONS[0]).toEqual(CPU0);
    expect(COMBINATIONS[7]).toEqual(LOCAL);
    expect(new Set(COMBINATIONS.map((c) => JSON.stringify(c))).size).toBe(8);
  });

  it('is deterministic: the same spec gives the same point', () => {
    expect(point(CPU0, 500_000)).toEqual(point(CPU0, 500_000));
  });

  it('everything on CPU 0: fault latency degrades as IRQ load grows, IRQ latency is high at every load', () => {
    const idle = point(CPU0, 0);
    const light = point(CPU0, 500_000);
    const busy = point(CPU0, 2_000_000);
    const localLight = point(LOCAL, 500_000);
    const local = point(LOCAL, 2_000_000);
    // Faults wait behind the IRQ work that shares the single pager's CPU: those core resolves at
    // once and all of them, the more the higher the load.
    expect(busy.faults.resolved.p50).toBeGreaterThan(1.2 * idle.faults.resolved.p50);
    expect(busy.faults.p50).toBeGreaterThan(1.2 * idle.faults.p50);
    expect(busy.faults.p99).toBeGreaterThan(light.faults.p99);
    expect(light.faults.p99).toBeGreaterThan(idle.faults.p99);
    // Every IRQ detours through CPU 0: several times the local design's latency already at a light
    // load. It does not grow with the load: CPU 0 is saturated, and its drivers find more packets
    // per signal (fewer deliveries for more packets).
    expect(light.irqs.p50).toBeGreaterThan(5 * localLight.irqs.p50);
    expect(busy.irqs.p50).toBeGreaterThan(5 * local.irqs.p50);
    expect(busy.irqs.p99).toBeGreaterThan(local.irqs.p99);
    expect(busy.irqs.count / busy.packets.handled).toBeLessThan(light.irqs.count / light.packets.handled);
    // CPU 0 carries the system work of the whole machine: the single pager's alone, then the IRQs'.
    expect(idle.cpu0System).toBeGreaterThan(2 * point(LOCAL, 0).cpu0System);
    expect(busy.cpu0System).toBeGreaterThan(local.cpu0System);
    expect(local.packets.dropped).toBe(0);
  });

  it('fully local: fault p50, resolved-fault and IRQ latency stay flat as IRQ load grows', () => {
    const idle = point(LOCAL, 0);
    const light = point(LOCAL, 500_000);
    const busy = point(LOCAL, 2_000_000);
    expect(busy.faults.p50).toBeLessThanOrEqual(1.05 * idle.faults.p50);
    expect(busy.faults.resolved.p50).toBeLessThanOrEqual(1.35 * idle.faults.resolved.p50);
    expect(busy.faults.resolved.p99).toBeLessThanOrEqual(1.5 * idle.faults.resolved.p99);
    expect(busy.irqs.p50).toBeLessThanOrEqual(1.1 * light.irqs.p50);
    expect(busy.irqs.p99).toBeLessThanOrEqual(1.25 * light.irqs.p99);
    // Not flat: the p99 of all faults, set by reflected ones. After the handler's attach the program
    // retries, and on a busy CPU the drivers (priority 128) run before it (priority 0).
    expect(busy.faults.reflected.p99).toBeGreaterThan(1.5 * idle.faults.reflected.p99);
    // A resolved fault never leaves its CPU: no cross-CPU messages at all without IRQs.
    expect(idle.crossCpu).toBe(0);
  });

  it('partitioned RAM removes the allocator lock wait of the per-CPU handlers', () => {
    const global = point({ ...LOCAL, allocator: 'global' }, 0);
    const part = point(LOCAL, 0);
    expect(global.lockWaitCycles).toBeGreaterThan(0);
    expect(part.lockWaitCycles).toBe(0);
  });

  it('drivers touch their rings: RAM rings fault once per page, managed rings go through a handler', () => {
    const none = point(LOCAL, 1_000_000, { ...SPEC, rings: 'none' });
    const ram = point(LOCAL, 1_000_000);
    const managed = point(LOCAL, 1_000_000, { ...SPEC, rings: 'managed' });
    expect(none.driverFaults).toBe(0);
    expect(ram.driverFaults).toBeGreaterThan(0);
    expect(managed.driverFaults).toBeGreaterThan(0);
    // Paged on demand by the ring pager: its faults are reflected (the program's are the same in
    // both), and its 64K chunks are mapped 4K at a time where the RAM rings get 2M mappings.
    expect(managed.faults.reflected.count).toBeGreaterThan(ram.faults.reflected.count);
    expect(managed.driverFaults).toBeGreaterThan(10 * ram.driverFaults);
    expect(managed.packets.handled).toBeGreaterThan(0);
    expect(managed.packets.dropped).toBe(0);
  });

  it('irqbalance-style rebalancing spreads queues all routed to CPU 0, and counts what the moves cost', () => {
    const skewed: InterferenceSpec = { ...SPEC, queues: 8, routing: { cpu: 0 } };
    const fixed = point(LOCAL, 2_000_000, skewed);
    const balanced = point(LOCAL, 2_000_000, { ...skewed, balance: { intervalCycles: 300_000 } });
    expect(fixed.migrations).toBe(0);
    expect(balanced.migrations).toBeGreaterThan(0);
    expect(balanced.migrationCycles).toBeGreaterThan(0);
    // Static affinity leaves CPU 0 with all the interrupt work; rebalancing relieves it.
    expect(balanced.cpu0System).toBeLessThan(fixed.cpu0System);
    expect(balanced.irqs.p99).toBeLessThan(fixed.irqs.p99);
  });
});
