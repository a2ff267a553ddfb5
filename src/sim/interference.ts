/**
 * The interference study of seed 000: page faults and interrupts on the same CPUs. A multi-threaded
 * program (one thread per CPU) faults steadily into private memory that handlers page on demand,
 * while a multi-queue NIC raises interrupts whose driver threads touch their rings. For every
 * combination of
 *
 * - one pager on CPU 0 or one pager per CPU,
 * - IRQs through core's thread on CPU 0 or directly to the routed CPU,
 * - one global RAM allocator or a partition per CPU,
 *
 * and every offered IRQ load, it measures fault latency and IRQ latency (p50, p99) over a fixed
 * window of simulated time. Nothing about the outcome is assumed: the combination that puts
 * everything on CPU 0 and the fully local one are just two of the eight.
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { MultiQueueNic } from '../hw/devices.js';
import { invariant, ok, type Result, unwrap } from '../util/result.js';
import { type CostModel, cyclesToMicros, DEFAULT_COSTS } from './cost.js';
import { type DesignOptions, designOptions } from './designs.js';
import type { QueueRouting } from './irq_model.js';
import type { BalanceOptions } from './irq_path.js';
import { Machine } from './machine.js';
import { addNicTraffic, type RingBacking } from './nic_traffic.js';
import type { AccessSource } from './sim_thread.js';

/** One combination of the three design choices. */
export interface Combination {
  readonly pagers: DesignOptions['pagers'];
  readonly irqDelivery: DesignOptions['irqDelivery'];
  readonly allocator: DesignOptions['allocator'];
}

/** Every combination, the everything-on-CPU-0 one first and the fully local one last. */
export const COMBINATIONS: readonly Combination[] = (['single', 'per-cpu'] as const).flatMap((pagers) =>
  (['core-thread', 'direct'] as const).flatMap((irqDelivery) =>
    (['global', 'partitioned'] as const).map((allocator) => ({ pagers, irqDelivery, allocator })),
  ),
);

/** A short name: `single pager / core-thread IRQs / global RAM`. */
export function combinationName(c: Combination): string {
  return `${c.pagers === 'single' ? 'single pager' : 'per-CPU pagers'} / ${c.irqDelivery} IRQs / ${c.allocator} RAM`;
}

/** What the study runs. */
export interface InterferenceSpec {
  readonly cpus: number;
  /** Offered NIC loads in packets per second (0 runs the program alone). */
  readonly rates: readonly number[];
  /** The window of simulated time measured, in cycles. */
  readonly durationCycles: number;
  /** NIC receive queues (default one per CPU), queue q's vector routed to CPU q mod cpus. */
  readonly queues?: number;
  readonly packetCycles?: number;
  /** Private memory per program thread; every page of it faults once. */
  readonly privateBytes: number;
  /** RAM the handlers attach per reflected fault. */
  readonly chunk: number;
  /** Instruction fetches between two data accesses of the program (it touches a new page every 64 data accesses). */
  readonly computePerAccess: number;
  /** Where the drivers' rings live: a RAM dataspace, a managed one paged on demand, or none. */
  readonly rings: RingBacking;
  /** Initial routes: queue q on CPU q mod cpus (default, spread), all on one CPU, or one CPU per queue. */
  readonly routing?: QueueRouting;
  /** irqbalance-style rebalancing instead of static routes. */
  readonly balance?: BalanceOptions;
  readonly seed: number;
  readonly costs?: CostModel;
  /** Restrict to these combinations (default all eight). */
  readonly combinations?: readonly Combination[];
}

/** Latency percentiles in microseconds at the nominal clock. */
export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

/** One measured point (the `faultline scale --irq-rate --json` schema, docs/OUTPUT.md). */
export interface InterferencePoint extends Combination {
  readonly name: string;
  readonly cpus: number;
  /** Offered load, packets per second. */
  readonly irqRate: number;
  /** Every page fault on the machine (the program's and the drivers', `driverFaults` of them), and split by whether core resolved it at once or reflected it. */
  readonly faults: Latency & { readonly resolved: Latency; readonly reflected: Latency };
  readonly irqs: Latency;
  readonly packets: { readonly handled: number; readonly dropped: number };
  /** Page faults the drivers took on their rings (RAM rings fault once per page, managed ones are paged by a handler). */
  readonly driverFaults: number;
  readonly crossCpu: number;
  readonly lockWaitCycles: number;
  /** Fraction of CPU 0's window spent on anything but the program: kernel, core, handlers, drivers. */
  readonly cpu0System: number;
  /** Handler threads moved between CPUs (by the balancer) and the cycles the moves cost. */
  readonly migrations: number;
  readonly migrationCycles: number;
}

const CODE_BASE = 0x40_0000;
const CODE_BYTES = 16 * 1024;
/**
 * The program of thread t: accesses over its private memory at `base` (`bytes` long), about
 * `records` of them, with `computePerAccess` instruction fetches at `codeBase` between data
 * accesses. Supplied by the caller (the workload layer builds traces; this one runs them).
 */
export type ProgramOf = (
  t: number,
  p: {
    base: number;
    bytes: number;
    records: number;
    computePerAccess: number;
    codeBase: number;
    seed: number;
  },
) => Result<AccessSource, 'INVALID_WORKLOAD'>;

