/**
 * Deterministic discrete-event engine in virtual cycles.
 *
 * Events are ordered by (time, insertion sequence): two events at the same time run in the order
 * they were scheduled (FIFO), so a run is a pure function of the handlers and their inputs.
 *
 * The queue is a binary min-heap kept in parallel typed arrays (time, sequence, slot) plus a slot
 * table (handler, sequence of the slot's current event, generation). Cancellation is lazy: it
 * frees the slot at once, and the heap entry, whose sequence no longer matches its slot, is
 * discarded when it reaches the top (or by a compaction once stale entries outnumber live ones).
 * The top of the heap is always live. Scheduling and dispatching allocate nothing once the arrays
 * have grown to the peak number of pending events; reusing handler functions (a bound method
 * scheduled again and again) makes the whole loop allocation-free.
 *
 * In front of the heap sits a small sorted buffer of the earliest events (up to {@link NEAR}, the
 * smallest last): every buffered event comes before every event in the heap. A new event earlier
 * than the heap's top goes into the buffer (by insertion; when the buffer is full, its latest event
 * moves to the heap), so a simulation with a few events pending (a handful of CPUs each running
 * one step) schedules and dispatches without touching the heap. The order is exactly the heap's:
 * (time, sequence).
 */
import { hex } from '../util/hex.js';
import { InvariantError, invariant } from '../util/result.js';
import { growF64, growI32 } from '../util/typed_array.js';

/** Code run when an event fires; `now` is the event's time in cycles. */
export type EventHandler = (now: number) => void;

/**
 * Identifies a scheduled event for {@link EventEngine.cancel}. It encodes a slot and a
 * generation: once the event has fired or been cancelled, the id is stale and cancel returns
 * false. (Generations wrap after 2^29 reuses of one slot; a stale id kept that long could alias.)
 */
export type EventId = number;

/** Most events that may be pending at once. */
export const MAX_PENDING_EVENTS = 2 ** 24;
const SLOT_SPAN = MAX_PENDING_EVENTS;
const GEN_LIMIT = 2 ** 29;
const INITIAL_CAPACITY = 64;
/** Compaction runs when stale heap entries exceed both this and the number of live events. */
const COMPACT_MIN_STALE = 64;
/** Events the sorted buffer in front of the heap holds. */
const NEAR = 8;

/** A deterministic discrete-event scheduler whose clock counts virtual cycles. */
export class EventEngine {
  private clock = 0;
  private nextSeq = 0;
  private count = 0;
  private fired = 0;
  private running = false;
  private stopRequested = false;

  // Heap, indexed by heap position; `heapSize` counts live and stale entries.
  private hTime = new Float64Array(INITIAL_CAPACITY);
  private hSeq = new Float64Array(INITIAL_CAPACITY);
  private hSlot = new Int32Array(INITIAL_CAPACITY);
  private heapSize = 0;
  private stale = 0;
  /** The buffer: time, sequence and slot per entry, sorted latest first; `near` entries. */
  private readonly nTime = new Float64Array(NEAR);
  private readonly nSeq = new Float64Array(NEAR);
  private readonly nSlot = new Int32Array(NEAR);
  private near = 0;

