/**
 * NIC traffic next to a memory workload (seed 000): a multi-queue NIC whose interrupts reach the
 * handler threads of a driver component on the same machine as everything else (`irq_path.ts`).
 * The driver is a component with memory of its own: per queue a descriptor ring and packet
 * buffers in its address space, backed by a RAM dataspace attached up front, by a managed
 * dataspace a handler pages on demand (so the driver faults while packets arrive), or by nothing
 * (the packet work touches no memory). The interference study and simulated scenarios build their
 * NICs here.
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import type { PdSession } from '../core/pd_session.js';
import { COSTS } from '../core/quota.js';
import { InterruptController } from '../hw/irq_controller.js';
import { isPow2 } from '../util/bits.js';
import { err, ok, type Result } from '../util/result.js';
import type { DriverMemory } from './driver_task.js';
import { cpuOfQueue, createNic, irqOptionsProblem, type QueueRouting, type Reroute } from './irq_model.js';
import type { BalanceOptions, IrqPath } from './irq_path.js';
import type { Machine } from './machine.js';

/** Where the driver's rings live. */
export type RingBacking = 'ram' | 'managed' | 'none';

/** The NIC and its driver, as a mixed workload adds them. */
export interface NicTraffic {
  /** Offered load in packets per second (Poisson arrivals at the nominal clock). */
  readonly ratePps: number;
  /** Cycles during which packets arrive (the drivers drain their rings after it). */
  readonly durationCycles: number;
  /** Receive queues (default one per CPU). */
  readonly queues?: number;
  /** Descriptors per ring (default 256). */
  readonly ringSize?: number;
  /** Flows spread by RSS (default 1024). */
  readonly flows?: number;
  /** Seed of arrivals and flows (default 1). */
  readonly seed?: number;
  /** Driver cycles per packet besides its memory accesses (default 2000). */
  readonly packetCycles?: number;
  /** Initial routes (default spread: queue q on CPU q mod cpus). */
  readonly routing?: QueueRouting;
  /** Where the rings live (default none). */
  readonly rings?: RingBacking;
  /** Managed rings: bytes the ring pager attaches per fault (default 64K) and its CPU (default 0). */
  readonly ringChunk?: number;
  readonly ringPagerCpu?: number;
  /** irqbalance-style rebalancing instead of static routes. */
  readonly balance?: BalanceOptions;
  /** Scripted route changes. */
  readonly reroutes?: readonly Reroute[];
}

/** First address of the rings in the driver's address space. */
export const RING_BASE = 0x4000_0000;
const DESC = 16;
const BUF = 2048;
const DEFAULT_CHUNK = 65536;

/** Bytes of one queue's descriptors (page-rounded) and of its whole area (descriptors and buffers). */
function ringLayout(ringSize: number): { descBytes: number; stride: number } {
  const descBytes = Math.ceil((ringSize * DESC) / 4096) * 4096;
  return { descBytes, stride: descBytes + ringSize * BUF };
}

/** Bytes the rings of `queues` queues take in the driver's address space (2M-rounded). */
export function ringBytes(queues: number, ringSize: number): number {
  return Math.ceil((queues * ringLayout(ringSize).stride) / 2 ** 21) * 2 ** 21;
}

/** Per queue: its descriptor ring and its packet buffers; packet n touches slot n mod ringSize. */
function ringMemory(queue: number, ringSize: number): DriverMemory {
  const { descBytes, stride } = ringLayout(ringSize);
  const base = RING_BASE + queue * stride;
  return {
    addresses(n, out) {
      const slot = n % ringSize;
      out[0] = base + slot * DESC;
      out[1] = base + descBytes + slot * BUF;
      return 2;
    },
  };
}

