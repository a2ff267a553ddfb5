/**
 * How CPUs spend time. Each CPU does one thing at a time:
 *
 * 1. **Kernel jobs** first (interrupt and exception entries, IPI receipts, deliveries), in FIFO
 *    order, never preempted: the kernel runs with interrupts disabled.
 * 2. Otherwise a **step of the thread the kernel's scheduler picks** (fixed priorities, round
 *    robin, quantum). A step is whatever its task does between two points where the simulator
 *    must look: a slice of trace records, one packet of driver work, one RPC of a handler.
 *
 * A kernel job or a higher-priority thread that becomes ready **preempts** the running step at
 * once: the step's remaining cycles are kept and it resumes later, so an interrupt's latency does
 * not wait for a user slice to end, and the interrupted thread's work is pushed back by exactly
 * the time taken from it. A step's effects happen at its end (`SimTask.end`), at the simulated
 * time its cycles have really passed.
 *
 * Switching to a thread of another protection domain switches address spaces (a TLB flush
 * without ASID tags); the machine prices that through `switchCost`.
 */
import type { Scheduler } from '../kernel/scheduler.js';
import type { BlockedState, Thread } from '../kernel/thread.js';
import { InvariantError, unwrap } from '../util/result.js';
import { type Cpu, ENDING, IDLE, KERNEL, type SimTask, TASK } from './cpu.js';
import type { EventEngine } from './engine.js';
import type { MachineTimeline } from './machine_timeline.js';

const HEAD = Object.freeze({ head: true });
const TAIL = Object.freeze({ head: false });

/** What a kernel job does when its cycles have passed. */
export type KernelJobDone = (cpu: Cpu, arg: number, now: number) => void;

/** What the executor needs from the machine. */
export interface ExecutorHost {
  /** Cycles to switch `cpu` to `task` (address-space switch and its flush), counted by the host. */
  switchCost(cpu: Cpu, task: SimTask): number;
  /** A thread used up its quantum on `cpu`: the timer interrupt's cost. */
  tickCost(cpu: Cpu): number;
  /** Where pieces of work are drawn, if anywhere. */
  readonly drawing: MachineTimeline | null;
}

/** Runs kernel jobs and thread steps on every CPU; see the module comment. */
export class Executor {
  private readonly done: KernelJobDone[] = [];
  private readonly tasks = new Map<Thread, SimTask>();
  private readonly byIndex: SimTask[] = [];
  private readonly kernelEnd: ((now: number) => void)[];
  private readonly stepEnd: ((now: number) => void)[];
  private readonly tickJob: number;

  constructor(
    private readonly engine: EventEngine,
    readonly scheduler: Scheduler,
    private readonly cpus: readonly Cpu[],
    private readonly host: ExecutorHost,
  ) {
    this.kernelEnd = cpus.map((c) => () => this.kernelDone(c));
    this.stepEnd = cpus.map((c) => () => this.stepDone(c));
    this.tickJob = this.defineJob((cpu) => {
      cpu.ticks++;
    }, 'timer tick');
  }

  /** Registers a kind of kernel job; returns its number for `kernel`. */
  defineJob(done: KernelJobDone, label = 'kernel'): number {
    this.done.push(done);
    this.host.drawing?.labelJob(this.done.length - 1, label);
    return this.done.length - 1;
  }

  /** Queues a kernel job on `cpu` now; it preempts a running thread step. */
  kernel(cpu: Cpu, kind: number, arg: number, cost: number): void {
    cpu.kernelJobs.push(kind, arg, cost);
    if (cpu.mode === TASK) this.preempt(cpu);
    if (cpu.mode === IDLE) this.dispatch(cpu);
  }

  /** Admits a task to the scheduler on its thread's CPU (runnable or blocked as the thread is). */
  admit(task: SimTask): void {
    task.index = this.byIndex.length;
    this.byIndex.push(task);
    this.tasks.set(task.kernel, task);
    unwrap(this.scheduler.admit(task.kernel));
    if (!task.kernel.blocked) this.reconsider(this.cpus[task.kernel.cpu]!);
  }

  /** The task of a kernel thread, if it runs here. */
  taskOf(t: Thread): SimTask | undefined {
    return this.tasks.get(t);
  }

  /** The task with executor number `index` (kernel jobs carry it). */
  taskAtIndex(index: number): SimTask {
    return this.byIndex[index]!;
  }

  /** Blocks a task in `state` (it leaves its CPU at the end of the step in progress). */
  block(task: SimTask, state: BlockedState): void {
    unwrap(this.scheduler.block(task.kernel, state));
  }

  /** Makes a blocked task ready now (at the head of its level with `head`); it may preempt. */
  wake(task: SimTask, head = false): void {
    const k = task.kernel;
    if (k.state === 'destroyed' || k.state === 'dead-fault') return;
    if (!unwrap(this.scheduler.unblock(k, head ? HEAD : TAIL))) return;
    this.reconsider(this.cpus[k.cpu]!);
  }

  /** Makes a blocked task ready at time `at` (a message arriving then). */
  wakeAt(task: SimTask, at: number): void {
    if (at <= this.engine.now) this.wake(task);
    else this.engine.at(at, () => this.wake(task));
  }

  /** Forgets a task that ended (its thread leaves the scheduler). */
  remove(task: SimTask): void {
    unwrap(this.scheduler.remove(task.kernel));
    this.tasks.delete(task.kernel);
  }

  /** Moves a task to another CPU (it continues there; a preempted step's rest goes with it). */
  migrate(task: SimTask, to: number): void {
    const from = this.cpus[task.kernel.cpu]!;
    if (from.id === to) return;
    if (from.mode === TASK && from.runTask === task) {
      this.preempt(from);
      unwrap(this.scheduler.migrate(task.kernel, to));
      this.dispatch(from);
    } else unwrap(this.scheduler.migrate(task.kernel, to));
    if (!task.kernel.blocked) this.reconsider(this.cpus[to]!);
  }

