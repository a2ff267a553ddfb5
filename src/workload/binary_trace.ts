/**
 * The faultline binary trace format: compact, streamable, exact.
 *
 * ```
 * header   20 bytes  'FLTRACE1' | u16 version (2) | u16 flags (0) | u64 record count (all ones = unknown)
 * block    u32 n (1..MAX_BLOCK_RECORDS) | u32 payload bytes (<= MAX_BLOCK_BYTES) | payload
 * end      u32 0 | u32 8 | u64 total record count
 * ```
 *
 * Integers are little-endian. A payload holds `n` records; each is a tag byte
 * `kind | sizeCode << 2` (sizeCode 1..63 is the size itself, 0 means a LEB128 varint size
 * follows) and then the address as a zigzag LEB128 varint of its difference to the previous
 * address of the same kind in the same block (0 at block start). Blocks decode independently.
 * The end block makes truncation detectable at any byte; there is no checksum.
 *
 * Addresses are sign-extended 64-bit addresses, -2^53..2^53-1 (`TraceBatch.addr`): version 2
 * wraps differences modulo 2^54 into -2^53..2^53-1, so a zigzag value is below 2^54 and takes at
 * most 8 bytes. Version 1 (written until upper-half addresses were supported) held addresses
 * 0..2^53-1 and wrapped differences modulo 2^53; the reader still reads it.
 *
 * This file holds the layout's constants and the writer; binary_trace_reader.ts decodes.
 */

import { MAX_ACCESS_SIZE, MAX_TRACE_ADDRESS, type TraceBatch } from '../sim/trace_batch.js';
import { type Err, err, invariant } from '../util/result.js';

/** The first 8 bytes of every binary trace. */
export const BINARY_TRACE_MAGIC: Uint8Array = Uint8Array.from('FLTRACE1', (c) => c.charCodeAt(0));
/** Format version written (the reader also reads version 1, see the file comment). */
export const BINARY_TRACE_VERSION = 2;
/** Header size in bytes. */
export const BINARY_HEADER_BYTES = 20;
/** Most records in one block (the writer defaults to 65536). */
export const MAX_BLOCK_RECORDS = 1 << 20;
/** Largest block payload accepted, in bytes (bounds the reader's memory). */
export const MAX_BLOCK_BYTES = 16 << 20;

/** A corrupt or unsupported binary trace, with the byte offset where the problem was found. */
export interface TraceCorruptError extends Err<'TRACE_CORRUPT'> {
  /** Byte offset from the start of the (uncompressed) trace. */
  readonly offset: number;
}

/** Outcome of {@link BinaryTraceReader.end}. */
export interface BinaryTraceStats {
  /** Records delivered. */
  readonly records: number;
  /** Count the header announced, or null when the writer did not know it. */
  readonly declaredRecords: number | null;
  /** True when the sink asked to stop; the rest of the input was ignored. */
  readonly stopped: boolean;
}

// Exported for binary_trace_reader.ts (not part of the public API).
export const TWO32 = 4294967296;
export const TWO53 = 9007199254740992;
/** MIN_TRACE_ADDRESS, -2^53, as a literal: the writer's loop compiled 10% slower reading the import. */
const LOWEST = -9007199254740992;
export const TWO27 = 134217728;
/** Most bytes of one encoded record: tag, 2-byte size varint, 8-byte address varint. */
export const MAX_RECORD_BYTES = 11;
export const BLOCK_HEADER_BYTES = 8;

export function corrupt(offset: number, what: string): TraceCorruptError {
  return { ...err('TRACE_CORRUPT', `offset ${offset}: ${what}`), offset };
}

function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v & 255;
  buf[o + 1] = (v >>> 8) & 255;
  buf[o + 2] = (v >>> 16) & 255;
  buf[o + 3] = (v >>> 24) & 255;
}

export function readU32(buf: Uint8Array, o: number): number {
  return (buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16)) + buf[o + 3]! * 16777216;
}

/** Options of {@link BinaryTraceWriter}. */
export interface BinaryTraceWriterOptions {
  /** Records per block (1..MAX_BLOCK_RECORDS, default 65536). */
  readonly blockRecords?: number;
  /** Total record count to announce in the header, when known in advance (checked at finish). */
  readonly recordCount?: number;
}

/**
 * Encodes batches into the binary format. Output goes to `out` as fresh `Uint8Array` chunks
 * (the header, then one chunk per block) that the caller may keep.
 */
export class BinaryTraceWriter {
  private readonly blockRecords: number;
  private readonly declared: number | undefined;
  private buf: Uint8Array;
  private pos = BLOCK_HEADER_BYTES;
  private inBlock = 0;
  private readonly prev = new Float64Array(4);
  private total = 0;
  private started = false;
  private finished = false;

  constructor(
    private readonly out: (chunk: Uint8Array) => void,
    options: BinaryTraceWriterOptions = {},
  ) {
    this.blockRecords = options.blockRecords ?? 65536;
    invariant(
      Number.isInteger(this.blockRecords) && this.blockRecords >= 1 && this.blockRecords <= MAX_BLOCK_RECORDS,
      `blockRecords ${this.blockRecords} out of range 1..${MAX_BLOCK_RECORDS}`,
    );
    this.declared = options.recordCount;
    this.buf = new Uint8Array(BLOCK_HEADER_BYTES + this.blockRecords * MAX_RECORD_BYTES);
  }

  /** Records written so far. */
  get records(): number {
    return this.total;
  }

