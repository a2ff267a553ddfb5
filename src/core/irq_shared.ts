/**
 * Sharing of level-triggered lines (DESIGN.md §2 "IRQs", §5 invariant 10). A `SharedIrq` owns
 * the line's exclusive `IrqSession` upstream and hands out `IrqSharer`s, each of which behaves
 * like an IRQ session to its client (`sigh`, `ack`, `close`).
 *
 * Semantics:
 * - Every occurrence of the line signals every attached sharer once (each device driver must
 *   check whether its device asserted the line).
 * - The upstream line is acked (unmasked) only after every attached sharer acked the current
 *   occurrence; before the first occurrence, after every sharer acked once (masked until the
 *   first ack). A sharer that detaches counts as acked. A sharer attached while an occurrence is
 *   outstanding must ack too before the line is unmasked.
 * - With no sharers attached the line stays masked: an occurrence then counts as unhandled, and
 *   the next sharer's ack unmasks the line (a still-asserted line fires again, so nothing is lost).
 * - Only level lines can be shared: an edge cannot be held pending until every sharer acked.
 */

import { err, ok, type Result } from '../util/result.js';
import type { IrqClient, IrqService, IrqSession, IrqSessionStats, SignalTarget } from './irq_session.js';

const OK: Result<void, never> = ok(undefined);

/** One client of a shared line. Created by `SharedIrq.attach`. */
export class IrqSharer implements IrqClient {
  private handler: SignalTarget | undefined;
  private held = 0;
  private attached = true;
  private hasAcked = false;
  private readonly counters: IrqSessionStats = { occurrences: 0, signals: 0, acks: 0 };

  /** @internal Use `SharedIrq.attach`. */
  constructor(
    private readonly shared: SharedIrq,
    readonly label: string,
  ) {}

  /** The shared line's IRQ number. */
  get irq(): number {
    return this.shared.irq;
  }

  /** True until `close()`. */
  get isOpen(): boolean {
    return this.attached;
  }

  /** True when this sharer acked the current occurrence (or, before any, acked once). */
  get acked(): boolean {
    return this.hasAcked;
  }

  /** Counters (a copy). */
  get stats(): IrqSessionStats {
    return { ...this.counters };
  }

  /** Registers the signal handler; occurrences held while there was none are submitted now. */
  sigh(handler: SignalTarget | undefined): Result<void, 'SESSION_CLOSED'> {
    if (!this.attached) return this.closedErr();
    this.handler = handler;
    while (this.handler && this.held > 0) {
      this.held--;
      this.signal();
    }
    return OK;
  }

  /** Acks the current occurrence; the last outstanding ack unmasks the line upstream. */
  ack(): Result<void, 'SESSION_CLOSED'> {
    if (!this.attached) return this.closedErr();
    this.counters.acks++;
    if (!this.hasAcked) {
      this.hasAcked = true;
      this.shared.tryAckUpstream();
    }
    return OK;
  }

  /** Detaches from the line (counts as an ack of the current occurrence). Idempotent. */
  close(): void {
    if (!this.attached) return;
    this.attached = false;
    this.handler = undefined;
    this.held = 0;
    this.shared.detach(this);
  }

  /** @internal Marks a new occurrence outstanding. */
  arm(): void {
    this.hasAcked = false;
  }

  /** @internal Delivers one occurrence. */
  occur(): void {
    if (!this.attached) return;
    this.counters.occurrences++;
    if (this.handler) this.signal();
    else this.held++;
  }

  /** Description with IRQ number, label and ack state. */
  toString(): string {
    const state = this.attached ? (this.hasAcked ? 'acked' : 'outstanding') : 'closed';
    return `IrqSharer(irq ${this.irq}, '${this.label}', ${state})`;
  }

  private signal(): void {
    this.counters.signals++;
    this.handler!.submit();
  }

