/**
 * Who waited for whom, and for how long: a watch over a machine's threads that runs the engine one
 * event at a time and classifies every thread after each event (states change only inside events,
 * so the intervals are exact). A thread is *blocked* when it waits for another party: in a page
 * fault, or in a call waiting for its reply (or for the RAM allocator's lock). Waiting for work (a
 * server in receive, a handler waiting for a signal) is idle, not blocked; a party that sleeps or
 * hangs of its own accord is `stuck` (it is the misbehaving one, not a victim).
 *
 * The watch also measures the longest uninterrupted stretch a CPU spent in kernel jobs: the kernel
 * never waits for a thread in this model, and this figure is what would show it if it did.
 */
import type { Thread } from '../kernel/thread.js';
import { type Cpu, KERNEL, type SimTask } from './cpu.js';
import type { Machine } from './machine.js';
import { ProgramTask } from './program_task.js';

/** What a thread is doing, as the watch classifies it. */
export type WaitKind =
  /** Running or ready to run. */
  | 'run'
  /** Waiting for work (receive, a signal, the next fault to serve). */
  | 'idle'
  /** Blocked in a page fault until someone resolves it. */
  | 'fault'
  /** Blocked in a call until its reply. */
  | 'call'
  /** Waiting for its turn at core's RAM allocator lock (core's own threads). */
  | 'lock'
  /** Off the CPU by its own doing (a misbehaving party's sleep or hang). */
  | 'stuck'
  /** Dead in a fault nobody can resolve. */
  | 'dead'
  /** Its program ended (or the thread was destroyed). */
  | 'ended';

/** What the watch measured of one thread. */
export interface ThreadWatch {
  readonly task: SimTask;
  /** Cycles blocked in faults and in calls, in total. */
  faultCycles: number;
  callCycles: number;
  /** The longest single blocked interval (fault or call), in cycles. */
  longest: number;
  /** The longest one that ended before the end of the run (the fault was resolved, the call answered). */
  longestEnded: number;
  /**
   * Blocked time since the thread last waited for work, and the most of it between two such
   * waits: for a server, everything it waited for while serving one request (a pager's calls to
   * each manager of a chain for one fault add up here).
   */
  episode: number;
  longestEpisode: number;
  /** When its program ended, or -1. */
  endedAt: number;
  /** Classification now, and since when. */
  kind: WaitKind;
  since: number;
}

/** The classification of `task` now. */
export function waitKind(task: SimTask): WaitKind {
  const k: Thread = task.kernel;
  switch (k.state) {
    case 'ready':
    case 'running':
      return 'run';
    case 'blocked-fault':
      return 'fault';
    case 'dead-fault':
      return 'dead';
    case 'destroyed':
      return 'ended';
    case 'waiting-signal':
    case 'waiting-disk':
      return 'idle';
    case 'in-ipc': {
      if (!(task instanceof ProgramTask)) return 'call';
      if (task.finished) return 'ended';
      const op = task.action?.op;
      if (op === 'call' || op === 'core') return 'call';
      if (op === 'lock') return 'lock';
      if (op === 'sleep' || op === 'hang') return 'stuck';
      return 'idle';
    }
  }
}

/** Watches the threads of a machine while it runs; see the module comment. */
export class BlockingWatch {
  readonly threads: ThreadWatch[];
  /** Longest stretch of back-to-back kernel jobs on any CPU, in cycles. */
  kernelLongest = 0;
  /** When the watched party died (see `watchDeath`), or -1. */
  diedAt = -1;
  /** The threads blocked (fault or call) at the moment the watched party died. */
  readonly blockedAtDeath: SimTask[] = [];
  private watched: SimTask | null = null;
  private readonly kernelFrom: number[];

  constructor(
    private readonly machine: Machine,
    tasks: readonly SimTask[],
  ) {
    const now = machine.engine.now;
    this.threads = tasks.map((task) => ({
      task,
      faultCycles: 0,
      callCycles: 0,
      longest: 0,
      longestEnded: 0,
      episode: 0,
      longestEpisode: 0,
      endedAt: -1,
      kind: waitKind(task),
      since: now,
    }));
    this.kernelFrom = machine.cpus.map(() => -1);
  }

  /** Every task the machine's executor runs, in admission order. */
  static tasksOf(machine: Machine): SimTask[] {
    const out: SimTask[] = [];
    for (let i = 0; ; i++) {
      const t = machine.exec.taskAtIndex(i);
      if (t === undefined) return out;
      out.push(t);
    }
  }

  /**
   * Runs the machine until nothing is left to do or the next event lies beyond `until`; `stop` is
   * asked every 4096 events (a caller's deadline or interrupt). Returns false if stopped.
   */
  run(until: number, stop: () => boolean = () => false): boolean {
    const engine = this.machine.engine;
    let n = 0;
    while (engine.nextTime <= until) {
      if ((++n & 4095) === 0 && stop()) return false;
      engine.step();
      this.sample(engine.now);
    }
    return true;
  }

  /** Closes every open interval at `end` (the end of the run). */
  finish(end: number): void {
    for (const w of this.threads) {
      this.close(w, end, false);
      w.longestEpisode = Math.max(w.longestEpisode, w.episode);
    }
    for (const c of this.machine.cpus) this.kernelStretch(c, end, true);
  }

  /** Notes who is blocked at the moment `task` ends (a party that dies). */
  watchDeath(task: SimTask): void {
    this.watched = task;
  }

  /** The watch of `task`. */
  of(task: SimTask): ThreadWatch | undefined {
    return this.threads.find((w) => w.task === task);
  }

  private sample(now: number): void {
    if (this.watched !== null && this.diedAt < 0 && waitKind(this.watched) === 'ended') {
      // Who was blocked just before the death (its event may already have woken some of them).
      this.diedAt = now;
      for (const w of this.threads)
        if (w.kind === 'fault' || w.kind === 'call') this.blockedAtDeath.push(w.task);
    }
    for (const w of this.threads) {
      const kind = waitKind(w.task);
      if (kind === w.kind) continue;
      this.close(w, now);
      if (kind === 'idle') {
        w.longestEpisode = Math.max(w.longestEpisode, w.episode);
        w.episode = 0;
      }
      w.kind = kind;
      w.since = now;
      if (kind === 'ended' && w.endedAt < 0) w.endedAt = now;
    }
    for (const c of this.machine.cpus) this.kernelStretch(c, now, false);
  }

  /** Accounts the interval since `w.since` up to `now`; `ended`: it ends there (not the run). */
  private close(w: ThreadWatch, now: number, ended = true): void {
    const d = now - w.since;
    if (d > 0 && (w.kind === 'fault' || w.kind === 'call')) {
      if (w.kind === 'fault') w.faultCycles += d;
      else w.callCycles += d;
      if (d > w.longest) w.longest = d;
      if (ended && d > w.longestEnded) w.longestEnded = d;
      w.episode += d;
    }
    w.since = now;
  }

  private kernelStretch(c: Cpu, now: number, end: boolean): void {
    const i = c.id;
    const inKernel = !end && c.mode === KERNEL;
    if (inKernel && this.kernelFrom[i]! < 0) this.kernelFrom[i] = c.runStart;
    else if (!inKernel && this.kernelFrom[i]! >= 0) {
      this.kernelLongest = Math.max(this.kernelLongest, now - this.kernelFrom[i]!);
      this.kernelFrom[i] = -1;
    }
  }
}
