/**
 * The IRQ simulation (DESIGN.md §2 "IRQs", seed 000): a multi-queue NIC and optionally a periodic
 * timer raise interrupts; the kernel delivers them to user-level handler threads under one of two
 * designs; the handlers drain their device and ack. Runs on the deterministic `EventEngine`.
 *
 * Model:
 * - **CPUs are busy resources**: each runs one job at a time. Kernel jobs (IRQ entry, IPI receipt,
 *   core-thread work) go before user jobs (one packet of handler work, an ack syscall), like
 *   interrupts and core's top-priority threads preempting drivers at the next packet boundary.
 *   Waiting for a busy CPU is queueing delay.
 * - **Routing**: queue q's vector goes to CPU `q mod cpus`, as does its handler thread; `reroute`
 *   changes a route at run time (optionally migrating the handler).
 * - **direct**: on the routed CPU, `irqEntry + signalDelivery`; when the handler lives on another
 *   CPU, an IPI (`ipi` on the handler's CPU) wakes it.
 * - **core-thread**: `irqEntry` on the routed CPU, an IPI to CPU 0 when different, the core thread's
 *   work on CPU 0 (`kernelEntryExit` to receive the IRQ + `signalDelivery`), then an IPI to the
 *   handler's CPU when different. Every IRQ of the machine passes through CPU 0.
 * - **ack** (both): the handler's syscall, `kernelEntryExit + irqAck` on its CPU, then the unmask.
 * - **Interrupt work** is everything but the handler's device work (packets, timer reads).
 *
 * Driver only: measurements, options and set-up are in `irq_sim_model.ts`, jobs in `irq_sim_jobs.ts`.
 */

import { type IrqHandlerThread, NicDriver, TimerHandler } from '../components/nic_driver.js';
import { IrqService } from '../core/irq_session.js';
import { MultiQueueNic, type PeriodicTimer } from '../hw/devices.js';
import type { InterruptController } from '../hw/irq_controller.js';
import { invariant, ok, type Result } from '../util/result.js';
import { type CostModel, cyclesToMicros, DEFAULT_COSTS, NOMINAL_CLOCK_HZ } from './cost.js';
import { EventEngine } from './engine.js';
import {
  J_ACK,
  J_CORE,
  J_DELIVER,
  J_ENTRY,
  J_IPI_CORE,
  J_IPI_WAKE,
  J_WORK,
  JobQueue,
  jobCost,
} from './irq_sim_jobs.js';
import {
  buildDevices,
  type IrqCount,
  type IrqSimError,
  type IrqSimOptions,
  type IrqSimResult,
  invalid,
} from './irq_sim_model.js';
import { Histogram } from './metrics.js';

export type {
  IrqCount,
  IrqDelivery,
  IrqSimError,
  IrqSimOptions,
  IrqSimResult,
  Reroute,
} from './irq_sim_model.js';

/** One simulation: build with `create`, then `run()` once. */
export class IrqSim {
  readonly engine = new EventEngine();
  readonly service: IrqService;
  readonly driver: NicDriver;
  readonly timerHandler: TimerHandler | undefined;
  private readonly threads: IrqHandlerThread[];
  private readonly costs: CostModel;
  private readonly cpuCount: number;
  private readonly direct: boolean;
  private readonly kernelQ: JobQueue[] = [];
  private readonly userQ: JobQueue[] = [];
  private readonly busy: Uint8Array;
  private readonly cur: Int32Array; // (code, arg) per CPU
  private readonly busyCycles: Float64Array;
  private readonly irqCycles: Float64Array;
  private readonly done: ((now: number) => void)[];
  private readonly active: Uint8Array; // per thread: has a job queued or running
  private readonly latFrom: Float64Array; // per thread: raise time of the signal just taken, or -1
  private readonly pendingRaise: Float64Array; // per IRQ: first raise not yet delivered, or -1
  private readonly flight: Float64Array; // per IRQ: raise time of the delivery in flight
  private readonly inService: Uint8Array;
  private readonly route: Int32Array;
  private readonly latency = new Histogram();
  private readonly popped = new Int32Array(2);
  private signalFrom = 0;
  private runValue = -1;
  private runLength = 0;
  private handledInDuration = 0;
  private deliveredWhileMasked = 0;
  private misrouted = 0;
  private ran = false;

