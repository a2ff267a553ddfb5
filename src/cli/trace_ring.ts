/**
 * A ring of trace batches in shared memory between a reader thread (which parses a trace file into
 * it) and the thread that replays it: slots are handed over with Atomics, so parsing and simulation
 * overlap, and the reader parses into the slots, so records are never copied. Every side builds a
 * {@link TraceRing} over the same buffers.
 *
 * A ring may have a second consumer, a partner thread replaying other designs of a `compare`: a
 * slot is free again once both released it. The main consumer allows each batch to the partner as
 * it takes it, and tells it where the batches end, so both replay exactly the same batches even
 * when the main consumer stops early.
 */
import { TraceBatch } from '../sim/trace_batch.js';

/** The shared buffers of a ring, as passed to the reader thread in `workerData`. */
export interface TraceRingBuffers extends SlotBuffers {
  readonly capacity: number;
  readonly slots: number;
  /** Threads that take every batch: 1, or 2 with a partner. */
  readonly consumers: number;
  readonly control: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
}

/** The record arrays of a ring's slots, in shared memory. */
export interface SlotBuffers {
  readonly kind: SharedArrayBuffer;
  readonly addr: SharedArrayBuffer;
  readonly size: SharedArrayBuffer;
}

/** Shared record arrays for `slots` batches of `capacity` records. */
export function slotBuffers(capacity: number, slots: number): SlotBuffers {
  return {
    kind: new SharedArrayBuffer(capacity * slots),
    addr: new SharedArrayBuffer(8 * capacity * slots),
    size: new SharedArrayBuffer(4 * capacity * slots),
  };
}

/** One batch per slot over the shared record arrays (each thread builds its own views). */
export function slotBatches(
  b: SlotBuffers & { readonly capacity: number; readonly slots: number },
): TraceBatch[] {
  const { capacity } = b;
  return Array.from(
    { length: b.slots },
    (_, s) =>
      new TraceBatch(capacity, {
        kind: new Uint8Array(b.kind, s * capacity, capacity),
        addr: new Float64Array(b.addr, s * capacity * 8, capacity),
        size: new Uint32Array(b.size, s * capacity * 4, capacity),
      }),
  );
}

/**
 * Slots of a ring with a partner. A slot is free only once both consumers released it, and the two
 * drift apart (other designs, three threads on two cores): 16 slots let the one ahead keep going.
 * Against 4, measured on both traces and forms, a comparison's cost in single replays fell by
 * 0.07–0.6 for 2 designs and 0.3–1.0 for 4 (docs/BENCHMARKS.md, compare); a replay without a
 * partner gains nothing from them and keeps 4.
 */
export const PARTNER_SLOTS = 16;

const FREE = 0;
const FULL = 1;

/**
 * Control words: per slot a state (FREE, FULL) and a length, the stop and done flags, per slot the
 * consumers yet to release it, the batches allowed to the partner, the end (batches + 1, 0 while
 * unknown), the batches the partner has replayed, and per slot the number of the batch in it.
 */
const controlWords = (slots: number) => 4 * slots + 5;

export class TraceRing {
  private readonly ctrl: Int32Array;
  private readonly read: Float64Array;
  private readonly batches: TraceBatch[];
  private readonly stopAt: number;
  private readonly doneAt: number;
  private readonly pendingAt: number;
  private readonly allowedAt: number;
  private readonly endAt: number;
  private readonly progressAt: number;
  private readonly seqAt: number;
  /** Reader side: batches published so far. */
  private published = 0;

  constructor(readonly buffers: TraceRingBuffers) {
    const { slots } = buffers;
    this.ctrl = new Int32Array(buffers.control);
    this.read = new Float64Array(buffers.bytes);
    this.stopAt = 2 * slots;
    this.doneAt = 2 * slots + 1;
    this.pendingAt = 2 * slots + 2;
    this.allowedAt = 3 * slots + 2;
    this.endAt = 3 * slots + 3;
    this.progressAt = 3 * slots + 4;
    this.seqAt = 3 * slots + 5;
    this.batches = slotBatches(buffers);
  }

  /** Allocates the shared buffers of a ring of `slots` batches of `capacity` records. */
  static create(capacity: number, slots: number, consumers = 1): TraceRing {
    return new TraceRing({
      capacity,
      slots,
      consumers,
      control: new SharedArrayBuffer(4 * controlWords(slots)),
      ...slotBuffers(capacity, slots),
      bytes: new SharedArrayBuffer(8),
    });
  }

  get slots(): number {
    return this.buffers.slots;
  }

  // Reader side.

  /** Blocks the reader thread until slot s is free or the consumer asked to stop; true if free. */
  waitFree(s: number): boolean {
    while (Atomics.load(this.ctrl, s) === FULL && !this.stopRequested) Atomics.wait(this.ctrl, s, FULL, 100);
    return !this.stopRequested;
  }

  /** The batch over slot s's shared memory, for the reader to parse into while the slot is free. */
  batch(s: number): TraceBatch {
    const b = this.batches[s]!;
    b.length = 0;
    return b;
  }

