/**
 * A ring of trace batches in shared memory between a reader thread (which parses a trace file into
 * it) and the thread that replays it: slots are handed over with Atomics, so parsing and simulation
 * overlap, and the reader parses into the slots, so records are never copied. Both sides build a
 * {@link TraceRing} over the same buffers.
 */
import { TraceBatch } from '../sim/trace_batch.js';

/** The shared buffers of a ring, as passed to the reader thread in `workerData`. */
export interface TraceRingBuffers {
  readonly capacity: number;
  readonly slots: number;
  readonly control: SharedArrayBuffer;
  readonly kind: SharedArrayBuffer;
  readonly addr: SharedArrayBuffer;
  readonly size: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
}

const FREE = 0;
const FULL = 1;

export class TraceRing {
  /** Per slot a state (FREE, FULL) and a length, then the stop flag and the done flag. */
  private readonly ctrl: Int32Array;
  private readonly read: Float64Array;
  private readonly batches: TraceBatch[];
  private readonly stopAt: number;
  private readonly doneAt: number;

  constructor(readonly buffers: TraceRingBuffers) {
    const { capacity, slots } = buffers;
    this.ctrl = new Int32Array(buffers.control);
    this.read = new Float64Array(buffers.bytes);
    this.stopAt = 2 * slots;
    this.doneAt = 2 * slots + 1;
    this.batches = Array.from(
      { length: slots },
      (_, s) =>
        new TraceBatch(capacity, {
          kind: new Uint8Array(buffers.kind, s * capacity, capacity),
          addr: new Float64Array(buffers.addr, s * capacity * 8, capacity),
          size: new Uint32Array(buffers.size, s * capacity * 4, capacity),
        }),
    );
  }

  /** Allocates the shared buffers of a ring of `slots` batches of `capacity` records. */
  static create(capacity: number, slots: number): TraceRing {
    return new TraceRing({
      capacity,
      slots,
      control: new SharedArrayBuffer(4 * (2 * slots + 2)),
      kind: new SharedArrayBuffer(capacity * slots),
      addr: new SharedArrayBuffer(8 * capacity * slots),
      size: new SharedArrayBuffer(4 * capacity * slots),
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

  /** The batch in slot s when it is full, else null. */
  take(s: number): TraceBatch | null {
    if (Atomics.load(this.ctrl, s) !== FULL) return null;
    const b = this.batches[s]!;
    b.length = Atomics.load(this.ctrl, this.buffers.slots + s);
    return b;
  }

  /** Gives slot s back to the reader. */
  release(s: number): void {
    Atomics.store(this.ctrl, s, FREE);
    Atomics.notify(this.ctrl, s);
  }

  /** True once the reader has finished (every filled slot was filled before). */
  get done(): boolean {
    return Atomics.load(this.ctrl, this.doneAt) === 1;
  }

  /** Resolves when slot s may have changed state (filled, or the reader finished), or after `ms`. */
  async changed(s: number, ms: number): Promise<void> {
    const w = Atomics.waitAsync(this.ctrl, s, FREE, ms);
    if (w.async) await w.value;
  }

  /** Asks the reader to stop and frees every slot so that it wakes. */
  stop(): void {
    Atomics.store(this.ctrl, this.stopAt, 1);
    for (let s = 0; s < this.slots; s++) this.release(s);
  }

  get stopRequested(): boolean {
    return Atomics.load(this.ctrl, this.stopAt) === 1;
  }
}
