/**
 * The faultline binary trace format: compact, streamable, exact.
 *
 * ```
 * header   20 bytes  'FLTRACE1' | u16 version (1) | u16 flags (0) | u64 record count (all ones = unknown)
 * block    u32 n (1..MAX_BLOCK_RECORDS) | u32 payload bytes (<= MAX_BLOCK_BYTES) | payload
 * end      u32 0 | u32 8 | u64 total record count
 * ```
 *
 * Integers are little-endian. A payload holds `n` records; each is a tag byte
 * `kind | sizeCode << 2` (sizeCode 1..63 is the size itself, 0 means a LEB128 varint size
 * follows) and then the address as a zigzag LEB128 varint of its difference to the previous
 * address of the same kind in the same block (0 at block start), wrapped to 53 bits so every
 * value fits a JavaScript number exactly. Blocks decode independently. The end block makes
 * truncation detectable at any byte; there is no checksum.
 */

import {
  type BatchSupply,
  MAX_ACCESS_SIZE,
  MAX_TRACE_ADDRESS,
  plainBytes,
  TraceBatch,
  type TraceInfo,
  TraceInfoCollector,
  type TraceSink,
} from '../sim/trace_batch.js';
import { type Err, err, invariant, type Ok, ok } from '../util/result.js';

/** The first 8 bytes of every binary trace. */
export const BINARY_TRACE_MAGIC: Uint8Array = Uint8Array.from('FLTRACE1', (c) => c.charCodeAt(0));
/** Format version written and accepted. */
export const BINARY_TRACE_VERSION = 1;
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

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
const TWO52 = 4503599627370496;
const TWO28 = 268435456;
/** Most bytes of one encoded record: tag, 2-byte size varint, 8-byte address varint. */
const MAX_RECORD_BYTES = 11;
const BLOCK_HEADER_BYTES = 8;

function corrupt(offset: number, what: string): TraceCorruptError {
  return { ...err('TRACE_CORRUPT', `offset ${offset}: ${what}`), offset };
}

function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v & 255;
  buf[o + 1] = (v >>> 8) & 255;
  buf[o + 2] = (v >>> 16) & 255;
  buf[o + 3] = (v >>> 24) & 255;
}

function readU32(buf: Uint8Array, o: number): number {
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

  /** Encodes every record of a batch. Records must be valid (integer address <= 2^53-1, size 1..4096). */
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
        !(k < 4 && s >= 1 && s <= MAX_ACCESS_SIZE && a >= 0 && a <= MAX_TRACE_ADDRESS && Math.floor(a) === a)
      ) {
        invariant(false, `invalid trace record ${i}: kind ${k}, address ${a}, size ${s}`);
      }
      if (s < 64) buf[o++] = k | (s << 2);
      else {
        buf[o++] = k;
        buf[o++] = (s & 127) | 128;
        buf[o++] = s >>> 7;
      }
      let d = a - prev[k]!;
      prev[k] = a;
      if (d >= TWO52) d -= TWO53;
      else if (d < -TWO52) d += TWO53;
      let zz = d >= 0 ? 2 * d : -2 * d - 1;
      while (zz >= 2147483648) {
        buf[o++] = (zz % 128) | 128;
        zz = Math.floor(zz / 128);
      }
      while (zz > 127) {
        buf[o++] = (zz & 127) | 128;
        zz >>>= 7;
      }
      buf[o++] = zz;
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

/** Block decoding state shared between the reader and the hot loop. */
class DecodeState {
  /** Records left in the current block. */
  left = 0;
  /** Batch length, in and out. */
  len = 0;
  /** Position of the bad record when decoding fails. */
  errPos = 0;
  errWhat = '';
  readonly prev = new Float64Array(4);
  kinds: Uint8Array;
  addrs: Float64Array;
  sizes: Uint32Array;

  constructor(batch: TraceBatch) {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }

  /** Decodes into `batch` from now on. */
  use(batch: TraceBatch): void {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }
}

/**
 * The hot loop: decodes records of the current block from `buf[p..end)` until the block or the
 * batch (`cap`) is full. Returns the new position, or -1 after recording the error in `st`.
 */
