/**
 * The machine's program threads and what they talk through: IPC ports, core's RPC entrypoints,
 * the RAM allocator's locks, fault handlers and the trust log. A fault handler (a dataspace
 * manager) is started in the way the design's fault handling asks for: waiting for signals
 * (`async`), or serving core's `resolve_fault` calls (`sync-core-rpc`, where core gets a
 * capability to call it), or serving region mappers' `map` requests (`local-rm`, `local_rm.ts`).
 */
import type { DataspaceManager } from '../components/dataspace_manager.js';
import type { Port, Program } from '../components/program.js';
import type { Core } from '../core/core.js';
import type { AccessType } from '../core/events.js';
import type { PdSession } from '../core/pd_session.js';
import type { SignalContext } from '../core/signal.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { invariant, unwrap } from '../util/result.js';
import { AllocatorLocks, coreEntrypoint } from './core_services.js';
import type { CostModel } from './cost.js';
import type { Cpu, TaskCategory } from './cpu.js';
import type { DesignOptions } from './designs.js';
import type { EventEngine } from './engine.js';
import type { Executor } from './executor.js';
import { Handlers, type HandlerThread } from './handlers.js';
import { IpcPath } from './ipc_path.js';
import type { LocalRm } from './local_rm.js';
import type { FaultPath } from './machine_faults.js';
import type { MachineTimeline } from './machine_timeline.js';
import { ProgramActions } from './program_actions.js';
import { ProgramTask } from './program_task.js';
import { TrustLog } from './trust.js';

/** What the machine's programs need from it. */
export interface ProgramsHost {
  readonly engine: EventEngine;
  readonly exec: Executor;
  readonly cpus: readonly Cpu[];
  readonly costs: CostModel;
  readonly design: DesignOptions;
  readonly core: Core;
  readonly corePd: ProtectionDomain;
  readonly drawing: MachineTimeline | null;
  /** The fault path (it exists once the programs run). */
  faults(): FaultPath;
  kernelEntryCost(cpu: Cpu): number;
  coreThread(name: string, cpu: number): Thread;
  /** The local-rm design's mapping database and region mappers, when that is the design. */
  localRm(): LocalRm | null;
  /** The timeout of the synchronous designs' calls (undefined: never). */
  readonly ipcTimeout: number | undefined;
  /** One translation of `va` by a program thread on `cpu` (extra cycles, or -1 on a fault). */
  translate(cpu: Cpu, t: ProgramTask, va: number, access: AccessType): number;
  /** Cycles of a page walk that ends in a fault. */
  readonly walkCycles: number;
}

/** The machine's program threads; see the module comment. */
export class MachinePrograms {
  readonly trust = new TrustLog();
  readonly ipc: IpcPath;
  readonly actions: ProgramActions;
  readonly locks: AllocatorLocks;
  readonly handlers: Handlers;
  /** Priority of the region mappers local-rm starts for managers. */
  rmPriority = 200;
  /** Ports of core's RPC entrypoints: one per pager entrypoint. */
  readonly corePorts: Port[] = [];
  private readonly coreTasks: ProgramTask[] = [];

  constructor(private readonly host: ProgramsHost) {
    const { exec, costs, engine, cpus } = host;
    const crossCpu = () => host.faults().crossCpu();
    this.ipc = new IpcPath({ engine, exec, cpus, trust: this.trust, crossCpu });
    const partitions = host.design.allocator === 'partitioned' ? cpus.length : 1;
    this.locks = new AllocatorLocks(partitions, costs.lockAcquire + costs.ramAlloc);
    this.actions = new ProgramActions({
      engine,
      exec,
      costs,
      ipc: this.ipc,
      kernelEntryCost: (c) => host.kernelEntryCost(c),
      perform: (time, cpu, op) => host.faults().perform(time, cpu, op),
      corePortFor: (cpu) => this.corePorts[host.design.pagers === 'single' ? 0 : cpu]!,
      reserveLock: (i, now) => this.locks.reserve(i, now),
      inboxOf: (t) => host.faults().inboxOf(t),
      error: (text) => host.faults().error(text),
      ended: (t) => this.ended(t),
      signalTaken: (t, now, n) => this.handlers.took(t, now, n),
      signalWaited: (t, now) => this.handlers.waits(t, now),
      translate: (cpu, t, va, access) => host.translate(cpu, t, va, access),
      walkCycles: host.walkCycles,
      pageFault: (cpu, t, now) => host.faults().pageFault(cpu, t, now),
    });
    this.handlers = new Handlers({
      costs,
      cpus,
      exec,
      actions: this.actions,
      drawing: host.drawing,
      crossCpu,
      freeFrames: () => host.core.phys.available() / host.core.pageSize,
    });
    const count = host.design.pagers === 'single' ? 1 : cpus.length;
    for (let i = 0; i < count; i++) {
      const port = this.ipc.port(`core rpc ep ${i}`, host.corePd);
      this.corePorts.push(port);
      const program = coreEntrypoint(port, { costs, locks: this.locks, crossCpu });
      this.coreTasks.push(new ProgramTask(host.coreThread(`core ep ${i}`, i), 'core', program, this.actions));
    }
  }

