/**
 * User-level handler threads on the simulated machine: a signal reaches the handler's CPU, the
 * handler runs its behaviour one step per engine event (RPCs to core, allocation under the RAM
 * allocator's lock, zeroing), and core's reactions (wake-ups, eager mappings, revocations) happen
 * at the simulated time of the step that caused them.
 */
import type { OnDemandHandler, Work } from '../components/on_demand_handler.js';
import type { Core } from '../core/core.js';
import type { SignalContext } from '../core/signal.js';
import type { Thread } from '../kernel/thread.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import type { EventEngine } from './engine.js';
import type { MachineTimeline } from './machine_timeline.js';
import type { SimThread } from './sim_thread.js';
import type { TrackHandle } from './timeline.js';

/** A handler thread running a behaviour on signals. */
export interface HandlerThread {
  readonly kernel: Thread;
  readonly cpu: number;
  readonly behaviour: OnDemandHandler;
  readonly ctx: SignalContext;
  readonly track: TrackHandle;
  freeAt: number;
  deliveryScheduled: boolean;
  /** Faulters whose signals this handler's next run serves (for the timeline's arrows). */
  readonly faulters: SimThread[];
  /** The run in progress: its behaviour, start, current time and signal count. */
  gen: Generator<Work, void, void> | null;
  start: number;
  time: number;
  count: number;
}

/** What handlers need from the machine. */
export interface HandlerHost {
  readonly engine: EventEngine;
  readonly core: Core;
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly drawing: MachineTimeline | null;
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
  /** Core's next operation happens at `time` on `cpu`; returns the eager-mapping cycles it caused. */
  perform(time: number, cpu: number, op: () => void): number;
  /** Reports a handler failure. */
  error(text: string): void;
}

/** Counters the handlers keep. */
export interface HandlerCounters {
  lockWait: number;
  lockContended: number;
  steals: number;
}

/** The handler threads of a machine and the RAM allocator locks they take. */
export class Handlers {
  readonly list: HandlerThread[] = [];
  readonly counters: HandlerCounters = { lockWait: 0, lockContended: 0, steals: 0 };
  private readonly byContext = new Map<SignalContext, HandlerThread>();
  /** Allocator lock(s): the time each becomes free (one global lock, or one per partition). */
  private readonly lockFreeAt: number[];

  constructor(
    private readonly host: HandlerHost,
    locks: number,
  ) {
    this.lockFreeAt = new Array(locks).fill(0);
  }

  /** Adds a handler thread for `ctx`. */
  add(kernel: Thread, cpu: number, behaviour: OnDemandHandler, ctx: SignalContext, track: TrackHandle): void {
    kernel.state = 'waiting-signal';
    const h: HandlerThread = {
      kernel,
      cpu,
      behaviour,
      ctx,
      track,
      freeAt: 0,
      deliveryScheduled: false,
      faulters: [],
      gen: null,
      start: 0,
      time: 0,
      count: 0,
    };
    this.list.push(h);
    this.byContext.set(ctx, h);
  }

  /** The handler a signal context wakes, if it has one here. */
  of(ctx: SignalContext): HandlerThread | undefined {
    return this.byContext.get(ctx);
  }

  /** A signal to `ctx` was submitted on `fromCpu` at `now`: schedule its delivery. */
  signalled(ctx: SignalContext, fromCpu: number, now: number): void {
    const h = this.byContext.get(ctx);
    // A handler busy with an earlier signal picks this one up when it finishes.
    if (!h || h.deliveryScheduled || h.gen) return;
    h.deliveryScheduled = true;
    let at = now + this.host.costs.signalDelivery;
    if (h.cpu !== fromCpu) at += this.host.crossCpu();
    this.host.engine.at(Math.max(at, this.host.engine.now), () => this.run(h));
  }

  /** A handler thread receives its signal and starts its behaviour. */
  private run(h: HandlerThread): void {
    h.deliveryScheduled = false;
    const count = h.ctx.take();
    if (count === 0) return;
    const host = this.host;
    h.start = Math.max(host.engine.now, h.freeAt);
    h.time = h.start + host.costs.kernelEntryExit + host.kernelEntryCost(host.cpus[h.cpu]!);
    h.count = count;
    h.kernel.state = 'running';
    h.gen = h.behaviour.onSignal();
    host.engine.at(h.time, () => this.step(h));
  }

  /**
   * One step, as its own event so that steps of handlers on different CPUs (and their lock
   * requests) happen in virtual-time order: perform the work yielded last, then charge the next.
   */
  private step(h: HandlerThread): void {
    const costs = this.host.costs;
    let step: IteratorResult<Work, void> | undefined;
    h.time += this.host.perform(h.time, h.cpu, () => {
      step = h.gen!.next();
    });
    if (!step || step.done) {
      this.finish(h);
      return;
    }
    const w = step.value;
    let cost = 0;
    if (w.kind === 'rpc') {
      cost = costs.ipcRoundTrip;
      if (w.what === 'alloc') cost += this.lock(h.time + cost, this.homeLock(h.cpu));
    } else if (w.kind === 'zero') cost = (w.bytes / 1024) * costs.pageZeroPerKiB;
    else if (w.kind === 'compute') cost = w.cycles;
    else if (w.kind === 'steal') {
      this.counters.steals++;
      cost = this.host.crossCpu() + this.lock(h.time, w.partition);
    } else this.host.error(w.text);
    h.time += cost;
    this.host.engine.at(h.time, () => this.step(h));
  }

  private finish(h: HandlerThread): void {
    const cpu = this.host.cpus[h.cpu]!;
    h.gen = null;
    h.kernel.state = 'waiting-signal';
    h.freeAt = h.time;
    cpu.handlerCycles += h.time - h.start;
    cpu.freeAt = Math.max(cpu.freeAt, h.time);
    const d = this.host.drawing;
    if (d) {
      d.handler(h.track, h.cpu, h.start, h.time, h.count, h.faulters);
      d.freeFrames(h.time, this.host.core.phys.available() / this.host.core.pageSize);
    }
    h.faulters.length = 0;
    if (h.ctx.pending > 0 && !h.deliveryScheduled) {
      h.deliveryScheduled = true;
      this.host.engine.at(h.time, () => this.run(h));
    }
  }

  /** The allocator lock a CPU's allocations take: its partition's, or the single global one. */
  private homeLock(cpu: number): number {
    return this.lockFreeAt.length === 1 ? 0 : cpu % this.lockFreeAt.length;
  }

  /** Takes allocator lock `i` at `time` for one allocation (FIFO in virtual time); returns wait plus hold. */
  private lock(time: number, i: number): number {
    const wait = Math.max(0, this.lockFreeAt[i]! - time);
    const hold = this.host.costs.lockAcquire + this.host.costs.ramAlloc;
    this.lockFreeAt[i] = time + wait + hold;
    this.counters.lockWait += wait;
    if (wait > 0) this.counters.lockContended++;
    return wait + hold;
  }
}
