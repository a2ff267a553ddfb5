/**
 * A ring of trace batches that its two consumers decode themselves: `compare`'s replaying thread
 * and its partner each replay their share of the designs, and whichever of them needs a batch
 * first (or is waiting anyway) reads that block of the trace and decodes it into the shared slot.
 * Two busy threads on two cores then share the decoding between them, where a reader thread
 * would make a third (docs/ARCHITECTURE.md, "Sharing the decode").
 *
 * Batch i is block i wherever it is decoded. The blocks are those of a binary trace whose blocks
 * each fill one batch ({@link indexBinaryBlocks}), so the batches are the streaming reader's; or
 * lackey text cut at line ends into blocks whose records fit a batch ({@link indexLackeyBlocks}),
 * so the batches are shorter than the streaming reader's, with the same records in the same order.
 * As in {@link TraceRing}, the replaying thread allows each batch to the partner as it takes it
 * and ends the run where its own feed stopped, so both replay exactly the same batches.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { TraceBatch } from '../sim/trace_batch.js';
import { BinaryBlockDecoder, type BinaryBlockIndex } from '../workload/binary_blocks.js';
import type { TraceCorruptError } from '../workload/binary_trace.js';
import type { TraceSyntaxError } from '../workload/lackey.js';
import { type LackeyBlockIndex, parseLackeyBlock } from '../workload/lackey_blocks.js';
import { type PlanRing, PlanWords } from './plan_words.js';
import { type SlotBuffers, slotBatches, slotBuffers } from './trace_ring.js';

/** The blocks of a trace that two threads decode between them: a binary trace's, or lackey text's. */
export type SharedTrace =
  | { readonly format: 'binary'; readonly index: BinaryBlockIndex }
  | { readonly format: 'lackey'; readonly index: LackeyBlockIndex };

/** Where each block of `trace` lies in its file. */
export function blockSpans(trace: SharedTrace): {
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
} {
  return trace.format === 'binary'
    ? { offsets: trace.index.payloadOffsets, sizes: trace.index.payloadBytes }
    : { offsets: trace.index.offsets, sizes: trace.index.bytes };
}

/** Why a block could not be decoded (a read error is an Error). */
export type BlockFailure = TraceCorruptError | TraceSyntaxError;

/** The shared buffers and the block index, as posted to the partner thread. */
export interface BlockRingBuffers extends SlotBuffers {
  readonly path: string;
  readonly trace: SharedTrace;
  readonly capacity: number;
  readonly slots: number;
  readonly control: SharedArrayBuffer;
  /** Per run of the comparison, its cost over the timed batches (replay_share.ts). */
  readonly costs: SharedArrayBuffer;
}

// Slot states.
const FREE = 0;
const DECODING = 1;
const READY = 2;
const FAILED = 3;

/**
 * Control words: per slot its state, the number of the batch in it, its length, the consumers yet
 * to release it and its block's lines (lackey text: 2 * lines, + 1 when the last has no newline);
 * then the next batch to claim for decoding, the batches allowed to the partner, the end (batches
 * + 1, 0 while unknown), the batches the partner has replayed, a tick that every change of any of
 * these advances (one word to wait on), the threads that reported their runs' costs, and the plan
 * (1 + the mask of runs on the partner, 0 while undecided).
 */
const controlWords = (slots: number) => 5 * slots + 7;

export class BlockRing implements PlanRing {
  private readonly ctrl: Int32Array;
  private readonly batches: TraceBatch[];
  private readonly seqAt: number;
  private readonly lenAt: number;
  private readonly pendingAt: number;
  private readonly linesAt: number;
  private readonly claimAt: number;
  private readonly allowedAt: number;
  private readonly endAt: number;
  private readonly progressAt: number;
  private readonly tickAt: number;
  readonly planning: PlanWords;
  /** The binary block decoder (null for lackey text). */
  private readonly decoder: BinaryBlockDecoder | null;
  /** Per block: where it lies in the file. */
  private readonly offsets: Float64Array;
  private readonly sizes: Uint32Array;
  /** This thread's read buffer and file, opened on first use. */
  private payload: Uint8Array | null = null;
  private fd = -1;

