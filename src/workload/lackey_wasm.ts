/**
 * The lackey hot loop in WebAssembly: the same fast path as `scan` (lackey_scan.ts), compiled by
 * V8 without bounds checks or number-type guards, at about 2.3x the speed of the JavaScript loop
 * here (docs/BENCHMARKS.md). It handles only well-formed record lines and blank lines; at any
 * other line (a Valgrind message, a CR-only line, an upper-half or over-long address, an error)
 * it stops at the line's start, and the JavaScript loop parses that one line, with every rule and
 * error message, before the WebAssembly loop goes on. So records, line numbers and errors are
 * those of the JavaScript parser by construction (a fuzz test compares the two).
 */

import { MAX_ACCESS_SIZE } from '../sim/trace_batch.js';
import { MAX_LINE_BYTES, NL, type ScanState, scan } from './lackey_scan.js';
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

// Memory layout: the loop's in/out state, the hex table, the output arrays, the input window.
const LEN = 0;
const LINE = 4;
const HEXT = 256;
/** Records the loop writes per call at most. */
const OUT = 65536;
const KINDS = 1024;
const SIZES = KINDS + OUT;
const ADDRS = SIZES + 4 * OUT;
const INPUT = ADDRS + 8 * OUT;
/** Input bytes copied into the module's memory per window (whole lines, so it ends at a newline). */
const WINDOW = 1 << 18;
const PAGES = Math.ceil((INPUT + WINDOW + 64) / 65536);

/** Most hex digits taken without the JavaScript loop: 13 digits hold 52 bits, exact in a double. */
const FAST_HEX_DIGITS = 13;

// Locals: parameters p, end, cap; then len, line, ls, c, kind, hs, d, size (i32) and a (i64).
const p = 0;
const end = 1;
const cap = 2;
const len = 3;
const line = 4;
const ls = 5;
const c = 6;
const kind = 7;
const hs = 8;
const d = 9;
const size = 10;
const a = 11;

const load8 = (offset = 0): Code => mem(Op.i32_load8_u, 0, offset);
const inc = (x: number): Code => [get(x), i32(1), Op.i32_add, set(x)];
/** Back to the line's start and out of the loop, `depth` blocks below `$exit`. */
const bail = (depth: number): Code => [get(ls), set(p), Op.br, depth];
/** `c == SP || c == TAB`. */
const isBlank: Code = [get(c), i32(32), Op.i32_eq, get(c), i32(9), Op.i32_eq, Op.i32_or];

/**
 * scan(p, end, cap) -> p: parses lines at [p, end) (end - 1 is a newline) into the output arrays
 * from index 0, until `end`, `cap` records, or a line it leaves to JavaScript (then it returns
 * that line's start). Reads and writes the line number and the record count at LINE and LEN.
 */
