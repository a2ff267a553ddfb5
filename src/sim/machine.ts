/**
 * The simulated machine: CPUs with TLBs running user threads' accesses, the kernel's fault path
 * to core's pager entrypoints, reflected faults delivered as signals to handler threads, their
 * attaches waking faulters, and revocations shooting down TLB entries on every CPU. Time is in
 * virtual cycles from the cost model; everything is deterministic.
 *
 * CPUs run user code in slices of `sliceCycles` between engine events, so interactions across
 * CPUs take effect at slice boundaries. Core's pager, handlers and shootdowns preempt: they start
 * when their message arrives and push the CPU's next user slice back by their work.
 *
 * This file holds the scheduling and the per-access path; the fault path and core's events are in
 * machine_faults.ts.
 */
import type { OnDemandHandler } from '../components/on_demand_handler.js';
import { Core } from '../core/core.js';
import type { AccessType } from '../core/events.js';
import type { PdSession } from '../core/pd_session.js';
import type { SignalContext } from '../core/signal.js';
import { type Arch, type ArchName, arch as archOf, type TlbLevelSpec } from '../hw/arch.js';
import type { RamRange } from '../hw/phys_mem.js';
import { Scheduler } from '../kernel/scheduler.js';
import type { Thread } from '../kernel/thread.js';
import { unwrap } from '../util/result.js';
import { type CostModel, DEFAULT_COSTS } from './cost.js';
import { Cpu } from './cpu.js';
import { type DesignOptions, designOptions } from './designs.js';
import { EventEngine } from './engine.js';
import { type HandlerCounters, Handlers } from './handlers.js';
import { FaultPath, type Totals } from './machine_faults.js';
import { MachineTimeline } from './machine_timeline.js';
import { Metrics } from './metrics.js';
import { type AccessSource, SimThread } from './sim_thread.js';
import type { Timeline } from './timeline.js';
import { INSTR, LOAD } from './trace_batch.js';

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
  /** User cycles a CPU runs between engine events (default 20,000). */
  readonly sliceCycles?: number;
  /** Scheduler quantum and timer period in cycles (default 10 ms at 3 GHz). */
  readonly quantum?: number;
}

