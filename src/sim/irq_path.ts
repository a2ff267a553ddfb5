/**
 * Interrupts on the machine (DESIGN.md §2 "IRQs"): devices raise IRQs at the controller, which
 * delivers each to the CPU it is routed to; the kernel takes it there as a kernel job and signals
 * the IRQ session's handler thread, under one of two designs:
 *
 * - **direct**: the routed CPU's kernel signals the handler itself (`irqEntry + signalDelivery`);
 *   a handler on another CPU gets an IPI.
 * - **core-thread**: the routed CPU's kernel forwards the IRQ to core's IRQ thread on CPU 0 (an IPI
 *   when it is another CPU), which signals the handler (`kernelEntryExit + signalDelivery`) — every
 *   IRQ of the machine passes through CPU 0, next to whatever else runs there (a single pager).
 *
 * Handler threads are ordinary threads of a driver component (`driver_task.ts`): they compete for
 * their CPU with the pagers, fault handlers and programs there, and their ack unmasks the IRQ.
 * IRQ latency runs from the raise (or the unmask, for a raise that came while masked) to the start
 * of the handler's first step for that signal. Routes may change at run time (`reroute`), by a
 * script or by an irqbalance-style balancer, and every migration is counted and costed.
 */
import { type IrqHandlerThread, NicDriver, TimerHandler } from '../components/nic_driver.js';
import type { AccessType } from '../core/events.js';
import { IrqService } from '../core/irq_session.js';
import type { MultiQueueNic, PeriodicTimer } from '../hw/devices.js';
import type { InterruptController } from '../hw/irq_controller.js';
import type { Thread } from '../kernel/thread.js';
import { invariant, type Result, unwrap } from '../util/result.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import { type DriverHost, type DriverMemory, DriverTask } from './driver_task.js';
import type { EventEngine } from './engine.js';
import type { Executor } from './executor.js';
import { type BalanceOptions, pickMove } from './irq_balance.js';
import { CoreIrqThread } from './irq_core_thread.js';
import type { FaultPath } from './machine_faults.js';
import type { MachineTimeline } from './machine_timeline.js';
import { Histogram } from './metrics.js';

export type { BalanceOptions } from './irq_balance.js';

/** How IRQs reach their handlers. */
export type IrqDelivery = 'direct' | 'core-thread';

/** What the IRQ path needs from the machine. */
export interface IrqHost {
  readonly engine: EventEngine;
  readonly exec: Executor;
  readonly cpus: readonly Cpu[];
  readonly costs: CostModel;
  readonly faults: FaultPath;
  readonly delivery: IrqDelivery;
  /** Cycles of a page walk and TLB fill. */
  readonly walkCycles: number;
  /** Where a sample of the IRQs is drawn, if anywhere. */
  readonly drawing: MachineTimeline | null;
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** A kernel thread for a driver's handler (in the driver's PD) on `cpu`. */
  driverThread(name: string, cpu: number): Thread;
  /** A kernel thread for core on `cpu`. */
  coreThread(name: string, cpu: number): Thread;
  /** One translation of `va` by `task` on `cpu` (extra cycles, or -1 on a fault). */
  translate(cpu: Cpu, task: DriverTask, va: number, kind: AccessType): number;
}

/** The devices and options of the interrupt side of a run. */
export interface IrqSetup {
  readonly controller: InterruptController;
  readonly nic: MultiQueueNic | undefined;
  readonly timer: PeriodicTimer | undefined;
  /** Arrivals and timer expiries stop here. */
  readonly durationCycles: number;
  readonly packetCycles: number;
  readonly timerCpu?: number;
  readonly timerWorkCycles?: number;
  /** Queues whose handler never runs (it hangs before its first ack): their vectors stay masked. */
  readonly stalledQueues?: readonly number[];
  /** CPU of queue q's vector and handler thread (default q mod cpus). */
  readonly cpuOfQueue?: (queue: number) => number;
  /** The memory a queue's packet work touches, if any. */
  readonly memoryOf?: (queue: number) => DriverMemory | null;
  /** Handler threads' priority. */
  readonly priority: number;
}

/** Counters of the interrupt side. */
export interface IrqCounters {
  /** Packets whose work finished within the duration. */
  handledInDuration: number;
  /** Model checks, zero in a correct run. */
  deliveredWhileMasked: number;
  misrouted: number;
  /** Route changes that moved a handler thread, and the cycles they cost. */
  migrations: number;
  migrationCycles: number;
  /** Balancer decisions that moved a queue. */
  rebalances: number;
}

