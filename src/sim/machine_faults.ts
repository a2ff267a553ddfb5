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

import type { Port } from '../components/program.js';
import type { Core } from '../core/core.js';
import type { AccessType, CoreEvent } from '../core/events.js';
import type { RegionMap } from '../core/region_map.js';
import type { SignalContext } from '../core/signal.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { hex } from '../util/hex.js';
import { InvariantError } from '../util/result.js';
import type { Translator } from './access_path.js';
import type { CostModel } from './cost.js';
import type { Cpu, SimTask } from './cpu.js';
import type { DesignOptions } from './designs.js';
import type { Executor } from './executor.js';
import type { Handlers } from './handlers.js';
import type { MachineTimeline } from './machine_timeline.js';
import type { Histogram } from './metrics.js';
import { type PagerHost, pagerEntrypoint, type ServeOutcome } from './pager_entrypoint.js';
import type { FaultInbox, ProgramActions } from './program_actions.js';
import { ProgramTask } from './program_task.js';
import type { Timeline } from './timeline.js';
import type { TrustLog } from './trust.js';

/** A thread that serves page faults (a pager entrypoint, or a task's region mapper) and its inbox. */
export interface FaultServer {
  readonly task: ProgramTask;
  readonly inbox: FaultInbox<FaultingTask>;
  /** Faults served. */
  handled: number;
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
  /** Faults given up: core's call to their manager was lost, timed out or went unanswered. */
  faultsLost: number;
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
  readonly actions: ProgramActions;
  /** Who needed a right to whom (page faults go to their server). */
  readonly trust?: TrustLog;
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
  /** The timeout of core's calls to managers in the sync-core-rpc design (undefined: never). */
  readonly ipcTimeout: number | undefined;
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
    faultsLost: 0,
  };
  readonly pagers: FaultServer[] = [];
  /** Texts of the faults given up (the sync-core-rpc design's lost messages). */
  readonly lostFaults: string[] = [];
  /** sync-core-rpc: the `resolve_fault` port of each managed region map's manager. */
  readonly syncManagers = new Map<RegionMap, Port>();
  private readonly servers = new Map<ProgramTask, FaultServer>();
  /** The fault server of each protection domain whose faults do not go to core (local-rm). */
  private readonly ownServer = new Map<ProtectionDomain, FaultServer>();
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
      const inbox: FaultInbox<FaultingTask> = { queue: [], waiter: null };
      const server = { inbox, handled: 0 } as { task: ProgramTask; inbox: typeof inbox; handled: number };
      const pagerHost: PagerHost = {
        serveCost: (t) => this.serveCost(t),
        serve: (t) => this.serve(t, server),
        lost: (t, why) => this.lost(t, why),
        ipcTimeout: host.ipcTimeout,
      };
      server.task = new ProgramTask(
        host.coreThread(`pager ep ${i}`, i),
        'pager',
        pagerEntrypoint(pagerHost),
        host.actions,
      );
      this.pagers.push(server);
      this.servers.set(server.task, server);
    }
    this.jEntry = exec.defineJob((cpu, arg, now) => this.sendToPager(cpu, arg, now), 'page-fault entry');
    this.jToPager = exec.defineJob(
      (_cpu, arg) => host.actions.faultArrived(this.servers.get(exec.taskAtIndex(arg) as ProgramTask)!.inbox),
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

  /** Registers the pager threads (after the executor exists; their programs wait for faults). */
  start(): void {
    for (const ep of this.pagers) this.exec.admit(ep.task);
  }

  /** The inbox of a fault server's thread. */
  inboxOf(task: ProgramTask): FaultInbox<FaultingTask> {
    const s = this.servers.get(task);
    if (!s) throw new InvariantError(`${task} waits for page faults but serves none`);
    return s.inbox;
  }

  /**
   * Makes `task` the fault server of `pd` (local-rm: the task's region mapper): the kernel sends
   * the faults of pd's threads there instead of to core's pager.
   */
  addServer(pd: ProtectionDomain, task: ProgramTask): FaultServer {
    const server: FaultServer = { task, inbox: { queue: [], waiter: null }, handled: 0 };
    this.servers.set(task, server);
    this.ownServer.set(pd, server);
    return server;
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

  /** True when `pd` has a fault server of its own (local-rm's region mapper). */
  hasServer(pd: ProtectionDomain): boolean {
    return this.ownServer.has(pd);
  }

  /** The pager entrypoint serving faults from `cpu`. */
  pagerFor(cpu: number): FaultServer {
    return this.pagers[this.host.design.pagers === 'single' ? 0 : cpu]!;
  }

  /**
   * Where the kernel sends t's faults: its PD's own region mapper (local-rm), else core's pager.
   * The region mapper cannot page itself: its own faults go to core's pager (the special case).
   */
  serverFor(t: FaultingTask, cpu: number): FaultServer {
    const own = this.ownServer.get(t.kernel.pd);
    return own === undefined || own.task === t ? this.pagerFor(cpu) : own;
  }

  /** The exception entry is done: the fault message goes to its server (an IPI if it is remote). */
  private sendToPager(cpu: Cpu, index: number, now: number): void {
    const t = this.taskAt(index);
    this.host.drawing?.entered(t, cpu.id, cpu.runStart, now);
    const server = this.serverFor(t, cpu.id);
    const what = this.servers.get(t as ProgramTask) ? 'page faults of its region mapper' : 'page faults';
    this.host.trust?.record(t.kernel.pd.label, server.task.kernel.pd.label, 'page-fault', what);
    server.inbox.queue.push(t);
    const at = server.task.kernel.cpu;
    if (at === cpu.id) this.host.actions.faultArrived(server.inbox);
    else this.exec.kernel(this.host.cpus[at]!, this.jToPager, server.task.index, this.crossCpu());
  }

  /** What a pager's next fault costs: core's lookup at every level walked, plus the mapping and the reply. */
  serveCost(t: FaultingTask): number {
    const res = this.host.core.resolve(t.kernel, t.faultVa, t.faultKind as AccessType, false);
    const c = this.costs;
    return c.pagerLookup * res.depth + (res.kind === 'mapped' ? c.mapInstall + c.ipcRoundTrip / 2 : 0);
  }

  /**
   * Serves t's fault now, inside a core operation of the pager's step (`perform` set the time and
   * CPU): install the mapping and send the reply, or reflect the fault (Genode: a signal to the
   * handler), or report it. In sync-core-rpc a fault the map's manager must resolve goes back to
   * the pager, which calls the manager first.
   */
  serve(t: FaultingTask, server: FaultServer): ServeOutcome {
    const host = this.host;
    const cpu = host.cpus[this.nowCpu]!;
    const now = this.now;
    if (this.syncManagers.size > 0) {
      const res = host.core.resolve(t.kernel, t.faultVa, t.faultKind, false);
      const port = res.kind === 'unresolved' ? this.syncManagers.get(res.map) : undefined;
      if (port && res.kind === 'unresolved') {
        this.totals.faultsReflected++;
        t.reflected = true;
        return { kind: 'manager', port, address: res.address };
      }
    }
    const out = host.core.pageFault(t.kernel, t.faultVa, t.faultKind);
    server.handled++;
    host.drawing?.served(t, server.task, cpu.runStart, now, out.kind);
    if (out.kind === 'mapped') {
      this.totals.faultsResolved++;
      // Core marked it ready; it runs once the reply reaches its CPU.
      this.exec.block(t, 'blocked-fault');
      this.reply(t, cpu);
    } else if (out.kind === 'reflected') {
      this.totals.faultsReflected++;
      t.reflected = true;
      if (out.map.faultHandler) host.handlers.of(out.map.faultHandler)?.faulters.push(t);
    } else {
      this.error(out.text);
      t.die(t.faultVa, t.faultKind, out.text);
      this.exec.block(t, 'dead-fault');
    }
    return { kind: out.kind };
  }

  /** The server answers t's fault from `cpu`: the reply reaches t's CPU (an IPI across CPUs). */
  reply(t: FaultingTask, cpu: Cpu): void {
    const home = this.host.cpus[t.kernel.cpu]!;
    const cost = this.costs.exceptionEntryExit / 2 + (home.id === cpu.id ? 0 : this.crossCpu());
    this.exec.kernel(home, this.jReply, t.index, cost);
  }

  /** CPU of the core operation in progress. */
  get currentCpu(): number {
    return this.nowCpu;
  }

  /** A faulter whose fault nobody can resolve dies (it stays blocked until destroyed). */
  killFaulter(t: FaultingTask): void {
    this.exec.block(t, 'dead-fault');
  }

  /** t's fault is given up (sync-core-rpc): it stays blocked, and the loss is counted. */
  lost(t: FaultingTask, why: string): void {
    this.totals.faultsLost++;
    this.lostFaults.push(`fault of '${t.kernel.name}' at ${hex(t.faultVa)} lost: ${why}`);
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
  shootdown(asid: number, va: number, size: number): void {
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
