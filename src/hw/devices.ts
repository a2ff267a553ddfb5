/**
 * Interrupt sources for the IRQ simulation (DESIGN.md §2 "IRQs"): a periodic timer on a wired line
 * and a multi-queue NIC with one MSI-X vector per receive queue.
 *
 * Devices know nothing about time: whoever drives them (the simulator, a test) tells the timer
 * what time it is and lands packets on the NIC; randomness comes from a seeded source passed in.
 *
 * NIC semantics (documented once, relied on by the driver and the simulator):
 * - **RSS.** A packet carries a flow id; the queue is `reta[rssHash(flow) % RETA_SIZE]`, with the
 *   indirection table filled round robin (`reta[i] = i mod queues`), as NICs program it by default.
 *   A flow therefore always lands on the same queue.
 * - **Rings.** Each queue is a bounded FIFO ring of `ringSize` descriptors; a packet that finds its
 *   ring full is dropped and counted.
 * - **Interrupts.** A queue raises its vector when a packet lands in an empty ring, or in a ring whose
 *   cause bit is clear (not yet signalled since the driver last read the cause with `clearCause`).
 *   Raising sets the cause bit. A raise that finds the vector already latched at the controller is
 *   coalesced there (the controller's `coalesced` counter): a lost interrupt, harmless because the
 *   driver drains the whole ring on every signal.
 */
import { fmix32 } from '../util/hash.js';
import { err, ok, type Result } from '../util/result.js';
import type { InterruptController } from './irq_controller.js';

/** Error code of the devices. */
export type DeviceError = 'INVALID_DEVICE';

/** What a device draws randomness from (`sim/prng.ts`'s `Prng` fits). */
export interface RandomSource {
  /** Uniform integer on [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  /** Exponentially distributed value with the given mean (> 0). */
  exponential(mean: number): number;
}

/** Called right before a device raises its IRQ at the controller (for latency measurement). */
export type RaiseHook = (source: number) => void;

function invalid(message: string): Result<never, DeviceError> {
  return err('INVALID_DEVICE', message);
}

function isPosInt(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1;
}

// --- Periodic timer ---------------------------------------------------------------------------

/** Configuration of a periodic timer. */
export interface TimerSpec {
  /** Cycles between expiries (> 0). */
  readonly periodCycles: number;
  /** The wired line it drives (its trigger mode is the controller's). */
  readonly line: number;
}

/**
 * A periodic timer. Every `periodCycles` it expires: on an edge line it pulses (one edge per
 * expiry), on a level line it asserts the line and keeps it asserted until the driver reads the
 * expiry count with `read()` (a read-to-clear status register), so no expiry is ever lost.
 */
export class PeriodicTimer {
  /** Time of the next expiry, in cycles. */
  next: number;
  /** Expiries so far. */
  expirations = 0;
  /** Expiries not yet read by the driver. */
  private unreadCount = 0;
  /** Called before each raise at the controller; the argument is the line. */
  onRaise: RaiseHook | undefined;

  private constructor(
    private readonly controller: InterruptController,
    readonly line: number,
    readonly periodCycles: number,
    private readonly level: boolean,
  ) {
    this.next = periodCycles;
  }

  /** Builds a timer on a wired line; `INVALID_DEVICE` for a bad period or a line that is not wired. */
  static create(spec: TimerSpec, controller: InterruptController): Result<PeriodicTimer, DeviceError> {
    if (!(spec.periodCycles > 0 && spec.periodCycles < Number.POSITIVE_INFINITY)) {
      return invalid(`timer period ${spec.periodCycles}: expected a finite number of cycles > 0`);
    }
    const st = controller.state(spec.line);
    if (!st.ok || st.value.kind !== 'line') {
      return invalid(
        `timer line ${spec.line}: expected a wired line 0..${controller.lineCount - 1} (not an MSI vector)`,
      );
    }
    return ok(new PeriodicTimer(controller, spec.line, spec.periodCycles, st.value.trigger === 'level'));
  }

  /** Expiries not yet read. */
  get unread(): number {
    return this.unreadCount;
  }