function decode(buf: Uint8Array, p: number, end: number, st: DecodeState, cap: number): number {
  const { kinds, addrs, sizes, prev } = st;
  let len = st.len;
  let left = st.left;
  while (left > 0 && len < cap) {
    const rp = p;
    const tag = buf[p++]!;
    const k = tag & 3;
    let s = tag >>> 2;
    if (s === 0) {
      let b = buf[p++]!;
      s = b & 127;
      if (b > 127) {
        b = buf[p++]!;
        s |= (b & 127) << 7;
        if (b > 127) return fail(st, rp, p > end ? PAST_END : 'size varint longer than 2 bytes');
      }
      if (s < 1 || s > MAX_ACCESS_SIZE)
        return fail(st, rp, `size ${s} out of range (expected 1..${MAX_ACCESS_SIZE})`);
    }
    // Address delta: zigzag varint. Up to 4 bytes (|delta| < 2^27) stays in int32 arithmetic.
    let b = buf[p++]!;
    let d: number;
    if (b < 128) d = (b >>> 1) ^ -(b & 1);
    else {
      let zz = b & 127;
      b = buf[p++]!;
      zz |= (b & 127) << 7;
      if (b > 127) {
        b = buf[p++]!;
        zz |= (b & 127) << 14;
        if (b > 127) {
          b = buf[p++]!;
          zz |= (b & 127) << 21;
        }
      }
      if (b < 128) d = (zz >>> 1) ^ -(zz & 1);
      else {
        // 5 to 8 bytes (deltas up to 2^53, e.g. between heap and stack): the bits above the
        // low 28 gather in a second int32 and combine in double arithmetic, exactly.
        b = buf[p++]!;
        let hi = b & 127;
        if (b > 127) {
          b = buf[p++]!;
          hi |= (b & 127) << 7;
          if (b > 127) {
            b = buf[p++]!;
            hi |= (b & 127) << 14;
            if (b > 127) {
              b = buf[p++]!;
              hi |= (b & 127) << 21;
              if (b > 127) return fail(st, rp, p > end ? PAST_END : 'address varint longer than 8 bytes');
            }
          }
        }
        const v = hi * TWO28 + zz;
        if (v >= TWO53) return fail(st, rp, p > end ? PAST_END : 'address delta exceeds 2^53');
        d = (zz & 1) === 0 ? v / 2 : -(v + 1) / 2; // v's low bit is zz's
      }
    }
    if (p > end) return fail(st, rp, PAST_END);
    const pa = prev[k]!;
    let a = pa + d;
    // Outside 0..2^53-1 (possibly inexact above 2^53): wrap modulo 2^53, exactly.
    if (a < 0 || a > MAX_TRACE_ADDRESS) a = d >= 0 ? d - (TWO53 - pa) : a + TWO53;
    prev[k] = a;
    kinds[len] = k;
    addrs[len] = a;
    sizes[len] = s;
    len++;
    left--;
  }
  st.len = len;
  st.left = left;
  return p;
}

const PAST_END = 'record runs past the end of its block';

function fail(st: DecodeState, pos: number, what: string): number {
  st.errPos = pos;
  st.errWhat = what;
  return -1;
}

