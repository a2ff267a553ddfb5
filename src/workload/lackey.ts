/**
 * Streaming parser for Valgrind lackey `--trace-mem=yes` output:
 *
 * ```
 * I  0400d7d4,8        instruction fetch
 *  L 04222cac,8        load
 *  S 7ff000398,8       store
 *  M 0421fb40,4        modify (read-modify-write)
 * ```
 *
 * Accepted syntax per line: `I` or a space followed by `L`/`S`/`M`, one or more spaces or tabs,
 * a hex address (no `0x`, any number of digits: a 64-bit address at most 2^53-1, or an upper-half
 * one from 0xffe0000000000000, read sign-extended as in `TraceBatch.addr`), `,`, a decimal size in
 * 1..4096 (`MAX_ACCESS_SIZE`), optional trailing spaces/tabs and an optional `\r`. Lines starting
 * with `==` or `--` (Valgrind's own messages) and blank lines are skipped; a line of only blanks
 * is an error. Record lines are at most {@link MAX_LINE_BYTES} bytes. The parser reads bytes
 * directly: no string per line, no allocation per record.
 */

import { type BatchSupply, plainBytes, TraceBatch, type TraceSink } from '../sim/trace_batch.js';
import { type Err, err, invariant, type Ok, ok } from '../util/result.js';
import {
  DASH,
  describeScanError,
  EQ,
  MAX_LINE_BYTES,
  NL,
  ScanState,
  SLICE_RECORDS,
  scan,
  tooLong,
} from './lackey_scan.js';
import { type WasmLackeyScanner, wasmLackeyScanner } from './lackey_wasm.js';

export { MAX_LINE_BYTES };

/** A lackey syntax error: where it is and what was expected. */
export interface TraceSyntaxError extends Err<'TRACE_SYNTAX'> {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based byte column. */
  readonly column: number;
  /** What was expected, without the position (the message is `line L, column C: ` and this). */
  readonly detail: string;
}

/** Outcome of {@link LackeyParser.end}. */
export interface LackeyStats {
  /** Records emitted. */
  readonly records: number;
  /** Lines read, including skipped and blank lines and a final line without newline. */
  readonly lines: number;
  /** True when the input ended with a line that had no newline (it was parsed; it may be cut short). */
  readonly partialLine: boolean;
  /** True when the sink asked to stop; the rest of the input was ignored. */
  readonly stopped: boolean;
}

/**
 * Which loop scans lines: `auto` the WebAssembly one where available (lackey_wasm.ts), else the
 * JavaScript one; `js` always the JavaScript one (the reference, and for tests).
 */
export type LackeyEngine = 'auto' | 'js';

/**
 * Streaming lackey parser. Feed it chunks (lines may straddle chunk boundaries); it fills a
 * reused {@link TraceBatch} and hands it to the sink whenever it is full, and at {@link end}.
 * After an error the parser stays failed; every record before the error line has been delivered.
 */
export class LackeyParser {
  private batch: TraceBatch;
  private readonly scan: ScanState;
  private readonly wasm: WasmLackeyScanner | null;
  private line = 1;
  private records = 0;
  private carry = new Uint8Array(256);
  private carryLen = 0;
  private skipping = false;
  private failed: TraceSyntaxError | null = null;
  private finished = false;
  /** True once the sink returned `false`; further input is ignored. */
  stopped = false;

  /**
   * Creates a parser delivering batches of up to `batchCapacity` records to `sink`, filling one
   * reused batch, or each batch `supply` hands it (then `batchCapacity` is the supplied one's).
   * `engine` picks the scanning loop (the results are the same).
   */
  constructor(
    private readonly sink: TraceSink,
    batchCapacity?: number,
    private readonly supply?: BatchSupply,
    engine: LackeyEngine = 'auto',
  ) {
    this.batch = supply?.() ?? new TraceBatch(batchCapacity);
    this.scan = new ScanState(this.batch);
    this.wasm = engine === 'auto' ? wasmLackeyScanner() : null;
  }

  /** Records emitted so far (including those still in the pending batch). */
  get recordCount(): number {
    return this.records + this.batch.length;
  }

  /** Parses one chunk. Returns the first syntax error (and keeps returning it). */
  feed(chunk: Uint8Array): Ok<void> | TraceSyntaxError {
    chunk = plainBytes(chunk);
    if (this.failed) return this.failed;
    invariant(!this.finished, 'LackeyParser.feed after end()');
    if (this.stopped) return ok(undefined);
    const n = chunk.length;
    let start = 0;
    if (this.skipping || this.carryLen > 0) {
      // Finish the line that straddles the previous chunk boundary.
      const nl = chunk.indexOf(NL);
      const r = this.stash(chunk, 0, nl < 0 ? n : nl + 1);
      if (!r.ok) return r;
      if (nl < 0) return ok(undefined);
      if (this.skipping) {
        this.skipping = false;
        this.line++;
      } else {
        if (!this.parseCarry()) return this.failed!;
        if (this.stopped) return ok(undefined);
      }
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= start) {
      if (!this.parse(chunk, start, last + 1)) return this.failed!;
      if (this.stopped) return ok(undefined);
      start = last + 1;
    }
    return start < n ? this.stash(chunk, start, n) : ok(undefined);
  }