  private closedErr(): Result<never, 'SESSION_CLOSED'> {
    return err('SESSION_CLOSED', `${this.toString()} is detached; expected an attached sharer`);
  }
}

/** A shared level-triggered line: the upstream session plus its sharers. */
export class SharedIrq {
  private readonly list: IrqSharer[] = [];
  private awaitingAck = true;
  private closed = false;
  private upstreamAckCount = 0;
  private occurrenceCount = 0;
  private unhandledCount = 0;

  private constructor(private readonly upstream: IrqSession) {
    upstream.sigh({ submit: () => this.occur() });
  }

  /**
   * Opens the line `irq` for sharing. `INVALID_IRQ` for a missing IRQ or an edge line or MSI
   * vector, `IRQ_BUSY` when an exclusive session owns it; both change nothing.
   */
  static open(
    service: IrqService,
    irq: number,
    label = 'shared',
  ): Result<SharedIrq, 'INVALID_IRQ' | 'IRQ_BUSY'> {
    const st = service.controller.state(irq);
    if (!st.ok) return st;
    if (st.value.kind !== 'line' || st.value.trigger !== 'level') {
      const what = st.value.kind === 'msi' ? 'an MSI vector' : 'an edge-triggered line';
      return err(
        'INVALID_IRQ',
        `IRQ ${irq} is ${what}; only level-triggered lines can be shared (an edge cannot stay pending until every sharer acked)`,
      );
    }
    const s = service.open(irq, label);
    if (!s.ok) return s;
    return ok(new SharedIrq(s.value));
  }

  /** The IRQ number. */
  get irq(): number {
    return this.upstream.irq;
  }

  /** Attached sharers, in attach order. */
  get sharers(): readonly IrqSharer[] {
    return this.list;
  }

  /** True while the upstream line is masked waiting for sharers' acks. */
  get awaitingAcks(): boolean {
    return this.awaitingAck;
  }

  /** How often the upstream line was acked (unmasked). */
  get upstreamAcks(): number {
    return this.upstreamAckCount;
  }

  /** Occurrences of the line. */
  get occurrences(): number {
    return this.occurrenceCount;
  }

  /** Occurrences that found no sharer attached. */
  get unhandled(): number {
    return this.unhandledCount;
  }

  /** Attaches a new sharer (not yet acked). `SESSION_CLOSED` after `close()`. */
  attach(label = 'sharer'): Result<IrqSharer, 'SESSION_CLOSED'> {
    if (this.closed) {
      return err('SESSION_CLOSED', `${this.toString()} is closed; expected an open shared line`);
    }
    const s = new IrqSharer(this, label);
    this.list.push(s);
    return ok(s);
  }

  /** Detaches every sharer and closes the upstream session (masking the line). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.list]) s.close();
    this.upstream.close();
  }

  /** @internal Removes a sharer; it counts as having acked. */
  detach(s: IrqSharer): void {
    const i = this.list.indexOf(s);
    if (i >= 0) this.list.splice(i, 1);
    this.tryAckUpstream();
  }

  /** @internal Acks upstream when the line waits and every attached sharer (at least one) acked. */
  tryAckUpstream(): void {
    if (this.closed || !this.awaitingAck || this.list.length === 0) return;
    if (!this.list.every((s) => s.acked)) return;
    this.awaitingAck = false;
    this.upstreamAckCount++;
    this.upstream.ack();
  }

  /** Description with IRQ, sharers and ack state. */
  toString(): string {
    const acked = this.list.filter((s) => s.acked).length;
    return `SharedIrq(irq ${this.irq}, ${this.list.length} sharers, ${acked} acked, ${this.awaitingAck ? 'masked' : 'unmasked'})`;
  }

  private occur(): void {
    this.occurrenceCount++;
    this.awaitingAck = true;
    if (this.list.length === 0) {
      this.unhandledCount++;
      return;
    }
    const snapshot = [...this.list];
    for (const s of snapshot) s.arm();
    for (const s of snapshot) s.occur();
  }
}
