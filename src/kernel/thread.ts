/**
 * Kernel threads: the entities that fault, call, wait and run. The core model only needs
 * identity, the protection domain and the blocking state; the kernel objects (scheduler, IPC
 * endpoints, signal receivers) keep their own queues and register themselves as holders so that
 * destroying a thread can unlink it everywhere with one call.
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

/** The states in which a thread waits for something (every state but ready, running and destroyed). */
export type BlockedState = Exclude<ThreadState, 'ready' | 'running' | 'destroyed'>;

/** What a kernel object reports beside state changes (a message handed over, a timeout, a delivery). */
export interface KernelEvent {
  /** Stable discriminator, e.g. 'received', 'call-failed', 'signal'. */
  readonly kind: string;
}

/**
 * Which threads a kernel transition changed: `wake` went from blocked to ready, `block` from
 * runnable to blocked, and `events` says what happened in order. The simulator charges costs and
 * records timeline slices from it and hands it to `Scheduler.apply`.
 */
export interface Transition<E extends KernelEvent = KernelEvent> {
  readonly wake: readonly Thread[];
  readonly block: readonly Thread[];
  readonly events: readonly E[];
}

/** The transition that changed nobody. */
export const NO_TRANSITION: Transition<never> = Object.freeze({ wake: [], block: [], events: [] });

/** Concatenates transitions (in order). */
export function mergeTransitions<E extends KernelEvent>(parts: readonly Transition<E>[]): Transition<E> {
  const wake: Thread[] = [];
  const block: Thread[] = [];
  const events: E[] = [];
  for (const p of parts) {
    wake.push(...p.wake);
    block.push(...p.block);
    events.push(...p.events);
  }
  return { wake, block, events };
}

/** A kernel object that keeps references to threads (a ready queue, an endpoint, a signal receiver). */
export interface ThreadHolder {
  /**
   * Drops every reference to `t` without changing `t.state` (its destroyer does that). May wake
   * other threads, e.g. callers whose server died; those are reported.
   */
  unlinkThread(t: Thread): Transition;
}

/** A kernel thread. */
export class Thread {
  state: ThreadState = 'ready';
  /** Instruction pointer reported with faults (for the error texts). */
  ip = 0;
  /** Kernel objects that currently reference this thread, in the order they took it. */
  private readonly holderList: ThreadHolder[] = [];
  /**
   * The record of the scheduler that admitted this thread last, so that blocking and waking find
   * it without a map lookup (once or twice per interrupt). Opaque outside the scheduler.
   */
  schedRecord: object | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly pd: ProtectionDomain,
    /** CPU the thread is pinned to. */
    public cpu = 0,
    /** Scheduling priority: higher is more urgent (0..255 by default). Change it through the scheduler. */
    public priority = 0,
  ) {}

  /** True while the thread cannot run. */
  get blocked(): boolean {
    return this.state !== 'ready' && this.state !== 'running';
  }

  /** Kernel objects currently referencing this thread. */
  get holders(): readonly ThreadHolder[] {
    return this.holderList;
  }

  /** Registers a kernel object that references this thread (idempotent). For kernel objects only. */
  hold(h: ThreadHolder): void {
    if (!this.holderList.includes(h)) this.holderList.push(h);
  }

  /** Unregisters a kernel object that no longer references this thread. For kernel objects only. */
  release(h: ThreadHolder): void {
    const i = this.holderList.indexOf(h);
    if (i >= 0) this.holderList.splice(i, 1);
  }

  /**
   * Removes this thread from every kernel queue and slot (scheduler, endpoints, signal receivers)
   * before or after it is destroyed; leaves `state` alone. Returns the threads this woke (callers
   * whose pending reply can no longer come, reported as aborted by their endpoint).
   */
  unlink(): Transition {
    const parts: Transition[] = [];
    while (this.holderList.length > 0) {
      const h = this.holderList[0]!;
      parts.push(h.unlinkThread(this));
      this.release(h);
    }
    return mergeTransitions(parts);
  }

  toString(): string {
    return `thread '${this.name}' of pd '${this.pd.label}' (${this.state}, cpu ${this.cpu}, ip ${hex(this.ip)})`;
  }
}
