/**
 * A thread that runs a program (components/program.ts): the executor asks it for a step, it
 * charges the action its program yielded last, and when the action's cycles have passed it
 * performs it. A blocking action (a call, a receive, waiting for a signal) leaves the thread
 * blocked until its outcome is delivered; the program resumes with it at the thread's next step.
 *
 * What each action costs and does is the machine's business (`program_actions.ts`); this class
 * only keeps the state: which action is pending, whether it is being charged, waited for, or done
 * with an outcome the program has not seen yet.
 */
import type { Action, CallOutcome, Program } from '../components/program.js';
import type { AccessType } from '../core/events.js';
import type { Thread } from '../kernel/thread.js';
import type { Cpu, TaskCategory } from './cpu.js';
import type { FaultingTask } from './machine_faults.js';

/** Actions only the machine's own programs (core's threads) yield. */
export type MachineAction =
  /** Run `run` at the end of `cycles` as a core operation (its events happen then, there). */
  | { readonly op: 'perform'; readonly run: () => unknown; readonly cycles: number }
  /** Take RAM allocator lock `index` (FIFO in virtual time; sleeps off the CPU until its turn). */
  | { readonly op: 'lock'; readonly index: number }
  /** Wait for the next page fault sent to this thread (a pager or region mapper). */
  | { readonly op: 'next-fault' };

/** Any action a program on the machine may yield. */
export type AnyAction = Action | MachineAction;

/** A program that may also yield machine actions. */
export type MachineProgram = Generator<AnyAction, void, unknown>;

/** What the outcome of charging or performing an action is. */
export const BLOCKED = Symbol('blocked');

/** How the machine charges and performs actions (`program_actions.ts`). */
export interface ActionHost {
  /** The cycles of `action` starting at `now`, or BLOCKED when the task blocked instead. */
  charge(task: ProgramTask, action: AnyAction, cpu: Cpu, now: number): number | typeof BLOCKED;
  /** Performs `action` at `now`: its outcome, or BLOCKED when it is delivered later. */
  perform(task: ProgramTask, action: AnyAction, cpu: Cpu, now: number): unknown;
  /** The program ended (returned, exited or failed): the thread is gone. */
  ended(task: ProgramTask, cpu: Cpu, now: number): void;
}

/**
 * A thread running a program; see the module comment. It can take page faults like any thread
 * (a program's `access`): the translation counters and fault state are for that.
 */
export class ProgramTask implements FaultingTask {
  index = -1;
  left = -1;
  translations = 0;
  tlbHits = 0;
  tlbMisses = 0;
  walks = 0;
  retry = false;
  faultVa = 0;
  faultKind: AccessType = 'read';
  faultStart = 0;
  faults = 0;
  reflected = false;
  /** The `access` being charged faulted: performing it raises the page fault. */
  accessFaulted = false;
  /** The error that killed the thread in a fault, if one did. */
  died: string | null = null;
  /** The action the program yielded last (null before the first and after the end). */
  action: AnyAction | null = null;
  /**
   * `fetch`: the program's next action is due; `charging`: the action's cycles run; `waiting`:
   * blocked for its outcome; `done`: the outcome is in (the program sees it at the next step);
   * `retry`: the action is charged again at the next step (a lock whose turn came, a signal that
   * arrived for a thread waiting for one).
   */
  phase: 'fetch' | 'charging' | 'waiting' | 'done' | 'retry' = 'fetch';
  private outcome: unknown = undefined;
  private ended = false;
  /** Scratch state of the action being charged (a lock reserved, a sleep begun). */
  armed = false;
  /** Extra cycles the last core operation caused (eager mappings, shootdown waits), charged next. */
  debt = 0;
  /** When the current run of work began (for the timeline), and how many signals it took. */
  runStart = -1;
  /** Cycles charged to the thread's actions so far (its own work, for wasted-work figures). */
  charged = 0;

  constructor(
    readonly kernel: Thread,
    readonly category: TaskCategory,
    private readonly program: MachineProgram | Program,
    private readonly host: ActionHost,
  ) {}

  die(_va: number, _access: AccessType, error: string): void {
    this.died ??= error;
  }

  /** Program threads' misses and faults are not attributed (attribution covers traced programs). */
  noteMiss(_va: number): void {}
  noteFault(_va: number): void {}

  /** True once the program has ended. */
  get finished(): boolean {
    return this.ended;
  }

  begin(cpu: Cpu, now: number): number {
    for (;;) {
      if (this.ended) return -1;
      if (this.phase === 'fetch' || this.phase === 'done') {
        let outcome = this.phase === 'done' ? this.outcome : undefined;
        // An RPC to core resumes its program with what core's operation returned.
        if (this.action?.op === 'core') outcome = coreResult(outcome);
        const r = (this.program as MachineProgram).next(outcome);
        this.outcome = undefined;
        this.armed = false;
        if (r.done) {
          this.ended = true;
          this.action = null;
          this.host.ended(this, cpu, now);
          return -1;
        }
        this.action = r.value;
      }
      const c = this.host.charge(this, this.action!, cpu, now);
      if (c === BLOCKED) {
        this.phase = 'waiting';
        return -1;
      }
      this.phase = 'charging';
      this.charged += c;
      return c;
    }
  }

  end(cpu: Cpu, now: number): void {
    const r = this.host.perform(this, this.action!, cpu, now);
    if (r === BLOCKED) this.phase = 'waiting';
    else {
      this.outcome = r;
      this.phase = 'done';
    }
  }

  /** The outcome of the action the thread waits for arrived; the caller wakes the thread. */
  deliver(outcome: unknown): void {
    this.outcome = outcome;
    this.phase = 'done';
  }

  /** The waited-for action is charged again when the thread runs (its condition now holds). */
  recharge(): void {
    this.phase = 'retry';
  }

  toString(): string {
    return `${this.kernel.name} (${this.category}, ${this.phase}${this.action ? ` ${this.action.op}` : ''})`;
  }
}

/** What a program that called core sees: the operation's result (core's replies always succeed). */
function coreResult(outcome: unknown): unknown {
  const o = outcome as CallOutcome;
  return o.ok ? o.reply : outcome;
}