/** The simulated machine. */
export class Machine {
  readonly engine = new EventEngine();
  /** The kernel's per-CPU scheduler (priorities, round robin, quantum) for user threads. */
  readonly scheduler: Scheduler;
  readonly core: Core;
  readonly arch: Arch;
  readonly design: DesignOptions;
  readonly costs: CostModel;
  readonly cpus: Cpu[];
  readonly threads: SimThread[] = [];
  readonly handlers: Handlers;
  readonly errors: string[] = [];
  readonly faultLatency = new Metrics().histogram('faults.latency');
  private readonly simOf = new Map<Thread, SimThread>();
  private readonly sliceCycles: number;
  private readonly quantum: number;
  private readonly page: number;
  private readonly walkCycles: number;
  private readonly timeline: Timeline | null;
  private readonly drawing: MachineTimeline | null;
  /** Pager entrypoints, signal delivery, core's events and the machine-wide counters. */
  private readonly faults: FaultPath;

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
    this.page = 2 ** sizes[0]!;
    this.walkCycles = this.arch.walkLevels * this.costs.pageWalkStep + this.costs.tlbFill;
    this.sliceCycles = config.sliceCycles ?? 20_000;
    this.quantum = config.quantum ?? 30_000_000;
    this.timeline = config.timeline ?? null;
    this.drawing = this.timeline ? new MachineTimeline(this.timeline) : null;
    this.cpus = Array.from({ length: n }, (_, i) => new Cpu(i, config.tlb ?? this.arch.tlb));
    this.scheduler = new Scheduler(n, { quantum: this.quantum });
    // The handlers reach the fault path only when they run, after it exists; building it second
    // keeps the timeline's tracks in their order (the handlers create none).
    this.handlers = new Handlers(
      {
        engine: this.engine,
        core: this.core,
        costs: this.costs,
        cpus: this.cpus,
        drawing: this.drawing,
        kernelEntryCost: (c) => this.kernelEntryCost(c),
        crossCpu: () => this.faults.crossCpu(),
        perform: (time, cpu, op) => this.faults.perform(time, cpu, op),
        error: (text) => this.faults.error(text),
      },
      this.design.allocator === 'partitioned' ? n : 1,
    );
    this.faults = new FaultPath({
      core: this.core,
      design: this.design,
      costs: this.costs,
      cpus: this.cpus,
      handlers: this.handlers,
      timeline: this.timeline,
      drawing: this.drawing,
      simOf: this.simOf,
      errors: this.errors,
      faultLatency: this.faultLatency,
      kernelEntryCost: (c) => this.kernelEntryCost(c),
      blockThread: (t, state) => this.blockThread(t, state),
      readyAt: (t, at) => this.readyAt(t, at),
    });
    this.core.eagerMapping = this.design.eagerMapping;
    this.core.onEvent((e) => this.faults.onCoreEvent(e));
  }

  /** Adds a user thread of a session, pinned to a CPU, running accesses from `source`. */
  addThread(session: PdSession, name: string, cpu: number, source: AccessSource, priority = 0): SimThread {
    const k = unwrap(this.core.createThread(session, name, cpu));
    k.priority = priority;
    const t = new SimThread(k, source, this.page);
    this.threads.push(t);
    this.simOf.set(k, t);
    unwrap(this.scheduler.admit(k));
    this.kickCpu(this.cpus[cpu]!, 0);
    return t;
  }

  /** Adds a handler thread that runs `behaviour` whenever `ctx` is signalled. */
  addHandler(
    session: PdSession,
    name: string,
    cpu: number,
    behaviour: OnDemandHandler,
    ctx: SignalContext,
  ): void {
    const k = unwrap(this.core.createThread(session, name, cpu));
    const track = this.timeline?.threadTrack(session.pd.id, session.label, k.id, name) ?? 0;
    this.handlers.add(k, cpu, behaviour, ctx, track);
    ctx.listen((c) => this.faults.queueSignal(c));
  }

  /** Makes a starved thread (whose pushed source got more input) runnable again. */
  kick(t: SimThread): void {
    if (!t.starved) return;
    t.starved = false;
    this.readyAt(t, this.engine.now);
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

  /** Machine-wide counters (the handlers' lock and steal counts included). */
  get counters(): Readonly<Totals & HandlerCounters> {
    return { ...this.faults.totals, ...this.handlers.counters };
  }

  // ---------------------------------------------------------------- scheduling

  /** Takes a thread off its CPU in a blocking state (the kernel's scheduler decides the rest). */
  private blockThread(t: SimThread, state: 'blocked-fault' | 'waiting-disk' | 'dead-fault'): void {
    unwrap(this.scheduler.block(t.kernel, state));
  }

  /** Makes a blocked thread ready at time `at` (a reply or wake-up arriving then). */
  private readyAt(t: SimThread, at: number): void {
    this.engine.at(Math.max(at, this.engine.now), () => {
      const k = t.kernel;
      if (k.state === 'destroyed' || k.state === 'dead-fault' || t.done) return;
      k.state = 'ready';
      unwrap(this.scheduler.unblock(k));
      this.kickCpu(this.cpus[k.cpu]!, this.engine.now);
    });
  }

  private kickCpu(cpu: Cpu, at: number): void {
    if (cpu.scheduled) return;
    cpu.scheduled = true;
    this.engine.at(Math.max(at, cpu.freeAt, this.engine.now), () => this.runCpu(cpu));
  }

  /** One slice of a CPU: run the head of its run queue until the slice ends or it blocks. */
  private runCpu(cpu: Cpu): void {
    cpu.scheduled = false;
    const now = this.engine.now;
    if (cpu.freeAt > now) {
      this.kickCpu(cpu, cpu.freeAt);
      return;
    }
    const k = this.scheduler.pick(cpu.id);
    if (!k) return;
    const t = this.simOf.get(k)!;
    let time = now;
    if (cpu.current !== t) {
      cpu.contextSwitches++;
      cpu.current = t;
      if (cpu.loadedAsid !== k.pd.asid) time += this.switchAddressSpace(cpu, k.pd.asid);
    }
    const budget = Math.min(this.sliceCycles, this.quantum - this.scheduler.quantumUsed(k));
    this.faults.lastFault = null;
    cpu.sliceStart = time;
    const used = this.runUser(cpu, t, time, budget > 0 ? budget : 1);
    cpu.userCycles += used;
    let end = time + used;
    // A thread that blocked in the slice was charged when it blocked; one still running is
    // charged now, and the timer ends its quantum if it is used up (the scheduler rotates).
    if (this.scheduler.current(cpu.id) === k && this.scheduler.charge(cpu.id, used)) end += this.tick(cpu);
    if (t.done) {
      t.finishedAt = time + used;
      unwrap(this.scheduler.remove(k));
    } else if (t.starved) this.blockThread(t, 'waiting-disk');
    cpu.freeAt = Math.max(cpu.freeAt, end);
    this.drawing?.slice(cpu, t, time, time + used, this.faults.lastFault);
    if (this.scheduler.needsReschedule(cpu.id) || this.scheduler.current(cpu.id))
      this.kickCpu(cpu, cpu.freeAt);
  }

  /** Timer tick at the end of a quantum: kernel entry and exit. Returns cycles spent. */
  private tick(cpu: Cpu): number {
    cpu.ticks++;
    const c = this.costs.irqEntry + this.costs.irqAck + this.kernelEntryCost(cpu);
    cpu.kernelCycles += c;
    return c;
  }

  /** Extra cost of one kernel entry and exit under the design (the trampoline switches twice). */
  private kernelEntryCost(cpu: Cpu): number {
    if (this.design.kernelEntry === 'shared') return 0;
    cpu.asSwitches += 2;
    if (!this.design.asidTags) {
      cpu.flushTlb();
      return 2 * this.costs.asSwitch;
    }
    return 2 * this.costs.asSwitchPcid;
  }

  private switchAddressSpace(cpu: Cpu, asid: number): number {
    cpu.asSwitches++;
    cpu.loadedAsid = asid;
    if (!this.design.asidTags) {
      cpu.flushTlb();
      return this.costs.asSwitch;
    }
    return this.costs.asSwitchPcid;
  }

  // ---------------------------------------------------------------- the access path

  /**
   * Runs thread t's accesses on cpu from `start` for up to `budget` cycles. Returns the cycles
   * used; stops early when the thread faults (blocking it), runs dry or finishes.
   */
  private runUser(cpu: Cpu, t: SimThread, start: number, budget: number): number {
    const tlb = cpu.tlb;
    const asid = t.kernel.pd.asid;
    const page = this.page;
    const invPage = 1 / page;
    const access = this.costs.accessCycles;
    const pages = t.pages;
    let batch = t.batch;
    cpu.asids.add(asid);
    let used = 0;
    let pos = t.pos;
    let len = t.len;
    let records = 0;
    while (used < budget) {
      if (pos >= len) {
        t.pos = pos;
        if (!t.refill()) break;
        batch = t.batch;
        pos = t.pos;
        len = t.len;
      }
      // Fast path: a run of TLB hits, each costing the access itself (plus an STLB hit when a
      // level after the first served it).
      if (!t.secondHalf && !t.retry) {
        const stop = tlb.hitRun(
          asid,
          batch.kind,
          batch.addr,
          batch.size,
          pos,
          len,
          page,
          pages,
          access,
          this.costs.stlbHit,
          budget - used,
        );
        const n = stop - pos;
        if (n > 0) {
          t.translations += n;
          t.tlbHits += n;
          records += n;
          used += tlb.runCycles;
          pos = stop;
          continue;
        }
      }
      // Slow path: one record through the full lookup, a walk or the fault path.
      const k = batch.kind[pos]!;
      const va = batch.addr[pos]!;
      // Offset in the page by multiply and floor: % on doubles is an fmod call in V8.
      const off = va - Math.floor(va * invPage) * page;
      t.pos = pos;
      const kind: AccessType = k === INSTR ? 'exec' : k === LOAD ? 'read' : 'write';
      const tlbKind = k === INSTR ? 'instruction' : 'data';
      if (!t.secondHalf) {
        const c = this.translate(cpu, t, tlb, asid, va, kind, tlbKind, start + used);
        if (c < 0) {
          t.records += records;
          return used + this.walkCycles;
        }
        used += c;
        pages.add(va);
      }
      if (off + batch.size[pos]! > page) {
        // The access crosses into the next page: a second translation.
        t.secondHalf = true;
        const va2 = va - off + page;
        const c = this.translate(cpu, t, tlb, asid, va2, kind, tlbKind, start + used);
        if (c < 0) {
          t.records += records;
          return used + this.walkCycles;
        }
        used += c;
        pages.add(va2);
        t.secondHalf = false;
      }
      used += access;
      records++;
      pos++;
    }
    t.records += records;
    t.pos = pos;
    return used;
  }

  /** One translation. Returns its extra cycles, or -1 when it faulted (the fault path is under way). */
  private translate(
    cpu: Cpu,
    t: SimThread,
    tlb: Cpu['tlb'],
    asid: number,
    va: number,
    kind: AccessType,
    tlbKind: 'instruction' | 'data',
    at: number,
  ): number {
    const counted = !t.retry;
    if (counted) t.translations++;
    const lvl = tlb.lookup(asid, va, tlbKind);
    if (lvl >= 0 && (kind !== 'write' || tlb.lastWriteable) && (kind !== 'exec' || tlb.lastExecutable)) {
      if (counted) t.tlbHits++;
      t.retry = false;
      // A hit in the first stage of the path (the L1 arrays) is part of the access; deeper ones cost an STLB hit.
      return tlb.inFirstStage(tlbKind, lvl) ? 0 : this.costs.stlbHit;
    }
    if (counted) {
      t.tlbMisses++;
      t.noteMiss(va);
    }
    t.walks++;
    const m = t.kernel.pd.pageTable.lookup(va);
    if (m && (kind !== 'write' || m.writeable) && (kind !== 'exec' || m.executable)) {
      tlb.fill(asid, va, tlbKind, m);
      t.retry = false;
      return this.walkCycles;
    }
    // The thread's run time so far counts against its quantum before it blocks.
    if (this.scheduler.current(cpu.id) === t.kernel) this.scheduler.charge(cpu.id, at - cpu.sliceStart);
    t.noteFault(va);
    this.faults.pageFault(cpu, t, va, kind, at + this.walkCycles);
    return -1;
  }
}