  /** Fires every expiry due at or before `now`; returns how many fired. */
  advanceTo(now: number): number {
    let n = 0;
    while (this.next <= now) {
      this.next += this.periodCycles;
      this.expirations++;
      n++;
      const wasIdle = this.unreadCount === 0;
      this.unreadCount++;
      if (!this.level) {
        this.onRaise?.(this.line);
        this.controller.pulse(this.line);
      } else if (wasIdle) {
        this.onRaise?.(this.line);
        this.controller.assert(this.line);
      }
    }
    return n;
  }

  /** Driver side: reads and clears the expiry count; a level line is deasserted. */
  read(): number {
    const n = this.unreadCount;
    this.unreadCount = 0;
    if (this.level) this.controller.deassert(this.line);
    return n;
  }

  /** Description with line, period and counters. */
  toString(): string {
    return `PeriodicTimer(line ${this.line}, period ${this.periodCycles} cycles, ${this.expirations} expiries, ${this.unreadCount} unread)`;
  }
}

// --- Multi-queue NIC --------------------------------------------------------------------------

/** Entries of the RSS indirection table. */
export const RETA_SIZE = 128;

/** The RSS hash of a flow id (a 32-bit avalanche mix standing in for the Toeplitz hash of its 4-tuple). */
export function rssHash(flow: number): number {
  return fmix32((flow ^ 0x6b43a9b5) >>> 0);
}

/** Configuration of a multi-queue NIC. */
export interface NicSpec {
  /** Receive queues, each with its own ring and MSI-X vector (>= 1). */
  readonly queues: number;
  /** Descriptors per ring (>= 1). */
  readonly ringSize: number;
  /** Flows packets are drawn from, uniformly (>= 1). */
  readonly flows: number;
  /** Mean arrival rate in packets per second (> 0); arrivals are a Poisson process. */
  readonly ratePps: number;
  /** Clock that converts the rate to cycles (the simulator's nominal clock). */
  readonly clockHz: number;
  /** MSI vector of queue 0; queue q uses `firstVector + q` (default 0). */
  readonly firstVector?: number;
}

/** Random streams of a NIC: one for arrival times, one for flow ids, so either can change alone. */
export interface NicRandom {
  readonly arrivals: RandomSource;
  readonly flows: RandomSource;
}

/** A multi-queue NIC with RSS, bounded receive rings and one MSI-X vector per queue. */
export class MultiQueueNic {
  /** Number of queues. */
  readonly queueCount: number;
  /** Mean cycles between arrivals. */
  readonly meanGapCycles: number;
  /** Packets that landed in a ring, per queue. */
  readonly accepted: Float64Array;
  /** Packets dropped at a full ring, per queue. */
  readonly dropped: Float64Array;
  /** Vector raises, per queue. */
  readonly raised: Float64Array;
  /** Called before each raise at the controller; the argument is the queue. */
  onRaise: RaiseHook | undefined;

  private readonly reta = new Int32Array(RETA_SIZE);
  private readonly ring: Int32Array;
  private readonly head: Int32Array;
  private readonly count: Int32Array;
  private readonly cause: Uint8Array;
  private readonly irqs: Int32Array;

  private constructor(
    private readonly controller: InterruptController,
    private readonly random: NicRandom,
    readonly spec: NicSpec,
    private readonly firstVector: number,
  ) {
    const q = spec.queues;
    this.queueCount = q;
    this.meanGapCycles = spec.clockHz / spec.ratePps;
    for (let i = 0; i < RETA_SIZE; i++) this.reta[i] = i % q;
    this.ring = new Int32Array(q * spec.ringSize);
    this.head = new Int32Array(q);
    this.count = new Int32Array(q);
    this.cause = new Uint8Array(q);
    this.irqs = new Int32Array(q);
    this.accepted = new Float64Array(q);
    this.dropped = new Float64Array(q);
    this.raised = new Float64Array(q);
    for (let i = 0; i < q; i++) {
      const irq = controller.msiIrq(firstVector + i);
      this.irqs[i] = irq.ok ? irq.value : -1;
    }
  }