  /** Something may have changed what `cpu` should run: start it, or preempt for a higher priority. */
  reconsider(cpu: Cpu): void {
    if (cpu.mode === IDLE) this.dispatch(cpu);
    else if (cpu.mode === TASK && this.scheduler.needsReschedule(cpu.id)) {
      this.preempt(cpu);
      this.dispatch(cpu);
    }
  }

  /** Interrupts the running step of `cpu` at `now`, keeping its remaining cycles. */
  private preempt(cpu: Cpu): void {
    const task = cpu.runTask!;
    const now = this.engine.now;
    this.engine.cancelSlot(cpu.runEvent, this.stepEnd[cpu.id]!);
    const ran = now - cpu.runStart;
    const left = Math.min(cpu.runCycles, cpu.runEnd - now);
    // The part of the step that ran counts against the quantum and the task's category; a
    // switch cut short is simply paid again when the task resumes.
    const stepRan = cpu.runCycles - left;
    cpu.account(task.category, stepRan);
    cpu.kernelCycles += ran - stepRan;
    task.left = Math.max(0, left);
    cpu.preemptions++;
    this.host.drawing?.task(cpu, task, cpu.runStart, now);
    cpu.mode = IDLE;
    cpu.runTask = null;
    cpu.freeAt = Math.max(cpu.freeAt, now);
    if (this.scheduler.chargeIf(cpu.id, task.kernel, stepRan))
      cpu.kernelJobs.push(this.tickJob, 0, this.host.tickCost(cpu));
  }

  /** Starts the next thing on an idle CPU: a kernel job, else a step of the picked thread. */
  private dispatch(cpu: Cpu): void {
    const now = this.engine.now;
    if (cpu.kernelJobs.size > 0) {
      const cost = cpu.kernelJobs.headCost;
      cpu.mode = KERNEL;
      cpu.runStart = now;
      cpu.runEnd = now + cost;
      cpu.kernelCycles += cost;
      cpu.kernelJobsRun++;
      this.engine.schedule(now + cost, this.kernelEnd[cpu.id]!);
      return;
    }
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) stuck(cpu);
      const k = this.scheduler.pick(cpu.id);
      if (!k) return;
      // Mostly the thread that ran last on this CPU picks up again: no map lookup then.
      const last = cpu.current;
      const task = last !== null && last.kernel === k ? last : this.tasks.get(k);
      if (task === undefined) unknownTask(k);
      const sw = cpu.current === task ? 0 : this.host.switchCost(cpu, task);
      if (cpu.current !== task) {
        cpu.contextSwitches++;
        cpu.current = task;
      }
      let cycles = task.left;
      if (cycles >= 0) task.left = -1;
      else {
        // While the task decides its step nothing else starts here: its decision may wake threads.
        cpu.mode = ENDING;
        cycles = task.begin(cpu, now + sw);
        cpu.mode = IDLE;
        if (cycles < 0) {
          if (this.scheduler.current(cpu.id) === k && !k.blocked) stillRunning(k);
          cpu.kernelCycles += sw;
          // Its decision may have queued kernel work here (a message it sent): that runs first.
          if (cpu.kernelJobs.size > 0) {
            this.dispatch(cpu);
            return;
          }
          continue;
        }
      }
      cpu.mode = TASK;
      cpu.runTask = task;
      cpu.runStart = now;
      cpu.runCycles = cycles;
      cpu.runEnd = now + sw + cycles;
      cpu.runEvent = this.engine.schedule(cpu.runEnd, this.stepEnd[cpu.id]!);
      return;
    }
  }

  private kernelDone(cpu: Cpu): void {
    const q = cpu.kernelJobs;
    const kind = q.headKind;
    const arg = q.headArg;
    q.shift();
    // While the job's effects run, nothing starts on this CPU: they may wake threads or queue jobs
    // here, and the choice of what runs next is made once, after them.
    cpu.mode = ENDING;
    const now = this.engine.now;
    cpu.freeAt = now;
    this.host.drawing?.kernel(cpu, kind, cpu.runStart, now);
    this.done[kind]!(cpu, arg, now);
    cpu.mode = IDLE;
    this.dispatch(cpu);
  }

  private stepDone(cpu: Cpu): void {
    const task = cpu.runTask!;
    const now = this.engine.now;
    const cycles = cpu.runCycles;
    cpu.account(task.category, cycles);
    cpu.kernelCycles += now - cpu.runStart - cycles;
    cpu.mode = ENDING;
    cpu.runTask = null;
    cpu.freeAt = now;
    this.host.drawing?.task(cpu, task, cpu.runStart, now);
    // A still-running thread is charged now; one that blocked in the step was charged then.
    if (this.scheduler.chargeIf(cpu.id, task.kernel, cycles))
      cpu.kernelJobs.push(this.tickJob, 0, this.host.tickCost(cpu));
    task.end(cpu, now);
    cpu.mode = IDLE;
    this.dispatch(cpu);
  }
}

// Broken invariants of the dispatch loop, kept out of line so the loop allocates nothing.
function stuck(cpu: Cpu): never {
  throw new InvariantError(`${cpu}: no task takes a step (a task's begin() neither blocks nor runs)`);
}

function unknownTask(k: Thread): never {
  throw new InvariantError(`${k} is scheduled but has no task on this machine`);
}

function stillRunning(k: Thread): never {
  throw new InvariantError(`${k}: begin() returned -1 but the thread is still running`);
}
