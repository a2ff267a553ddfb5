/**
 * The contract of an IRQ run (`irq_run.ts` runs it on the machine): its options, what it measures,
 * the option checks and the devices the options describe. Kept apart because scenarios, the CLI and
 * benchmarks build and read these shapes without running anything.
 *
 * What a run measures:
 * - Arrivals and timer expiries stop at `durationCycles`; the run then continues until every ring
 *   is drained, so packets handled + dropped = arrived. Throughput counts packets finished within
 *   the duration.
 * - IRQ latency runs from the moment an IRQ is raised and unmasked (the first raise not yet delivered,
 *   or the handler's ack for a raise that came while the handler ran) to the handler's first job for
 *   that signal: the delivery path, without the time the handler itself held the IRQ masked.
 * - Same options and seed, identical result.
 */

import { MultiQueueNic, PeriodicTimer } from '../hw/devices.js';
import { InterruptController } from '../hw/irq_controller.js';
import { err, ok, type Result } from '../util/result.js';
import { type CostModel, NOMINAL_CLOCK_HZ } from './cost.js';
import type { DesignOptions } from './designs.js';
import { Prng } from './prng.js';

/** How IRQs reach their handlers. */
export type IrqDelivery = DesignOptions['irqDelivery'];

/** A routing change at run time. */
export interface Reroute {
  /** Cycle at which it happens. */
  readonly at: number;
  readonly queue: number;
  readonly cpu: number;
  /** Migrate the queue's handler thread to `cpu` too (default true). */
  readonly moveHandler?: boolean;
}

/**
 * Where a NIC's queue vectors and their handler threads start: queue q on CPU q mod cpus
 * (`spread`), every queue on one CPU (`{ cpu }`), or one CPU per queue.
 */
export type QueueRouting = 'spread' | { readonly cpu: number } | readonly number[];

/** The CPU of queue q under `routing` (undefined: the drivers' default, queue q on CPU q mod cpus). */
export function cpuOfQueue(routing: QueueRouting | undefined): ((queue: number) => number) | undefined {
  if (routing === undefined || routing === 'spread') return undefined;
  if (Array.isArray(routing)) {
    const cpus = routing as readonly number[];
    return (q) => cpus[q]!;
  }
  const cpu = (routing as { readonly cpu: number }).cpu;
  return () => cpu;
}

/** Why `routing` does not fit `queues` queues on `cpus` CPUs, or undefined when it does. */
export function routingProblem(
  routing: QueueRouting | undefined,
  queues: number,
  cpus: number,
): string | undefined {
  if (routing === undefined || routing === 'spread') return undefined;
  const cpuOk = (c: number) => Number.isSafeInteger(c) && c >= 0 && c < cpus;
  if (Array.isArray(routing)) {
    const list = routing as readonly number[];
    if (list.length !== queues)
      return `routing lists ${list.length} CPU(s) for ${queues} queue(s): expected one per queue`;
    const bad = list.findIndex((c) => !cpuOk(c));
    return bad < 0 ? undefined : `routing[${bad}] ${list[bad]}: expected a CPU 0..${cpus - 1}`;
  }
  const cpu = (routing as { readonly cpu: number }).cpu;
  return cpuOk(cpu) ? undefined : `routing cpu ${cpu}: expected a CPU 0..${cpus - 1}`;
}