  /**
   * Builds a NIC. `INVALID_DEVICE` for non-positive counts, rate or clock, or when the controller
   * lacks an MSI vector for some queue.
   */
  static create(
    spec: NicSpec,
    controller: InterruptController,
    random: NicRandom,
  ): Result<MultiQueueNic, DeviceError> {
    for (const k of ['queues', 'ringSize', 'flows'] as const) {
      if (!isPosInt(spec[k])) return invalid(`NIC ${k} ${spec[k]}: expected an integer >= 1`);
    }
    for (const k of ['ratePps', 'clockHz'] as const) {
      if (!(spec[k] > 0 && spec[k] < Number.POSITIVE_INFINITY)) {
        return invalid(`NIC ${k} ${spec[k]}: expected a finite number > 0`);
      }
    }
    const first = spec.firstVector ?? 0;
    if (!Number.isSafeInteger(first) || first < 0 || first + spec.queues > controller.msiCount) {
      return invalid(
        `NIC needs MSI vectors ${first}..${first + spec.queues - 1}; the controller has ${controller.msiCount}`,
      );
    }
    return ok(new MultiQueueNic(controller, random, spec, first));
  }

  /** MSI vector of queue `q`. */
  vector(q: number): number {
    return this.firstVector + q;
  }

  /** Controller IRQ number of queue `q`'s vector. */
  irq(q: number): number {
    return this.irqs[q]!;
  }

  /** The queue RSS steers flow `flow` to. */
  queueOf(flow: number): number {
    // A mask, not %: the hash is an unsigned 32-bit value (a double), and % on doubles is an fmod call.
    return this.reta[rssHash(flow) & (RETA_SIZE - 1)]!;
  }

  /** Draws the cycles until the next arrival (exponential: a Poisson process). */
  nextGap(): number {
    return this.random.arrivals.exponential(this.meanGapCycles);
  }

  /** Draws a flow id, uniform over the configured flows. */
  nextFlow(): number {
    return this.random.flows.int(0, this.spec.flows - 1);
  }

  /** One arrival of a random flow; returns false when it was dropped. */
  arrive(): boolean {
    return this.land(this.nextFlow());
  }

  /** A packet of flow `flow` arrives: lands in its queue's ring (raising the vector) or is dropped. */
  land(flow: number): boolean {
    const q = this.queueOf(flow);
    const size = this.spec.ringSize;
    const n = this.count[q]!;
    if (n === size) {
      this.dropped[q]!++;
      return false;
    }
    this.ring[q * size + ((this.head[q]! + n) % size)] = flow;
    this.count[q] = n + 1;
    this.accepted[q]!++;
    if (n === 0 || this.cause[q] === 0) {
      this.cause[q] = 1;
      this.raised[q]!++;
      this.onRaise?.(q);
      this.controller.raiseMsi(this.firstVector + q);
    }
    return true;
  }

  /** Driver side: takes the oldest packet of queue `q`; its flow id, or -1 when the ring is empty. */
  take(q: number): number {
    const n = this.count[q]!;
    if (n === 0) return -1;
    const size = this.spec.ringSize;
    const h = this.head[q]!;
    const flow = this.ring[q * size + h]!;
    this.head[q] = h + 1 === size ? 0 : h + 1;
    this.count[q] = n - 1;
    return flow;
  }

  /** Driver side: reads (and so clears) queue `q`'s interrupt cause bit. */
  clearCause(q: number): void {
    this.cause[q] = 0;
  }

  /** Packets waiting in queue `q`'s ring. */
  pending(q: number): number {
    return this.count[q]!;
  }

  /** Sum of a per-queue counter. */
  static total(counts: Float64Array): number {
    let s = 0;
    for (const c of counts) s += c;
    return s;
  }

  /** Description with queues, ring size and totals. */
  toString(): string {
    const t = MultiQueueNic.total;
    return (
      `MultiQueueNic(${this.queueCount} queues x ${this.spec.ringSize}, vectors ${this.firstVector}..${this.firstVector + this.queueCount - 1}, ` +
      `${t(this.accepted)} accepted, ${t(this.dropped)} dropped, ${t(this.raised)} raises)`
    );
  }
}
