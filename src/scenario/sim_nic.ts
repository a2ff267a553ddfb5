/**
 * The `nic` behaviour: a multi-queue NIC on the simulated scenario's own machine, next to its
 * memory workload (`sim/nic_traffic.ts`). The component that has the behaviour is the driver: its
 * PD holds one handler thread per queue and the rings. The NIC starts with the simulation; its
 * figures are the `nic.…` metrics (`metrics.ts`).
 */

import { cyclesToMicros } from '../sim/cost.js';
import type { IrqPath } from '../sim/irq_path.js';
import { irqResult } from '../sim/irq_run.js';
import type { Machine } from '../sim/machine.js';
import { addNicTraffic, type NicTraffic } from '../sim/nic_traffic.js';
import { nicMetrics } from './metrics.js';
import { CannotProceed, type Names } from './names.js';
import { type NicArgs, nicTraffic } from './sim_spec.js';

/** A NIC started on the machine. */
export interface StartedNic {
  readonly component: string;
  readonly traffic: NicTraffic;
  readonly irq: IrqPath;
}

/** Starts the NIC of component `component`'s nic behaviour; returns it and its log line. */
export function startNic(
  machine: Machine,
  component: string,
  a: NicArgs,
  names: Names,
): { nic: StartedNic; line: string } {
  const session = names.component(component);
  if (session.destroyed)
    throw new CannotProceed(`cannot start the NIC: component ${component} was destroyed`);
  const traffic = nicTraffic(a);
  const irq = addNicTraffic(machine, session, traffic);
  if (!irq.ok) throw new CannotProceed(`cannot start the NIC of ${component}: ${irq.message}`);
  const queues = irq.value.drivers.filter((d) => d.queue >= 0);
  const cpus = queues.map((d) => d.kernel.cpu).join(',');
  const balance = traffic.balance
    ? `irqbalance every ${Number(cyclesToMicros(traffic.balance.intervalCycles).toFixed(3))} µs`
    : 'static routes';
  return {
    nic: { component, traffic, irq: irq.value },
    line: `nic: ${queues.length} queue(s) of ${component} on cpu(s) ${cpus} (${balance}), ${a.rate_pps} packets/s for ${a.duration_us} µs, rings ${traffic.rings}, ${machine.design.irqDelivery} IRQ delivery`,
  };
}

/** The `nic.…` metrics of a finished run. */
export function startedNicMetrics(machine: Machine, nic: StartedNic): Record<string, number> {
  const t = nic.traffic;
  const r = irqResult(machine, nic.irq, {
    design: machine.design.irqDelivery,
    cpus: machine.cpus.length,
    ratePps: t.ratePps,
    durationCycles: t.durationCycles,
    seed: t.seed,
  });
  const faults = nic.irq.drivers.reduce((n, d) => n + d.faults, 0);
  return nicMetrics(r, faults);
}

/** The log lines of a finished run's NIC, from its metrics. */
export function nicSummary(v: Readonly<Record<string, number>>, nic: StartedNic): string[] {
  const died = nic.irq.drivers.find((d) => d.died !== null);
  return [
    `nic (${nic.component}): ${v['nic.packets.arrived']} packets arrived, ${v['nic.packets.handled']} handled, ${v['nic.packets.dropped']} dropped; IRQ latency µs p50 ${v['nic.irqLatency.p50']}, p99 ${v['nic.irqLatency.p99']} over ${v['nic.irqLatency.count']} deliveries`,
    `nic (${nic.component}): ${v['nic.driverFaults']} driver fault(s) on its rings, ${v['nic.migrations.count']} migration(s) (${v['nic.migrations.cycles']} cycles, ${v['nic.migrations.rebalances']} by the balancer)`,
    ...(died ? [`nic (${nic.component}): ${died} died: ${died.died}`] : []),
  ];
}