  private constructor(
    readonly options: IrqSimOptions,
    readonly controller: InterruptController,
    readonly nic: MultiQueueNic,
    readonly timer: PeriodicTimer | undefined,
  ) {
    const o = options;
    this.costs = o.costs ?? DEFAULT_COSTS;
    this.cpuCount = o.cpus;
    this.direct = o.design === 'direct';
    this.service = new IrqService(controller);
    controller.setDeliveryListener((cpu, irq) => this.onDeliver(cpu, irq));
    const cpus = o.cpus;
    this.driver = unwrapSim(
      NicDriver.create(this.service, nic, { packetCycles: o.packetCycles ?? 2000, cpus }),
    );
    this.threads = [...this.driver.handlers];
    if (timer) {
      const h = unwrapSim(
        TimerHandler.create(this.service, timer, o.timer?.cpu ?? 0, o.timer?.workCycles ?? 500),
      );
      this.timerHandler = h;
      this.threads.push(h);
    }
    const n = controller.irqCount;
    this.pendingRaise = new Float64Array(n).fill(-1);
    this.flight = new Float64Array(n);
    this.inService = new Uint8Array(n);
    this.route = new Int32Array(n);
    for (let c = 0; c < cpus; c++) {
      this.kernelQ.push(new JobQueue());
      this.userQ.push(new JobQueue());
    }
    this.busy = new Uint8Array(cpus);
    this.cur = new Int32Array(cpus * 2);
    this.busyCycles = new Float64Array(cpus);
    this.irqCycles = new Float64Array(cpus);
    this.done = Array.from({ length: cpus }, (_, c) => (now: number) => this.complete(c, now));
    this.active = new Uint8Array(this.threads.length);
    this.latFrom = new Float64Array(this.threads.length).fill(-1);
    this.threads.forEach((t, i) => {
      this.route[t.irq] = t.cpu;
      controller.route(t.irq, t.cpu);
      t.onSignal = (th) => this.onSignal(i, th);
    });
    nic.onRaise = (q) => this.onRaise(nic.irq(q));
    if (timer) timer.onRaise = (line) => this.onRaise(line);
  }

  /** Builds a simulation; `INVALID_IRQ_SIM` names the first bad option. */
  static create(options: IrqSimOptions): Result<IrqSim, IrqSimError> {
    const d = buildDevices(options);
    return d.ok ? ok(new IrqSim(options, d.value.controller, d.value.nic, d.value.timer)) : d;
  }

  /** Routes queue `queue`'s vector to `cpu` now, migrating its handler thread unless told not to. */
  reroute(queue: number, cpu: number, moveHandler = true): Result<void, IrqSimError> {
    if (!(Number.isSafeInteger(queue) && queue >= 0 && queue < this.nic.queueCount)) {
      return invalid(`queue ${queue}: expected 0..${this.nic.queueCount - 1}`);
    }
    if (!(Number.isSafeInteger(cpu) && cpu >= 0 && cpu < this.cpuCount)) {
      return invalid(`cpu ${cpu}: expected 0..${this.cpuCount - 1}`);
    }
    const irq = this.nic.irq(queue);
    this.controller.route(irq, cpu);
    this.route[irq] = cpu;
    if (moveHandler) this.threads[queue]!.cpu = cpu;
    return ok(undefined);
  }