/** The interrupt side of a machine; see the module comment. */
export class IrqPath implements DriverHost {
  readonly service: IrqService;
  readonly nicDriver: NicDriver | undefined;
  readonly timerHandler: TimerHandler | undefined;
  readonly drivers: DriverTask[] = [];
  readonly latency = new Histogram();
  readonly counters: IrqCounters = {
    handledInDuration: 0,
    deliveredWhileMasked: 0,
    misrouted: 0,
    migrations: 0,
    migrationCycles: 0,
    rebalances: 0,
  };
  /** Per CPU: cycles of interrupt work (entries, forwarding, signalling, acks; not device work). */
  readonly irqCycles: Float64Array;
  readonly walkCycles: number;
  /** `setup.durationCycles`, read per packet: set-up objects come in many shapes (a slow lookup). */
  private readonly durationCycles: number;
  private readonly coreIrq: CoreIrqThread | null;
  private readonly pendingRaise: Float64Array;
  private readonly flight: Float64Array;
  private readonly inService: Uint8Array;
  private readonly route: Int32Array;
  private readonly driverOfIrq: (DriverTask | undefined)[];
  private readonly jDirect: number;
  private readonly jEntry: number;
  private readonly jToCore: number;
  private readonly jWake: number;
  private readonly jMigrate: number;
  private signalFrom = 0;
  /** Per queue: interrupt and device cycles since the balancer last looked. */
  private readonly queueLoad: Float64Array;

  constructor(
    private readonly host: IrqHost,
    readonly setup: IrqSetup,
  ) {
    const exec = host.exec;
    const c = setup.controller;
    this.walkCycles = host.walkCycles;
    this.durationCycles = setup.durationCycles;
    this.service = new IrqService(c);
    this.irqCycles = new Float64Array(host.cpus.length);
    const n = c.irqCount;
    this.pendingRaise = new Float64Array(n).fill(-1);
    this.flight = new Float64Array(n);
    this.inService = new Uint8Array(n);
    this.route = new Int32Array(n);
    this.driverOfIrq = new Array(n).fill(undefined);
    this.queueLoad = new Float64Array(setup.nic?.queueCount ?? 0);
    const drawing = host.drawing;
    this.jDirect = exec.defineJob((cpu, irq, now) => {
      drawing?.irqHop(irq, cpu.id, cpu.runStart, now);
      this.dispatch(cpu.id, irq);
    }, 'IRQ');
    this.jEntry = exec.defineJob((cpu, irq, now) => {
      drawing?.irqHop(irq, cpu.id, cpu.runStart, now);
      this.forward(cpu, irq);
    }, 'IRQ');
    this.jToCore = exec.defineJob((cpu, irq, now) => {
      drawing?.irqHop(irq, cpu.id, cpu.runStart, now);
      this.coreIrq!.receive(irq);
    }, 'IPI: IRQ to core');
    this.jWake = exec.defineJob((cpu, arg, now) => {
      const d = exec.taskAtIndex(arg) as DriverTask;
      drawing?.irqHop(d.handler.irq, cpu.id, cpu.runStart, now);
      this.wakeDriver(d);
    }, 'IPI: wake driver');
    this.jMigrate = exec.defineJob(() => {}, 'IRQ migration');
    this.coreIrq =
      host.delivery === 'core-thread'
        ? new CoreIrqThread(host.coreThread('irq thread', 0), {
            exec,
            cost: (cpu) => host.costs.kernelEntryExit + host.costs.signalDelivery + host.kernelEntryCost(cpu),
            work: (cpu, cycles) => this.interruptWork(cpu, cycles),
            signal: (irq) => {
              // Core's IRQ thread ends its step for `irq` on CPU 0 (drawn already).
              drawing?.irqHop(irq, 0, host.cpus[0]!.runStart, host.engine.now);
              this.dispatch(0, irq);
            },
          })
        : null;
    c.setDeliveryListener((cpu, irq) => this.onDeliver(cpu, irq));
    const stalled = new Set(setup.stalledQueues ?? []);
    const handlers: IrqHandlerThread[] = [];
    if (setup.nic) {
      const nic = setup.nic;
      this.nicDriver = unwrapSetup(
        NicDriver.create(this.service, nic, {
          packetCycles: setup.packetCycles,
          cpus: host.cpus.length,
          cpuOf: setup.cpuOfQueue,
        }),
      );
      this.nicDriver.handlers.forEach((h) => {
        handlers.push(h);
      });
      nic.onRaise = (q) => this.onRaise(nic.irq(q));
    }
    if (setup.timer) {
      const timer = setup.timer;
      this.timerHandler = unwrapSetup(
        TimerHandler.create(this.service, timer, setup.timerCpu ?? 0, setup.timerWorkCycles ?? 500),
      );
      handlers.push(this.timerHandler);
      timer.onRaise = (line) => this.onRaise(line);
    }
    handlers.forEach((h, i) => {
      const k = host.driverThread(h.label, h.cpu);
      k.priority = setup.priority;
      const isQueue = setup.nic !== undefined && i < setup.nic.queueCount;
      const d = new DriverTask(k, h, this, isQueue ? i : -1, isQueue ? (setup.memoryOf?.(i) ?? null) : null);
      this.drivers.push(d);
      this.route[h.irq] = h.cpu;
      c.route(h.irq, h.cpu);
      this.driverOfIrq[h.irq] = d;
      h.onSignal = () => this.signalled(d);
      host.faults.addFaulting(d);
      if (isQueue && stalled.has(i)) return;
      exec.admit(d);
    });
  }

