/**
 * Reading the faultline binary trace format (see binary_trace.ts for the layout): a streaming
 * decoder that checks every header, block and record and names the byte offset of the first
 * problem, and helpers for in-memory traces. The checks and the record loop are binary_decode.ts's.
 */

import {
  type BatchSupply,
  plainBytes,
  TraceBatch,
  type TraceInfo,
  TraceInfoCollector,
  type TraceSink,
} from '../sim/trace_batch.js';
import { type Ok, ok } from '../util/result.js';
import {
  type BinaryEngine,
  checkBlockHeader,
  checkEndBlock,
  DecodeState,
  decode,
  parseHeader,
  recordError,
  strayBytes,
} from './binary_decode.js';
import {
  BINARY_HEADER_BYTES,
  BINARY_TRACE_MAGIC,
  type BinaryTraceStats,
  BLOCK_HEADER_BYTES,
  corrupt,
  readU32,
  type TraceCorruptError,
} from './binary_trace.js';
import { type DecodeLoop, type WasmBinaryDecoder, wasmBinaryDecoder } from './binary_wasm.js';

const Phase = { Header: 0, BlockHeader: 1, Payload: 2, Done: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export type { BinaryEngine } from './binary_decode.js';

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
        const h = parseHeader(buf, at, base);
        if (!h.ok) return h;
        this.st.setVersion(h.value.version);
        this.declared = h.value.declared;
        this.expect(Phase.BlockHeader, BLOCK_HEADER_BYTES, next);
        return ok(undefined);
      }
      case Phase.BlockHeader: {
        const n = readU32(buf, at);
        const bytes = readU32(buf, at + 4);
        const bad = checkBlockHeader(n, bytes, base);
        if (bad) return bad;
        this.endBlock = n === 0;
        this.blockRecords = n;
        this.expect(Phase.Payload, bytes, next);
        return ok(undefined);
      }
      case Phase.Payload: {
        if (this.endBlock) {
          const bad = checkEndBlock(buf, at, base, this.records + this.batch.length, this.declared);
          if (bad) return bad;
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
    st.startBlock(this.blockRecords);
    let p = start;
    while (st.left > 0) {
      const batch = this.batch; // a flush may have swapped it
      st.len = batch.length;
      p = this.wasm
        ? this.wasm.decode(buf, p, end, st, batch.capacity, this.jsLoop)
        : decode(buf, p, end, st, batch.capacity);
      batch.length = st.len;
      if (p < 0) return recordError(st, start, base);
      if (batch.length === batch.capacity) {
        this.flush();
        if (this.stopped) return ok(undefined);
      }
    }
    if (p !== end) return strayBytes(p, start, end, base);
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
