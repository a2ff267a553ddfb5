/**
 * User-level fault-handler threads on the machine. A handler waits for its signal; the signal
 * reaches its CPU as a kernel job (an IPI first when it comes from another CPU) and makes it
 * ready; when the scheduler runs it, it takes the signal and runs its behaviour one piece of work
 * per step (RPCs to core, allocation under the RAM allocator's lock, zeroing). Each piece's effect
 * (core's wake-ups, eager mappings, revocations) happens when its cycles have passed.
 *
 * The RAM allocator's lock is taken in virtual-time order of the requests: a handler that finds
 * it held sleeps until its turn, off the CPU.
 */
import type { HandlerBehaviour, Work } from '../components/on_demand_handler.js';
import type { Core } from '../core/core.js';
import type { SignalContext } from '../core/signal.js';
import type { Thread } from '../kernel/thread.js';
import type { CostModel } from './cost.js';
import type { Cpu, SimTask } from './cpu.js';
import type { Executor } from './executor.js';
import type { MachineTimeline } from './machine_timeline.js';
import type { TrackHandle } from './timeline.js';

/** What handlers need from the machine. */
export interface HandlerHost {
  readonly core: Core;
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly exec: Executor;
  readonly drawing: MachineTimeline | null;
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
  /** Core's next operation happens at `time` on `cpu`; returns the extra cycles it caused. */
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

/** A handler thread running a behaviour on signals. */
export class HandlerThread implements SimTask {
  readonly category = 'handler';
  index = -1;
  left = -1;
  /** Faulters whose signals this handler's current run serves (for the timeline's arrows). */
  readonly faulters: SimTask[] = [];
  /** The run in progress: its behaviour and the work it yielded last, to be charged next. */
  gen: Generator<Work, void, void> | null = null;
  work: Work | null = null;
  /** When the run started, and how many signals it took. */
  start = 0;
  count = 0;
  /** Extra cycles the last piece of work caused (eager mappings, shootdown waits), charged next. */
  debt = 0;
  /** The allocator lock for the pending work is reserved (the thread slept until its turn). */
  lockHeld = false;

  constructor(
    readonly kernel: Thread,
    readonly behaviour: HandlerBehaviour,
    readonly ctx: SignalContext,
    readonly track: TrackHandle,
    private readonly owner: Handlers,
  ) {}

  begin(cpu: Cpu, now: number): number {
    return this.owner.begin(this, cpu, now);
  }

  end(cpu: Cpu, now: number): void {
    this.owner.end(this, cpu, now);
  }

  toString(): string {
    return `handler '${this.kernel.name}' (${this.kernel.state}, ${this.ctx.pending} signals pending)`;
  }
}

/** The handler threads of a machine and the RAM allocator locks they take. */
export class Handlers {
  readonly list: HandlerThread[] = [];
  readonly counters: HandlerCounters = { lockWait: 0, lockContended: 0, steals: 0 };
  private readonly byContext = new Map<SignalContext, HandlerThread>();
  /** Allocator lock(s): the time each becomes free (one global lock, or one per partition). */
  private readonly lockFreeAt: number[];
  private readonly jSignal: number;

  constructor(
    private readonly host: HandlerHost,
    locks: number,
  ) {
    this.lockFreeAt = new Array(locks).fill(0);
    this.jSignal = host.exec.defineJob((_cpu, arg) => {
      const h = host.exec.taskAtIndex(arg) as HandlerThread;
      if (h.kernel.state === 'waiting-signal') host.exec.wake(h);
    }, 'signal');
  }

  /** Adds a handler thread for `ctx` (waiting for its first signal). */
  add(kernel: Thread, behaviour: HandlerBehaviour, ctx: SignalContext, track: TrackHandle): HandlerThread {
    kernel.state = 'waiting-signal';
    const h = new HandlerThread(kernel, behaviour, ctx, track, this);
    this.list.push(h);
    this.byContext.set(ctx, h);
    this.host.exec.admit(h);
    return h;
  }

  /** The handler a signal context wakes, if it has one here. */
  of(ctx: SignalContext): HandlerThread | undefined {
    return this.byContext.get(ctx);
  }

