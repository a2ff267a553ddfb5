/**
 * User-level fault handlers on the machine: program threads (`program_task.ts`) that wait for a
 * region map's fault signal and then work through core's RPCs. A signal submitted by core reaches
 * the handler's CPU as a kernel job (an IPI first when it comes from another CPU); the handler runs
 * when the scheduler picks it. For the timeline, a handler's run lasts from taking a signal to
 * waiting for the next one.
 */
import type { SignalContext } from '../core/signal.js';
import type { CostModel } from './cost.js';
import type { Cpu, SimTask } from './cpu.js';
import type { Executor } from './executor.js';
import type { MachineTimeline } from './machine_timeline.js';
import type { ProgramActions } from './program_actions.js';
import type { ProgramTask } from './program_task.js';

/** What handlers need from the machine. */
export interface HandlerHost {
  readonly costs: CostModel;
  readonly cpus: readonly Cpu[];
  readonly exec: Executor;
  readonly actions: ProgramActions;
  readonly drawing: MachineTimeline | null;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
  /** Free frames now (for the timeline's counter). */
  freeFrames(): number;
}

/** One handler thread and what the timeline needs of it. */
export interface HandlerThread {
  readonly task: ProgramTask;
  readonly ctx: SignalContext;
  /** Faulters whose signals the current run serves (for the timeline's arrows). */
  readonly faulters: SimTask[];
  /** When the current run began (-1: waiting), and the signals it took. */
  start: number;
  count: number;
}

/** The handler threads of a machine. */
export class Handlers {
  readonly list: HandlerThread[] = [];
  private readonly byContext = new Map<SignalContext, HandlerThread>();
  private readonly byTask = new Map<ProgramTask, HandlerThread>();
  private readonly jSignal: number;

  constructor(private readonly host: HandlerHost) {
    this.jSignal = host.exec.defineJob((_cpu, arg) => {
      const h = this.list[arg];
      if (h) host.actions.signalArrived(h.ctx);
    }, 'signal');
  }

  /** Registers a handler thread serving `ctx` (its program waits for the signals). */
  add(task: ProgramTask, ctx: SignalContext): HandlerThread {
    const h: HandlerThread = { task, ctx, faulters: [], start: -1, count: 0 };
    this.list.push(h);
    this.byContext.set(ctx, h);
    this.byTask.set(task, h);
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
    const home = this.host.cpus[h.task.kernel.cpu]!;
    const cost = this.host.costs.signalDelivery + (home.id === fromCpu ? 0 : this.host.crossCpu());
    this.host.exec.kernel(home, this.jSignal, this.list.indexOf(h), cost);
  }

  /** A handler took `count` signals at `now`: its run begins. */
  took(task: ProgramTask, now: number, count: number): void {
    const h = this.byTask.get(task);
    if (!h) return;
    h.start = now;
    h.count = count;
  }

  /** A handler waits for its next signal at `now`: its run, if any, ends. */
  waits(task: ProgramTask, now: number): void {
    const h = this.byTask.get(task);
    if (!h || h.start < 0) return;
    const d = this.host.drawing;
    if (d) {
      d.handler(task, h.start, now, h.count, h.faulters);
      d.freeFrames(now, this.host.freeFrames());
    }
    h.faulters.length = 0;
    h.start = -1;
  }
}
