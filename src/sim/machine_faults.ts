/**
 * The machine's fault path and its reactions to core's events.
 *
 * A page fault is an exception on the faulting CPU (a kernel job: entry plus the fault message's
 * send), a message to a pager entrypoint (an IPI when the pager lives on another CPU), a step of
 * the pager thread (core's lookup and the mapping's installation, or the reflection), and a reply
 * that makes the faulter ready (another IPI across CPUs). Pager entrypoints are core threads at
 * the highest priority, so the fault waits behind whatever the pager's CPU runs at kernel level
 * (interrupts) and behind the faults queued before it, and nothing else.
 *
 * Core's events during an operation (wake-ups, revocations, eager mappings, signals) happen at the
 * simulated time and CPU of the step that performed it (`perform`).
 *
 * Apart from machine.ts because it runs per fault and per core operation, not per access.
 */
import type { Core } from '../core/core.js';
import type { AccessType, CoreEvent } from '../core/events.js';
import type { SignalContext } from '../core/signal.js';
import type { Thread } from '../kernel/thread.js';
import type { Translator } from './access_path.js';
import type { CostModel } from './cost.js';
import type { Cpu, SimTask } from './cpu.js';
import type { DesignOptions } from './designs.js';
import type { Executor } from './executor.js';
import type { Handlers } from './handlers.js';
import type { MachineTimeline } from './machine_timeline.js';
import type { Histogram } from './metrics.js';
import { PagerEntrypoint } from './pager_entrypoint.js';
import type { Timeline } from './timeline.js';

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

/** A task that can take page faults: it translates addresses and blocks while its fault is served. */
export interface FaultingTask extends SimTask, Translator {
  /** Time the current fault began (for latency). */
  faultStart: number;
  /** Faults taken (a retry after a wake-up is not a new one). */
  faults: number;
  /** The current fault was reflected to a handler (its latency includes the handler's work). */
  reflected: boolean;
  /** The fault on `va` killed the task (core's error text): it runs no more. */
  die(va: number, access: AccessType, error: string): void;
}

/** What the fault path needs from the machine. */
export interface FaultHost {
  readonly core: Core;
  readonly design: DesignOptions;
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly exec: Executor;
  readonly handlers: Handlers;
  readonly timeline: Timeline | null;
  readonly drawing: MachineTimeline | null;
  /** Where error texts go (the machine's `errors`). */
  readonly errors: string[];
  readonly faultLatency: Histogram;
  /** Latency of faults core resolved at once, and of faults reflected to a handler first. */
  readonly faultLatencyByKind: { readonly resolved: Histogram; readonly reflected: Histogram };
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** A kernel thread for core (pager entrypoints) on `cpu`. */
  coreThread(name: string, cpu: number): Thread;
}

