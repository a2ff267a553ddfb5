/**
 * Per-CPU fixed-priority round-robin scheduler, as in L4-family kernels: each CPU has one FIFO
 * ready queue per priority level, the highest non-empty level runs, and a thread that used up its
 * quantum goes to the tail of its level. There is no time in here: the simulator charges cycles
 * with `charge` and asks `pick` whenever a CPU has to decide what runs next.
 *
 * Semantic choices (documented because scenarios depend on them):
 * - The running thread (`current`) is not in a ready queue. `pick` keeps it unless a strictly
 *   higher-priority thread is ready; then it is preempted to the *head* of its level and keeps the
 *   rest of its quantum (POSIX SCHED_RR, Fiasco).
 * - Quantum expiry and `yield` put the thread at the *tail* with a fresh quantum. Cycles beyond the
 *   quantum are not carried over.
 * - A blocked thread keeps the unused part of its quantum; `unblock` appends at the tail unless
 *   `{ head: true }` (seed 003: a thread woken by the reply it waited for runs next at its level).
 * - A context switch is counted when `pick` starts a thread other than the one that last ran on
 *   that CPU; going idle is not a switch. Preemptions count involuntary descheduling (quantum
 *   expiry and preemption by a higher priority).
 * - The scheduler never sets `destroyed`: `remove` only forgets the thread (core destroys it).
 */
import { err, InvariantError, invariant, ok, type Result } from '../util/result.js';
import type { Cpu, CpuSchedStats, Entry, SchedErrorCode, SchedulerOptions } from './scheduler_types.js';
import { idleCpu } from './scheduler_types.js';
import {
  type BlockedState,
  NO_TRANSITION,
  type Thread,
  type ThreadHolder,
  type Transition,
} from './thread.js';

export type { CpuSchedStats, SchedErrorCode, SchedulerOptions } from './scheduler_types.js';

/** Per-CPU priority round-robin scheduler. */
export class Scheduler implements ThreadHolder {
  readonly quantum: number;
  readonly levelCount: number;
  private readonly cpus: Cpu[] = [];
  private readonly entries = new Map<Thread, Entry>();

  constructor(
    readonly cpuCount: number,
    opts: SchedulerOptions,
  ) {
    invariant(
      Number.isInteger(cpuCount) && cpuCount > 0,
      `cpu count must be a positive integer, got ${cpuCount}`,
    );
    invariant(opts.quantum > 0 && Number.isFinite(opts.quantum), `quantum must be > 0, got ${opts.quantum}`);
    this.quantum = opts.quantum;
    this.levelCount = opts.levels ?? 256;
    invariant(Number.isInteger(this.levelCount) && this.levelCount > 0, 'levels must be a positive integer');
    for (let i = 0; i < cpuCount; i++) this.cpus.push(idleCpu(this.levelCount));
  }

  /**
   * Makes the scheduler responsible for a thread on `thread.cpu` at `thread.priority`. A runnable
   * thread (state ready or running) joins the tail of its ready queue as `ready`; a blocked one is
   * remembered as blocked until `unblock`.
   */
  admit(t: Thread): Result<void, SchedErrorCode> {
    if (this.entries.has(t)) return err('ALREADY_ADMITTED', `${t} is already admitted to the scheduler`);
    if (t.state === 'destroyed') return err('THREAD_DESTROYED', `${t} cannot be admitted: it was destroyed`);
    const c = this.checkCpu(t.cpu, t);
    if (!c.ok) return c;
    const p = this.checkPriority(t.priority, t);
    if (!p.ok) return p;
    const e: Entry = { owner: this, thread: t, used: 0, runtime: 0, runnable: false };
    this.entries.set(t, e);
    t.schedRecord = e;
    t.hold(this);
    if (!t.blocked) this.enqueue(e, false);
    return ok(undefined);
  }

  /** True when the thread is admitted. */
  has(t: Thread): boolean {
    return this.entries.has(t);
  }