  /** Hands slot s, holding `n` records, to the consumer. */
  publish(s: number, n: number): void {
    Atomics.store(this.ctrl, this.buffers.slots + s, n);
    Atomics.store(this.ctrl, this.pendingAt + s, this.buffers.consumers);
    Atomics.store(this.ctrl, this.seqAt + s, this.published++);
    Atomics.store(this.ctrl, s, FULL);
    Atomics.notify(this.ctrl, s);
  }

  /** Bytes of input read so far (compressed bytes for gzip input). */
  set bytesRead(n: number) {
    this.read[0] = n;
  }

  get bytesRead(): number {
    return this.read[0]!;
  }

  /** No more slots will be filled; wakes a waiting consumer. */
  finish(): void {
    Atomics.store(this.ctrl, this.doneAt, 1);
    for (let s = 0; s < this.slots; s++) Atomics.notify(this.ctrl, s);
  }

  // Consumer side.

  /**
   * The batch in slot s when it is full (and is batch number `seq`, when given: with a partner a
   * slot stays full after this consumer released it, until the partner has), else null.
   */
  take(s: number, seq?: number): TraceBatch | null {
    if (Atomics.load(this.ctrl, s) !== FULL) return null;
    if (seq !== undefined && Atomics.load(this.ctrl, this.seqAt + s) !== seq) return null;
    const b = this.batches[s]!;
    b.length = Atomics.load(this.ctrl, this.buffers.slots + s);
    return b;
  }

  /** Gives slot s back to the reader (once every consumer has). */
  release(s: number): void {
    if (Atomics.sub(this.ctrl, this.pendingAt + s, 1) > 1) return;
    Atomics.store(this.ctrl, s, FREE);
    Atomics.notify(this.ctrl, s);
  }

  /** Main consumer: the partner may replay batches 0..n-1 (they are part of the run). */
  allow(n: number): void {
    Atomics.store(this.ctrl, this.allowedAt, n);
    Atomics.notify(this.ctrl, this.allowedAt);
  }

  /** Main consumer: the run has exactly `n` batches; the partner stops after them. */
  end(n: number): void {
    Atomics.store(this.ctrl, this.endAt, n + 1);
    Atomics.notify(this.ctrl, this.allowedAt);
  }

  /** Batches the partner has replayed. */
  get partnerProgress(): number {
    return Atomics.load(this.ctrl, this.progressAt);
  }

  /** Resolves when the partner has replayed `n` batches (or after `ms`). */
  async partnerReached(n: number, ms: number): Promise<void> {
    const seen = Atomics.load(this.ctrl, this.progressAt);
    if (seen >= n) return;
    const w = Atomics.waitAsync(this.ctrl, this.progressAt, seen, ms);
    if (w.async) await w.value;
  }

  // Partner side (blocking waits: it runs on its own thread).

  /**
   * Blocks until batch i (in slot i mod slots) may be replayed and returns it, or returns null
   * when the run ends before it.
   */
  partnerTake(i: number): TraceBatch | null {
    const c = this.ctrl;
    for (;;) {
      const end = Atomics.load(c, this.endAt);
      if (end !== 0 && i >= end - 1) return null;
      const allowed = Atomics.load(c, this.allowedAt);
      if (allowed > i) break;
      Atomics.wait(c, this.allowedAt, allowed, 100);
    }
    const s = i % this.slots;
    // An allowed batch is in its slot until both consumers released it.
    const b = this.batches[s]!;
    b.length = Atomics.load(c, this.buffers.slots + s);
    return b;
  }

  /** Partner: done with batch i. */
  partnerDone(i: number): void {
    this.release(i % this.slots);
    Atomics.store(this.ctrl, this.progressAt, i + 1);
    Atomics.notify(this.ctrl, this.progressAt);
  }

  /** True once the reader has finished (every filled slot was filled before). */
  get done(): boolean {
    return Atomics.load(this.ctrl, this.doneAt) === 1;
  }

  /**
   * Resolves when slot s may have changed state (filled, freed by the partner, or the reader
   * finished), or after `ms`.
   */
  async changed(s: number, ms: number): Promise<void> {
    const w = Atomics.waitAsync(this.ctrl, s, Atomics.load(this.ctrl, s), ms);
    if (w.async) await w.value;
  }

  /**
   * Asks the reader to stop and frees every slot so that it wakes. With a partner, call it only
   * once the partner has replayed every batch of the run (`partnerReached`).
   */
  stop(): void {
    Atomics.store(this.ctrl, this.stopAt, 1);
    for (let s = 0; s < this.slots; s++) {
      Atomics.store(this.ctrl, this.pendingAt + s, 0);
      Atomics.store(this.ctrl, s, FREE);
      Atomics.notify(this.ctrl, s);
    }
  }

  get stopRequested(): boolean {
    return Atomics.load(this.ctrl, this.stopAt) === 1;
  }
}