  /** Parses a final line without newline, flushes the pending batch and reports totals. */
  end(): Ok<LackeyStats> | TraceSyntaxError {
    if (this.failed) return this.failed;
    let partialLine = false;
    if (!this.finished && !this.stopped) {
      this.finished = true;
      if (this.skipping) {
        partialLine = true;
        this.line++;
      } else if (this.carryLen > 0) {
        partialLine = true;
        const r = this.stash(Uint8Array.of(NL), 0, 1);
        if (!r.ok) return r;
        if (!this.parseCarry()) return this.failed!;
      }
      if (!this.stopped && this.batch.length > 0) this.flush();
    }
    this.finished = true;
    return ok({ records: this.records, lines: this.line - 1, partialLine, stopped: this.stopped });
  }

  /**
   * Appends bytes of an unfinished line (`to` may include its newline) to the carry buffer, or
   * drops them when the line is a Valgrind message. A record line longer than MAX_LINE_BYTES is an
   * error, as in the hot loop, so the outcome does not depend on where chunks are split.
   */
  private stash(chunk: Uint8Array, from: number, to: number): Ok<void> | TraceSyntaxError {
    if (this.skipping) return ok(undefined);
    const have = this.carryLen;
    const total = have + (to - from);
    if (total >= 2) {
      const c0 = have > 0 ? this.carry[0] : chunk[from];
      const c1 = have > 1 ? this.carry[1] : chunk[from + 1 - have];
      if ((c0 === EQ || c0 === DASH) && c1 === c0) {
        this.skipping = true;
        this.carryLen = 0;
        return ok(undefined);
      }
    }
    const content = to > from && chunk[to - 1] === NL ? total - 1 : total;
    const len = Math.min(total, MAX_LINE_BYTES + 1);
    if (len > this.carry.length) {
      const bigger = new Uint8Array(Math.min(MAX_LINE_BYTES + 1, Math.max(len + 1, this.carry.length * 2)));
      bigger.set(this.carry.subarray(0, have));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(from, from + (len - have)), have);
    this.carryLen = len;
    if (content > MAX_LINE_BYTES) {
      this.fail(0, MAX_LINE_BYTES, tooLong(this.carry, 0, MAX_LINE_BYTES));
      return this.failed!;
    }
    return ok(undefined);
  }

  private parseCarry(): boolean {
    const len = this.carryLen;
    this.carryLen = 0;
    return this.parse(this.carry, 0, len);
  }

  private flush(): void {
    const b = this.batch;
    this.records += b.length;
    const r = this.sink(b);
    if (r === false) this.stopped = true;
    if (this.supply) {
      this.batch = this.supply();
      this.scan.use(this.batch);
    } else b.length = 0;
  }

  /** Records the error and delivers the records parsed before it, whatever the batch size. */
  private fail(lineStart: number, p: number, what: string): false {
    const column = p - lineStart + 1;
    const e = err('TRACE_SYNTAX', `line ${this.line}, column ${column}: ${what}`);
    this.failed = { ...e, line: this.line, column, detail: what };
    if (this.batch.length > 0 && !this.stopped) this.flush();
    return false;
  }

  /**
   * Parses complete lines in `buf[start..end)`; the byte at `end-1` is a newline, so every scan
   * stops at a newline without bounds checks. Returns false on a syntax error.
   */
  private parse(buf: Uint8Array, start: number, end: number): boolean {
    const st = this.scan;
    let p = start;
    while (p < end) {
      const batch = this.batch; // a flush may have swapped it
      st.line = this.line;
      st.len = batch.length;
      p = this.wasm
        ? this.wasm.scan(buf, p, end, st, batch.capacity)
        : scan(buf, p, end, st, Math.min(batch.capacity, st.len + SLICE_RECORDS));
      batch.length = st.len;
      this.line = st.line;
      if (p < 0) {
        this.fail(st.errLineStart, st.errPos, describeScanError(buf, st));
        return false;
      }
      if (batch.length === batch.capacity) {
        this.flush();
        if (this.stopped) return true;
      }
    }
    return true;
  }
}

/** Parses a whole in-memory lackey text (convenience for tests and small inputs). */
export function parseLackey(
  text: string | Uint8Array,
  sink: TraceSink,
  batchCapacity?: number,
  engine: LackeyEngine = 'auto',
): Ok<LackeyStats> | TraceSyntaxError {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const parser = new LackeyParser(sink, batchCapacity, undefined, engine);
  const r = parser.feed(bytes);
  return r.ok ? parser.end() : r;
}

// Warm-up at load: run the JavaScript hot loop's exits (normal end, full slice, error) often enough for V8 to
// allocate its feedback vector and record them. Otherwise the first optimisation (on-stack
// replacement in the middle of a large chunk) lacks feedback for the exits and deoptimises on every
// call, which costs more than half the throughput.
for (let i = 0; i < 32; i++) {
  parseLackey('==1==\nI  1,1\n L 2,2\n\n S 3,4\r\n M 4,8\n', () => {}, 2, 'js');
  parseLackey('I  1,1\nx', () => {}, undefined, 'js');
}
