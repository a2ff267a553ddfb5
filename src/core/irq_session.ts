/**
 * Core's IRQ sessions (DESIGN.md §2 "IRQs"), after Genode's IRQ service: a session owns one IRQ
 * (wired line or MSI vector) exclusively, registers a signal handler with `sigh` and acks each
 * occurrence with `ack`.
 *
 * Semantics:
 * - The IRQ stays masked until the session's first `ack()` (the controller starts every IRQ
 *   masked, and closing a session masks it again).
 * - Each occurrence the controller delivers masks the IRQ (mask on delivery, see
 *   `hw/irq_controller.ts`) and results in exactly one `submit()` on the session's handler.
 *   An occurrence that arrives while no handler is registered is held and submitted when one is
 *   registered, so no occurrence is lost.
 * - `ack()` unmasks the IRQ; a still-asserted level line fires again at once (another signal).
 * - The `IrqService` owns the controller's delivery listener and dispatches to sessions; an
 *   occurrence for an IRQ without a session counts as unhandled, and the IRQ stays masked.
 * Everything is pure and synchronous: delivery happens when the controller calls back; the
 * simulator adds time and cost on top (it may install its own listener and call `dispatch`).
 */
import type { InterruptController } from '../hw/irq_controller.js';
import { err, ok, type Result } from '../util/result.js';

/** The receiving end of a signal (a signal context in Genode); defined here to stay self-contained. */
export interface SignalTarget {
  /** Delivers one signal. */
  submit(): void;
}

/** Error codes of IRQ sessions. */
export type IrqSessionError = 'INVALID_IRQ' | 'IRQ_BUSY' | 'SESSION_CLOSED';

/** What a client sees of an IRQ session; implemented by `IrqSession` and by sharers of a shared line. */
export interface IrqClient {
  /** The IRQ number. */
  readonly irq: number;
  /** Registers (or with undefined, removes) the signal handler. */
  sigh(handler: SignalTarget | undefined): Result<void, 'SESSION_CLOSED'>;
  /** Acknowledges the current occurrence. */
  ack(): Result<void, 'SESSION_CLOSED'>;
  /** Ends the session; further calls fail with `SESSION_CLOSED`. */
  close(): void;
}

/** Counters of one session. */
export interface IrqSessionStats {
  /** Occurrences delivered to this session. */
  occurrences: number;
  /** Signals submitted to handlers. */
  signals: number;
  /** Calls of `ack()`. */
  acks: number;
}

const OK: Result<void, never> = ok(undefined);

function closedErr(what: string): Result<never, 'SESSION_CLOSED'> {
  return err('SESSION_CLOSED', `${what} is closed; expected an open session (open a new one)`);
}

/** An exclusive session on one IRQ. Created by `IrqService.open`. */
export class IrqSession implements IrqClient {
  private handler: SignalTarget | undefined;
  private held = 0;
  private closed = false;
  private readonly counters: IrqSessionStats = { occurrences: 0, signals: 0, acks: 0 };
  /** CPU of the most recent delivery, if any. */
  lastCpu: number | undefined;

  /** @internal Use `IrqService.open`. */
  constructor(
    private readonly controller: InterruptController,
    readonly irq: number,
    readonly label: string,
    private readonly release: (s: IrqSession) => void,
  ) {}

  /** True until `close()`. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Counters (a copy). */
  get stats(): IrqSessionStats {
    return { ...this.counters };
  }

  /** Registers the signal handler; occurrences held while there was none are submitted now. */
  sigh(handler: SignalTarget | undefined): Result<void, 'SESSION_CLOSED'> {
    if (this.closed) return closedErr(this.toString());
    this.handler = handler;
    while (this.handler && this.held > 0) {
      this.held--;
      this.signal();
    }
    return OK;
  }

  /** Unmasks the IRQ; a still-pending IRQ is delivered again at once. */
  ack(): Result<void, 'SESSION_CLOSED'> {
    if (this.closed) return closedErr(this.toString());
    this.counters.acks++;
    this.controller.unmask(this.irq);
    return OK;
  }

  /** Releases the IRQ and masks it. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.held = 0;
    this.controller.mask(this.irq);
    this.release(this);
  }

  /** @internal Called by `IrqService.dispatch` for each delivered occurrence. */
  occur(cpu: number): void {
    this.counters.occurrences++;
    this.lastCpu = cpu;
    if (this.handler) this.signal();
    else this.held++;
  }

  /** Description with IRQ number and label. */
  toString(): string {
    return `IrqSession(irq ${this.irq}, '${this.label}'${this.closed ? ', closed' : ''})`;
  }

  private signal(): void {
    this.counters.signals++;
    this.handler!.submit();
  }
}

/** Core's IRQ service: owns the controller's delivery listener and the IRQ → session table. */
export class IrqService {
  private readonly sessions: (IrqSession | undefined)[];
  private readonly unhandledCounts: number[];

  /** Installs itself as the controller's delivery listener. */
  constructor(readonly controller: InterruptController) {
    this.sessions = new Array<IrqSession | undefined>(controller.irqCount).fill(undefined);
    this.unhandledCounts = new Array<number>(controller.irqCount).fill(0);
    controller.setDeliveryListener((cpu, irq) => this.dispatch(cpu, irq));
  }

  /**
   * Opens an exclusive session on `irq`. `INVALID_IRQ` for a missing IRQ, `IRQ_BUSY` when
   * another session owns it; both change nothing. The IRQ stays masked until the first ack.
   */
  open(irq: number, label = 'client'): Result<IrqSession, 'INVALID_IRQ' | 'IRQ_BUSY'> {
    if (!this.controller.isValid(irq)) {
      return err('INVALID_IRQ', `IRQ ${irq} does not exist; expected 0..${this.controller.irqCount - 1}`);
    }
    const owner = this.sessions[irq];
    if (owner) {
      return err(
        'IRQ_BUSY',
        `IRQ ${irq} is already owned by '${owner.label}'; expected a free IRQ (close the owner, or share a level line)`,
      );
    }
    const s = new IrqSession(this.controller, irq, label, (x) => {
      if (this.sessions[x.irq] === x) this.sessions[x.irq] = undefined;
    });
    this.sessions[irq] = s;
    return ok(s);
  }

  /** The session owning `irq`, if any. */
  session(irq: number): IrqSession | undefined {
    return this.sessions[irq];
  }

  /** Dispatches one delivered occurrence to the owning session, or counts it as unhandled. */
  dispatch(cpu: number, irq: number): void {
    const s = this.sessions[irq];
    if (s) s.occur(cpu);
    else if (irq >= 0 && irq < this.unhandledCounts.length) this.unhandledCounts[irq]!++;
  }

  /** Occurrences of `irq` that found no session. */
  unhandled(irq: number): number {
    return this.unhandledCounts[irq] ?? 0;
  }

  /** Summary of the open sessions. */
  toString(): string {
    const open = this.sessions
      .filter((s): s is IrqSession => s !== undefined)
      .map((s) => `${s.irq}:${s.label}`);
    return `IrqService(${open.length} sessions [${open.join(', ')}])`;
  }
}
