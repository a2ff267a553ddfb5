/**
 * The vocabulary of the scheduler (`scheduler.ts`): its options, error codes and per-CPU counters,
 * and the records it keeps per thread (`Entry`) and per CPU (`Cpu`, ready queues with their
 * priority bitmap). Kept apart so that `scheduler.ts` holds the scheduling decisions themselves;
 * `Entry`, `Cpu` and `idleCpu` are internal (not exported from the package).
 */
import type { Thread } from './thread.js';

/** Scheduler errors. */
export type SchedErrorCode =
  | 'NOT_ADMITTED'
  | 'ALREADY_ADMITTED'
  | 'INVALID_CPU'
  | 'INVALID_PRIORITY'
  | 'INVALID_STATE'
  | 'THREAD_DESTROYED';

/** Scheduler configuration. */
export interface SchedulerOptions {
  /** Time slice in cycles (> 0). */
  readonly quantum: number;
  /** Number of priority levels; priorities are 0..levels-1 (default 256). */
  readonly levels?: number;
}

/** Per-CPU counters. */
export interface CpuSchedStats {
  /** `pick` started a thread other than the one that last ran on this CPU. */
  contextSwitches: number;
  /** Involuntary descheduling: quantum expiries plus preemptions by a higher priority. */
  preemptions: number;
  /** The subset of preemptions caused by quantum expiry. */
  quantumExpiries: number;
  /** Voluntary `yield`s. */
  yields: number;
  /** Cycles charged while the CPU had no current thread. */
  idleCycles: number;
}

export interface Entry {
  /** The scheduler that keeps this entry (a thread's `schedRecord` may be another's). */
  readonly owner: object;
  readonly thread: Thread;
  /** Cycles used of the current quantum. */
  used: number;
  /** Total cycles charged. */
  runtime: number;
  /** In a ready queue or current: the scheduler's view of "runnable". */
  runnable: boolean;
}

export interface Cpu {
  /** Ready queues indexed by priority (created lazily; the array is dense so that indexing stays fast). */
  readonly levels: (Entry[] | undefined)[];
  /** Bit p set when level p's queue is not empty: the highest ready level in a few word scans. */
  readonly ready: Uint32Array;
  /** Words of `ready` that are not zero: none means nothing is queued, without a scan. */
  readyWords: number;
  current: Entry | null;
  lastRan: Thread | null;
  readonly stats: CpuSchedStats;
}

/** A CPU with empty ready queues for `levelCount` priorities, no current thread and zero counters. */
export function idleCpu(levelCount: number): Cpu {
  return {
    levels: new Array<Entry[] | undefined>(levelCount).fill(undefined),
    ready: new Uint32Array(Math.ceil(levelCount / 32)),
    readyWords: 0,
    current: null,
    lastRan: null,
    stats: { contextSwitches: 0, preemptions: 0, quantumExpiries: 0, yields: 0, idleCycles: 0 },
  };
}
