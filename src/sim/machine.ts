/**
 * The simulated machine: CPUs with TLBs running threads under the kernel's scheduler, the
 * kernel's fault path to core's pager entrypoints, reflected faults delivered as signals to
 * handler threads, their attaches waking faulters, revocations shooting down TLB entries on every
 * CPU, and interrupts from devices to driver threads (`irq_path.ts`). Time is in virtual cycles
 * from the cost model; everything is deterministic.
 *
 * Every CPU does one thing at a time (`executor.ts`): kernel jobs first, then a step of the thread
 * its scheduler picks; kernel jobs and higher-priority threads preempt. Core's pager entrypoints
 * run at the top priority, handlers and drivers above the traced program. A traced thread's step
 * is a slice of its records (`access_path.ts`), up to `sliceCycles` long.
 */
import type { DataspaceManager } from '../components/dataspace_manager.js';
import { Core } from '../core/core.js';
import type { PdSession } from '../core/pd_session.js';
import type { SignalContext } from '../core/signal.js';
import { type Arch, type ArchName, arch as archOf, type TlbLevelSpec } from '../hw/arch.js';
import type { RamRange } from '../hw/phys_mem.js';
import { ProtectionDomain } from '../kernel/protection_domain.js';
import { Scheduler } from '../kernel/scheduler.js';
import type { Thread } from '../kernel/thread.js';
import { invariant, unwrap } from '../util/result.js';
import { AccessPath, type PagingHooks } from './access_path.js';
import type { LockCounters } from './core_services.js';
import { type CostModel, DEFAULT_COSTS } from './cost.js';
import { Cpu, type SimTask } from './cpu.js';
import { type DesignOptions, designOptions } from './designs.js';
import type { DriverTask } from './driver_task.js';
import { EventEngine } from './engine.js';
import { Executor } from './executor.js';
import type { Handlers, HandlerThread } from './handlers.js';
import { IrqPath, type IrqSetup } from './irq_path.js';
import { LocalRm } from './local_rm.js';
import { FaultPath, type Totals } from './machine_faults.js';
import { MachinePrograms } from './machine_programs.js';
import { MachineTimeline } from './machine_timeline.js';
import { Histogram, Metrics } from './metrics.js';
import { type AccessSource, SimThread, type WorkloadRunner } from './sim_thread.js';
import type { Timeline } from './timeline.js';

/** How a machine is built. */
export interface MachineConfig {
  readonly arch?: ArchName;
  readonly cpus?: number;
  /** TLB geometry per CPU (default: the architecture's). */
  readonly tlb?: readonly TlbLevelSpec[];
  /** Design options (default: the `genode` design). */
  readonly design?: DesignOptions;
  readonly costs?: CostModel;
  readonly ram?: readonly RamRange[];
  /** Where to record the run, if anywhere. */
  readonly timeline?: Timeline;
  /** User cycles a traced thread runs per step (default 20,000). */
  readonly sliceCycles?: number;
  /** Scheduler quantum and timer period in cycles (default 10 ms at 3 GHz). */
  readonly quantum?: number;
}

/** Scheduling priorities of the machine's threads (0..255, higher runs first). */
export const PRIORITY = {
  /** Core's threads: pager entrypoints, the IRQ thread. */
  core: 255,
  /**
   * User-level fault handlers (dataspace managers): a faulting thread waits for them, so they
   * run before drivers' throughput work.
   */
  handler: 160,
  /** Drivers' interrupt handler threads. */
  driver: 128,
  /** A task's own region mapper (local-rm): its threads wait for it. */
  regionMapper: 200,
  /** Traced and synthetic programs, unless a scenario says otherwise. */
  user: 0,
} as const;

/** Protection-domain id of core's own address space (kept apart from the PDs core creates). */
const CORE_PD_ID = 0x7fff_0000;

/** The simulated machine. */
export class Machine implements WorkloadRunner {
  readonly engine = new EventEngine();
  /** The kernel's per-CPU scheduler (priorities, round robin, quantum). */
  readonly scheduler: Scheduler;
  readonly exec: Executor;
  readonly core: Core;
  readonly arch: Arch;
  readonly design: DesignOptions;
  readonly costs: CostModel;
  readonly cpus: Cpu[];
  readonly threads: SimThread[] = [];
  readonly handlers: Handlers;
  /** Program threads, IPC ports, core's RPC entrypoints, allocator locks, the trust log. */
  readonly programs: MachinePrograms;
  readonly errors: string[] = [];
  readonly faultLatency = new Metrics().histogram('faults.latency');
  /** Fault latency split: faults core resolved at once, faults reflected to a handler first. */
  readonly faultLatencyByKind = { resolved: new Histogram(), reflected: new Histogram() };
  /** Core's protection domain: its threads run in it. */
  readonly corePd: ProtectionDomain;
  private readonly sliceCycles: number;
  private readonly page: number;
  private readonly access: AccessPath;
  /** Where the run is recorded, if anywhere, and the machine's drawing on it. */
  readonly timeline: Timeline | null;
  readonly drawing: MachineTimeline | null;
  /** Pager entrypoints, replies, wake-ups, core's events and the machine-wide counters. */
  readonly faults: FaultPath;
  private nextCoreThread = 0;
  /** The local-rm design's mapping database and region mappers (null in other designs). */
  readonly localRm: LocalRm | null = null;
  /** The interrupt side, once devices were added. */
  irq: IrqPath | null = null;