const Phase = { Header: 0, BlockHeader: 1, Payload: 2, Done: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Streaming decoder: chunks in, batches out; clear errors for bad magic, version and truncation. */
export class BinaryTraceReader {
  private batch: TraceBatch;
  private readonly st: DecodeState;
  private phase: Phase = Phase.Header;
  /** Bytes of the current header / block header / payload collected so far in `pending`. */
  private pending = new Uint8Array(BINARY_HEADER_BYTES);
  private pendingLen = 0;
  /** Bytes needed for the current phase. */
  private need = BINARY_HEADER_BYTES;
  /** Absolute offset of the start of the current header, block header or payload. */
  private unitOffset = 0;
  /** Absolute offset of the next byte to be fed. */
  private offset = 0;
  private blockRecords = 0;
  private endBlock = false;
  private declared: number | null = null;
  private records = 0;
  private failed: TraceCorruptError | null = null;
  /** True once the sink returned `false`; further input is ignored. */
  stopped = false;

  /**
   * Creates a reader delivering batches of up to `batchCapacity` records to `sink`, filling one
   * reused batch, or each batch `supply` hands it (then `batchCapacity` is the supplied one's).
   */
  constructor(
    private readonly sink: TraceSink,
    batchCapacity?: number,
    private readonly supply?: BatchSupply,
  ) {
    this.batch = supply?.() ?? new TraceBatch(batchCapacity);
    this.st = new DecodeState(this.batch);
  }

  /** Decodes one chunk. Returns the first error (and keeps returning it). */
  feed(chunk: Uint8Array): Ok<void> | TraceCorruptError {
    chunk = plainBytes(chunk);
    if (this.failed) return this.failed;
    const n = chunk.length;
    let i = 0;
    while (i < n && !this.stopped) {
      if (this.phase === Phase.Done) {
        return this.setFailed(corrupt(this.offset + i, 'unexpected data after the end-of-trace block'));
      }
      let unit: Uint8Array;
      let at: number;
      if (this.pendingLen === 0 && n - i >= this.need) {
        unit = chunk;
        at = i;
        i += this.need;
      } else {
        const take = Math.min(this.need - this.pendingLen, n - i);
        this.pending.set(chunk.subarray(i, i + take), this.pendingLen);
        this.pendingLen += take;
        i += take;
        if (this.pendingLen < this.need) break;
        unit = this.pending;
        at = 0;
      }
      const r = this.unit(unit, at);
      this.pendingLen = 0;
      if (!r.ok) return this.setFailed(r);
    }
    this.offset += n;
    return ok(undefined);
  }

  /** Checks that the trace ended after its end block, flushes the pending batch and reports totals. */
  end(): Ok<BinaryTraceStats> | TraceCorruptError {
    if (this.failed) return this.failed;
    if (!this.stopped && this.phase !== Phase.Done) {
      const at = this.unitOffset + this.pendingLen;
      const what =
        this.phase === Phase.Header
          ? this.offset === 0
            ? 'empty input: no binary trace header'
            : `truncated header (${this.pendingLen} of ${BINARY_HEADER_BYTES} bytes)`
          : this.phase === Phase.BlockHeader
            ? this.pendingLen === 0
              ? 'truncated: missing end-of-trace block'
              : `truncated block header (${this.pendingLen} of ${BLOCK_HEADER_BYTES} bytes)`
            : `truncated block: ${this.need - this.pendingLen} of ${this.need} payload bytes missing`;
      return this.setFailed(corrupt(at, what));
    }
    if (!this.stopped && this.batch.length > 0) this.flush();
    return ok({ records: this.records, declaredRecords: this.declared, stopped: this.stopped });
  }

  private setFailed(e: TraceCorruptError): TraceCorruptError {
    this.failed = e;
    return e;
  }

  private expect(phase: Phase, need: number, unitOffset: number): void {
    this.phase = phase;
    this.need = need;
    this.unitOffset = unitOffset;
    if (need > this.pending.length) this.pending = new Uint8Array(Math.max(need, this.pending.length * 2));
  }

  /** Handles one complete header, block header or payload at `buf[at..at+need)`. */
  private unit(buf: Uint8Array, at: number): Ok<void> | TraceCorruptError {
    const base = this.unitOffset;
    const next = base + this.need;
    switch (this.phase) {
      case Phase.Header: {
        for (let j = 0; j < 8; j++) {
          if (buf[at + j] !== BINARY_TRACE_MAGIC[j]) {
            return corrupt(base + j, `bad magic: expected 'FLTRACE1', found ${magicText(buf, at)}`);
          }
        }
        const version = buf[at + 8]! | (buf[at + 9]! << 8);
        if (version !== BINARY_TRACE_VERSION) {
          return corrupt(
            base + 8,
            `unsupported version ${version} (this reader supports ${BINARY_TRACE_VERSION})`,
          );
        }
        const flags = buf[at + 10]! | (buf[at + 11]! << 8);
        if (flags !== 0) return corrupt(base + 10, `unsupported flags 0x${flags.toString(16)} (expected 0)`);
        const lo = readU32(buf, at + 12);
        const hi = readU32(buf, at + 16);
        if (lo !== TWO32 - 1 || hi !== TWO32 - 1) {
          if (hi >= 2 ** 21) return corrupt(base + 12, 'declared record count exceeds 2^53');
          this.declared = hi * TWO32 + lo;
        }
        this.expect(Phase.BlockHeader, BLOCK_HEADER_BYTES, next);
        return ok(undefined);
      }
      case Phase.BlockHeader: {
        const n = readU32(buf, at);
        const bytes = readU32(buf, at + 4);
        if (n === 0) {
          if (bytes !== 8)
            return corrupt(base + 4, `end-of-trace block with ${bytes} payload bytes (expected 8)`);
          this.endBlock = true;
        } else if (n > MAX_BLOCK_RECORDS) {
          return corrupt(base, `block of ${n} records (at most ${MAX_BLOCK_RECORDS})`);
        } else if (bytes < 2 * n || bytes > MAX_BLOCK_BYTES || bytes > n * MAX_RECORD_BYTES) {
          return corrupt(base + 4, `block of ${n} records cannot have ${bytes} payload bytes`);
        }
        this.blockRecords = n;
        this.expect(Phase.Payload, bytes, next);
        return ok(undefined);
      }
      case Phase.Payload: {
        if (this.endBlock) {
          const total = readU32(buf, at + 4) * TWO32 + readU32(buf, at);
          const seen = this.records + this.batch.length;
          if (total !== seen)
            return corrupt(base, `end-of-trace block counts ${total} records, found ${seen}`);
          if (this.declared !== null && this.declared !== seen) {
            return corrupt(base, `header declares ${this.declared} records, found ${seen}`);
          }
          this.phase = Phase.Done;
          return ok(undefined);
        }
        const r = this.decodeBlock(buf, at, at + this.need, base);
        if (!r.ok) return r;
        this.expect(Phase.BlockHeader, BLOCK_HEADER_BYTES, next);
        return ok(undefined);
      }
      default:
        return corrupt(base, 'unexpected data after the end-of-trace block');
    }
  }

  private decodeBlock(
    buf: Uint8Array,
    start: number,
    end: number,
    base: number,
  ): Ok<void> | TraceCorruptError {
    const st = this.st;
    st.left = this.blockRecords;
    st.errWhat = '';
    st.prev.fill(0);
    let p = start;
    while (st.left > 0) {
      const batch = this.batch; // a flush may have swapped it
      st.len = batch.length;
      p = decode(buf, p, end, st, batch.capacity);
      batch.length = st.len;
      if (p < 0) return corrupt(base + (st.errPos - start), st.errWhat);
      if (batch.length === batch.capacity) {
        this.flush();
        if (this.stopped) return ok(undefined);
      }
    }
    if (p !== end) return corrupt(base + (p - start), `${end - p} stray bytes after the block's last record`);
    return ok(undefined);
  }

  private flush(): void {
    const b = this.batch;
    this.records += b.length;
    const r = this.sink(b);
    if (r === false) this.stopped = true;
    if (this.supply) {
      this.batch = this.supply();
      this.st.use(this.batch);
    } else b.length = 0;
  }
}

function magicText(buf: Uint8Array, at: number): string {
  let s = '';
  for (let j = 0; j < 8; j++) {
    const c = buf[at + j]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `'${s}'`;
}

/** True when `bytes` starts with the binary trace magic. */
export function isBinaryTrace(bytes: Uint8Array): boolean {
  if (bytes.length < BINARY_TRACE_MAGIC.length) return false;
  for (let j = 0; j < BINARY_TRACE_MAGIC.length; j++) if (bytes[j] !== BINARY_TRACE_MAGIC[j]) return false;
  return true;
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

/** Decodes an in-memory binary trace, delivering batches to `sink`. */
export function decodeBinaryTrace(
  bytes: Uint8Array,
  sink: TraceSink,
  batchCapacity?: number,
): Ok<BinaryTraceStats> | TraceCorruptError {
  const reader = new BinaryTraceReader(sink, batchCapacity);
  const r = reader.feed(bytes);
  return r.ok ? reader.end() : r;
}

/** Summarises an in-memory binary trace (records per kind, distinct 4K pages, address range). */
export function binaryTraceInfo(bytes: Uint8Array): Ok<TraceInfo> | TraceCorruptError {
  const c = new TraceInfoCollector();
  const r = decodeBinaryTrace(bytes, c.sink);
  return r.ok ? ok(c.result()) : r;
}