/** Runs one combination at one load. */
export function runInterferencePoint(
  spec: InterferenceSpec,
  combo: Combination,
  rate: number,
  programOf: ProgramOf,
): Result<InterferencePoint, 'INVALID_WORKLOAD' | 'INVALID_IRQ_SIM'> {
  const design = unwrap(designOptions('genode', { ...combo }));
  const cpus = spec.cpus;
  const machine = new Machine({ cpus, design, costs: spec.costs ?? DEFAULT_COSTS });
  const core = machine.core;
  const app = unwrap(core.createPd('init -> app', { ram: 2 ** 30, caps: 100_000 }));
  const manager = unwrap(core.createPd('init -> memory manager', { ram: 2 ** 52, caps: 1e9 }));
  const base = 2 ** 32;
  // The program's code: the fetches between its data accesses hit here.
  const code = unwrap(core.allocRam(app, CODE_BYTES));
  unwrap(app.addressSpace.attach(code, { at: CODE_BASE, executable: true }));
  // Enough records to keep faulting through the window: the program stops at its end anyway.
  const records = Math.ceil(spec.durationCycles / 4);
  for (let t = 0; t < cpus; t++) {
    const at = base + t * spec.privateBytes;
    const priv = unwrap(core.createRegionMap(manager, spec.privateBytes));
    unwrap(app.addressSpace.attach(priv.dataspace, { at, writeable: true, executable: true }));
    const ctx = unwrap(core.createSignalContext(manager, `handler ${t}`));
    unwrap(core.setFaultHandler(priv, ctx));
    machine.addHandler(
      manager,
      `handler ${t}`,
      t,
      new OnDemandHandler(core, manager, priv, { chunk: spec.chunk, cpu: t }),
      ctx,
    );
    const src = programOf(t, {
      base: at,
      bytes: spec.privateBytes,
      records,
      computePerAccess: spec.computePerAccess,
      codeBase: CODE_BASE,
      seed: spec.seed + t,
    });
    if (!src.ok) return src;
    machine.addThread(app, `thread ${t}`, t, src.value);
  }
  if (rate > 0) {
    const drivers = unwrap(core.createPd('init -> nic driver', { ram: 2 ** 30, caps: 100_000 }));
    const nic = addNicTraffic(machine, drivers, {
      ratePps: rate,
      durationCycles: spec.durationCycles,
      queues: spec.queues,
      seed: spec.seed,
      packetCycles: spec.packetCycles,
      routing: spec.routing,
      rings: spec.rings,
      ringChunk: spec.chunk,
      balance: spec.balance,
    });
    if (!nic.ok) return { ok: false, code: 'INVALID_IRQ_SIM', message: nic.message };
  }
  machine.run(spec.durationCycles);
  return ok(measure(machine, spec, combo, rate));
}

function latencyOf(h: { count: number; percentile(q: number): number }): Latency {
  const us = (v: number) => Number(cyclesToMicros(v).toFixed(3));
  return h.count === 0
    ? { count: 0, p50: 0, p99: 0 }
    : { count: h.count, p50: us(h.percentile(0.5)), p99: us(h.percentile(0.99)) };
}

function measure(
  machine: Machine,
  spec: InterferenceSpec,
  combo: Combination,
  rate: number,
): InterferencePoint {
  const irq = machine.irq;
  const c0 = machine.cpus[0]!;
  const system0 = c0.kernelCycles + c0.pagerCycles + c0.handlerCycles + c0.driverCycles;
  const nic = irq?.setup.nic;
  return {
    name: combinationName(combo),
    ...combo,
    cpus: spec.cpus,
    irqRate: rate,
    faults: {
      ...latencyOf(machine.faultLatency),
      resolved: latencyOf(machine.faultLatencyByKind.resolved),
      reflected: latencyOf(machine.faultLatencyByKind.reflected),
    },
    irqs: irq ? latencyOf(irq.latency) : { count: 0, p50: 0, p99: 0 },
    packets: {
      handled: irq?.nicDriver?.handled ?? 0,
      dropped: nic ? MultiQueueNic.total(nic.dropped) : 0,
    },
    driverFaults: irq ? irq.drivers.reduce((n, d) => n + d.faults, 0) : 0,
    crossCpu: machine.counters.crossCpu,
    lockWaitCycles: machine.counters.lockWait,
    cpu0System: Number(Math.min(1, system0 / spec.durationCycles).toFixed(4)),
    migrations: irq?.counters.migrations ?? 0,
    migrationCycles: irq?.counters.migrationCycles ?? 0,
  };
}

/** Runs every combination at every load, combinations outermost; `onPoint` sees each as it finishes. */
export function runInterference(
  spec: InterferenceSpec,
  programOf: ProgramOf,
  onPoint?: (p: InterferencePoint, done: number, total: number) => void,
): Result<InterferencePoint[], 'INVALID_WORKLOAD' | 'INVALID_IRQ_SIM'> {
  invariant(spec.rates.length > 0, 'the study needs at least one load');
  const combos = spec.combinations ?? COMBINATIONS;
  const out: InterferencePoint[] = [];
  const total = combos.length * spec.rates.length;
  for (const c of combos) {
    for (const r of spec.rates) {
      const p = runInterferencePoint(spec, c, r, programOf);
      if (!p.ok) return p;
      out.push(p.value);
      onPoint?.(p.value, out.length, total);
    }
  }
  return ok(out);
}
