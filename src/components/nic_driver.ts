/**
 * User-level interrupt handlers (DESIGN.md §2 "IRQs"): a multi-queue NIC driver with one handler
 * thread per receive queue, and a timer driver. Each thread owns an IRQ session on its IRQ and
 * runs the Genode handler loop: wait for a signal, do the device work, ack.
 *
 * Threads are pure state machines; the simulator drives them. It calls `next()` whenever the thread
 * may run and gets the next step:
 * - `wake`  — the thread took a pending signal (and read the device's cause register);
 * - `work`  — one unit of device work was taken (a packet, the timer status); the simulator charges
 *   `workCycles` and then calls `workDone()`;
 * - `ack`   — the device is drained; the simulator charges the ack syscall and then calls `ack()`,
 *   which unmasks the IRQ (a latched edge or a still-asserted level line is delivered at once);
 * - `block` — nothing to do until the next signal.
 * A thread first acks once without a signal (the session is masked until its first ack), then
 * drains its device completely on every signal before acking, so a packet that lands after the
 * last `take` raises an interrupt that is latched and delivered after the ack: nothing is stranded.
 */
import type { IrqService, IrqSession, SignalTarget } from '../core/irq_session.js';
import type { MultiQueueNic, PeriodicTimer } from '../hw/devices.js';
import { err, ok, type Result } from '../util/result.js';

/** The next step of a handler thread; see the module comment. */
export type HandlerStep = 'wake' | 'work' | 'ack' | 'block';

/** Error codes of the drivers. */
export type DriverError = 'INVALID_DRIVER' | 'INVALID_IRQ' | 'IRQ_BUSY';

/** Counters of one handler thread. */
export interface HandlerStats {
  /** Signals received. */
  signals: number;
  /** Signals taken (wake-ups). */
  wakeups: number;
  /** Work units completed. */
  items: number;
  /** Acks issued (including the first one). */
  acks: number;
}

/** A handler thread bound to one IRQ session. */
export abstract class IrqHandlerThread implements SignalTarget {
  /** Called when a signal arrives (the simulator wakes the thread); undefined for none. */
  onSignal: ((t: IrqHandlerThread) => void) | undefined;
  /** CPU the thread is pinned to (a simulator may migrate it). */
  cpu: number;
  /** Counters; read them, do not write them. */
  readonly stats: HandlerStats = { signals: 0, wakeups: 0, items: 0, acks: 0 };
  private pendingSignals = 0;
  private state: 'init' | 'blocked' | 'draining' = 'init';

  protected constructor(
    readonly session: IrqSession,
    cpu: number,
    readonly label: string,
  ) {
    this.cpu = cpu;
  }

  /** The IRQ number of the session. */
  get irq(): number {
    return this.session.irq;
  }

  /** Cycles of one unit of work. */
  abstract readonly workCycles: number;

  /** Signals received and not yet taken. */
  get pending(): number {
    return this.pendingSignals;
  }

  /** True once the thread has acked for the first time. */
  get started(): boolean {
    return this.state !== 'init';
  }

  /** Signal delivery from the IRQ session. */
  submit(): void {
    this.pendingSignals++;
    this.stats.signals++;
    this.onSignal?.(this);
  }

  /** The next step; see the module comment. */
  next(): HandlerStep {
    switch (this.state) {
      case 'init':
        this.state = 'blocked';
        return 'ack';
      case 'blocked':
        if (this.pendingSignals === 0) return 'block';
        this.pendingSignals--;
        this.stats.wakeups++;
        this.state = 'draining';
        this.onWake();
        return 'wake';
      case 'draining':
        if (this.takeItem()) return 'work';
        this.state = 'blocked';
        return 'ack';
    }
  }

  /** The unit of work announced by `work` is done. */
  workDone(): void {
    this.stats.items++;
    this.finishItem();
  }

  /** Performs the ack announced by `ack`: unmasks the IRQ through the session. */
  ack(): void {
    this.stats.acks++;
    this.session.ack();
  }

  /** Reads the device's cause on wake-up. */
  protected abstract onWake(): void;
  /** Takes one unit of work from the device; false when there is none. */
  protected abstract takeItem(): boolean;
  /** Completes the unit of work taken last. */
  protected abstract finishItem(): void;

  /** Description with label, IRQ, CPU and state. */
  toString(): string {
    return `${this.label}(irq ${this.irq}, cpu ${this.cpu}, ${this.state}, ${this.pendingSignals} pending, ${this.stats.items} items)`;
  }
}