  /** Runs the arrivals for the duration, then until every handler is idle; returns the measurements. */
  run(): IrqSimResult {
    invariant(!this.ran, 'IrqSim.run() called twice');
    this.ran = true;
    const o = this.options;
    const stalled = new Set(o.stalledQueues ?? []);
    for (let i = 0; i < this.threads.length; i++) {
      if (!(i < this.nic.queueCount && stalled.has(i))) this.advance(i);
    }
    const end = o.durationCycles;
    const arrive = (now: number) => {
      this.nic.arrive();
      const next = now + this.nic.nextGap();
      if (next < end) this.engine.at(next, arrive);
    };
    const first = this.nic.nextGap();
    if (first < end) this.engine.at(first, arrive);
    const timer = this.timer;
    if (timer) {
      const tick = (now: number) => {
        timer.advanceTo(now);
        if (timer.next < end) this.engine.at(timer.next, tick);
      };
      if (timer.next < end) this.engine.at(timer.next, tick);
    }
    for (const r of o.reroutes ?? []) {
      this.engine.at(r.at, () => {
        this.reroute(r.queue, r.cpu, r.moveHandler ?? true);
      });
    }
    this.engine.run();
    return this.result();
  }

  private onRaise(irq: number): void {
    if (this.pendingRaise[irq]! < 0) this.pendingRaise[irq] = this.engine.now;
  }

  /** The controller delivered `irq` to `cpu` (and masked it): start the kernel path. */
  private onDeliver(cpu: number, irq: number): void {
    if (this.inService[irq] === 1) this.deliveredWhileMasked++;
    if (cpu !== this.route[irq]) this.misrouted++;
    this.inService[irq] = 1;
    const raised = this.pendingRaise[irq]!;
    this.flight[irq] = raised >= 0 ? raised : this.engine.now;
    this.pendingRaise[irq] = -1;
    this.push(cpu, this.direct ? J_DELIVER : J_ENTRY, irq);
  }

  /** The IRQ session signalled thread `i` (from inside `service.dispatch` on CPU `signalFrom`). */
  private onSignal(i: number, t: IrqHandlerThread): void {
    if (t.cpu !== this.signalFrom) this.push(t.cpu, J_IPI_WAKE, i);
    else this.wake(i);
  }

  private wake(i: number): void {
    if (this.active[i] === 0) this.advance(i);
  }

  /** Lets thread `i` take its next step. */
  private advance(i: number): void {
    const t = this.threads[i]!;
    let step = t.next();
    if (step === 'wake') {
      this.latFrom[i] = this.flight[t.irq]!;
      step = t.next();
    }
    if (step === 'block') {
      this.active[i] = 0;
      return;
    }
    this.active[i] = 1;
    this.push(t.cpu, step === 'work' ? J_WORK : J_ACK, i);
  }

  private push(cpu: number, code: number, arg: number): void {
    (code < J_WORK ? this.kernelQ : this.userQ)[cpu]!.push(code, arg);
    if (this.busy[cpu] === 0) this.start(cpu);
  }

  private start(c: number): void {
    const k = this.kernelQ[c]!;
    const u = this.userQ[c]!;
    if (k.size > 0) k.pop(this.popped);
    else if (u.size > 0) u.pop(this.popped);
    else return;
    const code = this.popped[0]!;
    const arg = this.popped[1]!;
    const now = this.engine.now;
    const cost = code === J_WORK ? this.threads[arg]!.workCycles : jobCost(code, this.costs);
    if (code >= J_WORK && this.latFrom[arg]! >= 0) {
      this.recordLatency(now - this.latFrom[arg]!);
      this.latFrom[arg] = -1;
    }
    this.busy[c] = 1;
    this.cur[c * 2] = code;
    this.cur[c * 2 + 1] = arg;
    this.busyCycles[c]! += cost;
    if (code !== J_WORK) this.irqCycles[c]! += cost;
    this.engine.at(now + cost, this.done[c]!);
  }

  /** Records into the histogram in runs of equal values (latencies repeat a lot): one call per run. */
  private recordLatency(v: number): void {
    if (v === this.runValue) {
      this.runLength++;
      return;
    }
    this.flushLatency();
    this.runValue = v;
    this.runLength = 1;
  }

  private flushLatency(): void {
    if (this.runLength > 0) this.latency.record(this.runValue, this.runLength);
    this.runLength = 0;
  }