/** The fault path of a machine: pager entrypoints, replies, wake-ups and core's events. */
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
  readonly pagers: PagerEntrypoint[] = [];
  /**
   * Issue 16 hooks (`sim/swap_system.ts`): a fault the kernel pages itself (Brendan's design) is
   * taken by `divert` instead of going to a pager (it returns true); `onReplied` sees each fault's
   * latency as it is recorded.
   */
  divert: ((cpu: Cpu, t: FaultingTask, now: number) => boolean) | null = null;
  onReplied: ((t: FaultingTask, latency: number) => void) | null = null;
  /** Simulated time and CPU of the operation in progress (core events happen "now", there). */
  private now = 0;
  private nowCpu = 0;
  private readonly pendingSignals: SignalContext[] = [];
  /** Cycles the core operation in progress caused beyond its own (eager mappings, shootdown waits). */
  private debt = 0;
  private readonly costs: CostModel;
  private readonly faulting = new Map<Thread, FaultingTask>();
  // Kernel jobs.
  private readonly jEntry: number;
  private readonly jToPager: number;
  private readonly jReply: number;
  private readonly jWakeup: number;
  private readonly jShootdown: number;

  constructor(private readonly host: FaultHost) {
    this.costs = host.costs;
    const exec = host.exec;
    const pagerCount = host.design.pagers === 'single' ? 1 : host.cpus.length;
    for (let i = 0; i < pagerCount; i++) {
      const ep = new PagerEntrypoint(host.coreThread(`pager ep ${i}`, i), this);
      this.pagers.push(ep);
    }
    this.jEntry = exec.defineJob((cpu, arg, now) => this.sendToPager(cpu, arg, now), 'page-fault entry');
    this.jToPager = exec.defineJob(
      (_cpu, arg) => (exec.taskAtIndex(arg) as PagerEntrypoint).arrived(),
      'IPI: fault to pager',
    );
    this.jReply = exec.defineJob((_cpu, arg, now) => this.replied(arg, now), 'pager reply');
    this.jWakeup = exec.defineJob((_cpu, arg) => this.exec.wake(this.taskAt(arg)), 'IPI: wake-up');
    this.jShootdown = exec.defineJob((cpu) => {
      cpu.shootdownsReceived++;
    }, 'IPI: TLB shootdown');
  }

  private get exec(): Executor {
    return this.host.exec;
  }

  /** Registers the pager threads (after the executor exists; they wait for faults). */
  start(): void {
    for (const ep of this.pagers) {
      ep.kernel.state = 'in-ipc';
      this.exec.admit(ep);
    }
  }

  /** Registers a task that can fault. */
  addFaulting(task: FaultingTask): void {
    this.faulting.set(task.kernel, task);
  }

  /** Core's next operation happens at `time` on `cpu`; returns the extra cycles it caused. */
  perform(time: number, cpu: number, op: () => void): number {
    this.now = time;
    this.nowCpu = cpu;
    this.debt = 0;
    op();
    this.flushSignals(cpu);
    return this.debt;
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

  /** A message to another CPU: an IPI. Counted, and its latency returned. */
  crossCpu(): number {
    this.totals.crossCpu++;
    return this.costs.ipi;
  }

  /**
   * Task t's translation on `cpu` faulted at `now` (its step ended there): it blocks and the
   * kernel takes the exception and sends the fault to its pager.
   */
  pageFault(cpu: Cpu, t: FaultingTask, now: number): void {
    if (this.divert?.(cpu, t, now)) return;
    const first = !t.retry;
    if (first) {
      t.retry = true;
      t.faultStart = now;
      t.faults++;
      t.reflected = false;
    }
    this.exec.block(t, 'blocked-fault');
    const entry =
      this.costs.exceptionEntryExit / 2 + this.host.kernelEntryCost(cpu) + this.costs.ipcRoundTrip / 2;
    this.exec.kernel(cpu, this.jEntry, t.index, entry);
    this.host.drawing?.faulted(t, now, first);
  }

  /** A pager with nothing to serve waits for the next fault message. */
  blockPager(ep: PagerEntrypoint): void {
    this.exec.block(ep, 'in-ipc');
  }

  /** A fault message reached a waiting pager. */
  wakePager(ep: PagerEntrypoint): void {
    this.exec.wake(ep);
  }

  /** The pager entrypoint serving faults from `cpu`. */
  pagerFor(cpu: number): PagerEntrypoint {
    return this.pagers[this.host.design.pagers === 'single' ? 0 : cpu]!;
  }

  /** The exception entry is done: the fault message goes to the pager (an IPI if it is remote). */
  private sendToPager(cpu: Cpu, index: number, now: number): void {
    const t = this.taskAt(index);
    this.host.drawing?.entered(t, cpu.id, cpu.runStart, now);
    const ep = this.pagerFor(cpu.id);
    ep.queue.push(t);
    if (ep.kernel.cpu === cpu.id) ep.arrived();
    else this.exec.kernel(this.host.cpus[ep.kernel.cpu]!, this.jToPager, ep.index, this.crossCpu());
  }

  /** What a pager's next fault costs: core's lookup at every level walked, plus the mapping and the reply. */
  serveCost(t: FaultingTask): number {
    const res = this.host.core.resolve(t.kernel, t.faultVa, t.faultKind as AccessType, false);
    const c = this.costs;
    return c.pagerLookup * res.depth + (res.kind === 'mapped' ? c.mapInstall + c.ipcRoundTrip / 2 : 0);
  }

  /** Pager entrypoint `ep` resolves t's fault at `now` (the end of its step). */
  serve(ep: PagerEntrypoint, t: FaultingTask, now: number, cpu: Cpu): void {
    const host = this.host;
    this.now = now;
    this.nowCpu = cpu.id;
    this.debt = 0;
    const out = host.core.pageFault(t.kernel, t.faultVa, t.faultKind);
    ep.handled++;
    host.drawing?.served(t, ep, cpu.runStart, now, out.kind);
    if (out.kind === 'mapped') {
      this.totals.faultsResolved++;
      // Core marked it ready; it runs once the reply reaches its CPU.
      this.exec.block(t, 'blocked-fault');
      const home = host.cpus[t.kernel.cpu]!;
      const cost = this.costs.exceptionEntryExit / 2 + (home.id === cpu.id ? 0 : this.crossCpu());
      this.exec.kernel(home, this.jReply, t.index, cost);
    } else if (out.kind === 'reflected') {
      this.totals.faultsReflected++;
      t.reflected = true;
      if (out.map.faultHandler) host.handlers.of(out.map.faultHandler)?.faulters.push(t);
    } else {
      this.error(out.text);
      t.die(t.faultVa, t.faultKind, out.text);
      this.exec.block(t, 'dead-fault');
    }
    this.flushSignals(cpu.id);
  }

  /** The pager's reply reached the faulter's CPU: it returns to user mode. */
  private replied(index: number, now: number): void {
    const t = this.taskAt(index);
    const latency = now - t.faultStart;
    this.host.faultLatency.record(latency);
    (t.reflected ? this.host.faultLatencyByKind.reflected : this.host.faultLatencyByKind.resolved).record(
      latency,
    );
    this.onReplied?.(t, latency);
    this.exec.wake(t);
  }

  private taskAt(index: number): FaultingTask {
    return this.exec.taskAtIndex(index) as FaultingTask;
  }

  /** Core's reaction to an operation, placed at the operation in progress. */
  onCoreEvent(e: CoreEvent): void {
    if (e.type === 'wakeup') {
      const t = this.faulting.get(e.thread);
      if (!t) return;
      // Core marked it ready; it retries once the wake-up reaches its CPU.
      this.exec.block(t, 'blocked-fault');
      const home = this.host.cpus[t.kernel.cpu]!;
      if (home.id === this.nowCpu) this.exec.wake(t);
      else this.exec.kernel(home, this.jWakeup, t.index, this.crossCpu());
    } else if (e.type === 'revoke') {
      this.shootdown(e.pd.asid, e.va, e.size);
    } else if (e.type === 'eager') {
      // Installing the mappings is work of whoever attached (charged to the step in progress).
      this.debt += e.mappings.length * this.costs.mapInstall;
      this.totals.eagerMappings += e.mappings.length;
    }
  }

  /** Signals submitted during the last core operation, delivered from `fromCpu` at `this.now`. */
  private flushSignals(fromCpu: number): void {
    while (this.pendingSignals.length > 0) {
      this.totals.signals++;
      this.host.handlers.signalled(this.pendingSignals.shift()!, fromCpu);
    }
  }

  /**
   * Removes a range from every CPU's TLB that may hold it. The initiator waits for each remote
   * CPU's acknowledgement (its debt); each remote CPU takes the IPI as a kernel job.
   */
  private shootdown(asid: number, va: number, size: number): void {
    const tl = this.host.timeline;
    for (const cpu of this.host.cpus) {
      if (!cpu.asids.has(asid)) continue;
      cpu.tlb.flushRange(asid, va, size);
      if (cpu.id === this.nowCpu) {
        this.debt += this.costs.invlpg;
        continue;
      }
      this.totals.shootdowns++;
      this.totals.crossCpu++;
      this.debt += this.costs.tlbShootdown;
      this.exec.kernel(cpu, this.jShootdown, 0, this.costs.tlbShootdown);
      tl?.instant(tl.cpuTrack(cpu.id), 'TLB shootdown', 'tlb', this.now, 'g');
    }
  }
}