  /**
   * Takes a thread off the CPU or its ready queue and sets its blocking state. Blocking an
   * already-blocked thread only changes its state (e.g. blocked-fault to dead-fault).
   */
  block(t: Thread, state: BlockedState): Result<void, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot block ${t}: not admitted to the scheduler`);
    if (t.state === 'destroyed') return err('THREAD_DESTROYED', `cannot block ${t}: it was destroyed`);
    if ((state as string) === 'ready' || (state as string) === 'running' || (state as string) === 'destroyed')
      return err('INVALID_STATE', `cannot block ${t} in state '${state}': expected a blocking state`);
    this.deschedule(e);
    t.state = state;
    return ok(undefined);
  }

  /**
   * Makes a blocked thread ready: at the tail of its priority level, or at the head with
   * `{ head: true }`. Returns false (and changes nothing) when it was runnable already.
   */
  unblock(t: Thread, opts: { head?: boolean } = {}): Result<boolean, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot unblock ${t}: not admitted to the scheduler`);
    if (t.state === 'destroyed') return err('THREAD_DESTROYED', `cannot unblock ${t}: it was destroyed`);
    if (e.runnable) return ok(false);
    this.enqueue(e, opts.head ?? false);
    return ok(true);
  }

  /**
   * Applies a kernel transition (from an endpoint or signal receiver, which already set the
   * states): blocked threads leave their CPU or queue, woken ones are unblocked (tail, or head with
   * `{ head: true }`). Validates first: if any thread is unknown, nothing changes.
   */
  apply(tr: Transition, opts: { head?: boolean } = {}): Result<void, SchedErrorCode> {
    for (const t of [...tr.block, ...tr.wake]) {
      if (!this.entries.has(t)) return err('NOT_ADMITTED', `cannot apply transition: ${t} is not admitted`);
    }
    for (const t of tr.block) this.deschedule(this.entry(t)!);
    for (const t of tr.wake) {
      const e = this.entry(t)!;
      if (!e.runnable && t.state !== 'destroyed') this.enqueue(e, opts.head ?? false);
    }
    return ok(undefined);
  }

  /**
   * Chooses what runs on `cpu`: the current thread unless a strictly higher-priority thread is
   * ready (then the current one is preempted to the head of its level), else the head of the
   * highest non-empty level. Null when the CPU idles.
   */
  pick(cpu: number): Thread | null {
    const c = this.cpu(cpu);
    const best = this.prune(c);
    const cur = c.current;
    if (cur) {
      if (best < 0 || best <= cur.thread.priority) return cur.thread;
      c.current = null;
      cur.thread.state = 'ready';
      this.level(c, cur.thread.priority).unshift(cur);
      this.mark(c, cur.thread.priority);
      c.stats.preemptions++;
    }
    if (best < 0) return null;
    const q = this.level(c, best);
    // Mostly the only thread of its level: pop, which compiles inline, takes it like shift.
    const next = q.length === 1 ? q.pop()! : q.shift()!;
    this.mark(c, best);
    c.current = next;
    next.thread.state = 'running';
    if (c.lastRan !== next.thread) c.stats.contextSwitches++;
    c.lastRan = next.thread;
    return next.thread;
  }

  /**
   * Reconciles the scheduler with a state another layer set directly (core parks a faulter as
   * `blocked-fault` and wakes it as `ready`): a blocked thread leaves its CPU or queue, a ready one
   * joins the tail of its level. `pick` drops blocked threads on its own; waking needs `sync`.
   */
  sync(t: Thread): Result<void, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot sync ${t}: not admitted to the scheduler`);
    if (t.blocked) this.deschedule(e);
    else if (!e.runnable) this.enqueue(e, false);
    return ok(undefined);
  }

  /** The thread running on `cpu`, or null. */
  current(cpu: number): Thread | null {
    return this.cpu(cpu).current?.thread ?? null;
  }

  /** True when `pick(cpu)` would change what runs (a ready thread outranks or there is no current). */
  needsReschedule(cpu: number): boolean {
    const c = this.cpu(cpu);
    const best = this.prune(c);
    if (best < 0) return false;
    return c.current === null || best > c.current.thread.priority;
  }

  /**
   * Accounts `cycles` of run time to the current thread of `cpu`. Returns true when its quantum
   * expired: it went to the tail of its level as ready with a fresh quantum and the CPU has no
   * current thread until the next `pick`. Cycles on an idle CPU count as idle.
   */
  charge(cpu: number, cycles: number): boolean {
    if (!(cycles >= 0 && Number.isFinite(cycles)))
      throw new InvariantError(`charged cycles must be finite and >= 0, got ${cycles}`);
    const c = this.cpu(cpu);
    const cur = c.current;
    if (!cur) {
      c.stats.idleCycles += cycles;
      return false;
    }
    cur.used += cycles;
    cur.runtime += cycles;
    if (cur.used < this.quantum) return false;
    c.current = null;
    cur.used = 0;
    cur.thread.state = 'ready';
    this.level(c, cur.thread.priority).push(cur);
    this.mark(c, cur.thread.priority);
    c.stats.preemptions++;
    c.stats.quantumExpiries++;
    return true;
  }

  /**
   * `charge(cpu, cycles)` if `t` is the current thread of `cpu` (one lookup: the simulator charges
   * every step this way); false otherwise.
   */
  chargeIf(cpu: number, t: Thread, cycles: number): boolean {
    return this.cpu(cpu).current?.thread === t && this.charge(cpu, cycles);
  }

  /** The current thread of `cpu` gives up the CPU: tail of its level, fresh quantum. Returns it (or null). */
  yield(cpu: number): Thread | null {
    const c = this.cpu(cpu);
    const cur = c.current;
    if (!cur) return null;
    c.current = null;
    cur.used = 0;
    cur.thread.state = 'ready';
    this.level(c, cur.thread.priority).push(cur);
    this.mark(c, cur.thread.priority);
    c.stats.yields++;
    return cur.thread;
  }

  /**
   * Moves a thread to another CPU. A runnable thread (queued or running) joins the tail of the
   * target CPU's ready queue as ready; a blocked one becomes ready there when unblocked.
   */
  migrate(t: Thread, cpu: number): Result<void, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot migrate ${t}: not admitted to the scheduler`);
    const c = this.checkCpu(cpu, t);
    if (!c.ok) return c;
    if (t.cpu === cpu) return ok(undefined);
    const wasRunnable = e.runnable;
    this.deschedule(e);
    t.cpu = cpu;
    if (wasRunnable) this.enqueue(e, false);
    return ok(undefined);
  }

  /** Changes a thread's priority; a runnable thread goes to the tail of its new level. */
  setPriority(t: Thread, priority: number): Result<void, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot change the priority of ${t}: not admitted to the scheduler`);
    const p = this.checkPriority(priority, t);
    if (!p.ok) return p;
    const wasRunnable = e.runnable;
    this.deschedule(e);
    t.priority = priority;
    if (wasRunnable) this.enqueue(e, false);
    return ok(undefined);
  }

  /** Forgets a thread (it is being destroyed); does not change its state. */
  remove(t: Thread): Result<void, SchedErrorCode> {
    const e = this.entry(t);
    if (!e) return err('NOT_ADMITTED', `cannot remove ${t}: not admitted to the scheduler`);
    this.detach(e);
    this.entries.delete(t);
    if (t.schedRecord === e) t.schedRecord = null;
    t.release(this);
    return ok(undefined);
  }

  /** ThreadHolder: forget the thread (see `remove`). */
  unlinkThread(t: Thread): Transition {
    this.remove(t);
    return NO_TRANSITION;
  }

  /** Ready threads of `cpu` in the order `pick` would take them (highest level first, FIFO within). */
  readyQueue(cpu: number): Thread[] {
    const c = this.cpu(cpu);
    const out: Thread[] = [];
    for (let p = c.levels.length - 1; p >= 0; p--)
      for (const e of c.levels[p] ?? []) if (!e.thread.blocked) out.push(e.thread);
    return out;
  }

  /** Cycles used of the current quantum by `t` (0 when unknown). */
  quantumUsed(t: Thread): number {
    return this.entry(t)?.used ?? 0;
  }

  /** Total cycles charged to `t` (0 when unknown). */
  runtime(t: Thread): number {
    return this.entry(t)?.runtime ?? 0;
  }

  /** Per-CPU counters (a copy). */
  stats(cpu: number): CpuSchedStats {
    return { ...this.cpu(cpu).stats };
  }

  toString(): string {
    const parts = this.cpus.map(
      (c, i) =>
        `cpu ${i}: ${c.current ? `'${c.current.thread.name}'` : 'idle'}, ${this.readyQueue(i).length} ready`,
    );
    return `scheduler (quantum ${this.quantum} cycles; ${parts.join('; ')})`;
  }

  /** The entry of `t`: its `schedRecord` when this scheduler admitted it last, else from the map. */
  private entry(t: Thread): Entry | undefined {
    const r = t.schedRecord as Entry | null;
    return r !== null && r.owner === this ? r : this.entries.get(t);
  }

  private cpu(cpu: number): Cpu {
    const c = this.cpus[cpu];
    // Checked without building the message on every call: this runs per scheduling decision.
    if (c === undefined)
      throw new InvariantError(`cpu ${cpu} does not exist (scheduler has ${this.cpuCount})`);
    return c;
  }

  private checkCpu(cpu: number, t: Thread): Result<void, SchedErrorCode> {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount)
      return err('INVALID_CPU', `${t}: cpu ${cpu} does not exist, expected 0..${this.cpuCount - 1}`);
    return ok(undefined);
  }

  private checkPriority(p: number, t: Thread): Result<void, SchedErrorCode> {
    if (!Number.isInteger(p) || p < 0 || p >= this.levelCount)
      return err(
        'INVALID_PRIORITY',
        `${t}: priority ${p} is out of range, expected 0..${this.levelCount - 1}`,
      );
    return ok(undefined);
  }

  private level(c: Cpu, p: number): Entry[] {
    let q = c.levels[p];
    if (!q) {
      q = [];
      c.levels[p] = q;
    }
    return q;
  }

  /** Updates level p's bit in the ready bitmap after its queue changed. */
  private mark(c: Cpu, p: number): void {
    const w = p >>> 5;
    const bit = 1 << (p & 31);
    const was = c.ready[w]!;
    const now = (c.levels[p]?.length ?? 0) > 0 ? was | bit : was & ~bit;
    c.ready[w] = now;
    if ((was === 0) !== (now === 0)) c.readyWords += now === 0 ? -1 : 1;
  }

  /** Highest priority with a queued thread, or -1. */
  private highest(c: Cpu): number {
    if (c.readyWords === 0) return -1;
    const r = c.ready;
    for (let w = r.length - 1; w >= 0; w--) {
      const v = r[w]!;
      if (v !== 0) return w * 32 + 31 - Math.clz32(v);
    }
    return -1;
  }

  /**
   * Forgets entries whose thread another layer blocked (see `sync`) where `pick` would meet them:
   * the current thread and the heads of the highest levels. Returns the highest level with a
   * runnable head, or -1. Stale entries deeper in a queue are dropped when they reach its head.
   */
  private prune(c: Cpu): number {
    if (c.current?.thread.blocked) this.detach(c.current);
    for (;;) {
      const best = this.highest(c);
      if (best < 0) return -1;
      const q = c.levels[best]!;
      if (!q[0]!.thread.blocked) return best;
      q.shift()!.runnable = false;
      this.mark(c, best);
    }
  }

  private enqueue(e: Entry, head: boolean): void {
    const c = this.cpu(e.thread.cpu);
    const q = this.level(c, e.thread.priority);
    if (head) q.unshift(e);
    else q.push(e);
    this.mark(c, e.thread.priority);
    e.runnable = true;
    e.thread.state = 'ready';
  }

  /** Takes a runnable entry off its CPU or queue (state untouched). */
  private deschedule(e: Entry): void {
    if (e.runnable) this.detach(e);
  }

  private detach(e: Entry): void {
    const c = this.cpu(e.thread.cpu);
    // The current thread is in no ready queue (pick takes it out): no search when it blocks.
    if (c.current === e) c.current = null;
    else {
      const q = c.levels[e.thread.priority];
      const i = q ? q.indexOf(e) : -1;
      if (i >= 0) {
        q!.splice(i, 1);
        this.mark(c, e.thread.priority);
      }
    }
    e.runnable = false;
  }
}