  // Slot table, indexed by slot. A free slot has sequence -1.
  private sSeq = new Float64Array(INITIAL_CAPACITY).fill(-1);
  private sGen = new Int32Array(INITIAL_CAPACITY).fill(1);
  private sFn: (EventHandler | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private freeSlots = new Int32Array(INITIAL_CAPACITY);
  private freeCount = 0;
  private slotsUsed = 0;

  /** Current virtual time in cycles. */
  get now(): number {
    return this.clock;
  }

  /** Number of events scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.count;
  }

  /** Total number of events dispatched since construction. */
  get dispatched(): number {
    return this.fired;
  }

  /** Time of the next pending event, or `Infinity` when the queue is empty. */
  get nextTime(): number {
    if (this.count === 0) return Number.POSITIVE_INFINITY;
    return this.near > 0 ? this.nTime[this.near - 1]! : this.hTime[0]!;
  }

  /** True while {@link run} or {@link step} is dispatching. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Schedules `fn` at absolute time `time` (cycles, finite, >= now). Events at equal times fire in
   * scheduling order. Scheduling in the past is a model bug and throws an InvariantError.
   */
  at(time: number, fn: EventHandler): EventId {
    const slot = this.schedule(time, fn);
    return this.sGen[slot]! * SLOT_SPAN + slot;
  }

  /** Cancels the pending event in `slot` (from {@link schedule}), which must run `fn`. */
  cancelSlot(slot: number, fn: EventHandler): void {
    if (this.sFn[slot] !== fn) notPending(slot);
    this.drop(slot);
  }

  /**
   * {@link at} returning the event's slot, a small integer, where an id is a number beyond that
   * range and so boxed on the heap when returned: the interrupt path schedules this way without
   * allocating. For events never cancelled, or cancelled by their owner with {@link cancelSlot}
   * only while certainly pending (a CPU's step end, cut short by a preemption).
   */
  schedule(time: number, fn: EventHandler): number {
    // Checked without a message closure: this runs for every event.
    if (!(time >= this.clock && time < Number.POSITIVE_INFINITY)) badTime(time, this.clock);
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount]!;
    else {
      if (this.slotsUsed === this.sSeq.length) this.growSlots();
      slot = this.slotsUsed++;
    }
    const seq = this.nextSeq++;
    this.sSeq[slot] = seq;
    this.sFn[slot] = fn;
    this.count++;
    // Buffered events all come before the heap's: a later one than the heap's top goes there too.
    // The new event's sequence is the largest yet, so it comes after any event at the same time:
    // comparing times alone gives the (time, sequence) order.
    if (this.heapSize > 0 && time >= this.hTime[0]!) this.push(time, seq, slot);
    else if (this.near < NEAR) this.insertNear(time, seq, slot);
    else if (time < this.nTime[0]!) {
      // Full: its latest event moves to the heap (it comes before everything there).
      this.push(this.nTime[0]!, this.nSeq[0]!, this.nSlot[0]!);
      this.removeNear(0);
      this.insertNear(time, seq, slot);
    } else this.push(time, seq, slot);
    return slot;
  }

  /** Schedules `fn` after `delay` cycles (finite, >= 0) from now. */
  after(delay: number, fn: EventHandler): EventId {
    invariant(delay >= 0, () => `cannot schedule after ${delay} cycles: expected a delay >= 0`);
    return this.at(this.clock + delay, fn);
  }

  /** Cancels a pending event. Returns false (and changes nothing) when the id is stale or unknown. */
  cancel(id: EventId): boolean {
    const slot = this.liveSlot(id);
    if (slot < 0) return false;
    this.drop(slot);
    return true;
  }

  /** Removes the pending event in `slot`. */
  private drop(slot: number): void {
    this.count--;
    for (let i = 0; i < this.near; i++) {
      if (this.nSlot[i] !== slot) continue;
      this.removeNear(i);
      this.release(slot);
      return;
    }
    const seq = this.sSeq[slot]!;
    this.release(slot);
    this.stale++;
    if (this.hSeq[0] === seq) this.dropStaleTop();
    else if (this.stale > COMPACT_MIN_STALE && this.stale > this.count) this.compact();
  }

  /** True when `id` names an event that is still pending. */
  isPending(id: EventId): boolean {
    return this.liveSlot(id) >= 0;
  }

  /**
   * Dispatches the next event, advancing `now` to its time. Returns false when the queue is
   * empty. Not callable from inside a handler.
   */
  step(): boolean {
    invariant(!this.running, 'EventEngine.step() called from inside an event handler');
    if (this.count === 0) return false;
    this.running = true;
    try {
      this.dispatchOne();
    } finally {
      this.running = false;
    }
    return true;
  }

