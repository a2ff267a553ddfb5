/**
 * Kernel-side signal delivery (Genode's signal receiver): threads wait on a set of signal contexts.
 * A context whose first pending submission arrives is reported with `notify`; it becomes
 * deliverable, and one waiting thread (the longest waiting) is woken with it. `wait` hands out the
 * oldest deliverable context with its coalesced count, or blocks the thread in `waiting-signal`.
 *
 * The receiver works on a minimal context interface so that core's `SignalContext` fits without
 * the kernel importing core: the count lives in the context, the receiver only orders delivery.
 */
import { err, ok, type Result } from '../util/result.js';
import type { Thread, ThreadHolder, Transition } from './thread.js';

/** What the receiver needs from a signal context (core's `SignalContext` satisfies it). */
export interface SignalSource {
  readonly id: number;
  /** Submissions not yet delivered. */
  readonly pending: number;
  /** Delivers: returns the coalesced count (0 if nothing was pending) and clears it. */
  take(): number;
  readonly label?: string;
}

/** A delivery: `thread` received `count` coalesced submissions of `context`. */
export interface SignalEvent {
  readonly kind: 'signal';
  readonly thread: Thread;
  readonly context: SignalSource;
  readonly count: number;
}

/** The transition a receiver operation caused. */
export type SignalOutcome = Transition<SignalEvent>;

/** Signal receiver errors (nothing changes). */
export type SignalErrorCode = 'THREAD_BLOCKED' | 'THREAD_DESTROYED' | 'NOT_MANAGED' | 'ALREADY_MANAGED';

/** Per-receiver counters. */
export interface SignalReceiverStats {
  /** Deliveries made (each may carry several submissions). */
  deliveries: number;
  /** Submissions delivered (sum of the counts). */
  signals: number;
  /** `wait` calls that blocked. */
  blockedWaits: number;
}

/** A set of signal contexts that threads wait on. */
export class SignalReceiver implements ThreadHolder {
  readonly stats: SignalReceiverStats = { deliveries: 0, signals: 0, blockedWaits: 0 };
  private readonly managed = new Map<number, SignalSource>();
  /** Contexts with pending submissions not yet handed out, oldest first. */
  private readonly deliverable: SignalSource[] = [];
  /** Threads blocked in `wait`, FIFO. */
  private readonly waiting: Thread[] = [];

  constructor(
    readonly id: number,
    readonly label: string,
  ) {}

  /** Adds a context to the set; one already pending becomes deliverable (the caller then drains via `wait`). */
  manage(ctx: SignalSource): Result<SignalOutcome, SignalErrorCode> {
    if (this.managed.has(ctx.id))
      return err('ALREADY_MANAGED', `${this} already manages a signal context #${ctx.id}`);
    this.managed.set(ctx.id, ctx);
    return ok(this.notifyManaged(ctx));
  }

  /** Removes a context from the set (its pending submissions stay in the context, undelivered). */
  dissolve(ctx: SignalSource): Result<void, SignalErrorCode> {
    if (this.managed.get(ctx.id) !== ctx) return err('NOT_MANAGED', `${this} does not manage ${name(ctx)}`);
    this.managed.delete(ctx.id);
    const i = this.deliverable.indexOf(ctx);
    if (i >= 0) this.deliverable.splice(i, 1);
    return ok(undefined);
  }

  /**
   * Reports that a managed context has pending submissions (call it from the context's listener).
   * Wakes the longest-waiting thread with the context and its count; with no waiter the context
   * waits in FIFO order. Nothing happens when it has nothing pending or is deliverable already
   * (further submissions coalesce in its count).
   */
  notify(ctx: SignalSource): Result<SignalOutcome, SignalErrorCode> {
    if (this.managed.get(ctx.id) !== ctx)
      return err('NOT_MANAGED', `cannot notify ${name(ctx)}: ${this} does not manage it`);
    return ok(this.notifyManaged(ctx));
  }

  /**
   * The thread asks for the next signal: it gets the oldest deliverable context with its
   * coalesced count at once (an event, no state change), or blocks in `waiting-signal`.
   */
  wait(t: Thread): Result<SignalOutcome, SignalErrorCode> {
    if (t.state === 'destroyed')
      return err('THREAD_DESTROYED', `${t} cannot wait for signals: it was destroyed`);
    if (t.blocked)
      return err(
        'THREAD_BLOCKED',
        `${t} cannot wait on ${this}: it is ${t.state}, expected ready or running`,
      );
    for (;;) {
      const ctx = this.deliverable.shift();
      if (!ctx) break;
      const count = ctx.take();
      if (count > 0) return ok({ wake: [], block: [], events: [this.delivered(t, ctx, count)] });
    }
    t.state = 'waiting-signal';
    this.waiting.push(t);
    t.hold(this);
    this.stats.blockedWaits++;
    return ok({ wake: [], block: [t], events: [] });
  }

  /** Cancels a thread's wait (it is being destroyed; its state is left alone). */
  remove(t: Thread): SignalOutcome {
    const i = this.waiting.indexOf(t);
    if (i >= 0) this.waiting.splice(i, 1);
    t.release(this);
    return { wake: [], block: [], events: [] };
  }

  /** ThreadHolder: see `remove`. */
  unlinkThread(t: Thread): Transition {
    return this.remove(t);
  }

  /** Threads blocked in `wait`, FIFO. */
  waiters(): Thread[] {
    return [...this.waiting];
  }

  /** Deliverable contexts, oldest first. */
  pendingContexts(): SignalSource[] {
    return [...this.deliverable];
  }

  /** True when the receiver manages this context. */
  manages(ctx: SignalSource): boolean {
    return this.managed.get(ctx.id) === ctx;
  }

  toString(): string {
    return `signal receiver #${this.id} '${this.label}' (${this.managed.size} contexts, ${this.deliverable.length} deliverable, ${this.waiting.length} waiting)`;
  }

  private notifyManaged(ctx: SignalSource): SignalOutcome {
    if (ctx.pending === 0 || this.deliverable.includes(ctx)) return { wake: [], block: [], events: [] };
    const t = this.waiting.shift();
    if (!t) {
      this.deliverable.push(ctx);
      return { wake: [], block: [], events: [] };
    }
    t.release(this);
    t.state = 'ready';
    return { wake: [t], block: [], events: [this.delivered(t, ctx, ctx.take())] };
  }

  private delivered(t: Thread, ctx: SignalSource, count: number): SignalEvent {
    this.stats.deliveries++;
    this.stats.signals += count;
    return { kind: 'signal', thread: t, context: ctx, count };
  }
}

function name(ctx: SignalSource): string {
  return `signal context #${ctx.id}${ctx.label ? ` '${ctx.label}'` : ''}`;
}