  constructor(readonly buffers: BlockRingBuffers) {
    const { slots } = buffers;
    this.ctrl = new Int32Array(buffers.control);
    this.seqAt = slots;
    this.lenAt = 2 * slots;
    this.pendingAt = 3 * slots;
    this.linesAt = 4 * slots;
    this.claimAt = 5 * slots;
    this.allowedAt = this.claimAt + 1;
    this.endAt = this.claimAt + 2;
    this.progressAt = this.claimAt + 3;
    this.tickAt = this.claimAt + 4;
    this.planning = new PlanWords(
      this.ctrl,
      this.claimAt + 5,
      this.claimAt + 6,
      new Float64Array(buffers.costs),
      () => this.advance(),
    );
    const t = buffers.trace;
    this.decoder = t.format === 'binary' ? new BinaryBlockDecoder(t.index.version) : null;
    const spans = blockSpans(t);
    this.offsets = spans.offsets;
    this.sizes = spans.sizes;
    this.batches = slotBatches(buffers);
  }

  /**
   * Allocates a ring of `slots` batches of `capacity` records over the blocks of `trace`, for a
   * comparison of `runs` runs.
   */
  static create(path: string, trace: SharedTrace, capacity: number, slots: number, runs: number): BlockRing {
    return new BlockRing({
      costs: new SharedArrayBuffer(8 * runs),
      path,
      trace,
      capacity,
      slots,
      control: new SharedArrayBuffer(4 * controlWords(slots)),
      ...slotBuffers(capacity, slots),
    });
  }

  /** Batches of the trace (its blocks). */
  get length(): number {
    return this.offsets.length;
  }

  /** Bytes of the trace up to the end of batch i's block (for progress bars). */
  bytesThrough(i: number): number {
    return this.offsets[i]! + this.sizes[i]!;
  }

  /** The tick's value: read it before checking, then wait on it, so that no change is missed. */
  get tick(): number {
    return Atomics.load(this.ctrl, this.tickAt);
  }

  private advance(): void {
    Atomics.add(this.ctrl, this.tickAt, 1);
    Atomics.notify(this.ctrl, this.tickAt);
  }

  /** Batch i when it has been decoded into its slot, else null. */
  ready(i: number): TraceBatch | null {
    const s = i % this.buffers.slots;
    if (Atomics.load(this.ctrl, s) !== READY || Atomics.load(this.ctrl, this.seqAt + s) !== i) return null;
    const b = this.batches[s]!;
    b.length = Atomics.load(this.ctrl, this.lenAt + s);
    return b;
  }

  /** Lines of ready batch i's block (lackey text; 0 for binary), and whether its last lacks a newline. */
  lines(i: number): { readonly lines: number; readonly partialLine: boolean } {
    const w = Atomics.load(this.ctrl, this.linesAt + (i % this.buffers.slots));
    return { lines: w >>> 1, partialLine: (w & 1) === 1 };
  }

  /** True when decoding batch i failed (see {@link error}). */
  failed(i: number): boolean {
    const s = i % this.buffers.slots;
    return Atomics.load(this.ctrl, s) === FAILED && Atomics.load(this.ctrl, this.seqAt + s) === i;
  }

  /**
   * Claims the next batch nobody has decoded yet and decodes it, if its slot is free (both
   * consumers released the batch it held). Returns false when there was nothing to do: every
   * batch is claimed, or the next one's slot is still held. Never blocks.
   */
  decodeAhead(): boolean {
    const c = Atomics.load(this.ctrl, this.claimAt);
    if (c >= this.length) return false;
    const s = c % this.buffers.slots;
    if (Atomics.load(this.ctrl, s) !== FREE) return false;
    // Lost the race: the other thread claimed batch c, so there may be more to do.
    if (Atomics.compareExchange(this.ctrl, this.claimAt, c, c + 1) !== c) return true;
    Atomics.store(this.ctrl, s, DECODING);
    Atomics.store(this.ctrl, this.seqAt + s, c);
    const batch = this.batches[s]!;
    let ok: boolean;
    try {
      const r = this.decode(c, batch);
      ok = typeof r === 'number';
      Atomics.store(this.ctrl, this.linesAt + s, typeof r === 'number' ? r : 0);
    } catch {
      // A read error: the replaying thread meets it again in error().
      batch.length = 0;
      ok = false;
    }
    Atomics.store(this.ctrl, this.lenAt + s, batch.length);
    Atomics.store(this.ctrl, this.pendingAt + s, 2);
    Atomics.store(this.ctrl, s, ok ? READY : FAILED);
    this.advance();
    return true;
  }