/** The handler thread of one NIC receive queue: drains its ring, one packet per work unit. */
export class QueueHandler extends IrqHandlerThread {
  /** Packets handled. */
  handled = 0;

  /** @internal Use `NicDriver.create`. */
  constructor(
    session: IrqSession,
    cpu: number,
    private readonly nic: MultiQueueNic,
    readonly queue: number,
    readonly workCycles: number,
  ) {
    super(session, cpu, `rx${queue}`);
  }

  protected onWake(): void {}

  protected takeItem(): boolean {
    if (this.nic.take(this.queue) >= 0) return true;
    this.nic.clearCause(this.queue); // re-arm the queue's interrupt before acking
    return false;
  }

  protected finishItem(): void {
    this.handled++;
  }
}

/** Options of the NIC driver. */
export interface NicDriverOptions {
  /** Cycles to process one packet (>= 0). */
  readonly packetCycles: number;
  /** CPU of queue q's handler thread (default `q mod cpus`). */
  readonly cpuOf?: (queue: number) => number;
  /** CPUs (for the default placement); default 1. */
  readonly cpus?: number;
}

function badCycles(what: string, n: number): Result<never, DriverError> | undefined {
  if (n >= 0 && n < Number.POSITIVE_INFINITY) return undefined;
  return err('INVALID_DRIVER', `${what} ${n}: expected a finite number of cycles >= 0`);
}

/** A multi-queue NIC driver: one handler thread and IRQ session per queue. */
export class NicDriver {
  private constructor(readonly handlers: readonly QueueHandler[]) {}

  /**
   * Opens one IRQ session per queue vector and creates the handler threads. Fails (closing what
   * it opened) with `INVALID_DRIVER` for a bad cost or CPU count, or with the session's error.
   */
  static create(
    service: IrqService,
    nic: MultiQueueNic,
    opts: NicDriverOptions,
  ): Result<NicDriver, DriverError> {
    const bad = badCycles('packetCycles', opts.packetCycles);
    if (bad) return bad;
    const cpus = opts.cpus ?? 1;
    if (!Number.isSafeInteger(cpus) || cpus < 1) {
      return err('INVALID_DRIVER', `cpus ${cpus}: expected an integer >= 1`);
    }
    const cpuOf = opts.cpuOf ?? ((q: number) => q % cpus);
    const handlers: QueueHandler[] = [];
    for (let q = 0; q < nic.queueCount; q++) {
      const s = service.open(nic.irq(q), `nic rx${q}`);
      if (!s.ok) {
        for (const h of handlers) h.session.close();
        return s;
      }
      const h = new QueueHandler(s.value, cpuOf(q), nic, q, opts.packetCycles);
      s.value.sigh(h);
      handlers.push(h);
    }
    return ok(new NicDriver(handlers));
  }

  /** Packets handled by all queues. */
  get handled(): number {
    let n = 0;
    for (const h of this.handlers) n += h.handled;
    return n;
  }

  /** Closes every session. */
  close(): void {
    for (const h of this.handlers) h.session.close();
  }

  /** Description with the handler threads. */
  toString(): string {
    return `NicDriver(${this.handlers.map((h) => h.toString()).join(', ')})`;
  }
}

/** The timer driver's handler thread: reads the expiry count once per signal. */
export class TimerHandler extends IrqHandlerThread {
  /** Expiries read from the timer. */
  ticks = 0;
  private readThisWake = false;

  private constructor(
    session: IrqSession,
    cpu: number,
    private readonly timer: PeriodicTimer,
    readonly workCycles: number,
  ) {
    super(session, cpu, 'timer');
  }

  /** Opens the timer line's IRQ session; fails with `INVALID_DRIVER` for a bad cost or the session's error. */
  static create(
    service: IrqService,
    timer: PeriodicTimer,
    cpu: number,
    workCycles: number,
  ): Result<TimerHandler, DriverError> {
    const bad = badCycles('timer workCycles', workCycles);
    if (bad) return bad;
    const s = service.open(timer.line, 'timer');
    if (!s.ok) return s;
    const h = new TimerHandler(s.value, cpu, timer, workCycles);
    s.value.sigh(h);
    return ok(h);
  }

  protected onWake(): void {
    this.readThisWake = false;
  }

  protected takeItem(): boolean {
    if (this.readThisWake) return false;
    this.readThisWake = true;
    this.ticks += this.timer.read();
    return true;
  }

  protected finishItem(): void {}
}
