/**
 * The byte-level hot loop of the lackey parser (lackey.ts): scans complete lines into batch arrays
 * with no string per line and no allocation per record, and, only after it stopped on a bad line,
 * re-parses that line slowly to say what was expected. Kept apart from the streaming parser so
 * the loop and its error paths read on their own.
 */

import { BatchTarget, KIND_LETTERS, MAX_ACCESS_SIZE, MAX_TRACE_ADDRESS } from '../sim/trace_batch.js';
import { hex } from '../util/hex.js';

/** Longest line accepted, in bytes (Valgrind lines are far shorter; this bounds memory). */
export const MAX_LINE_BYTES = 4096;

export const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const COMMA = 44;
export const EQ = 61;
export const DASH = 45;

/** Records parsed per call of the hot loop (bounded so that the loop's exits stay warm in V8). */
export const SLICE_RECORDS = 4096;

/** Hex digit value per byte, -1 for non-hex. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** What the hot loop found wrong, recorded in {@link ScanState.errCode}. */
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

/** The message for the error the hot loop recorded in `st` while scanning `buf`. */
export function describeScanError(buf: Uint8Array, st: ScanState): string {
  const { errCode, errPos: p, errKind, errAux } = st;
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
      return `address 0x${hexText(buf, p, errAux)} is not canonical (expected at most ${hex(MAX_TRACE_ADDRESS)}, or an upper-half address from ${hex(-(2 ** 53))}, at most 16 hex digits)`;
    case E_COMMA:
      return `missing ',' between address and size, found ${describeAt(buf, p)}`;
    case E_SIZE_DIGIT:
      return `expected a decimal size after ',', found ${describeAt(buf, p)}`;
    case E_SIZE_RANGE:
      return `${errAux > 1e15 ? 'size' : `size ${errAux}`} out of range (expected 1..${MAX_ACCESS_SIZE})`;
    case E_EOL:
      return `expected end of line after size, found ${describeAt(buf, p)}`;
    default:
      return tooLong(buf, st.errLineStart, MAX_LINE_BYTES);
  }
}

/** Mutable state shared between the parser and the hot loop (no allocation per call). */
export class ScanState extends BatchTarget {
  /** Batch length, in and out. */
  len = 0;
  /** Current 1-based line, in and out. */
  line = 1;
  errCode = 0;
  errPos = 0;
  errLineStart = 0;
  errKind = 0;
  errAux = 0;

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
export function scan(buf: Uint8Array, start: number, end: number, st: ScanState, cap: number): number {
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
    const hs = p;
    let addr = d;
    for (;;) {
      d = HEX[buf[++p]!]!;
      if (d < 0) break;
      addr = addr * 16 + d;
    }
    // Above 2^53 the sum is inexact: re-read the digits as an upper-half address (rare).
    if (addr > MAX_TRACE_ADDRESS) {
      addr = upperHalf(buf, hs, p);
      if (Number.isNaN(addr)) break;
    }
    if (buf[p] !== COMMA) break;
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
  if (addr > MAX_TRACE_ADDRESS && Number.isNaN(upperHalf(buf, ap, p)))
    return st.error(E_ADDR_RANGE, ls, ap, kind, p);
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

const TWO32 = 4294967296;
/** First 32 bits of the smallest upper-half address a trace holds exactly, 0xffe0000000000000 (-2^53). */
const UPPER_HALF_HI = 0xffe00000;

/**
 * The hex digits `buf[from..to)` as a sign-extended address (see `TraceBatch.addr`): an upper-half
 * 64-bit address (bits 63..53 set) as the exact negative number address - 2^64, or NaN when the
 * digits are not such an address (more than 64 bits, or bits 63..53 mixed: not canonical).
 * Leading zeros are allowed, as in the hot loop.
 */
export function upperHalf(buf: Uint8Array, from: number, to: number): number {
  while (from < to - 1 && buf[from] === 48) from++;
  if (to - from !== 16) return Number.NaN;
  let hi = 0;
  let lo = 0;
  for (let q = from; q < from + 8; q++) hi = hi * 16 + HEX[buf[q]!]!;
  for (let q = from + 8; q < to; q++) lo = lo * 16 + HEX[buf[q]!]!;
  // (hi - 2^32) * 2^32 lies in -2^53..0 and is exact; adding lo (< 2^32) stays exact.
  return hi >= UPPER_HALF_HI ? (hi - TWO32) * TWO32 + lo : Number.NaN;
}

/** Message for a record line over MAX_LINE_BYTES, naming its first non-text byte if any. */
export function tooLong(buf: Uint8Array, ls: number, n: number): string {
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