const SCAN: Code = [
  i32(0),
  mem(Op.i32_load, 2, LEN),
  set(len),
  i32(0),
  mem(Op.i32_load, 2, LINE),
  set(line),
  [Op.block, VOID], // $exit
  [Op.loop, VOID], // $next: br 0 continues, br 1 exits
  [get(p), get(end), Op.i32_ge_u, Op.br_if, 1],
  [get(p), set(ls)],
  // The kind: 'I', or ' ' and 'L', 'S', 'M'; a blank line is skipped; anything else is JavaScript's.
  [get(p), load8(), tee(c), i32(73), Op.i32_eq],
  [Op.if, VOID, i32(0), set(kind), inc(p)],
  [
    Op.else,
    [get(c), i32(32), Op.i32_eq],
    [
      Op.if,
      VOID,
      [get(p), load8(1), tee(c), i32(76), Op.i32_eq],
      [Op.if, VOID, i32(1), set(kind)],
      [
        Op.else,
        [get(c), i32(83), Op.i32_eq],
        [Op.if, VOID, i32(2), set(kind)],
        [Op.else, [get(c), i32(77), Op.i32_ne, Op.if, VOID, bail(6), Op.end], i32(3), set(kind)],
        Op.end,
      ],
      Op.end,
      [get(p), i32(2), Op.i32_add, set(p)],
    ],
    [Op.else, [get(c), i32(NL), Op.i32_ne, Op.if, VOID, bail(4), Op.end], inc(p), inc(line), [Op.br, 2]],
    Op.end,
  ],
  Op.end,
  // One or more blanks.
  [get(p), load8(), set(c), isBlank, Op.i32_eqz, Op.if, VOID, bail(2), Op.end],
  [Op.loop, VOID, get(p), i32(1), Op.i32_add, tee(p), load8(), set(c), isBlank, Op.br_if, 0, Op.end],
  // Hex address, at most FAST_HEX_DIGITS digits.
  [get(p), set(hs)],
  [get(c), mem(Op.i32_load8_s, 0, HEXT), tee(d), i32(0), Op.i32_lt_s, Op.if, VOID, bail(2), Op.end],
  [get(d), Op.i64_extend_i32_u, set(a)],
  [
    Op.loop,
    VOID,
    [get(p), i32(1), Op.i32_add, tee(p), load8(), mem(Op.i32_load8_s, 0, HEXT), tee(d), i32(0), Op.i32_ge_s],
    [
      Op.if,
      VOID,
      get(a),
      i64(4),
      Op.i64_shl,
      get(d),
      Op.i64_extend_i32_u,
      Op.i64_or,
      set(a),
      Op.br,
      1,
      Op.end,
    ],
    Op.end,
  ],
  [get(p), get(hs), Op.i32_sub, i32(FAST_HEX_DIGITS), Op.i32_gt_u, Op.if, VOID, bail(2), Op.end],
  [get(p), load8(), i32(44), Op.i32_ne, Op.if, VOID, bail(2), Op.end],
  // Decimal size in 1..MAX_ACCESS_SIZE.
  [get(p), i32(1), Op.i32_add, tee(p), load8(), i32(48), Op.i32_sub, tee(size), i32(9), Op.i32_gt_u],
  [Op.if, VOID, bail(2), Op.end],
  [
    Op.loop,
    VOID,
    [get(p), i32(1), Op.i32_add, tee(p), load8(), i32(48), Op.i32_sub, tee(c), i32(9), Op.i32_le_u],
    [
      Op.if,
      VOID,
      [get(size), i32(10), Op.i32_mul, get(c), Op.i32_add, tee(size), i32(MAX_ACCESS_SIZE), Op.i32_gt_u],
      [Op.if, VOID, bail(4), Op.end],
      [Op.br, 1],
      Op.end,
    ],
    Op.end,
  ],
  [get(size), Op.i32_eqz, Op.if, VOID, bail(2), Op.end],
  // End of line: optional blanks and CR, then the newline.
  [get(p), load8(), tee(c), i32(NL), Op.i32_ne],
  [
    Op.if,
    VOID,
    [Op.loop, VOID, isBlank, Op.if, VOID, inc(p), get(p), load8(), set(c), Op.br, 1, Op.end, Op.end],
    [get(c), i32(13), Op.i32_eq, Op.if, VOID, inc(p), get(p), load8(), set(c), Op.end],
    [get(c), i32(NL), Op.i32_ne, Op.if, VOID, bail(3), Op.end],
    Op.end,
  ],
  [get(p), get(ls), Op.i32_sub, i32(MAX_LINE_BYTES), Op.i32_gt_u, Op.if, VOID, bail(2), Op.end],
  inc(p),
  inc(line),
  // The record.
  [get(len), get(kind), mem(Op.i32_store8, 0, KINDS)],
  [get(len), i32(3), Op.i32_shl, get(a), Op.f64_convert_i64_u, mem(Op.f64_store, 3, ADDRS)],
  [get(len), i32(2), Op.i32_shl, get(size), mem(Op.i32_store, 2, SIZES)],
  [get(len), i32(1), Op.i32_add, tee(len), get(cap), Op.i32_ne, Op.br_if, 0],
  Op.end, // loop $next
  Op.end, // block $exit
  [i32(0), get(len), mem(Op.i32_store, 2, LEN)],
  [i32(0), get(line), mem(Op.i32_store, 2, LINE)],
  get(p),
];