  /**
   * Why batch i failed: decodes its block again (a corrupt block fails the same way), or the read
   * error (an Error) if reading it fails.
   */
  error(i: number): BlockFailure | Error {
    try {
      const r = this.decode(i, new TraceBatch(this.buffers.capacity));
      return typeof r === 'number' ? new Error(`block ${i} could not be read, then could`) : r;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  /** Reads block i and decodes it into `batch`: its lines word (see controlWords), or the error. */
  private decode(i: number, batch: TraceBatch): number | BlockFailure {
    const n = this.sizes[i]!;
    if (this.payload === null || this.payload.length < n) this.payload = new Uint8Array(Math.max(n, 1 << 20));
    if (this.fd < 0) this.fd = openSync(this.buffers.path, 'r');
    const base = this.offsets[i]!;
    let got = 0;
    while (got < n) {
      const k = readSync(this.fd, this.payload, got, n - got, base + got);
      if (k === 0) break;
      got += k;
    }
    const t = this.buffers.trace;
    if (t.format === 'binary') {
      // A file cut short since it was indexed: the block decoder reports the missing bytes.
      const r = this.decoder!.decode(this.payload, 0, got, t.index.records[i]!, base, batch);
      return r.ok ? 0 : r;
    }
    // A text file cut short since: its last line may end early, as it would for the streaming reader.
    const r = parseLackeyBlock(this.payload, 0, got, batch);
    return r.ok ? 2 * r.value.lines + (r.value.partialLine ? 1 : 0) : r;
  }

  /** Done with batch i: its slot is free again once both consumers released it. */
  release(i: number): void {
    const s = i % this.buffers.slots;
    if (Atomics.sub(this.ctrl, this.pendingAt + s, 1) > 1) return;
    Atomics.store(this.ctrl, s, FREE);
    this.advance();
  }

  /** Replaying thread: the partner may replay batches 0..n-1. */
  allow(n: number): void {
    Atomics.store(this.ctrl, this.allowedAt, n);
    this.advance();
  }

  /** Replaying thread: the run has exactly `n` batches. */
  end(n: number): void {
    if (Atomics.load(this.ctrl, this.endAt) === 0) Atomics.store(this.ctrl, this.endAt, n + 1);
    this.advance();
  }

  /** Batches the partner has replayed. */
  get partnerProgress(): number {
    return Atomics.load(this.ctrl, this.progressAt);
  }

  /** Resolves when anything changed, or after `ms`. */
  async changed(tick: number, ms: number): Promise<void> {
    const w = Atomics.waitAsync(this.ctrl, this.tickAt, tick, ms);
    if (w.async) await w.value;
  }

  // Partner side (blocking waits: it runs on its own thread).

  /**
   * Blocks until batch i may be replayed, decoding meanwhile; null when the run ends before it.
   * `unblock` is tried before each wait (the plan may free slots this thread holds).
   */
  partnerTake(i: number, unblock?: () => boolean): TraceBatch | null {
    const c = this.ctrl;
    for (;;) {
      const tick = this.tick;
      const end = Atomics.load(c, this.endAt);
      if (end !== 0 && i >= end - 1) return null;
      if (Atomics.load(c, this.allowedAt) > i) {
        const b = this.ready(i);
        if (b !== null) return b;
      }
      if (this.decodeAhead() || unblock?.() === true) continue;
      Atomics.wait(c, this.tickAt, tick, 100);
    }
  }

  /** Partner: done with batch i; it keeps the batch in its slot when `release` is false. */
  partnerDone(i: number, release = true): void {
    if (release) this.release(i);
    Atomics.store(this.ctrl, this.progressAt, i + 1);
    this.advance();
  }

  /** Batch i, which this thread still holds (for the plan). */
  held(i: number): TraceBatch | null {
    return this.ready(i);
  }

  /** Gives back batches 0..n-1, which this thread held until the plan. */
  releaseHeld(n: number): void {
    for (let i = 0; i < n; i++) this.release(i);
  }

  /** Closes this thread's file. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
