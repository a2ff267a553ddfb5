/**
 * Decoding a binary trace's blocks apart (see binary_trace.ts for the layout; blocks decode
 * independently): an index of where each block's payload lies, from the header and the 8-byte
 * block headers alone, and a decoder for one block payload. Together they let several threads
 * decode any blocks in any order. The index accepts only a trace whose framing the streaming
 * reader would accept and whose blocks are its batches (every block but the last holds exactly
 * `batchRecords` records, the last at most that); otherwise the caller reads the trace with
 * `BinaryTraceReader`, which names the problem. Both use binary_decode.ts's checks and record
 * loop, so records and errors are the streaming reader's.
 */

import { TraceBatch } from '../sim/trace_batch.js';
import { invariant, type Ok, ok } from '../util/result.js';
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
import { BINARY_HEADER_BYTES, BLOCK_HEADER_BYTES, readU32, type TraceCorruptError } from './binary_trace.js';
import { type DecodeLoop, type WasmBinaryDecoder, wasmBinaryDecoder } from './binary_wasm.js';

/** Where the data blocks of a well-formed, batch-aligned binary trace lie. */
export interface BinaryBlockIndex {
  readonly version: 1 | 2;
  /** Record count the header announces, or null when unknown. */
  readonly declaredRecords: number | null;
  /** Per data block: absolute offset of its payload. */
  readonly payloadOffsets: Float64Array;
  /** Per data block: payload length in bytes. */
  readonly payloadBytes: Uint32Array;
  /** Per data block: its record count. */
  readonly records: Uint32Array;
  readonly totalRecords: number;
}

/**
 * Indexes the blocks of a binary trace of `size` bytes, read through `readAt(offset, length)` (the
 * bytes at `offset`, fewer only at the end of the file): once for the header, once per block
 * header (payloads are skipped) and once for the end block's count. Returns null when the
 * streaming reader would report a framing problem (header, block header, end block, truncation,
 * bytes after the end block) or when the blocks are not its batches of `batchRecords` records.
 * Record errors inside payloads are left to {@link BinaryBlockDecoder}.
 */
export function indexBinaryBlocks(
  size: number,
  readAt: (offset: number, length: number) => Uint8Array,
  batchRecords: number,
): BinaryBlockIndex | null {
  invariant(
    Number.isInteger(batchRecords) && batchRecords >= 1,
    `batchRecords ${batchRecords} is not a count`,
  );
  if (size < BINARY_HEADER_BYTES) return null;
  const head = readAt(0, BINARY_HEADER_BYTES);
  if (head.length < BINARY_HEADER_BYTES) return null;
  const h = parseHeader(head, 0, 0);
  if (!h.ok) return null;
  const cols = new BlockColumns();
  let total = 0;
  let off = BINARY_HEADER_BYTES;
  for (;;) {
    if (off + BLOCK_HEADER_BYTES > size) return null;
    const bh = readAt(off, BLOCK_HEADER_BYTES);
    if (bh.length < BLOCK_HEADER_BYTES) return null;
    const n = readU32(bh, 0);
    const bytes = readU32(bh, 4);
    if (checkBlockHeader(n, bytes, off) !== null) return null;
    // A payload cut short shows at the next block header's bounds check.
    const payload = off + BLOCK_HEADER_BYTES;
    if (n === 0) {
      // The file ends with the end block: anything after it is an error the reader reports.
      if (payload + 8 !== size) return null;
      const tail = readAt(payload, 8);
      if (tail.length < 8 || checkEndBlock(tail, 0, payload, total, h.value.declared) !== null) return null;
      break;
    }
    // Only the last data block may be short; a block is one batch, so none may be longer.
    if (n > batchRecords || (cols.count > 0 && cols.records[cols.count - 1] !== batchRecords)) return null;
    cols.push(payload, bytes, n);
    total += n;
    off = payload + bytes;
  }
  return {
    version: h.value.version,
    declaredRecords: h.value.declared,
    payloadOffsets: cols.offsets.slice(0, cols.count),
    payloadBytes: cols.bytes.slice(0, cols.count),
    records: cols.records.slice(0, cols.count),
    totalRecords: total,
  };
}

/** The index's columns while they grow (doubling: a trace may have millions of blocks). */
class BlockColumns {
  count = 0;
  offsets = new Float64Array(16);
  bytes = new Uint32Array(16);
  records = new Uint32Array(16);

  push(offset: number, bytes: number, n: number): void {
    if (this.count === this.records.length) {
      const cap = this.count * 2;
      this.offsets = grown(this.offsets, new Float64Array(cap));
      this.bytes = grown(this.bytes, new Uint32Array(cap));
      this.records = grown(this.records, new Uint32Array(cap));
    }
    this.offsets[this.count] = offset;
    this.bytes[this.count] = bytes;
    this.records[this.count] = n;
    this.count++;
  }
}

function grown<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Positions below this are small integers to the JavaScript engine (31 bits with pointer compression). */
const SMALL = 2 ** 30;

/**
 * Decodes one block payload at a time, with the streaming reader's record loop and messages.
 * One decoder per thread (it reuses its state); blocks may come in any order.
 */
export class BinaryBlockDecoder {
  private readonly st: DecodeState;
  private readonly wasm: WasmBinaryDecoder | null;
  private readonly jsLoop: DecodeLoop;

  /** A decoder for blocks of a trace of `version`; `engine` picks the record loop (the results are the same). */
  constructor(version: 1 | 2, engine: BinaryEngine = 'auto') {
    this.st = new DecodeState(new TraceBatch(0));
    this.st.setVersion(version);
    this.wasm = engine === 'auto' ? wasmBinaryDecoder() : null;
    this.jsLoop = (buf, p, end, _st, cap) => decode(buf, p, end, this.st, cap);
  }

  /**
   * Decodes the `n` records of the block payload `buf[start..end)` into `batch` from index 0 and
   * sets its length; `base` is the absolute file offset of `buf[start]` (for error offsets).
   * Errors are the streaming reader's for that block. On a bad record `batch.length` counts the
   * records before it; on stray bytes after the last record all `n` are in `batch`. The streaming
   * reader with batch capacity `batchRecords` delivered the batch before the error exactly when
   * `batch.length === batchRecords` (a full batch is flushed before the stray bytes are noticed).
   */
  decode(
    buf: Uint8Array,
    start: number,
    end: number,
    n: number,
    base: number,
    batch: TraceBatch,
  ): Ok<void> | TraceCorruptError {
    invariant(n <= batch.capacity, () => `block of ${n} records into a batch of ${batch.capacity}`);
    const st = this.st;
    st.use(batch);
    st.startBlock(n);
    st.len = 0;
    const cap = batch.capacity;
    // Positions read from a Float64Array (the index's offsets) arrive as heap numbers; passed on,
    // they teach the shared record loop float positions, and it ran 35% slower (10.4 ns a record).
    const from = start < SMALL ? start | 0 : start;
    const to = end < SMALL ? end | 0 : end;
    const p = this.wasm
      ? this.wasm.decode(buf, from, to, st, cap, this.jsLoop)
      : decode(buf, from, to, st, cap);
    batch.length = st.len;
    if (p < 0) return recordError(st, from, base);
    if (p !== to) return strayBytes(p, from, to, base);
    return ok(undefined);
  }
}