  /**
   * Encodes every record of a batch. Records must be valid: an integer address in
   * MIN_TRACE_ADDRESS..MAX_TRACE_ADDRESS (-2^53..2^53-1, sign-extended), a size in 1..4096.
   */
  write(batch: TraceBatch): void {
    invariant(!this.finished, 'BinaryTraceWriter.write after finish()');
    if (!this.started) this.start();
    const { kind, addr, size } = batch;
    const buf = this.buf;
    const prev = this.prev;
    const per = this.blockRecords;
    let o = this.pos;
    for (let i = 0; i < batch.length; i++) {
      const k = kind[i]!;
      const a = addr[i]!;
      const s = size[i]!;
      if (
        !(
          k < 4 &&
          s >= 1 &&
          s <= MAX_ACCESS_SIZE &&
          a >= LOWEST &&
          a <= MAX_TRACE_ADDRESS &&
          Math.floor(a) === a
        )
      ) {
        invariant(false, `invalid trace record ${i}: kind ${k}, address ${a}, size ${s}`);
      }
      if (s < 64) buf[o++] = k | (s << 2);
      else {
        buf[o++] = k;
        buf[o++] = (s & 127) | 128;
        buf[o++] = s >>> 7;
      }
      const p = prev[k]!;
      prev[k] = a;
      let d = a - p;
      // Near +-2^53 the difference may be inexact (or just out of range): wrap it exactly.
      if (d >= TWO53 || d <= -TWO53) d = wrappedDelta(a, p);
      // Zigzag: 2|d| for d >= 0, 2|d| - 1 below; up to 2^54 - 1, so past 2^31 it is written in
      // parts (off the hot path).
      let zz = d >= 0 ? 2 * d : -2 * d - 1; // inexact beyond 2^53, but then only compared
      if (zz >= 2147483648) o = writeWideZigzag(buf, o, d);
      else {
        while (zz > 127) {
          buf[o++] = (zz & 127) | 128;
          zz >>>= 7;
        }
        buf[o++] = zz;
      }
      if (++this.inBlock === per) {
        this.pos = o;
        this.emitBlock();
        o = this.pos;
      }
    }
    this.pos = o;
    this.total += batch.length;
  }

  /** Emits the last partial block and the end block. Throws if a declared record count was not met. */
  finish(): void {
    if (this.finished) return;
    if (!this.started) this.start();
    if (this.inBlock > 0) this.emitBlock();
    this.finished = true;
    invariant(
      this.declared === undefined || this.declared === this.total,
      `BinaryTraceWriter declared ${this.declared} records but wrote ${this.total}`,
    );
    const end = new Uint8Array(16);
    writeU32(end, 4, 8);
    writeU32(end, 8, this.total % TWO32);
    writeU32(end, 12, Math.floor(this.total / TWO32));
    this.out(end);
  }

  private start(): void {
    this.started = true;
    const h = new Uint8Array(BINARY_HEADER_BYTES);
    h.set(BINARY_TRACE_MAGIC);
    h[8] = BINARY_TRACE_VERSION;
    const n = this.declared;
    if (n === undefined) h.fill(255, 12, 20);
    else {
      invariant(Number.isSafeInteger(n) && n >= 0, `recordCount ${n} is not a count`);
      writeU32(h, 12, n % TWO32);
      writeU32(h, 16, Math.floor(n / TWO32));
    }
    this.out(h);
  }

  private emitBlock(): void {
    writeU32(this.buf, 0, this.inBlock);
    writeU32(this.buf, 4, this.pos - BLOCK_HEADER_BYTES);
    this.out(this.buf.slice(0, this.pos));
    this.pos = BLOCK_HEADER_BYTES;
    this.inBlock = 0;
    this.prev.fill(0);
  }
}

/**
 * Writes the zigzag varint of `d` (-2^53..2^53-1, |d| >= 2^30) at `buf[o]` and returns the next
 * position: the value 2m + sign (m = |d|, or |d| - 1 below zero) may exceed 2^53, so its low 28
 * bits (4 varint bytes) and the bits above are computed apart, each exact.
 */
function writeWideZigzag(buf: Uint8Array, o: number, d: number): number {
  const neg = d < 0 ? 1 : 0;
  const m = neg ? -d - 1 : d;
  const hi = Math.floor(m / TWO27);
  const lo = (m - hi * TWO27) * 2 + neg;
  buf[o++] = (lo & 127) | 128;
  buf[o++] = ((lo >>> 7) & 127) | 128;
  buf[o++] = ((lo >>> 14) & 127) | 128;
  buf[o++] = (lo >>> 21) | 128;
  let h = hi;
  while (h > 127) {
    buf[o++] = (h & 127) | 128;
    h >>>= 7;
  }
  buf[o++] = h;
  return o;
}

/**
 * `a - p` wrapped modulo 2^54 into -2^53..2^53-1, exactly, for addresses a and p in
 * -2^53..2^53-1 (their plain difference may need 55 bits). Off the hot path.
 */
export function wrappedDelta(a: number, p: number): number {
  // Same signs: |a - p| < 2^53, exact.
  if (a >= 0 === p >= 0) return a - p;
  if (a >= 0) return a - TWO53 < p ? a - p : a - TWO53 - (p + TWO53);
  return a + TWO53 >= p ? a - p : a + TWO53 - (p - TWO53);
}

/** Encodes batches into one in-memory binary trace (for tests and small traces). */
export function encodeBinaryTrace(
  batches: Iterable<TraceBatch>,
  options?: BinaryTraceWriterOptions,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new BinaryTraceWriter((c) => chunks.push(c), options);
  for (const b of batches) w.write(b);
  w.finish();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