  /** Starts core's RPC entrypoints (after the executor and the fault path exist). */
  start(): void {
    for (const t of this.coreTasks) this.host.exec.admit(t);
  }

  /** Lets threads of `pd` call core (every component may: core's services are public). */
  grantCore(pd: ProtectionDomain): void {
    for (const p of this.corePorts) this.ipc.grant(p, pd);
  }

  /**
   * Starts a handler thread of `session` on `cpu` for the managed map `behaviour` pages, whose
   * faults are signalled to `ctx`: in the way the design's fault handling asks for.
   */
  addHandler(
    session: PdSession,
    name: string,
    cpu: number,
    behaviour: DataspaceManager,
    ctx: SignalContext,
    priority: number,
  ): HandlerThread {
    const k = unwrap(this.host.core.createThread(session, name, cpu));
    k.priority = priority;
    this.grantCore(session.pd);
    const faults = this.host.faults();
    let program = behaviour.onSignals(ctx);
    const rm = this.host.localRm();
    if (rm) {
      // local-rm: region mappers call the manager, which answers with map items.
      invariant(behaviour.serveMaps !== undefined, `${name} cannot serve a local region mapper`);
      const port = this.ipc.port(`${name}: map`, session.pd);
      rm.addManager(behaviour.map, port);
      program = behaviour.serveMaps(port, rm.nextHop(behaviour.map), this.host.ipcTimeout);
    } else if (this.host.design.faultHandling === 'sync-core-rpc') {
      // Core calls the manager: core must hold a capability to the manager's port.
      invariant(behaviour.resolveFaults !== undefined, `${name} cannot serve core's resolve_fault`);
      const port = this.ipc.port(`${name}: resolve_fault`, session.pd);
      this.ipc.grant(port, this.host.corePd);
      faults.syncManagers.set(behaviour.map, port);
      program = behaviour.resolveFaults(port);
    }
    const task = new ProgramTask(k, 'handler', program, this.actions);
    faults.addFaulting(task);
    const h = this.handlers.add(task, ctx);
    if (rm) {
      this.host.exec.admit(task);
      // A manager is a task too: its own faults go to its own region mapper.
      if (!faults.hasServer(session.pd)) this.addRegionMapper(session, cpu, this.rmPriority);
      return h;
    }
    ctx.listen((c) => {
      this.trust.record('core', session.label, 'signal', 'fault signal');
      faults.queueSignal(c);
    });
    this.host.exec.admit(task);
    return h;
  }

  /**
   * Starts a thread of `session` on `cpu` that runs `program` (a busy thread competing for a CPU,
   * a client calling a server); it may call core and touch memory like any component thread.
   */
  addProgram(
    session: PdSession,
    name: string,
    cpu: number,
    program: Program,
    priority: number,
    category: TaskCategory = 'user',
  ): ProgramTask {
    const k = unwrap(this.host.core.createThread(session, name, cpu));
    k.priority = priority;
    this.grantCore(session.pd);
    const task = new ProgramTask(k, category, program, this.actions);
    const faults = this.host.faults();
    faults.addFaulting(task);
    if (this.host.localRm() && !faults.hasServer(session.pd))
      this.addRegionMapper(session, cpu, this.rmPriority);
    this.host.exec.admit(task);
    return task;
  }

  /**
   * Starts the region mapper of `session`'s task on `cpu` (local-rm): the kernel sends the task's
   * page faults to it instead of to core.
   */
  addRegionMapper(session: PdSession, cpu: number, priority: number): ProgramTask {
    const rm = this.host.localRm()!;
    const k = unwrap(this.host.core.createThread(session, 'region mapper', cpu));
    k.priority = priority;
    this.grantCore(session.pd);
    const task = new ProgramTask(
      k,
      'pager',
      rm.regionMapper(session.pd, rm.regionList(session)),
      this.actions,
    );
    const faults = this.host.faults();
    faults.addServer(session.pd, task);
    // Its own faults (on its region list) go to core's pager.
    faults.addFaulting(task);
    this.host.exec.admit(task);
    return task;
  }

  /** A program thread ended: it leaves every port (its callers see IPC_ABORTED) and the CPU. */
  private ended(t: ProgramTask): void {
    this.ipc.remove(t.kernel);
    if (this.host.exec.scheduler.has(t.kernel)) this.host.exec.remove(t);
    t.kernel.state = 'destroyed';
  }
}
