/**
 * The binary trace decoder's record loop in WebAssembly, without a branch per varint byte: it loads
 * the eight bytes after a record's tag as one 64-bit word, finds the varint's end from the word's
 * high bits and gathers its 7-bit groups with three mask-and-shift steps. Unpredictable delta
 * lengths (random heap addresses) made the JavaScript loop mispredict on most records (12 ns a
 * record on the synthetic mix, 3.5 here; docs/BENCHMARKS.md). It takes only the common records (a
 * size of 1..63 in the tag, an address in range without wrapping); at any other record it stops
 * at the record's start and the JavaScript loop decodes that one record, with every check and
 * error message, so records and errors are those of the JavaScript decoder (a fuzz test compares).
 */

import { MAX_TRACE_ADDRESS, MIN_TRACE_ADDRESS } from '../sim/trace_batch.js';
import { MAX_RECORD_BYTES } from './binary_trace.js';
import {
  type Code,
  get,
  I32,
  I64,
  i32,
  i64,
  mem,
  Op,
  set,
  sharedWasm,
  tee,
  VOID,
  type WasmApi,
  type WasmCompiled,
} from './wasm_module.js';

/** What the decoder reads and updates of the JavaScript decoder's state. */
export interface DecodeTarget {
  kinds: Uint8Array;
  addrs: Float64Array;
  sizes: Uint32Array;
  /** Batch length, in and out. */
  len: number;
  /** Records left in the block, in and out. */
  left: number;
  /** Previous address per kind. */
  readonly prev: Float64Array;
  /** Version 1 (addresses 0..2^53-1, zigzag values below 2^53) rather than 2. */
  v1: boolean;
}

/** The JavaScript loop, with the same contract as {@link WasmBinaryDecoder.decode}. */
export type DecodeLoop = (buf: Uint8Array, p: number, end: number, st: DecodeTarget, cap: number) => number;

// Memory layout: record count, previous addresses (as doubles for JavaScript, as i64 in the loop),
// the version's limits, the output arrays, the input window.
const LEN = 0;
const PREVF = 8;
const PREVI = 40;
const LOW = 72;
const LIMIT = 80;
const OUT = 65536;
const KINDS = 1024;
const SIZES = KINDS + OUT;
const ADDRS = SIZES + 4 * OUT;
const INPUT = ADDRS + 8 * OUT;
const WINDOW = 1 << 18;
/**
 * The loop starts no record this close to the window's end: a record's bytes, and the 8-byte word
 * after its tag that the loop loads, lie within MAX_RECORD_BYTES of its start.
 */
const TAIL = MAX_RECORD_BYTES;
const PAGES = Math.ceil((INPUT + WINDOW + 64) / 65536);

// Locals: parameters p, stop, end, n; then len, rp, tag, k, s, vlen (i32); x, v, d, a, low, limit (i64).
const p = 0;
const stop = 1;
const end = 2;
const n = 3;
const len = 4;
const rp = 5;
const tag = 6;
const k = 7;
const s = 8;
const vlen = 9;
const x = 10;
const v = 11;
const d = 12;
const a = 13;
const low = 14;
const limit = 15;

const bail = (depth: number): Code => [get(rp), set(p), Op.br, depth];
/** `v = (v & keep) | ((v & move) >>> by)`: one gathering step of 7-bit groups. */
const gather = (keep: bigint, move: bigint, by: number): Code => [
  [get(v), i64(keep), Op.i64_and, get(v), i64(move), Op.i64_and, i64(by), Op.i64_shr_u, Op.i64_or, set(v)],
];
const prevSlot = (from: number): Code => [get(k), i32(3), Op.i32_shl, mem(from, 3, PREVI)];

/**
 * decode(p, stop, end, n) -> p: decodes at most `n` records starting before `stop` (a block ends at
 * `end`) into the output arrays from index 0; stops at a record it leaves to JavaScript and
 * returns that record's start. Reads and writes the previous addresses at PREVF, the count at LEN.
 */
