/**
 * The simulated machine: CPUs with TLBs running user threads' accesses, the kernel's fault path
 * to core's pager entrypoints, reflected faults delivered as signals to handler threads, their
 * attaches waking faulters, and revocations shooting down TLB entries on every CPU. Time is in
 * virtual cycles from the cost model; everything is deterministic.
 *
 * CPUs run user code in slices of `sliceCycles` between engine events, so interactions across
 * CPUs take effect at slice boundaries. Core's pager, handlers and shootdowns preempt: they start
 * when their message arrives and push the CPU's next user slice back by their work.
 */
import type { OnDemandHandler } from '../components/on_demand_handler.js';
import { Core } from '../core/core.js';
import type { AccessType, CoreEvent } from '../core/events.js';
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
import { type FaultSketch, MachineTimeline } from './machine_timeline.js';
import { Metrics } from './metrics.js';
import { type AccessSource, SimThread } from './sim_thread.js';
import type { Timeline, TrackHandle } from './timeline.js';
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

/** A pager entrypoint: a core thread that serializes the faults it handles. */
interface PagerEp {
  readonly cpu: number;
  freeAt: number;
  handled: number;
  track: TrackHandle;
}

/** Machine-wide counters. */
interface Totals {
  faultsResolved: number;
  faultsReflected: number;
  errors: number;
  shootdowns: number;
  crossCpu: number;
  signals: number;
  /** Mappings installed eagerly at attach time (design option eagerMapping). */
  eagerMappings: number;
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
  private readonly pagers: PagerEp[] = [];
  private readonly simOf = new Map<Thread, SimThread>();
  private readonly sliceCycles: number;
  private readonly quantum: number;
  private readonly page: number;
  private readonly walkCycles: number;
  private readonly timeline: Timeline | null;
  private readonly totals: Totals = {
    faultsResolved: 0,
    faultsReflected: 0,
    errors: 0,
    shootdowns: 0,
    crossCpu: 0,
    signals: 0,
    eagerMappings: 0,
  };
  /** Allocator lock(s): time each becomes free. */
  /** Simulated time of the operation in progress (core events happen "now"). */
  private now = 0;
  /** CPU performing the operation in progress (the shootdown initiator). */
  private nowCpu = 0;
  private readonly pendingSignals: SignalContext[] = [];
  /** Cycles of eager mapping done by the core operation in progress. */
  private eagerCycles = 0;
  /** The fault that ended the current CPU slice, drawn after the slice. */
  private lastFault: FaultSketch | null = null;
  private readonly drawing: MachineTimeline | null;

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
    const pagerCount = this.design.pagers === 'single' ? 1 : n;
    for (let i = 0; i < pagerCount; i++) {
      this.pagers.push({
        cpu: i,
        freeAt: 0,
        handled: 0,
        track: this.timeline?.namedTrack('core', `pager ep ${i}`) ?? 0,
      });
    }
    this.handlers = new Handlers(
      {
        engine: this.engine,
        core: this.core,
        costs: this.costs,
        cpus: this.cpus,
        drawing: this.drawing,
        kernelEntryCost: (c) => this.kernelEntryCost(c),
        crossCpu: () => this.crossCpu(),
        perform: (time, cpu, op) => {
          this.now = time;
          this.nowCpu = cpu;
          this.eagerCycles = 0;
          op();
          this.flushSignals(cpu);
          return this.eagerCycles;
        },
        error: (text) => {
          this.errors.push(text);
          this.totals.errors++;
        },
      },
      this.design.allocator === 'partitioned' ? n : 1,
    );
    this.core.eagerMapping = this.design.eagerMapping;
    this.core.onEvent((e) => this.onCoreEvent(e));
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
    ctx.listen((c) => this.pendingSignals.push(c));
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
    return { ...this.totals, ...this.handlers.counters };
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
    this.lastFault = null;
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
    this.drawing?.slice(cpu, t, time, time + used, this.lastFault);
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
    if (counted) t.tlbMisses++;
    t.walks++;
    const m = t.kernel.pd.pageTable.lookup(va);
    if (m && (kind !== 'write' || m.writeable) && (kind !== 'exec' || m.executable)) {
      tlb.fill(asid, va, tlbKind, m);
      t.retry = false;
      return this.walkCycles;
    }
    // The thread's run time so far counts against its quantum before it blocks.
    if (this.scheduler.current(cpu.id) === t.kernel) this.scheduler.charge(cpu.id, at - cpu.sliceStart);
    this.pageFault(cpu, t, va, kind, at + this.walkCycles);
    return -1;
  }

  // ---------------------------------------------------------------- the fault path

  /** The kernel delivers a page fault to the thread's pager entrypoint. */
  private pageFault(cpu: Cpu, t: SimThread, va: number, access: AccessType, at: number): void {
    const first = !t.retry;
    if (first) {
      t.retry = true;
      t.faultStart = at;
      t.faults++;
    }
    const entry = this.costs.exceptionEntryExit + this.kernelEntryCost(cpu);
    cpu.kernelCycles += entry;
    const ep = this.pagers[this.design.pagers === 'single' ? 0 : cpu.id]!;
    let arrival = at + entry / 2 + this.costs.ipcRoundTrip / 2;
    if (ep.cpu !== cpu.id) arrival += this.crossCpu();
    const start = Math.max(arrival, ep.freeAt);
    this.now = start;
    this.nowCpu = ep.cpu;
    const out = this.core.pageFault(t.kernel, va, access);
    const res = out.resolution;
    const work = this.costs.pagerLookup * res.depth + (out.kind === 'mapped' ? this.costs.mapInstall : 0);
    const end = start + work;
    ep.freeAt = end;
    ep.handled++;
    const pcpu = this.cpus[ep.cpu]!;
    pcpu.pagerCycles += work;
    pcpu.freeAt = Math.max(pcpu.freeAt, end);
    // The faulting CPU is busy until its IPC left (per-CPU pagers: until the pager is done).
    cpu.freeAt = Math.max(cpu.freeAt, ep.cpu === cpu.id ? end : at + entry / 2);
    this.now = end;
    let resume: number | undefined;
    if (out.kind === 'reflected' && out.map.faultHandler)
      this.handlers.of(out.map.faultHandler)?.faulters.push(t);
    if (out.kind === 'mapped') {
      this.totals.faultsResolved++;
      resume = end + this.costs.ipcRoundTrip / 2;
      if (ep.cpu !== cpu.id) resume += this.crossCpu();
      this.faultLatency.record(resume - t.faultStart);
      // Blocked until the pager's reply arrives.
      this.blockThread(t, 'blocked-fault');
      this.readyAt(t, resume);
    } else if (out.kind === 'reflected') {
      this.totals.faultsReflected++;
      this.blockThread(t, 'blocked-fault');
    } else {
      this.totals.errors++;
      this.errors.push(out.text);
      this.blockThread(t, 'dead-fault');
    }
    this.lastFault = { at, entry, pagerTrack: ep.track, start, end, kind: out.kind, first, resume };
    this.flushSignals(ep.cpu);
  }

  /** A message to another CPU: an IPI. Counted, and its latency returned. */
  private crossCpu(): number {
    this.totals.crossCpu++;
    return this.costs.ipi;
  }

  /** Signals submitted during the last core operation, delivered from `fromCpu` at `this.now`. */
  private flushSignals(fromCpu: number): void {
    while (this.pendingSignals.length > 0) {
      this.totals.signals++;
      this.handlers.signalled(this.pendingSignals.shift()!, fromCpu, this.now);
    }
  }

  // ---------------------------------------------------------------- core's events

  private onCoreEvent(e: CoreEvent): void {
    if (e.type === 'wakeup') {
      const t = this.simOf.get(e.thread);
      if (!t) return;
      let at = this.now;
      if (t.kernel.cpu !== this.nowCpu) at += this.crossCpu();
      this.drawing?.woken(t, at);
      // Core marked it ready; it runs once the wake-up reaches its CPU.
      this.blockThread(t, 'blocked-fault');
      this.readyAt(t, at);
    } else if (e.type === 'revoke') {
      this.shootdown(e.pd.asid, e.va, e.size);
    } else if (e.type === 'eager') {
      // Installing the mappings is work of whoever attached (charged to the step in progress).
      this.eagerCycles += e.mappings.length * this.costs.mapInstall;
      this.totals.eagerMappings += e.mappings.length;
    }
  }

  /** Removes a range from every CPU's TLB that may hold it; remote CPUs get an IPI each. */
  private shootdown(asid: number, va: number, size: number): void {
    for (const cpu of this.cpus) {
      if (!cpu.asids.has(asid)) continue;
      cpu.tlb.flushRange(asid, va, size);
      if (cpu.id === this.nowCpu) {
        this.now += this.costs.invlpg;
        continue;
      }
      this.totals.shootdowns++;
      this.totals.crossCpu++;
      cpu.shootdownsReceived++;
      cpu.freeAt = Math.max(cpu.freeAt, this.now) + this.costs.tlbShootdown;
      this.now += this.costs.tlbShootdown;
      this.timeline?.instant(this.timeline.cpuTrack(cpu.id), 'TLB shootdown', 'tlb', this.now, 'g');
    }
  }
}