  /** A signal to `ctx` was submitted on `fromCpu`: the kernel delivers it to the handler's CPU. */
  signalled(ctx: SignalContext, fromCpu: number): void {
    const h = this.byContext.get(ctx);
    if (!h) return;
    const home = this.host.cpus[h.kernel.cpu]!;
    const cost = this.host.costs.signalDelivery + (home.id === fromCpu ? 0 : this.host.crossCpu());
    this.host.exec.kernel(home, this.jSignal, h.index, cost);
  }

  /** The handler's next step: take a signal, or charge the work its behaviour yielded. */
  begin(h: HandlerThread, cpu: Cpu, now: number): number {
    const host = this.host;
    if (!h.gen) {
      const count = h.ctx.take();
      if (count === 0) {
        host.exec.block(h, 'waiting-signal');
        return -1;
      }
      h.count = count;
      h.start = now;
      h.gen = h.behaviour.onSignal();
      h.work = null;
      // Receiving the signal: a system call.
      return host.costs.kernelEntryExit + host.kernelEntryCost(cpu);
    }
    const w = h.work!;
    const costs = host.costs;
    let cost = 0;
    if (w.kind === 'rpc') {
      if (w.what === 'alloc') {
        if (this.takeLock(h, now, this.homeLock(h.kernel.cpu)) < 0) return -1;
        cost += costs.lockAcquire + costs.ramAlloc;
      }
      cost += costs.ipcRoundTrip;
    } else if (w.kind === 'zero') cost += (w.bytes / 1024) * costs.pageZeroPerKiB;
    else if (w.kind === 'compute') cost += w.cycles;
    else if (w.kind === 'wait') {
      // Issue 16: the behaviour waits for a provider's reply, off the CPU, until it arrives.
      if (!w.until.done) {
        host.exec.block(h, 'waiting-disk');
        w.until.waiter = () => host.exec.wake(h);
        return -1;
      }
    } else if (w.kind === 'steal') {
      if (this.takeLock(h, now, w.partition) < 0) return -1;
      this.counters.steals++;
      cost += host.crossCpu() + costs.lockAcquire + costs.ramAlloc;
    }
    cost += h.debt;
    h.debt = 0;
    return cost;
  }

  /** The step's cycles passed: perform the work (its effects happen now) and fetch the next. */
  end(h: HandlerThread, cpu: Cpu, now: number): void {
    const w = h.work;
    if (w?.kind === 'error') this.host.error(w.text);
    let step: IteratorResult<Work, void> | undefined;
    h.debt += this.host.perform(now, cpu.id, () => {
      step = h.gen!.next();
    });
    h.lockHeld = false;
    if (step && !step.done) {
      h.work = step.value;
      return;
    }
    this.finish(h, now);
  }

  private finish(h: HandlerThread, now: number): void {
    h.gen = null;
    h.work = null;
    const d = this.host.drawing;
    if (d) {
      d.handler(h, h.start, now, h.count, h.faulters);
      d.freeFrames(now, this.host.core.phys.available() / this.host.core.pageSize);
    }
    h.faulters.length = 0;
    // With more signals pending the next step takes them; otherwise wait.
    if (h.ctx.pending === 0) this.host.exec.block(h, 'waiting-signal');
  }

  /** The allocator lock a CPU's allocations take: its partition's, or the single global one. */
  private homeLock(cpu: number): number {
    return this.lockFreeAt.length === 1 ? 0 : cpu % this.lockFreeAt.length;
  }

  /**
   * Takes allocator lock `i` at `now` for one allocation, FIFO in virtual time. Returns 0 when
   * the handler holds it now, or -1 when it sleeps until its turn (it is woken then and retries).
   */
  private takeLock(h: HandlerThread, now: number, i: number): number {
    if (h.lockHeld) return 0;
    const costs = this.host.costs;
    const turn = Math.max(now, this.lockFreeAt[i]!);
    this.lockFreeAt[i] = turn + costs.lockAcquire + costs.ramAlloc;
    h.lockHeld = true;
    if (turn === now) return 0;
    this.counters.lockWait += turn - now;
    this.counters.lockContended++;
    this.host.exec.block(h, 'in-ipc');
    this.host.exec.wakeAt(h, turn);
    return -1;
  }
}