const DECODE: Code = [
  [0, 1, 2, 3].map((j) => [
    i32(0),
    i32(0),
    mem(Op.f64_load, 3, PREVF + 8 * j),
    Op.i64_trunc_f64_s,
    mem(Op.i64_store, 3, PREVI + 8 * j),
  ]),
  [i32(0), mem(Op.i64_load, 3, LOW), set(low), i32(0), mem(Op.i64_load, 3, LIMIT), set(limit)],
  i32(0),
  set(len),
  [Op.block, VOID], // $exit
  [Op.loop, VOID], // $next
  [get(len), get(n), Op.i32_ge_u, Op.br_if, 1],
  [get(p), get(stop), Op.i32_ge_u, Op.br_if, 1],
  [get(p), set(rp)],
  // Tag: kind and a size of 1..63 (a size varint is JavaScript's).
  [get(p), mem(Op.i32_load8_u, 0), tee(tag), i32(3), Op.i32_and, set(k)],
  [get(tag), i32(2), Op.i32_shr_u, tee(s), Op.i32_eqz, Op.if, VOID, bail(2), Op.end],
  // The varint: its last byte is the first without the high bit (none in 8 bytes: JavaScript's).
  [get(p), mem(Op.i64_load, 0, 1), set(x)],
  [get(x), i64(-1), Op.i64_xor, i64(0x8080808080808080n), Op.i64_and, tee(v), Op.i64_eqz],
  [Op.if, VOID, bail(2), Op.end],
  [get(v), Op.i64_ctz, i64(3), Op.i64_shr_u, Op.i32_wrap_i64, i32(1), Op.i32_add, set(vlen)],
  [get(x), i64(-1), i32(64), get(vlen), i32(3), Op.i32_shl, Op.i32_sub, Op.i64_extend_i32_u, Op.i64_shr_u],
  [Op.i64_and, i64(0x7f7f7f7f7f7f7f7fn), Op.i64_and, set(v)],
  gather(0x007f007f007f007fn, 0x7f007f007f007f00n, 1),
  gather(0x00003fff00003fffn, 0x3fff00003fff0000n, 2),
  gather(0x000000000fffffffn, 0x0fffffff00000000n, 4),
  [
    get(p),
    i32(1),
    Op.i32_add,
    get(vlen),
    Op.i32_add,
    tee(p),
    get(end),
    Op.i32_gt_u,
    Op.if,
    VOID,
    bail(2),
    Op.end,
  ],
  [get(v), get(limit), Op.i64_ge_u, Op.if, VOID, bail(2), Op.end],
  // Zigzag, then the address; one that needs wrapping is JavaScript's.
  [get(v), i64(1), Op.i64_shr_u, i64(0), get(v), i64(1), Op.i64_and, Op.i64_sub, Op.i64_xor, set(d)],
  [prevSlot(Op.i64_load), get(d), Op.i64_add, set(a)],
  [get(a), get(low), Op.i64_lt_s, get(a), i64(BigInt(MAX_TRACE_ADDRESS)), Op.i64_gt_s, Op.i32_or],
  [Op.if, VOID, bail(2), Op.end],
  [get(k), i32(3), Op.i32_shl, get(a), mem(Op.i64_store, 3, PREVI)],
  [get(len), get(k), mem(Op.i32_store8, 0, KINDS)],
  [get(len), i32(3), Op.i32_shl, get(a), Op.f64_convert_i64_s, mem(Op.f64_store, 3, ADDRS)],
  [get(len), i32(2), Op.i32_shl, get(s), mem(Op.i32_store, 2, SIZES)],
  [get(len), i32(1), Op.i32_add, set(len), Op.br, 0],
  Op.end, // loop $next
  Op.end, // block $exit
  [i32(0), get(len), mem(Op.i32_store, 2, LEN)],
  [0, 1, 2, 3].map((j) => [
    i32(0),
    i32(0),
    mem(Op.i64_load, 3, PREVI + 8 * j),
    Op.f64_convert_i64_s,
    mem(Op.f64_store, 3, PREVF + 8 * j),
  ]),
  get(p),
];

