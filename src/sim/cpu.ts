/**
 * One simulated CPU: its TLBs, the address space it has loaded, what it is executing (a kernel
 * job or a step of a thread) and its counters. The executor (`executor.ts`) drives it; counters
 * are plain fields on the hot path and go to the metrics registry at the end of a run.
 */
import type { TlbLevelSpec } from '../hw/arch.js';
import { Tlb } from '../hw/tlb.js';
import type { Thread } from '../kernel/thread.js';
import { KernelQueue } from './kernel_queue.js';

/** What a CPU is doing: nothing, a kernel job, or a step of a thread. */
export const IDLE = 0;
export const KERNEL = 1;
export const TASK = 2;
/** A kernel job's or a step's effects are being performed: what runs next is chosen right after. */
export const ENDING = 3;

/** Where a thread's cycles are accounted. */
export type TaskCategory = 'user' | 'pager' | 'handler' | 'driver' | 'core';

/**
 * A thread as the executor runs it: a kernel thread plus what it does when it gets the CPU. The
 * executor calls `begin` for the next step, charges the cycles it returns (stretched by any
 * preemption), then calls `end` when they have passed.
 */
export interface SimTask {
  readonly kernel: Thread;
  readonly category: TaskCategory;
  /** The executor's number for this task (kernel jobs name tasks by it); set on admission. */
  index: number;
  /** Cycles left of a step that was preempted (the executor resumes it; may be 0), else -1. */
  left: number;
  /**
   * Starts the next step at `now`: returns the cycles it takes (≥ 0), or -1 when the task blocked
   * or ended instead (it told the executor; the CPU picks again).
   */
  begin(cpu: Cpu, now: number): number;
  /** The step in progress completed at `now`. */
  end(cpu: Cpu, now: number): void;
  /**
   * True when the step just run ended only because the task's input ran out (a traced thread
   * between two batches of its trace): its next step continues it, and the timeline draws the two
   * as one piece when nothing came between them.
   */
  readonly continues?: boolean;
}

/** A simulated CPU. */
export class Cpu {
  private tlbState: Tlb | null = null;
  /** Simulated time at which the CPU last finished something (a job, a step or part of one). */
  freeAt = 0;
  /** The task that ran last (a switch to another one is a context switch), and the ASID loaded. */
  current: SimTask | null = null;
  loadedAsid = -1;
  /** ASIDs that may have entries in this CPU's TLBs (who needs a shootdown). */
  readonly asids = new Set<number>();

  // Executor state (see executor.ts).
  /** IDLE, KERNEL, TASK or ENDING. */
  mode = IDLE;
  readonly kernelJobs = new KernelQueue();
  /**
   * The task whose step runs (mode TASK), when the step (re)started, when it ends, and the engine
   * slot of its end event (`EventEngine.schedule`).
   */
  runTask: SimTask | null = null;
  runStart = 0;
  runEnd = 0;
  runEvent = -1;
  /** Cycles of the running step proper (without the switch that preceded it). */
  runCycles = 0;

  // Counters.
  userCycles = 0;
  kernelCycles = 0;
  pagerCycles = 0;
  handlerCycles = 0;
  driverCycles = 0;
  ticks = 0;
  contextSwitches = 0;
  asSwitches = 0;
  tlbFlushes = 0;
  shootdownsReceived = 0;
  /** Steps interrupted by a kernel job or a higher-priority thread. */
  preemptions = 0;
  /** Kernel jobs run (interrupt entries, IPIs, exception entries, deliveries). */
  kernelJobsRun = 0;

  constructor(
    readonly id: number,
    private readonly tlbSpec: readonly TlbLevelSpec[],
  ) {}

  /**
   * The CPU's TLBs, built on first use: a CPU that only takes interrupts never pays for them (16
   * CPUs' worth of empty TLBs cost more than a short IRQ run). A fresh TLB is what a flushed unused
   * one would be, so results do not depend on when it is built.
   */
  get tlb(): Tlb {
    if (this.tlbState === null) this.tlbState = new Tlb(this.tlbSpec);
    return this.tlbState;
  }

  /** Flushes every TLB entry (an address-space switch without tags). */
  flushTlb(): void {
    this.tlbState?.flushAll();
    this.asids.clear();
    this.tlbFlushes++;
  }

  /** Adds `cycles` to the counter of `category`. */
  account(category: TaskCategory, cycles: number): void {
    if (category === 'user') this.userCycles += cycles;
    else if (category === 'pager' || category === 'core') this.pagerCycles += cycles;
    else if (category === 'driver') this.driverCycles += cycles;
    else this.handlerCycles += cycles;
  }

  toString(): string {
    const what =
      this.mode === TASK
        ? `running ${this.runTask?.kernel.name}`
        : this.mode === KERNEL
          ? 'in the kernel'
          : 'idle';
    return `cpu ${this.id} (${what}, busy until ${this.freeAt})`;
  }
}