/** Options of one simulation run. */
export interface IrqSimOptions {
  readonly design: IrqDelivery;
  readonly cpus: number;
  /** NIC queues (default: one per CPU). */
  readonly queues?: number;
  /** Offered load in packets per second at the nominal clock. */
  readonly ratePps: number;
  /** Cycles during which packets arrive. */
  readonly durationCycles: number;
  readonly seed?: number;
  /** Descriptors per ring (default 256). */
  readonly ringSize?: number;
  /** Flows, uniformly drawn (default 1024). */
  readonly flows?: number;
  /** Handler cycles per packet (default 2000). */
  readonly packetCycles?: number;
  readonly costs?: CostModel;
  /** A periodic timer on wired line 0, handled by a timer thread (default none). */
  readonly timer?: {
    readonly periodCycles: number;
    readonly trigger?: 'level' | 'edge';
    readonly cpu?: number;
    /** Cycles the timer thread spends per signal (default 500). */
    readonly workCycles?: number;
  };
  readonly reroutes?: readonly Reroute[];
  /** Initial routes of the NIC's queues (default spread). */
  readonly routing?: QueueRouting;
  /** An irqbalance-style balancer instead of static affinity (default none). */
  readonly balance?: { readonly intervalCycles: number; readonly threshold?: number };
  /** Queues whose handler thread hangs before its first ack: their vectors stay masked. */
  readonly stalledQueues?: readonly number[];
}

/** Counters of one IRQ at the end of a run. */
export interface IrqCount {
  readonly irq: number;
  readonly raised: number;
  readonly delivered: number;
  readonly coalesced: number;
}