/** The WebAssembly record loop of the binary trace decoder. */
export class WasmBinaryDecoder {
  private readonly run: (p: number, stop: number, end: number, n: number) => number;
  private readonly bytes: Uint8Array;
  private readonly count: Int32Array;
  private readonly prev: Float64Array;
  private readonly limits: BigInt64Array;
  private readonly kinds: Uint8Array;
  private readonly addrs: Float64Array;
  private readonly sizes: Uint32Array;
  private v1: boolean | null = null;

  constructor(api: WasmApi, module: WasmCompiled) {
    const memory = new api.Memory({ initial: PAGES });
    const instance = new api.Instance(module, { env: { mem: memory } });
    this.run = instance.exports.decode as (p: number, stop: number, end: number, n: number) => number;
    const buf = memory.buffer;
    this.bytes = new Uint8Array(buf);
    this.count = new Int32Array(buf, LEN, 1);
    this.prev = new Float64Array(buf, PREVF, 4);
    this.limits = new BigInt64Array(buf, LOW, 2);
    this.kinds = new Uint8Array(buf, KINDS, OUT);
    this.sizes = new Uint32Array(buf, SIZES, OUT);
    this.addrs = new Float64Array(buf, ADDRS, OUT);
  }

  /**
   * Decodes records of the current block from `buf[p..end)` until the block (`st.left`) or the
   * batch (`cap`) is full, as the JavaScript loop `js` does, which it calls for the records it
   * does not take. Returns the new position, or -1 after `js` recorded an error in `st`.
   */
  decode(buf: Uint8Array, p: number, end: number, st: DecodeTarget, cap: number, js: DecodeLoop): number {
    if (this.v1 !== st.v1) {
      this.v1 = st.v1;
      this.limits[0] = st.v1 ? 0n : BigInt(MIN_TRACE_ADDRESS + 1);
      this.limits[1] = st.v1 ? 2n ** 53n : 2n ** 54n;
    }
    while (st.left > 0 && st.len < cap) {
      const wend = Math.min(end, p + WINDOW);
      // The last bytes of a block (or a window too short to hold any) go to the JavaScript loop.
      if (wend - p <= TAIL) return js(buf, p, end, st, cap);
      this.bytes.set(buf.subarray(p, wend), INPUT);
      const base = p - INPUT;
      const stopAt = wend - TAIL - base;
      let q = INPUT;
      while (q < stopAt && st.left > 0 && st.len < cap) {
        const want = Math.min(st.left, cap - st.len, OUT);
        this.prev.set(st.prev);
        q = this.run(q, stopAt, end - base, want);
        const got = this.count[0]!;
        if (got > 0) {
          const at = st.len;
          st.kinds.set(this.kinds.subarray(0, got), at);
          st.addrs.set(this.addrs.subarray(0, got), at);
          st.sizes.set(this.sizes.subarray(0, got), at);
          st.len = at + got;
          st.left -= got;
          st.prev.set(this.prev);
        }
        if (got < want && q < stopAt) {
          // A record for the JavaScript loop: exactly that one.
          const r = js(buf, q + base, end, st, st.len + 1);
          if (r < 0) return r;
          q = r - base;
        }
      }
      p = q + base;
    }
    return p;
  }
}

/** This thread's WebAssembly decoder (shared: a decode runs synchronously), or null without WebAssembly. */
export const wasmBinaryDecoder: () => WasmBinaryDecoder | null = sharedWasm(
  PAGES,
  {
    name: 'decode',
    params: [I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I64, I64, I64, I64, I64, I64],
    body: DECODE,
  },
  (api, module) => new WasmBinaryDecoder(api, module),
);