  constructor(config: MachineConfig = {}) {
    this.arch = archOf(config.arch ?? 'x86_64');
    this.design = config.design ?? unwrap(designOptions('genode'));
    this.costs = config.costs ?? DEFAULT_COSTS;
    const n = config.cpus ?? 1;
    const sizes = this.arch.pageSizesLog2;
    this.core = new Core({
      arch: this.arch,
      ram: config.ram,
      partitions: this.design.allocator === 'partitioned' ? n : 1,
      kernel:
        this.design.mapping === 'smallest' ? { name: 'smallest-only', mapSizesLog2: [sizes[0]!] } : undefined,
    });
    this.corePd = new ProtectionDomain(CORE_PD_ID, 'core', sizes);
    this.page = 2 ** sizes[0]!;
    this.access = new AccessPath(this.costs, this.arch.walkLevels, this.page);
    this.sliceCycles = config.sliceCycles ?? 20_000;
    this.timeline = config.timeline ?? null;
    this.drawing = this.timeline ? new MachineTimeline(this.timeline) : null;
    this.cpus = Array.from({ length: n }, (_, i) => new Cpu(i, config.tlb ?? this.arch.tlb));
    this.scheduler = new Scheduler(n, { quantum: config.quantum ?? 30_000_000 });
    const drawing = this.drawing;
    const ipcTimeout = this.design.ipcTimeout === 'never' ? undefined : this.design.ipcTimeout;
    this.exec = new Executor(this.engine, this.scheduler, this.cpus, {
      drawing,
      switchCost: (cpu, task) => this.switchCost(cpu, task),
      tickCost: (cpu) => this.costs.irqEntry + this.costs.irqAck + this.kernelEntryCost(cpu),
    });
    this.programs = new MachinePrograms({
      engine: this.engine,
      exec: this.exec,
      cpus: this.cpus,
      costs: this.costs,
      design: this.design,
      core: this.core,
      corePd: this.corePd,
      drawing,
      faults: () => this.faults,
      kernelEntryCost: (c) => this.kernelEntryCost(c),
      coreThread: (name, cpu) => this.coreThread(name, cpu),
      localRm: () => this.localRm,
      ipcTimeout,
      walkCycles: this.access.walkCycles,
      translate: (cpu, t, va, access) => {
        const asid = t.kernel.pd.asid;
        cpu.asids.add(asid);
        return this.access.translate(cpu, t, asid, va, access, 'data');
      },
    });
    this.handlers = this.programs.handlers;
    if (this.design.faultHandling === 'local-rm') {
      this.localRm = new LocalRm({
        core: this.core,
        corePd: this.corePd,
        costs: this.costs,
        cpus: this.cpus,
        ipc: this.programs.ipc,
        trust: this.programs.trust,
        faults: () => this.faults,
        ipcTimeout,
        shootdown: (asid, va, size) => this.faults.shootdown(asid, va, size),
      });
      // Core keeps no record of the region mappers' mappings: the MDB revokes them.
      this.core.revokesMappings = false;
    }
    this.faults = new FaultPath({
      core: this.core,
      design: this.design,
      costs: this.costs,
      cpus: this.cpus,
      exec: this.exec,
      handlers: this.handlers,
      actions: this.programs.actions,
      trust: this.programs.trust,
      ipcTimeout,
      timeline: this.timeline,
      drawing,
      errors: this.errors,
      faultLatency: this.faultLatency,
      faultLatencyByKind: this.faultLatencyByKind,
      kernelEntryCost: (c) => this.kernelEntryCost(c),
      coreThread: (name, cpu) => this.coreThread(name, cpu),
    });
    this.faults.start();
    this.programs.start();
    this.core.eagerMapping = this.design.eagerMapping;
    this.core.onEvent((e) => {
      this.faults.onCoreEvent(e);
      this.localRm?.onCoreEvent(e);
    });
  }

  /** A kernel thread in core's protection domain on `cpu`, at core's priority. */
  coreThread(name: string, cpu: number): Thread {
    const t = this.corePd.addThread(-1 - this.nextCoreThread++, name, cpu);
    t.priority = PRIORITY.core;
    return t;
  }

  /** Adds a user thread of a session, pinned to a CPU, running accesses from `source`. */
  addThread(
    session: PdSession,
    name: string,
    cpu: number,
    source: AccessSource,
    priority: number = PRIORITY.user,
  ): SimThread {
    const k = unwrap(this.core.createThread(session, name, cpu));
    k.priority = priority;
    const t = new SimThread(k, source, this.page, this);
    // local-rm: the task's first thread brings its region mapper along.
    if (this.localRm && !this.faults.hasServer(session.pd))
      this.programs.addRegionMapper(session, cpu, PRIORITY.regionMapper);
    this.threads.push(t);
    this.faults.addFaulting(t);
    this.exec.admit(t);
    return t;
  }

