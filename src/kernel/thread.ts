/**
 * Kernel threads: the entities that fault. The core model only needs identity, the protection
 * domain and the blocking state; the simulator adds scheduling on top.
 */
import { hex } from '../util/hex.js';
import type { ProtectionDomain } from './protection_domain.js';

/** Why a thread is (not) running. Values are stable: they appear in scenario expectations and JSON. */
export type ThreadState =
  | 'ready'
  | 'running'
  /** Blocked in a page fault, queued at a region map as a faulter (or waiting for its pager). */
  | 'blocked-fault'
  /** Blocked waiting for a signal. */
  | 'waiting-signal'
  /** Blocked in a synchronous IPC (call or receive). */
  | 'in-ipc'
  /** Blocked while a pager or swap provider performs disk I/O (seed 003). */
  | 'waiting-disk'
  /** Blocked forever after an unresolvable fault (a segmentation fault); only destruction ends it. */
  | 'dead-fault'
  | 'destroyed';

/** A kernel thread. */
export class Thread {
  state: ThreadState = 'ready';
  /** Instruction pointer reported with faults (for the error texts). */
  ip = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly pd: ProtectionDomain,
    /** CPU the thread is pinned to. */
    public cpu = 0,
    public priority = 0,
  ) {}

  /** True while the thread cannot run. */
  get blocked(): boolean {
    return this.state !== 'ready' && this.state !== 'running';
  }

  toString(): string {
    return `thread '${this.name}' of pd '${this.pd.label}' (${this.state}, cpu ${this.cpu}, ip ${hex(this.ip)})`;
  }
}