  /**
   * Dispatches events in order until the queue is empty, {@link stop} is called, or the next
   * event lies beyond `untilTime`. Events at exactly `untilTime` run. When the run ends by
   * reaching the horizon (not by stop), `now` advances to `untilTime`. Returns the number of
   * events dispatched. Not callable from inside a handler.
   */
  run(untilTime: number = Number.POSITIVE_INFINITY): number {
    invariant(!this.running, 'EventEngine.run() called from inside an event handler');
    invariant(
      untilTime >= this.clock,
      () => `cannot run until ${untilTime}: expected a time >= now (${this.clock})`,
    );
    this.running = true;
    this.stopRequested = false;
    const start = this.fired;
    try {
      while (this.count > 0 && this.nextTime <= untilTime) {
        this.dispatchOne();
        if (this.stopRequested) break;
      }
      if (!this.stopRequested && untilTime !== Number.POSITIVE_INFINITY) this.clock = untilTime;
    } finally {
      this.running = false;
      this.stopRequested = false;
    }
    return this.fired - start;
  }

  /** Makes the current {@link run} return after the handler that is executing now (no effect outside run). */
  stop(): void {
    this.stopRequested = this.running;
  }

  /** Describes the engine state. */
  toString(): string {
    const next = this.count === 0 ? 'none' : hex(this.nextTime);
    return `EventEngine(now=${hex(this.clock)}, pending=${this.count}, next=${next}, dispatched=${this.fired})`;
  }

  /** The slot of a pending event's id, or -1. */
  private liveSlot(id: EventId): number {
    if (!Number.isSafeInteger(id) || id < 0) return -1;
    const slot = id % SLOT_SPAN;
    if (slot >= this.slotsUsed || this.sGen[slot] !== (id - slot) / SLOT_SPAN || this.sSeq[slot]! < 0)
      return -1;
    return slot;
  }

  private dispatchOne(): void {
    if (this.near > 0) {
      const i = --this.near;
      const time = this.nTime[i]!;
      const slot = this.nSlot[i]!;
      const fn = this.sFn[slot]!;
      this.release(slot);
      this.count--;
      this.clock = time;
      this.fired++;
      fn(time);
      return;
    }
    const time = this.hTime[0]!;
    const slot = this.hSlot[0]!;
    const fn = this.sFn[slot]!;
    this.release(slot);
    this.count--;
    this.popTop();
    if (this.stale > 0) this.dropStaleTop();
    this.clock = time;
    this.fired++;
    fn(time);
  }

  private release(slot: number): void {
    this.sFn[slot] = undefined;
    this.sSeq[slot] = -1;
    const g = this.sGen[slot]! + 1;
    this.sGen[slot] = g === GEN_LIMIT ? 1 : g;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Pops cancelled entries off the top so the top is live (or the heap empty). */
  private dropStaleTop(): void {
    while (this.heapSize > 0 && this.sSeq[this.hSlot[0]!] !== this.hSeq[0]) {
      this.popTop();
      this.stale--;
    }
  }

  /** Removes the root entry. */
  private popTop(): void {
    const last = --this.heapSize;
    if (last > 0) this.refillRoot(this.hTime[last]!, this.hSeq[last]!, this.hSlot[last]!);
  }

  /** Drops every stale entry and rebuilds the heap bottom-up (O(n)). */
  private compact(): void {
    const { hTime, hSeq, hSlot, sSeq } = this;
    let n = 0;
    for (let i = 0; i < this.heapSize; i++) {
      if (sSeq[hSlot[i]!] !== hSeq[i]) continue;
      hTime[n] = hTime[i]!;
      hSeq[n] = hSeq[i]!;
      hSlot[n] = hSlot[i]!;
      n++;
    }
    this.heapSize = n;
    this.stale = 0;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, hTime[i]!, hSeq[i]!, hSlot[i]!);
  }

  /**
   * Inserts a new event (t, q, s) into the buffer (not full), keeping it sorted latest first. Its
   * sequence q is the largest yet, so an entry at the same time comes before it.
   */
  private insertNear(t: number, q: number, s: number): void {
    const { nTime, nSeq, nSlot } = this;
    let i = this.near++;
    while (i > 0 && nTime[i - 1]! <= t) {
      nTime[i] = nTime[i - 1]!;
      nSeq[i] = nSeq[i - 1]!;
      nSlot[i] = nSlot[i - 1]!;
      i--;
    }
    nTime[i] = t;
    nSeq[i] = q;
    nSlot[i] = s;
  }

