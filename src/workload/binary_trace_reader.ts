/**
 * Reading the faultline binary trace format (see binary_trace.ts for the layout): a streaming
 * decoder that checks every header, block and record and names the byte offset of the first
 * problem, and helpers for in-memory traces. Decoding is the replay's hot path for binary input,
 * so the record loop is a free function over typed arrays.
 */

import {
  type BatchSupply,
  BatchTarget,
  MAX_ACCESS_SIZE,
  MAX_TRACE_ADDRESS,
  MIN_TRACE_ADDRESS,
  plainBytes,
  TraceBatch,
  type TraceInfo,
  TraceInfoCollector,
  type TraceSink,
} from '../sim/trace_batch.js';
import { type Ok, ok } from '../util/result.js';
import {
  BINARY_HEADER_BYTES,
  BINARY_TRACE_MAGIC,
  BINARY_TRACE_VERSION,
  type BinaryTraceStats,
  BLOCK_HEADER_BYTES,
  corrupt,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_RECORDS,
  MAX_RECORD_BYTES,
  readU32,
  type TraceCorruptError,
  TWO27,
  TWO32,
  TWO53,
} from './binary_trace.js';
import { type DecodeLoop, type WasmBinaryDecoder, wasmBinaryDecoder } from './binary_wasm.js';

/** Block decoding state shared between the reader and the hot loop. */
class DecodeState extends BatchTarget {
  /** Records left in the current block. */
  left = 0;
  /** Batch length, in and out. */
  len = 0;
  /** Position of the bad record when decoding fails. */
  errPos = 0;
  errWhat = '';
  readonly prev = new Float64Array(4);
  /** Version 1: addresses 0..2^53-1, differences modulo 2^53 (else sign-extended, modulo 2^54). */
  v1 = false;
  /** Smallest address the hot loop takes without wrapping (0 in version 1, else -2^53 + 1). */
  low = MIN_TRACE_ADDRESS + 1;
  /** Bits of a zigzag value above its low 28 must stay below this (2^25 in version 1, else 2^26). */
  hiLimit = 2 ** 26;
}

/**
 * The hot loop: decodes records of the current block from `buf[p..end)` until the block or the
 * batch (`cap`) is full. Returns the new position, or -1 after recording the error in `st`.
 */
function decode(buf: Uint8Array, p: number, end: number, st: DecodeState, cap: number): number {
  const { kinds, addrs, sizes, prev, low } = st;
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
        // 5 to 8 bytes (large deltas, e.g. between heap and stack or into the upper half): the
        // bits above the low 28 gather in a second int32 and combine in double arithmetic.
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
        if (hi >= st.hiLimit) return fail(st, rp, p > end ? PAST_END : st.v1 ? DELTA_V1 : DELTA_V2);
        // The value hi * 2^28 + zz may exceed 2^53; halve it in parts (zz's low bit is its sign).
        const half = hi * TWO27 + (zz >>> 1);
        d = (zz & 1) === 0 ? half : -half - 1;
      }
    }
    if (p > end) return fail(st, rp, PAST_END);
    const pa = prev[k]!;
    let a = pa + d;
    // Outside the version's address range (possibly inexact beyond +-2^53): wrap it, exactly.
    if (a < low || a > MAX_TRACE_ADDRESS) a = wrap(st.v1, pa, d);
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
const DELTA_V1 = 'address delta exceeds 2^53';
const DELTA_V2 = 'address delta exceeds 2^54';

/** `pa + d` wrapped into the version's address range (off the hot path). */
function wrap(v1: boolean, pa: number, d: number): number {
  return v1 ? wrap53(pa, d) : wrap54(pa, d);
}

/** Version 1: the address `pa + d` modulo 2^53, for pa in 0..2^53-1 and d in -2^53..2^53. */
function wrap53(pa: number, d: number): number {
  return d >= 0 ? d - (TWO53 - pa) : pa + d + TWO53;
}

/** `pa + d` wrapped modulo 2^54 into -2^53..2^53-1, exactly, for pa and d in that range. */
function wrap54(pa: number, d: number): number {
  if (d >= 0) return pa < TWO53 - d ? pa + d : pa - TWO53 + (d - TWO53);
  return pa >= -TWO53 - d ? pa + d : pa + TWO53 + (d + TWO53);
}

function fail(st: DecodeState, pos: number, what: string): number {
  st.errPos = pos;
  st.errWhat = what;
  return -1;
}

const Phase = { Header: 0, BlockHeader: 1, Payload: 2, Done: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * Which loop decodes records: `auto` the WebAssembly one where available (binary_wasm.ts), else
 * the JavaScript one; `js` always the JavaScript one (the reference, and for tests).
 */
export type BinaryEngine = 'auto' | 'js';

/** Streaming decoder: chunks in, batches out; clear errors for bad magic, version and truncation. */
export class BinaryTraceReader {
  private batch: TraceBatch;
  private readonly st: DecodeState;
  private readonly wasm: WasmBinaryDecoder | null;
  private readonly jsLoop: DecodeLoop;
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
   * `engine` picks the record loop (the results are the same).
   */
  constructor(
    private readonly sink: TraceSink,
    batchCapacity?: number,
    private readonly supply?: BatchSupply,
    engine: BinaryEngine = 'auto',
  ) {
    this.batch = supply?.() ?? new TraceBatch(batchCapacity);
    this.st = new DecodeState(this.batch);
    this.wasm = engine === 'auto' ? wasmBinaryDecoder() : null;
    this.jsLoop = (buf, p, end, _st, cap) => decode(buf, p, end, this.st, cap);
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
        if (version !== BINARY_TRACE_VERSION && version !== 1) {
          return corrupt(
            base + 8,
            `unsupported version ${version} (this reader supports 1 and ${BINARY_TRACE_VERSION})`,
          );
        }
        const st = this.st;
        st.v1 = version === 1;
        st.low = st.v1 ? 0 : MIN_TRACE_ADDRESS + 1;
        st.hiLimit = st.v1 ? 2 ** 25 : 2 ** 26;
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
      p = this.wasm
        ? this.wasm.decode(buf, p, end, st, batch.capacity, this.jsLoop)
        : decode(buf, p, end, st, batch.capacity);
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

/** Decodes an in-memory binary trace, delivering batches to `sink`. */
export function decodeBinaryTrace(
  bytes: Uint8Array,
  sink: TraceSink,
  batchCapacity?: number,
  engine: BinaryEngine = 'auto',
): Ok<BinaryTraceStats> | TraceCorruptError {
  const reader = new BinaryTraceReader(sink, batchCapacity, undefined, engine);
  const r = reader.feed(bytes);
  return r.ok ? reader.end() : r;
}

/** Summarises an in-memory binary trace (records per kind, distinct 4K pages, address range). */
export function binaryTraceInfo(bytes: Uint8Array): Ok<TraceInfo> | TraceCorruptError {
  const c = new TraceInfoCollector();
  const r = decodeBinaryTrace(bytes, c.sink);
  return r.ok ? ok(c.result()) : r;
}