  /**
   * Adds a handler thread (a dataspace manager) for the managed map `behaviour` pages, whose faults
   * are signalled to `ctx`; it works the way the design's fault handling asks for.
   */
  addHandler(
    session: PdSession,
    name: string,
    cpu: number,
    behaviour: DataspaceManager,
    ctx: SignalContext,
    priority: number = PRIORITY.handler,
  ): HandlerThread {
    return this.programs.addHandler(session, name, cpu, behaviour, ctx, priority);
  }

  /**
   * Adds the interrupt side: the devices of `setup`, a driver component whose handler threads
   * serve them (in `driver`'s PD, or a new one), and delivery as the design says. Call `start()`
   * on the result to begin arrivals.
   */
  addInterrupts(
    setup: Omit<IrqSetup, 'priority'> & { readonly priority?: number },
    driver?: PdSession,
  ): IrqPath {
    invariant(this.irq === null, 'the machine already has its interrupt side');
    const session = driver ?? unwrap(this.core.createPd('init -> drivers', { ram: 2 ** 30, caps: 100_000 }));
    this.irq = new IrqPath(
      {
        engine: this.engine,
        exec: this.exec,
        cpus: this.cpus,
        costs: this.costs,
        faults: this.faults,
        delivery: this.design.irqDelivery,
        walkCycles: this.access.walkCycles,
        drawing: this.drawing,
        kernelEntryCost: (c) => this.kernelEntryCost(c),
        driverThread: (name, cpu) => unwrap(this.core.createThread(session, name, cpu)),
        coreThread: (name, cpu) => this.coreThread(name, cpu),
        translate: (cpu, d: DriverTask, va, kind) => {
          const asid = d.kernel.pd.asid;
          cpu.asids.add(asid);
          return this.access.translate(cpu, d, asid, va, kind, 'data');
        },
      },
      { ...setup, priority: setup.priority ?? PRIORITY.driver },
    );
    return this.irq;
  }

  /**
   * Issue 16: the paging hooks of the one paged address space (accessed and dirty bits, LRU
   * touches), or null; see `sim/swap_system.ts`.
   */
  setPaging(hooks: PagingHooks | null): void {
    this.access.paging = hooks;
  }

  /** Makes a starved thread (whose pushed source got more input) runnable again. */
  kick(t: SimThread): void {
    if (!t.starved) return;
    t.starved = false;
    this.exec.wake(t);
  }

  /** Runs the engine until nothing is left to do (or `until`). */
  run(until = Number.POSITIVE_INFINITY): void {
    this.engine.run(until);
  }

  /** Simulated time: the latest point any CPU reached. */
  get elapsed(): number {
    let t = this.engine.now;
    for (const c of this.cpus) if (c.freeAt > t) t = c.freeAt;
    return t;
  }

  /** Machine-wide counters (the allocator locks' wait and steal counts included). */
  get counters(): Readonly<Totals & LockCounters> {
    return { ...this.faults.totals, ...this.programs.locks.counters };
  }

  // ---------------------------------------------------------------- traced threads

  sliceBegin(t: SimThread, cpu: Cpu, now: number): number {
    // A slice the source cut short (its batch ran out) goes on where it stopped.
    const slice = t.sliceLeft > 0 ? t.sliceLeft : this.sliceCycles;
    const budget = Math.min(slice, this.scheduler.quantum - this.scheduler.quantumUsed(t.kernel));
    const used = this.access.slice(cpu, t, budget > 0 ? budget : 1);
    t.sliceLeft = t.starved && !t.faulted && used < budget ? slice - used : 0;
    if (used > 0 || t.faulted) return used;
    this.settle(t, now);
    return -1;
  }

  sliceEnd(t: SimThread, cpu: Cpu, now: number): void {
    if (t.faulted) this.faults.pageFault(cpu, t, now);
    else this.settle(t, now);
  }

  /** A thread whose records ran out: finished, or starved until its source gets more. */
  private settle(t: SimThread, now: number): void {
    if (t.done) {
      t.finishedAt = now;
      this.exec.remove(t);
      this.drawing?.finished(now);
    } else if (t.starved) this.exec.block(t, 'waiting-disk');
  }

  // ---------------------------------------------------------------- kernel entry and switches

  /** Extra cost of one kernel entry and exit under the design (the trampoline switches twice). */
  kernelEntryCost(cpu: Cpu): number {
    if (this.design.kernelEntry === 'shared') return 0;
    cpu.asSwitches += 2;
    if (!this.design.asidTags) {
      cpu.flushTlb();
      return 2 * this.costs.asSwitch;
    }
    return 2 * this.costs.asSwitchPcid;
  }

  /** Switching `cpu` to `task`: an address-space switch when it lives in another PD. */
  private switchCost(cpu: Cpu, task: SimTask): number {
    const asid = task.kernel.pd.asid;
    if (cpu.loadedAsid === asid) return 0;
    cpu.asSwitches++;
    cpu.loadedAsid = asid;
    if (!this.design.asidTags) {
      cpu.flushTlb();
      return this.costs.asSwitch;
    }
    return this.costs.asSwitchPcid;
  }
}