/** The compiled module (once per thread); null where there is no WebAssembly. */
/**
 * The WebAssembly scanner with the contract of `scan`: parses complete lines in `buf[start..end)`
 * (the byte at `end-1` is a newline) into `st`'s arrays from `st.len`, until `end` or until
 * `st.len` reaches `cap`; returns the position reached, or -1 after recording an error in `st`.
 */
export class WasmLackeyScanner {
  private readonly run: (p: number, end: number, cap: number) => number;
  private readonly bytes: Uint8Array;
  private readonly state: Int32Array;
  private readonly kinds: Uint8Array;
  private readonly addrs: Float64Array;
  private readonly sizes: Uint32Array;

  constructor(api: WasmApi, module: WasmCompiled) {
    const memory = new api.Memory({ initial: PAGES });
    const instance = new api.Instance(module, { env: { mem: memory } });
    this.run = instance.exports.scan as (p: number, end: number, cap: number) => number;
    const buf = memory.buffer;
    this.bytes = new Uint8Array(buf);
    this.state = new Int32Array(buf, 0, 2);
    this.kinds = new Uint8Array(buf, KINDS, OUT);
    this.sizes = new Uint32Array(buf, SIZES, OUT);
    this.addrs = new Float64Array(buf, ADDRS, OUT);
    const hex = new Int8Array(buf, HEXT, 256).fill(-1);
    for (let x = 0; x < 10; x++) hex[48 + x] = x;
    for (let x = 0; x < 6; x++) {
      hex[65 + x] = 10 + x;
      hex[97 + x] = 10 + x;
    }
  }

  scan(buf: Uint8Array, start: number, end: number, st: ScanState, cap: number): number {
    let p = start;
    while (p < end && st.len < cap) {
      // A window of whole lines; a line longer than the window is an error the JavaScript loop reports.
      let stop = end;
      if (stop - p > WINDOW) {
        stop = buf.lastIndexOf(NL, p + WINDOW - 1) + 1;
        if (stop <= p) return scan(buf, p, end, st, cap);
      }
      this.bytes.set(buf.subarray(p, stop), INPUT);
      const base = p - INPUT;
      let q = INPUT;
      const qEnd = stop - base;
      while (q < qEnd) {
        const room = Math.min(cap - st.len, OUT);
        this.state[0] = 0;
        this.state[1] = st.line;
        q = this.run(q, qEnd, room);
        const n = this.state[0]!;
        if (n > 0) {
          const at = st.len;
          st.kinds.set(this.kinds.subarray(0, n), at);
          st.addrs.set(this.addrs.subarray(0, n), at);
          st.sizes.set(this.sizes.subarray(0, n), at);
          st.len = at + n;
        }
        st.line = this.state[1]!;
        if (st.len === cap) return q + base;
        if (q < qEnd && n < room) {
          // A line for the JavaScript loop: exactly that one line.
          const from = q + base;
          const r = scan(buf, from, buf.indexOf(NL, from) + 1, st, cap);
          if (r < 0) return r;
          q = r - base;
          if (st.len === cap) return r;
        }
      }
      p = stop;
    }
    return p;
  }
}

/**
 * This thread's WebAssembly scanner (one instance serves every parser: a scan runs to completion
 * synchronously), or null where WebAssembly is not available.
 */
export const wasmLackeyScanner: () => WasmLackeyScanner | null = sharedWasm(
  PAGES,
  {
    name: 'scan',
    params: [I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I64],
    body: SCAN,
  },
  (api, module) => new WasmLackeyScanner(api, module),
);
