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
 * a hex address (no `0x`, any number of digits, value at most 2^53-1), `,`, a decimal size in
 * 1..{@link MAX_ACCESS_SIZE}, optional trailing spaces/tabs and an optional `\r`. Lines starting
 * with `==` or `--` (Valgrind's own messages) and blank lines are skipped; a line of only blanks
 * is an error. Record lines are at most {@link MAX_LINE_BYTES} bytes. The parser reads bytes
 * directly: no string per line, no allocation per record.
 */

import {
  type BatchSupply,
  KIND_LETTERS,
  MAX_ACCESS_SIZE,
  MAX_TRACE_ADDRESS,
  plainBytes,
  TraceBatch,
  type TraceSink,
} from '../sim/trace_batch.js';
import { type Err, err, invariant, type Ok, ok } from '../util/result.js';

/** Longest line accepted, in bytes (Valgrind lines are far shorter; this bounds memory). */
export const MAX_LINE_BYTES = 4096;

/** A lackey syntax error: where it is and what was expected. */
export interface TraceSyntaxError extends Err<'TRACE_SYNTAX'> {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based byte column. */
  readonly column: number;
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

const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const COMMA = 44;
const EQ = 61;
const DASH = 45;

/** Records parsed per call of the hot loop (bounded so that the loop's exits stay warm in V8). */
const SLICE_RECORDS = 4096;

/** Hex digit value per byte, -1 for non-hex. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** Describes the input at `p` for an error message: `'zz'`, `end of line` or `non-text byte 0x00`. */
function describeAt(buf: Uint8Array, p: number): string {
  const c = buf[p];
  if (c === undefined || c === NL || (c === CR && buf[p + 1] === NL)) return 'end of line';
  if (c < 0x20 || c >= 0x7f)
    return c === TAB ? "'\\t'" : `non-text byte 0x${c.toString(16).padStart(2, '0')}`;
  let s = '';
  for (let q = p; q < buf.length && s.length < 16; q++) {
    const d = buf[q]!;
    if (d <= SP || d >= 0x7f || d === COMMA) break;
    s += String.fromCharCode(d);
  }
  return `'${s === '' ? String.fromCharCode(c) : s}'`;
}

/**
 * Streaming lackey parser. Feed it chunks (lines may straddle chunk boundaries); it fills a
 * reused {@link TraceBatch} and hands it to the sink whenever it is full, and at {@link end}.
 * After an error the parser stays failed; every record before the error line has been delivered.
 */
export class LackeyParser {
  private batch: TraceBatch;
  private readonly scan: ScanState;
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
   */
  constructor(
    private readonly sink: TraceSink,
    batchCapacity?: number,
    private readonly supply?: BatchSupply,
  ) {
    this.batch = supply?.() ?? new TraceBatch(batchCapacity);
    this.scan = new ScanState(this.batch);
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
    this.failed = { ...e, line: this.line, column };
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
      p = scan(buf, p, end, st, Math.min(batch.capacity, st.len + SLICE_RECORDS));
      batch.length = st.len;
      this.line = st.line;
      if (p < 0) {
        this.fail(st.errLineStart, st.errPos, this.describeError(buf));
        return false;
      }
      if (batch.length === batch.capacity) {
        this.flush();
        if (this.stopped) return true;
      }
    }
    return true;
  }

  private describeError(buf: Uint8Array): string {
    const { errCode, errPos: p, errKind, errAux } = this.scan;
    const k = `'${KIND_LETTERS[errKind]}'`;
    switch (errCode) {
      case E_START:
        return `expected 'I', ' L', ' S', ' M' or a '==' line, found ${describeAt(buf, p)}`;
      case E_DATA_KIND:
        return `expected 'L', 'S' or 'M' after ' ', found ${describeAt(buf, p)}`;
      case E_SPACE:
        return `expected a space after ${k}, found ${describeAt(buf, p)}`;
      case E_HEX:
        return `expected a hex address after ${k}, found ${describeAt(buf, p)}`;
      case E_ADDR_RANGE:
        return `address 0x${hexText(buf, p, errAux)} exceeds 2^53`;
      case E_COMMA:
        return `missing ',' between address and size, found ${describeAt(buf, p)}`;
      case E_SIZE_DIGIT:
        return `expected a decimal size after ',', found ${describeAt(buf, p)}`;
      case E_SIZE_RANGE:
        return `${errAux > 1e15 ? 'size' : `size ${errAux}`} out of range (expected 1..${MAX_ACCESS_SIZE})`;
      case E_EOL:
        return `expected end of line after size, found ${describeAt(buf, p)}`;
      default:
        return tooLong(buf, this.scan.errLineStart, MAX_LINE_BYTES);
    }
  }
}

const E_START = 1;
const E_DATA_KIND = 2;
const E_SPACE = 3;
const E_HEX = 4;
const E_ADDR_RANGE = 5;
const E_COMMA = 6;
const E_SIZE_DIGIT = 7;
const E_SIZE_RANGE = 8;
const E_EOL = 9;
const E_TOO_LONG = 10;

/** Mutable state shared between the parser and the hot loop (no allocation per call). */
class ScanState {
  /** Batch length, in and out. */
  len = 0;
  /** Current 1-based line, in and out. */
  line = 1;
  errCode = 0;
  errPos = 0;
  errLineStart = 0;
  errKind = 0;
  errAux = 0;

  kinds: Uint8Array;
  addrs: Float64Array;
  sizes: Uint32Array;

  constructor(batch: TraceBatch) {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }

  /** Parses into `batch` from now on. */
  use(batch: TraceBatch): void {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }

  error(code: number, lineStart: number, p: number, kind: number, aux: number): number {
    this.errCode = code;
    this.errLineStart = lineStart;
    this.errPos = p;
    this.errKind = kind;
    this.errAux = aux;
    return -1;
  }
}

/**
 * The hot loop: parses complete lines in `buf[start..end)` (the byte at `end-1` is a newline, so
 * every scan stops at a newline without bounds checks) into the batch arrays until `end` or
 * until `st.len` reaches `cap`. Returns the position reached, or -1 after recording an error in `st`.
 */
function scan(buf: Uint8Array, start: number, end: number, st: ScanState, cap: number): number {
  const kinds = st.kinds;
  const addrs = st.addrs;
  const sizes = st.sizes;
  let len = st.len;
  let line = st.line;
  let p = start;
  let kind = 0;
  while (p < end) {
    const ls = p;
    let c = buf[p]!;
    if (c === 73) {
      kind = 0;
      p++;
    } else if (c === SP) {
      c = buf[p + 1]!;
      if (c === 76) kind = 1;
      else if (c === 83) kind = 2;
      else if (c === 77) kind = 3;
      else break;
      p += 2;
    } else if (c === NL) {
      p++;
      line++;
      continue;
    } else if ((c === EQ || c === DASH) && buf[p + 1] === c) {
      p = buf.indexOf(NL, p) + 1;
      line++;
      continue;
    } else if (c === CR && buf[p + 1] === NL) {
      p += 2;
      line++;
      continue;
    } else {
      break;
    }
    c = buf[p]!;
    if (c !== SP && c !== TAB) break;
    do c = buf[++p]!;
    while (c === SP || c === TAB);
    let d = HEX[c]!;
    if (d < 0) break;
    let addr = d;
    for (;;) {
      d = HEX[buf[++p]!]!;
      if (d < 0) break;
      addr = addr * 16 + d;
    }
    if (addr > MAX_TRACE_ADDRESS || buf[p] !== COMMA) break;
    c = buf[++p]! - 48;
    if (c < 0 || c > 9) break;
    let size = c;
    for (;;) {
      c = buf[++p]! - 48;
      if (c < 0 || c > 9) break;
      size = size * 10 + c;
    }
    if (size < 1 || size > MAX_ACCESS_SIZE) break;
    c = buf[p]!;
    if (c !== NL) {
      while (c === SP || c === TAB) c = buf[++p]!;
      if (c === CR) c = buf[++p]!;
      if (c !== NL) break;
    }
    if (p - ls > MAX_LINE_BYTES) break;
    p++;
    line++;
    kinds[len] = kind;
    addrs[len] = addr;
    sizes[len] = size;
    if (++len === cap) break;
  }
  st.len = len;
  st.line = line;
  return p >= end || len === cap ? p : diagnose(buf, st, p);
}

/**
 * Re-parses the line containing `p` (where the hot loop stopped) slowly to find what is wrong.
 * Keeping diagnosis out of the hot loop keeps that loop small enough to optimise well.
 */
function diagnose(buf: Uint8Array, st: ScanState, stop: number): number {
  let ls = stop;
  while (ls > 0 && buf[ls - 1] !== NL) ls--;
  if (buf.indexOf(NL, ls) - ls > MAX_LINE_BYTES) return st.error(E_TOO_LONG, ls, ls + MAX_LINE_BYTES, 0, 0);
  let p = ls;
  let kind = 0;
  const c0 = buf[p]!;
  if (c0 === 73) p++;
  else if (c0 === SP) {
    const c1 = buf[p + 1]!;
    kind = c1 === 76 ? 1 : c1 === 83 ? 2 : c1 === 77 ? 3 : -1;
    if (kind < 0) return st.error(E_DATA_KIND, ls, p + 1, 0, 0);
    p += 2;
  } else return st.error(E_START, ls, p, 0, 0);
  if (buf[p] !== SP && buf[p] !== TAB) return st.error(E_SPACE, ls, p, kind, 0);
  while (buf[p] === SP || buf[p] === TAB) p++;
  const ap = p;
  let addr = 0;
  while (HEX[buf[p]!]! >= 0) addr = addr * 16 + HEX[buf[p++]!]!;
  if (p === ap) return st.error(E_HEX, ls, p, kind, 0);
  if (addr > MAX_TRACE_ADDRESS) return st.error(E_ADDR_RANGE, ls, ap, kind, p);
  if (buf[p] !== COMMA) return st.error(E_COMMA, ls, p, kind, 0);
  const sp = ++p;
  let size = 0;
  while (buf[p]! >= 48 && buf[p]! <= 57) size = size * 10 + (buf[p++]! - 48);
  if (p === sp) return st.error(E_SIZE_DIGIT, ls, p, kind, 0);
  if (size < 1 || size > MAX_ACCESS_SIZE) return st.error(E_SIZE_RANGE, ls, sp, kind, size);
  while (buf[p] === SP || buf[p] === TAB) p++;
  if (buf[p] === CR) p++;
  return st.error(E_EOL, ls, p, kind, 0);
}

/** Message for a record line over MAX_LINE_BYTES, naming its first non-text byte if any. */
function tooLong(buf: Uint8Array, ls: number, n: number): string {
  let hint = '';
  for (let q = ls; q < ls + n; q++) {
    const c = buf[q]!;
    if ((c < 0x20 && c !== TAB && c !== CR) || c >= 0x7f) {
      hint = ` (not lackey text? non-text byte 0x${c.toString(16).padStart(2, '0')} at column ${q - ls + 1})`;
      break;
    }
  }
  return `line longer than ${MAX_LINE_BYTES} bytes${hint}`;
}

function hexText(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let q = from; q < to && s.length < 24; q++) s += String.fromCharCode(buf[q]!);
  return to - from > 24 ? `${s}...` : s;
}

/** Parses a whole in-memory lackey text (convenience for tests and small inputs). */
export function parseLackey(
  text: string | Uint8Array,
  sink: TraceSink,
  batchCapacity?: number,
): Ok<LackeyStats> | TraceSyntaxError {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const parser = new LackeyParser(sink, batchCapacity);
  const r = parser.feed(bytes);
  return r.ok ? parser.end() : r;
}

// Warm-up at load: run the hot loop's exits (normal end, full slice, error) often enough for V8 to
// allocate its feedback vector and record them. Otherwise the first optimisation (on-stack
// replacement in the middle of a large chunk) lacks feedback for the exits and deoptimises on every
// call, which costs more than half the throughput.
for (let i = 0; i < 32; i++) {
  parseLackey('==1==\nI  1,1\n L 2,2\n\n S 3,4\r\n M 4,8\n', () => {}, 2);
  parseLackey('I  1,1\nx', () => {});
}