/** What one run measured. */
export interface IrqSimResult {
  readonly design: IrqDelivery;
  readonly cpus: number;
  readonly queues: number;
  readonly seed: number;
  readonly durationCycles: number;
  /** Cycle at which the last job finished (>= durationCycles when work ran past it). */
  readonly endCycles: number;
  readonly packets: {
    readonly arrived: number;
    readonly handled: number;
    readonly handledInDuration: number;
    readonly dropped: number;
    /** Left in rings at the end (only stalled queues keep any). */
    readonly queued: number;
  };
  /** Packets handled within the duration per second at the nominal clock. */
  readonly packetsPerSecond: number;
  /** Raise (or unmask, if raised while masked) → handler start, in microseconds at the nominal clock. */
  readonly irqLatency: {
    readonly count: number;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Per CPU: fraction of its busy time spent on interrupt work. */
  readonly cpuLoad: readonly number[];
  /** Per CPU: fraction of the run it was busy. */
  readonly cpuBusy: readonly number[];
  /** Raises coalesced at the controller (edges that found the vector latched). */
  readonly lostInterrupts: number;
  readonly interrupts: readonly IrqCount[];
  /** Timer expiries and expiries its handler read (absent without a timer). */
  readonly timer?: { readonly expirations: number; readonly read: number };
  /** Model checks, all zero in a correct run: deliveries of an IRQ still in service, deliveries to a CPU it was not routed to. */
  readonly violations: { readonly deliveredWhileMasked: number; readonly misrouted: number };
  /** Handler threads moved to another CPU by reroutes or the balancer, and the cycles it cost. */
  readonly migrations: { readonly count: number; readonly cycles: number; readonly rebalances: number };
}

/** Error code of the simulation. */
export type IrqSimError = 'INVALID_IRQ_SIM';

/** An `INVALID_IRQ_SIM` error with `message`. */
export function invalid(message: string): Result<never, IrqSimError> {
  return err('INVALID_IRQ_SIM', message);
}

/** The first bad option as a message naming it and the expected range; undefined when all are valid. */
export function irqOptionsProblem(o: IrqSimOptions): string | undefined {
  const queues = o.queues ?? o.cpus;
  const int = (v: number | undefined, what: string, lo: number, hi: number) =>
    v === undefined || (Number.isSafeInteger(v) && v >= lo && v <= hi)
      ? undefined
      : `${what} ${v}: expected an integer ${lo}..${hi}`;
  const num = (v: number | undefined, what: string, zeroOk: boolean) =>
    v === undefined || (Number.isFinite(v) && (zeroOk ? v >= 0 : v > 0))
      ? undefined
      : `${what} ${v}: expected a finite number ${zeroOk ? '>= 0' : '> 0'}`;
  const checks = [
    o.design === 'direct' || o.design === 'core-thread'
      ? undefined
      : `design '${String(o.design)}': expected direct or core-thread`,
    int(o.cpus, 'cpus', 1, 1024),
    int(o.queues, 'queues', 1, 4096),
    num(o.ratePps, 'ratePps', false),
    num(o.durationCycles, 'durationCycles', false),
    int(o.seed, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    int(o.ringSize, 'ringSize', 1, 1 << 20),
    int(o.flows, 'flows', 1, 2 ** 31 - 1),
    num(o.packetCycles, 'packetCycles', true),
    num(o.timer?.periodCycles, 'timer periodCycles', false),
    num(o.timer?.workCycles, 'timer workCycles', true),
    int(o.timer?.cpu, 'timer cpu', 0, o.cpus - 1),
    ...(o.reroutes ?? []).flatMap((r, i) => [
      num(r.at, `reroutes[${i}].at`, true),
      int(r.queue, `reroutes[${i}].queue`, 0, queues - 1),
      int(r.cpu, `reroutes[${i}].cpu`, 0, o.cpus - 1),
    ]),
    ...(o.stalledQueues ?? []).map((q, i) => int(q, `stalledQueues[${i}]`, 0, queues - 1)),
    num(o.balance?.intervalCycles, 'balance intervalCycles', false),
    num(o.balance?.threshold, 'balance threshold', true),
    Number.isSafeInteger(queues) && Number.isSafeInteger(o.cpus)
      ? routingProblem(o.routing, queues, o.cpus)
      : undefined,
  ];
  return checks.find((c) => c !== undefined);
}

/**
 * A multi-queue NIC on `controller` (MSI vectors from 0), its arrivals and flows drawn from
 * streams of `seed`. The IRQ runs and the mixed workloads (`nic_traffic.ts`) build theirs here.
 */
export function createNic(
  controller: InterruptController,
  o: {
    readonly queues: number;
    readonly ratePps: number;
    readonly ringSize?: number;
    readonly flows?: number;
  },
  seed: number,
): Result<MultiQueueNic, IrqSimError> {
  const prng = new Prng(seed);
  const nic = MultiQueueNic.create(
    {
      queues: o.queues,
      ringSize: o.ringSize ?? 256,
      flows: o.flows ?? 1024,
      ratePps: o.ratePps,
      clockHz: NOMINAL_CLOCK_HZ,
    },
    controller,
    { arrivals: prng.fork('nic/arrivals'), flows: prng.fork('nic/flows') },
  );
  return nic.ok ? nic : invalid(nic.message);
}

/** The devices one run drives. */
export interface IrqSimDevices {
  readonly controller: InterruptController;
  readonly nic: MultiQueueNic;
  readonly timer: PeriodicTimer | undefined;
}

/** Checks `options` and builds the devices they describe; `INVALID_IRQ_SIM` names the first bad option. */
export function buildDevices(options: IrqSimOptions): Result<IrqSimDevices, IrqSimError> {
  const bad = irqOptionsProblem(options);
  if (bad) return invalid(bad);
  const queues = options.queues ?? options.cpus;
  const c = InterruptController.create({
    cpus: options.cpus,
    lines: [{ trigger: options.timer?.trigger ?? 'level', polarity: 'high', cpu: 0 }],
    msiVectors: queues,
  });
  if (!c.ok) return invalid(c.message);
  const nic = createNic(c.value, { ...options, queues }, options.seed ?? 1);
  if (!nic.ok) return nic;
  let timer: PeriodicTimer | undefined;
  if (options.timer) {
    const t = PeriodicTimer.create({ periodCycles: options.timer.periodCycles, line: 0 }, c.value);
    if (!t.ok) return invalid(t.message);
    timer = t.value;
  }
  return ok({ controller: c.value, nic: nic.value, timer });
}

/** Checks `options` without running anything; `INVALID_IRQ_SIM` names the first bad option. */
export function checkIrqOptions(options: IrqSimOptions): Result<void, IrqSimError> {
  const d = buildDevices(options);
  return d.ok ? ok(undefined) : d;
}
