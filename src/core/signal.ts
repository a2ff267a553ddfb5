/**
 * Signal contexts: asynchronous notifications without payload. Submissions to a context whose
 * previous signal was not delivered yet coalesce into a count, so a fast producer cannot make a
 * slow handler (or core) queue without bound.
 */
import type { PdSession } from './pd_session.js';

/** Receives a signal context whose first pending submission just arrived (the kernel schedules delivery). */
export type SignalListener = (ctx: SignalContext) => void;

/** A signal context owned by a session (usually a handler's). */
export class SignalContext {
  /** Submissions not yet delivered. */
  pending = 0;
  /** Submissions ever made. */
  submitted = 0;
  /** Deliveries made (each may carry several coalesced submissions). */
  delivered = 0;
  destroyed = false;
  private listener: SignalListener | null = null;

  constructor(
    readonly id: number,
    readonly owner: PdSession,
    readonly label: string,
  ) {}

  /** Installs who is told when a delivery becomes due (the kernel or the simulator). */
  listen(fn: SignalListener | null): void {
    this.listener = fn;
  }

  /** Submits one signal. Fire and forget: the submitter never waits for the handler. */
  submit(): void {
    if (this.destroyed) return;
    this.submitted++;
    this.pending++;
    if (this.pending === 1) this.listener?.(this);
  }

  /** Delivers: returns the coalesced count (0 if nothing was pending) and clears it. */
  take(): number {
    const n = this.pending;
    if (n > 0) this.delivered++;
    this.pending = 0;
    return n;
  }

  toString(): string {
    return `signal context '${this.label}' (${this.pending} pending, ${this.submitted} submitted, ${this.delivered} delivered)`;
  }
}