  /** Starts arrivals, timer expiries and scripted reroutes; the machine's run does the rest. */
  start(
    reroutes: readonly { at: number; queue: number; cpu: number; moveHandler?: boolean }[] = [],
    balance?: BalanceOptions,
  ): void {
    const { engine } = this.host;
    const end = this.setup.durationCycles;
    const nic = this.setup.nic;
    if (nic) {
      const arrive = (now: number) => {
        nic.arrive();
        const next = now + nic.nextGap();
        if (next < end) engine.schedule(next, arrive);
      };
      const first = nic.nextGap();
      if (first < end) engine.at(first, arrive);
    }
    const timer = this.setup.timer;
    if (timer) {
      const tick = (now: number) => {
        timer.advanceTo(now);
        if (timer.next < end) engine.at(timer.next, tick);
      };
      if (timer.next < end) engine.at(timer.next, tick);
    }
    for (const r of reroutes)
      engine.at(r.at, () => unwrap(this.reroute(r.queue, r.cpu, r.moveHandler ?? true)));
    if (balance && nic) {
      const step = (now: number) => {
        this.rebalance(balance);
        if (now + balance.intervalCycles < end) engine.at(now + balance.intervalCycles, step);
      };
      engine.at(balance.intervalCycles, step);
    }
  }

  /** Routes queue `queue`'s vector to `cpu` now, migrating its handler thread unless told not to. */
  reroute(queue: number, cpu: number, moveHandler = true): Result<void, 'INVALID_IRQ_SIM'> {
    const nic = this.setup.nic;
    invariant(nic !== undefined, 'reroute without a NIC');
    const irq = nic.irq(queue);
    if (this.route[irq] === cpu && this.drivers[queue]!.kernel.cpu === cpu)
      return { ok: true, value: undefined };
    this.setup.controller.route(irq, cpu);
    this.route[irq] = cpu;
    if (moveHandler) {
      const d = this.drivers[queue]!;
      const from = d.kernel.cpu;
      if (from !== cpu) {
        d.handler.cpu = cpu;
        if (this.host.exec.scheduler.has(d.kernel)) this.host.exec.migrate(d, cpu);
        else d.kernel.cpu = cpu;
        // Reprogramming the vector and moving the thread: work on the new CPU, an IPI to the old.
        const cost = this.host.costs.irqMigration + this.host.faults.crossCpu();
        this.counters.migrations++;
        this.counters.migrationCycles += cost;
        this.host.exec.kernel(this.host.cpus[cpu]!, this.jMigrate, queue, cost);
      }
    }
    return { ok: true, value: undefined };
  }

  // ------------------------------------------------------------ delivery

  private onRaise(irq: number): void {
    if (this.pendingRaise[irq]! < 0) this.pendingRaise[irq] = this.host.engine.now;
  }