  private complete(c: number, now: number): void {
    const code = this.cur[c * 2]!;
    const arg = this.cur[c * 2 + 1]!;
    this.busy[c] = 0;
    switch (code) {
      case J_DELIVER:
        this.dispatch(c, arg);
        break;
      case J_ENTRY:
        if (c === 0) this.push(0, J_CORE, arg);
        else this.push(0, J_IPI_CORE, arg);
        break;
      case J_IPI_CORE:
        this.push(0, J_CORE, arg);
        break;
      case J_CORE:
        this.dispatch(0, arg);
        break;
      case J_IPI_WAKE:
        this.wake(arg);
        break;
      case J_WORK:
        this.threads[arg]!.workDone();
        if (now <= this.options.durationCycles && arg < this.nic.queueCount) this.handledInDuration++;
        this.advance(arg);
        break;
      case J_ACK: {
        const t = this.threads[arg]!;
        const irq = t.irq;
        this.inService[irq] = 0;
        // A raise held back by the mask becomes deliverable now: latency counts from here.
        if (this.pendingRaise[irq]! >= 0) this.pendingRaise[irq] = now;
        t.ack();
        this.advance(arg);
        break;
      }
    }
    if (this.busy[c] === 0) this.start(c);
  }

  /** The kernel (direct) or the core thread signals the IRQ's session from CPU `cpu`. */
  private dispatch(cpu: number, irq: number): void {
    this.signalFrom = cpu;
    this.service.dispatch(this.route[irq]!, irq);
  }

  private result(): IrqSimResult {
    this.flushLatency();
    const o = this.options;
    const nic = this.nic;
    const total = MultiQueueNic.total;
    let queued = 0;
    for (let q = 0; q < nic.queueCount; q++) queued += nic.pending(q);
    const interrupts: IrqCount[] = [];
    let lost = 0;
    for (let irq = 0; irq < this.controller.irqCount; irq++) {
      if (irq === 0 && !this.timer) continue;
      const s = this.controller.irqStatsOf(irq);
      if (!s.ok) continue;
      lost += s.value.coalesced;
      interrupts.push({
        irq,
        raised: s.value.raised,
        delivered: s.value.delivered,
        coalesced: s.value.coalesced,
      });
    }
    const endCycles = Math.max(this.engine.now, o.durationCycles);
    const us = (v: number) => Number(cyclesToMicros(v).toFixed(3));
    const r4 = (v: number) => Number(v.toFixed(4));
    return {
      design: o.design,
      cpus: o.cpus,
      queues: nic.queueCount,
      seed: o.seed ?? 1,
      durationCycles: o.durationCycles,
      endCycles,
      packets: {
        arrived: total(nic.accepted) + total(nic.dropped),
        handled: this.driver.handled,
        handledInDuration: this.handledInDuration,
        dropped: total(nic.dropped),
        queued,
      },
      packetsPerSecond: Math.round((this.handledInDuration * NOMINAL_CLOCK_HZ) / o.durationCycles),
      irqLatency: {
        count: this.latency.count,
        p50: us(this.latency.percentile(0.5)),
        p99: us(this.latency.percentile(0.99)),
        max: us(this.latency.max),
      },
      cpuLoad: Array.from(this.busyCycles, (b, c) => (b === 0 ? 0 : r4(this.irqCycles[c]! / b))),
      cpuBusy: Array.from(this.busyCycles, (b) => r4(b / endCycles)),
      lostInterrupts: lost,
      interrupts,
      ...(this.timer && this.timerHandler
        ? { timer: { expirations: this.timer.expirations, read: this.timerHandler.ticks } }
        : {}),
      violations: { deliveredWhileMasked: this.deliveredWhileMasked, misrouted: this.misrouted },
    };
  }

  /** Description with design, CPUs, queues and time. */
  toString(): string {
    return `IrqSim(${this.options.design}, ${this.cpuCount} CPUs, ${this.nic.queueCount} queues, now ${this.engine.now} cycles)`;
  }
}

function unwrapSim<T>(r: Result<T>): T {
  invariant(r.ok, r.ok ? '' : `IRQ simulation set-up failed: ${r.message}`);
  return r.value;
}

/** Builds and runs one simulation. */
export function runIrqSim(options: IrqSimOptions): Result<IrqSimResult, IrqSimError> {
  const s = IrqSim.create(options);
  return s.ok ? ok(s.value.run()) : s;
}
