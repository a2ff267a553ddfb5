/**
 * The machine's fault path and its reactions to core's events: a page fault travels to a pager
 * entrypoint, core resolves or reflects it, the faulter is blocked and resumed by the reply or a
 * wake-up, signals go to handler threads, and revocations shoot down TLB entries.
 *
 * Apart from machine.ts because it runs per fault and per core operation, not per access: it
 * shares the machine's CPUs and handlers but none of the scheduling or translation state, and it
 * owns the "operation in progress" (time and CPU) that core's synchronous events are placed at.
 */
import type { Core } from '../core/core.js';
import type { AccessType, CoreEvent } from '../core/events.js';
import type { SignalContext } from '../core/signal.js';
import type { Thread } from '../kernel/thread.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import type { DesignOptions } from './designs.js';
import type { Handlers } from './handlers.js';
import type { FaultSketch, MachineTimeline } from './machine_timeline.js';
import type { Histogram } from './metrics.js';
import type { SimThread } from './sim_thread.js';
import type { Timeline, TrackHandle } from './timeline.js';

/** A pager entrypoint: a core thread that serializes the faults it handles. */
interface PagerEp {
  readonly cpu: number;
  freeAt: number;
  handled: number;
  track: TrackHandle;
}

/** Machine-wide counters. */
export interface Totals {
  faultsResolved: number;
  faultsReflected: number;
  errors: number;
  shootdowns: number;
  crossCpu: number;
  signals: number;
  /** Mappings installed eagerly at attach time (design option eagerMapping). */
  eagerMappings: number;
}

/** What the fault path needs from the machine. */
export interface FaultHost {
  readonly core: Core;
  readonly design: DesignOptions;
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly handlers: Handlers;
  readonly timeline: Timeline | null;
  readonly drawing: MachineTimeline | null;
  /** The simulated thread of each user thread (handler threads have none). */
  readonly simOf: ReadonlyMap<Thread, SimThread>;
  /** Where error texts go (the machine's `errors`). */
  readonly errors: string[];
  readonly faultLatency: Histogram;
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** Takes a thread off its CPU in a blocking state. */
  blockThread(t: SimThread, state: 'blocked-fault' | 'dead-fault'): void;
  /** Makes a blocked thread ready at time `at`. */
  readyAt(t: SimThread, at: number): void;
}

/** The fault path of a machine: pager entrypoints, signal delivery and core's events. */
export class FaultPath {
  readonly totals: Totals = {
    faultsResolved: 0,
    faultsReflected: 0,
    errors: 0,
    shootdowns: 0,
    crossCpu: 0,
    signals: 0,
    eagerMappings: 0,
  };
  /** The fault that ended the current CPU slice, drawn after the slice (the machine resets it). */
  lastFault: FaultSketch | null = null;
  private readonly pagers: PagerEp[] = [];
  /** Simulated time of the operation in progress (core events happen "now"). */
  private now = 0;
  /** CPU performing the operation in progress (the shootdown initiator). */
  private nowCpu = 0;
  private readonly pendingSignals: SignalContext[] = [];
  /** Cycles of eager mapping done by the core operation in progress. */
  private eagerCycles = 0;
  private readonly costs: CostModel;

  constructor(private readonly host: FaultHost) {
    this.costs = host.costs;
    const pagerCount = host.design.pagers === 'single' ? 1 : host.cpus.length;
    for (let i = 0; i < pagerCount; i++) {
      this.pagers.push({
        cpu: i,
        freeAt: 0,
        handled: 0,
        track: host.timeline?.namedTrack('core', `pager ep ${i}`) ?? 0,
      });
    }
  }

  /** Core's next operation happens at `time` on `cpu`; returns the eager-mapping cycles it caused. */
  perform(time: number, cpu: number, op: () => void): number {
    this.now = time;
    this.nowCpu = cpu;
    this.eagerCycles = 0;
    op();
    this.flushSignals(cpu);
    return this.eagerCycles;
  }

  /** Reports a failure (a handler's, or a fault nobody handles). */
  error(text: string): void {
    this.host.errors.push(text);
    this.totals.errors++;
  }

  /** A signal submitted by core; delivered when the operation that submitted it ends. */
  queueSignal(ctx: SignalContext): void {
    this.pendingSignals.push(ctx);
  }