  /** The controller delivered `irq` to `cpu` (and masked it): the kernel takes it there. */
  private onDeliver(cpu: number, irq: number): void {
    if (this.inService[irq] === 1) this.counters.deliveredWhileMasked++;
    if (cpu !== this.route[irq]) this.counters.misrouted++;
    this.inService[irq] = 1;
    const raised = this.pendingRaise[irq]!;
    this.flight[irq] = raised >= 0 ? raised : this.host.engine.now;
    this.pendingRaise[irq] = -1;
    this.host.drawing?.irqDelivered(
      irq,
      this.driverOfIrq[irq]?.handler.label ?? `IRQ ${irq}`,
      this.flight[irq]!,
    );
    const c = this.host.cpus[cpu]!;
    const costs = this.host.costs;
    const entry = costs.irqEntry + this.host.kernelEntryCost(c);
    const cost = this.coreIrq ? entry : entry + costs.signalDelivery;
    this.irqCycles[cpu]! += cost;
    this.addQueueLoad(irq, cost);
    this.host.exec.kernel(c, this.coreIrq ? this.jEntry : this.jDirect, irq, cost);
  }

  /** core-thread: the routed CPU hands the IRQ to core's thread on CPU 0. */
  private forward(cpu: Cpu, irq: number): void {
    if (cpu.id === 0) this.coreIrq!.receive(irq);
    else {
      const cost = this.host.faults.crossCpu();
      this.irqCycles[0]! += cost;
      this.host.exec.kernel(this.host.cpus[0]!, this.jToCore, irq, cost);
    }
  }

  /** The kernel (direct) or core's thread signals the IRQ's session from CPU `cpu`. */
  private dispatch(cpu: number, irq: number): void {
    this.signalFrom = cpu;
    this.service.dispatch(this.route[irq]!, irq);
  }

  /** The session signalled driver d (from inside `dispatch` on CPU `signalFrom`). */
  private signalled(d: DriverTask): void {
    const home = d.kernel.cpu;
    if (home === this.signalFrom) this.wakeDriver(d);
    else {
      const cost = this.host.faults.crossCpu();
      this.irqCycles[home]! += cost;
      this.host.exec.kernel(this.host.cpus[home]!, this.jWake, d.index, cost);
    }
  }

  private wakeDriver(d: DriverTask): void {
    if (d.kernel.state === 'waiting-signal') this.host.exec.wake(d);
  }

  // ------------------------------------------------------------ DriverHost

  ackCost(cpu: Cpu): number {
    return this.host.costs.kernelEntryExit + this.host.costs.irqAck + this.host.kernelEntryCost(cpu);
  }

  woke(d: DriverTask): void {
    d.latencyFrom = this.flight[d.handler.irq]!;
    d.measuring = true;
  }

  started(d: DriverTask, now: number): void {
    this.host.drawing?.irqDriverStarts(d.handler.irq, d, now);
    if (d.latencyFrom >= 0) this.latency.record(now - d.latencyFrom);
    d.latencyFrom = -1;
  }

  translate(cpu: Cpu, d: DriverTask, va: number, kind: AccessType): number {
    return this.host.translate(cpu, d, va, kind);
  }

  fault(cpu: Cpu, d: DriverTask, now: number): void {
    this.host.faults.pageFault(cpu, d, now);
  }

  acked(d: DriverTask, now: number): void {
    const irq = d.handler.irq;
    this.inService[irq] = 0;
    // A raise held back by the mask becomes deliverable now: latency counts from here.
    if (this.pendingRaise[irq]! >= 0) this.pendingRaise[irq] = now;
  }

  block(d: DriverTask): void {
    this.host.exec.block(d, 'waiting-signal');
  }

  interruptWork(cpu: Cpu, cycles: number): void {
    this.irqCycles[cpu.id]! += cycles;
  }

  /** Packet work finished at `now` (for throughput within the duration and the balancer). */
  workDone(d: DriverTask, now: number, cycles: number): void {
    if (d.queue < 0) return;
    this.queueLoad[d.queue]! += cycles;
    if (now <= this.durationCycles) this.counters.handledInDuration++;
  }

  private addQueueLoad(irq: number, cycles: number): void {
    const q = this.driverOfIrq[irq]?.queue ?? -1;
    if (q >= 0) this.queueLoad[q]! += cycles;
  }

  /** One balancer decision (`irq_balance.ts`); the loads start afresh. */
  private rebalance(b: BalanceOptions): void {
    const move = pickMove(this.queueLoad, (q) => this.drivers[q]!.kernel.cpu, this.host.cpus.length, b);
    if (move) {
      this.counters.rebalances++;
      unwrap(this.reroute(move.queue, move.cpu, true));
    }
    this.queueLoad.fill(0);
  }
}

function unwrapSetup<T>(r: Result<T>): T {
  invariant(r.ok, r.ok ? '' : `IRQ set-up failed: ${r.message}`);
  return r.value;
}
