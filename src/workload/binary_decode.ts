/**
 * What the binary trace decoders share (see binary_trace.ts for the layout): the checks of the
 * header, block headers and end block, and the record loop with its state. The streaming
 * `BinaryTraceReader` and the per-block `BinaryBlockDecoder` both use these, so their records and
 * error messages are the same by construction. The record loop is the replay's hot path for
 * binary input: a free function over typed arrays.
 */

import { BatchTarget, MAX_ACCESS_SIZE, MAX_TRACE_ADDRESS, MIN_TRACE_ADDRESS } from '../sim/trace_batch.js';
import { type Ok, ok } from '../util/result.js';
import {
  BINARY_TRACE_MAGIC,
  BINARY_TRACE_VERSION,
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

/**
 * Which loop decodes records: `auto` the WebAssembly one where available (binary_wasm.ts), else
 * the JavaScript one; `js` always the JavaScript one (the reference, and for tests).
 */
export type BinaryEngine = 'auto' | 'js';

/** What a trace header says. */
export interface BinaryHeader {
  readonly version: 1 | 2;
  /** Record count the header announces, or null (all ones: unknown). */
  readonly declared: number | null;
}

/** Checks the 20-byte header at `buf[at..)`; `base` is its absolute offset (for errors). */
export function parseHeader(buf: Uint8Array, at: number, base: number): Ok<BinaryHeader> | TraceCorruptError {
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
  const flags = buf[at + 10]! | (buf[at + 11]! << 8);
  if (flags !== 0) return corrupt(base + 10, `unsupported flags 0x${flags.toString(16)} (expected 0)`);
  const lo = readU32(buf, at + 12);
  const hi = readU32(buf, at + 16);
  let declared: number | null = null;
  if (lo !== TWO32 - 1 || hi !== TWO32 - 1) {
    if (hi >= 2 ** 21) return corrupt(base + 12, 'declared record count exceeds 2^53');
    declared = hi * TWO32 + lo;
  }
  return ok({ version: version === 1 ? 1 : 2, declared });
}

/**
 * Checks a block header (`n` records, `bytes` payload bytes, at absolute offset `base`); `n` 0
 * is the end block. Returns null when it is well-formed.
 */
export function checkBlockHeader(n: number, bytes: number, base: number): TraceCorruptError | null {
  if (n === 0) {
    return bytes === 8
      ? null
      : corrupt(base + 4, `end-of-trace block with ${bytes} payload bytes (expected 8)`);
  }
  if (n > MAX_BLOCK_RECORDS) return corrupt(base, `block of ${n} records (at most ${MAX_BLOCK_RECORDS})`);
  if (bytes < 2 * n || bytes > MAX_BLOCK_BYTES || bytes > n * MAX_RECORD_BYTES) {
    return corrupt(base + 4, `block of ${n} records cannot have ${bytes} payload bytes`);
  }
  return null;
}

/**
 * Checks the end block's payload at `buf[at..at+8)` (absolute offset `base`) against the `seen`
 * records and the header's `declared` count. Returns null when they agree.
 */
export function checkEndBlock(
  buf: Uint8Array,
  at: number,
  base: number,
  seen: number,
  declared: number | null,
): TraceCorruptError | null {
  const total = readU32(buf, at + 4) * TWO32 + readU32(buf, at);
  if (total !== seen) return corrupt(base, `end-of-trace block counts ${total} records, found ${seen}`);
  if (declared !== null && declared !== seen) {
    return corrupt(base, `header declares ${declared} records, found ${seen}`);
  }
  return null;
}

/** The error the loop recorded in `st`, for a block payload starting at `buf[start]` = absolute `base`. */
export function recordError(st: DecodeState, start: number, base: number): TraceCorruptError {
  return corrupt(base + (st.errPos - start), st.errWhat);
}

/** The error for a block whose last record ends at `p` before the payload's `end`. */
export function strayBytes(p: number, start: number, end: number, base: number): TraceCorruptError {
  return corrupt(base + (p - start), `${end - p} stray bytes after the block's last record`);
}

function magicText(buf: Uint8Array, at: number): string {
  let s = '';
  for (let j = 0; j < 8; j++) {
    const c = buf[at + j]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `'${s}'`;
}

/** Block decoding state shared between the reader and the hot loop. */
export class DecodeState extends BatchTarget {
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

  /** Sets the version's address range and limits. */
  setVersion(version: 1 | 2): void {
    this.v1 = version === 1;
    this.low = this.v1 ? 0 : MIN_TRACE_ADDRESS + 1;
    this.hiLimit = this.v1 ? 2 ** 25 : 2 ** 26;
  }

  /** Readies the state for a block of `n` records (addresses restart at 0 in every block). */
  startBlock(n: number): void {
    this.left = n;
    this.errWhat = '';
    this.prev.fill(0);
  }
}

/**
 * The hot loop: decodes records of the current block from `buf[p..end)` until the block or the
 * batch (`cap`) is full. Returns the new position, or -1 after recording the error in `st`.
 */
export function decode(buf: Uint8Array, p: number, end: number, st: DecodeState, cap: number): number {
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
      // A size read past the block's end is not the record's: say so, whatever the bytes there.
      if (s < 1 || s > MAX_ACCESS_SIZE)
        return fail(st, rp, p > end ? PAST_END : `size ${s} out of range (expected 1..${MAX_ACCESS_SIZE})`);
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