  /** The kernel delivers a page fault to the thread's pager entrypoint. */
  pageFault(cpu: Cpu, t: SimThread, va: number, access: AccessType, at: number): void {
    const { costs, host } = this;
    const first = !t.retry;
    if (first) {
      t.retry = true;
      t.faultStart = at;
      t.faults++;
    }
    const entry = costs.exceptionEntryExit + host.kernelEntryCost(cpu);
    cpu.kernelCycles += entry;
    const ep = this.pagers[host.design.pagers === 'single' ? 0 : cpu.id]!;
    let arrival = at + entry / 2 + costs.ipcRoundTrip / 2;
    if (ep.cpu !== cpu.id) arrival += this.crossCpu();
    const start = Math.max(arrival, ep.freeAt);
    this.now = start;
    this.nowCpu = ep.cpu;
    const out = host.core.pageFault(t.kernel, va, access);
    const res = out.resolution;
    const work = costs.pagerLookup * res.depth + (out.kind === 'mapped' ? costs.mapInstall : 0);
    const end = start + work;
    ep.freeAt = end;
    ep.handled++;
    const pcpu = host.cpus[ep.cpu]!;
    pcpu.pagerCycles += work;
    pcpu.freeAt = Math.max(pcpu.freeAt, end);
    // The faulting CPU is busy until its IPC left (per-CPU pagers: until the pager is done).
    cpu.freeAt = Math.max(cpu.freeAt, ep.cpu === cpu.id ? end : at + entry / 2);
    this.now = end;
    let resume: number | undefined;
    if (out.kind === 'reflected' && out.map.faultHandler)
      host.handlers.of(out.map.faultHandler)?.faulters.push(t);
    if (out.kind === 'mapped') {
      this.totals.faultsResolved++;
      resume = end + costs.ipcRoundTrip / 2;
      if (ep.cpu !== cpu.id) resume += this.crossCpu();
      host.faultLatency.record(resume - t.faultStart);
      // Blocked until the pager's reply arrives.
      host.blockThread(t, 'blocked-fault');
      host.readyAt(t, resume);
    } else if (out.kind === 'reflected') {
      this.totals.faultsReflected++;
      host.blockThread(t, 'blocked-fault');
    } else {
      this.error(out.text);
      t.die(va, access, out.text);
      host.blockThread(t, 'dead-fault');
    }
    this.lastFault = {
      at,
      entry,
      pagerTrack: ep.track,
      start,
      end,
      kind: out.kind,
      first,
      resume,
      pagerCpu: ep.cpu,
    };
    this.flushSignals(ep.cpu);
  }

  /** A message to another CPU: an IPI. Counted, and its latency returned. */
  crossCpu(): number {
    this.totals.crossCpu++;
    return this.costs.ipi;
  }

  /** Core's reaction to an operation, placed at the operation in progress. */
  onCoreEvent(e: CoreEvent): void {
    if (e.type === 'wakeup') {
      const t = this.host.simOf.get(e.thread);
      if (!t) return;
      let at = this.now;
      if (t.kernel.cpu !== this.nowCpu) at += this.crossCpu();
      this.host.drawing?.woken(t, at);
      // Core marked it ready; it runs once the wake-up reaches its CPU.
      this.host.blockThread(t, 'blocked-fault');
      this.host.readyAt(t, at);
    } else if (e.type === 'revoke') {
      this.shootdown(e.pd.asid, e.va, e.size);
    } else if (e.type === 'eager') {
      // Installing the mappings is work of whoever attached (charged to the step in progress).
      this.eagerCycles += e.mappings.length * this.costs.mapInstall;
      this.totals.eagerMappings += e.mappings.length;
    }
  }

  /** Signals submitted during the last core operation, delivered from `fromCpu` at `this.now`. */
  private flushSignals(fromCpu: number): void {
    while (this.pendingSignals.length > 0) {
      this.totals.signals++;
      this.host.handlers.signalled(this.pendingSignals.shift()!, fromCpu, this.now);
    }
  }

  /** Removes a range from every CPU's TLB that may hold it; remote CPUs get an IPI each. */
  private shootdown(asid: number, va: number, size: number): void {
    const tl = this.host.timeline;
    for (const cpu of this.host.cpus) {
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
      tl?.instant(tl.cpuTrack(cpu.id), 'TLB shootdown', 'tlb', this.now, 'g');
    }
  }
}