  /** Removes buffer entry `i`. */
  private removeNear(i: number): void {
    const { nTime, nSeq, nSlot } = this;
    const n = --this.near;
    for (let j = i; j < n; j++) {
      nTime[j] = nTime[j + 1]!;
      nSeq[j] = nSeq[j + 1]!;
      nSlot[j] = nSlot[j + 1]!;
    }
  }

  /** Adds (t, q, s) to the heap. */
  private push(t: number, q: number, s: number): void {
    if (this.heapSize === this.hTime.length) this.growHeap();
    this.siftUp(this.heapSize++, t, q, s);
  }

  /** Places (t, q, s) at or above heap position `i`. */
  private siftUp(i: number, t: number, q: number, s: number): void {
    const { hTime, hSeq, hSlot } = this;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = hTime[p]!;
      if (pt < t || (pt === t && hSeq[p]! < q)) break;
      hTime[i] = pt;
      hSeq[i] = hSeq[p]!;
      hSlot[i] = hSlot[p]!;
      i = p;
    }
    hTime[i] = t;
    hSeq[i] = q;
    hSlot[i] = s;
  }

  /**
   * Refills the root with (t, q, s), the former last entry, by Floyd's bottom-up method: the hole
   * sinks to a leaf along the smaller children, then the entry rises from there. The last entry
   * usually belongs near the bottom, so this needs about half the comparisons of a sift-down.
   */
  private refillRoot(t: number, q: number, s: number): void {
    const { hTime, hSeq, hSlot } = this;
    const n = this.heapSize;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n) {
        const ct = hTime[c]!;
        const rt = hTime[r]!;
        if (rt < ct || (rt === ct && hSeq[r]! < hSeq[c]!)) c = r;
      }
      hTime[i] = hTime[c]!;
      hSeq[i] = hSeq[c]!;
      hSlot[i] = hSlot[c]!;
      i = c;
    }
    this.siftUp(i, t, q, s);
  }

  /** Places (t, q, s) at or below heap position `i`. */
  private siftDown(i: number, t: number, q: number, s: number): void {
    const { hTime, hSeq, hSlot } = this;
    const n = this.heapSize;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = hTime[c]!;
      let cq = hSeq[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = hTime[r]!;
        const rq = hSeq[r]!;
        if (rt < ct || (rt === ct && rq < cq)) {
          c = r;
          ct = rt;
          cq = rq;
        }
      }
      if (t < ct || (t === ct && q < cq)) break;
      hTime[i] = ct;
      hSeq[i] = cq;
      hSlot[i] = hSlot[c]!;
      i = c;
    }
    hTime[i] = t;
    hSeq[i] = q;
    hSlot[i] = s;
  }

  private growHeap(): void {
    const cap = this.hTime.length * 2;
    this.hTime = growF64(this.hTime, cap, 0);
    this.hSeq = growF64(this.hSeq, cap, 0);
    this.hSlot = growI32(this.hSlot, cap, 0);
  }

  private growSlots(): void {
    const old = this.sSeq.length;
    invariant(old < MAX_PENDING_EVENTS, () => `more than ${MAX_PENDING_EVENTS} pending events`);
    const cap = Math.min(old * 2, MAX_PENDING_EVENTS);
    this.sSeq = growF64(this.sSeq, cap, -1);
    this.sGen = growI32(this.sGen, cap, 1);
    this.freeSlots = growI32(this.freeSlots, cap, 0);
    for (let i = old; i < cap; i++) this.sFn.push(undefined);
  }
}

function notPending(slot: number): never {
  throw new InvariantError(`cancelSlot(${slot}): no pending event of that owner in the slot`);
}

function badTime(time: number, now: number): never {
  throw new InvariantError(`cannot schedule at ${time}: expected a finite time >= now (${now})`);
}