/** The first bad option of `t` on a machine of `cpus` CPUs (message names it), or undefined. */
export function nicTrafficProblem(t: NicTraffic, cpus: number, pageBytes = 4096): string | undefined {
  const bad = irqOptionsProblem({ ...t, design: 'direct', cpus });
  if (bad) return bad;
  if (t.ringChunk !== undefined && !(isPow2(t.ringChunk) && t.ringChunk >= pageBytes))
    return `ring chunk ${t.ringChunk}: expected a power of two of at least one page (${pageBytes})`;
  const pc = t.ringPagerCpu;
  if (pc !== undefined && !(Number.isSafeInteger(pc) && pc >= 0 && pc < cpus))
    return `ring pager cpu ${pc}: expected a CPU 0..${cpus - 1}`;
  return undefined;
}

/**
 * Adds the NIC and its driver (in `driver`'s PD) to `machine` and starts arrivals: the rings as
 * `t.rings` says, one handler thread per queue routed as `t.routing` says. Errs when an option is
 * bad (`INVALID_IRQ_SIM`, before anything is created) or when the driver's quota or address space
 * cannot take its threads, rings and ring pager (core's code; rings set up by then stay).
 */
export function addNicTraffic(machine: Machine, driver: PdSession, t: NicTraffic): Result<IrqPath> {
  const cpus = machine.cpus.length;
  const bad = nicTrafficProblem(t, cpus, 2 ** machine.arch.pageSizesLog2[0]!);
  if (bad) return err('INVALID_IRQ_SIM', bad);
  const queues = t.queues ?? cpus;
  const ringSize = t.ringSize ?? 256;
  const rings = t.rings ?? 'none';
  // The handler threads (and a managed ring's pager and its signal context) are created by
  // unwrapping: check the quota for them first.
  const pager = rings === 'managed' ? 1 : 0;
  const q = driver.quota.check(
    pager * COSTS.signalContext.ram,
    (queues + pager) * COSTS.thread.caps + pager * COSTS.signalContext.caps,
    `${queues + pager} driver thread(s)`,
  );
  if (!q.ok) return q;
  const controller = InterruptController.create({ cpus, lines: 0, msiVectors: queues });
  if (!controller.ok) return err('INVALID_IRQ_SIM', controller.message);
  const nic = createNic(controller.value, { ...t, queues }, t.seed ?? 1);
  if (!nic.ok) return nic;
  const backed = attachRings(machine, driver, t, queues, ringSize);
  if (!backed.ok) return backed;
  const irq = machine.addInterrupts(
    {
      controller: controller.value,
      nic: nic.value,
      timer: undefined,
      durationCycles: t.durationCycles,
      packetCycles: t.packetCycles ?? 2000,
      memoryOf: backed.value ? (queue) => ringMemory(queue, ringSize) : undefined,
      cpuOfQueue: cpuOfQueue(t.routing),
    },
    driver,
  );
  irq.start(t.reroutes, t.balance);
  return ok(irq);
}

/** Backs the rings: RAM attached up front, or a managed dataspace paged on demand; true if any. */
function attachRings(
  machine: Machine,
  driver: PdSession,
  t: NicTraffic,
  queues: number,
  ringSize: number,
): Result<boolean> {
  const rings = t.rings ?? 'none';
  if (rings === 'none') return ok(false);
  const core = machine.core;
  const size = ringBytes(queues, ringSize);
  if (rings === 'ram') {
    const ds = core.allocRam(driver, size);
    if (!ds.ok) return ds;
    const at = driver.addressSpace.attach(ds.value, { at: RING_BASE, writeable: true });
    return at.ok ? ok(true) : at;
  }
  const map = core.createRegionMap(driver, size);
  if (!map.ok) return map;
  const at = driver.addressSpace.attach(map.value.dataspace, { at: RING_BASE, writeable: true });
  if (!at.ok) return at;
  const ctx = core.createSignalContext(driver, 'ring pager');
  if (!ctx.ok) return ctx;
  const fh = core.setFaultHandler(map.value, ctx.value);
  if (!fh.ok) return fh;
  const cpu = t.ringPagerCpu ?? 0;
  const chunk = t.ringChunk ?? DEFAULT_CHUNK;
  machine.addHandler(
    driver,
    'ring pager',
    cpu,
    new OnDemandHandler(core, driver, map.value, { chunk, cpu }),
    ctx.value,
  );
  return ok(true);
}
