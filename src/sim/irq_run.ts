/**
 * IRQ runs on the machine (seed 000, DESIGN.md §2 "IRQs"): a multi-queue NIC and optionally a
 * periodic timer raise interrupts, delivered under the design's `irqDelivery` to a driver
 * component's handler threads, on the same CPUs, scheduler and costs as every other workload
 * (`irq_path.ts`). This module turns the options of `irq_model.ts` into a machine, runs it and
 * measures it.
 */
import { MultiQueueNic } from '../hw/devices.js';
import { ok, type Result, unwrap } from '../util/result.js';
import { cyclesToMicros, DEFAULT_COSTS, NOMINAL_CLOCK_HZ } from './cost.js';
import { designOptions } from './designs.js';
import {
  buildDevices,
  cpuOfQueue,
  type IrqCount,
  type IrqSimError,
  type IrqSimOptions,
  type IrqSimResult,
} from './irq_model.js';
import type { IrqPath } from './irq_path.js';
import { Machine } from './machine.js';

export type {
  IrqCount,
  IrqDelivery,
  IrqSimError,
  IrqSimOptions,
  IrqSimResult,
  QueueRouting,
  Reroute,
} from './irq_model.js';
export { checkIrqOptions } from './irq_model.js';

/** Builds the machine for an IRQ run (started, not yet run). */
export function buildIrqMachine(
  options: IrqSimOptions,
): Result<{ machine: Machine; irq: IrqPath }, IrqSimError> {
  const d = buildDevices(options);
  if (!d.ok) return d;
  const machine = new Machine({
    cpus: options.cpus,
    costs: options.costs ?? DEFAULT_COSTS,
    design: unwrap(designOptions('genode', { irqDelivery: options.design })),
  });
  const irq = machine.addInterrupts({
    controller: d.value.controller,
    nic: d.value.nic,
    timer: d.value.timer,
    durationCycles: options.durationCycles,
    packetCycles: options.packetCycles ?? 2000,
    timerCpu: options.timer?.cpu,
    timerWorkCycles: options.timer?.workCycles,
    stalledQueues: options.stalledQueues,
    cpuOfQueue: cpuOfQueue(options.routing),
  });
  irq.start(options.reroutes, options.balance);
  return ok({ machine, irq });
}

/** Builds and runs one IRQ run. */
export function runIrqSim(options: IrqSimOptions): Result<IrqSimResult, IrqSimError> {
  const b = buildIrqMachine(options);
  if (!b.ok) return b;
  b.value.machine.run();
  return ok(irqResult(b.value.machine, b.value.irq, options));
}

/** What a finished IRQ run measured. */
export function irqResult(machine: Machine, irq: IrqPath, o: IrqSimOptions): IrqSimResult {
  const nic = irq.setup.nic!;
  const controller = irq.setup.controller;
  const total = MultiQueueNic.total;
  let queued = 0;
  for (let q = 0; q < nic.queueCount; q++) queued += nic.pending(q);
  const interrupts: IrqCount[] = [];
  let lost = 0;
  for (let n = 0; n < controller.irqCount; n++) {
    if (n === 0 && !irq.setup.timer) continue;
    const s = controller.irqStatsOf(n);
    if (!s.ok) continue;
    lost += s.value.coalesced;
    interrupts.push({
      irq: n,
      raised: s.value.raised,
      delivered: s.value.delivered,
      coalesced: s.value.coalesced,
    });
  }
  const endCycles = Math.max(machine.engine.now, o.durationCycles);
  const us = (v: number) => Number(cyclesToMicros(v).toFixed(3));
  const r4 = (v: number) => Number(v.toFixed(4));
  const busy = machine.cpus.map(
    (c) => c.kernelCycles + c.userCycles + c.pagerCycles + c.handlerCycles + c.driverCycles,
  );
  const lat = irq.latency;
  const timer = irq.setup.timer;
  return {
    design: o.design,
    cpus: o.cpus,
    queues: nic.queueCount,
    seed: o.seed ?? 1,
    durationCycles: o.durationCycles,
    endCycles,
    packets: {
      arrived: total(nic.accepted) + total(nic.dropped),
      handled: irq.nicDriver!.handled,
      handledInDuration: irq.counters.handledInDuration,
      dropped: total(nic.dropped),
      queued,
    },
    packetsPerSecond: Math.round((irq.counters.handledInDuration * NOMINAL_CLOCK_HZ) / o.durationCycles),
    irqLatency: {
      count: lat.count,
      p50: us(lat.count ? lat.percentile(0.5) : 0),
      p99: us(lat.count ? lat.percentile(0.99) : 0),
      max: us(lat.count ? lat.max : 0),
    },
    cpuLoad: busy.map((b, c) => (b === 0 ? 0 : r4(irq.irqCycles[c]! / b))),
    cpuBusy: busy.map((b) => r4(b / endCycles)),
    lostInterrupts: lost,
    interrupts,
    ...(timer && irq.timerHandler
      ? { timer: { expirations: timer.expirations, read: irq.timerHandler.ticks } }
      : {}),
    violations: {
      deliveredWhileMasked: irq.counters.deliveredWhileMasked,
      misrouted: irq.counters.misrouted,
    },
    migrations: {
      count: irq.counters.migrations,
      cycles: irq.counters.migrationCycles,
      rebalances: irq.counters.rebalances,
    },
  };
}
