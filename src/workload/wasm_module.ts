/**
 * Just enough of the WebAssembly binary format to build the trace readers' small scanning
 * functions at load time (no toolchain, no binary in the repository): LEB128 immediates, the
 * opcodes they use, and a module of functions that import one memory. Function bodies are
 * written as arrays of opcodes and immediates with the helpers below.
 */

/** Value types. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
/** Block type of a block, loop or if without a result. */
export const VOID = 0x40;

/** The opcodes used by the scanners (names as in the text format, `.` and `/` as `_`). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i64_load: 0x29,
  f64_load: 0x2b,
  i32_load8_s: 0x2c,
  i32_load8_u: 0x2d,
  f64_store: 0x39,
  i32_store: 0x36,
  i64_store: 0x37,
  i32_store8: 0x3a,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_ge_u: 0x5a,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i64_ctz: 0x7a,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i64_trunc_f64_s: 0xb0,
  f64_convert_i64_s: 0xb9,
  f64_convert_i64_u: 0xba,
} as const;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 127;
    n >>>= 7;
    if (n !== 0) b |= 128;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 64-bit integer (an i64.const immediate). */
export function sleb64(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, n);
  for (;;) {
    const b = Number(v & 127n);
    v >>= 7n;
    if ((v === 0n && (b & 64) === 0) || (v === -1n && (b & 64) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 128);
  }
}

/** Signed LEB128 of a 32-bit integer (also valid for an i64.const of the same value). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 127;
    n >>= 7;
    if ((n === 0 && (b & 64) === 0) || (n === -1 && (b & 64) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 128);
  }
}

/** One instruction or a sequence of them. */
export type Code = number | readonly Code[];

/** `local.get i`, `local.set i`, `local.tee i`, `i32.const n`, `i64.const n`. */
export const get = (i: number): Code => [Op.local_get, i];
export const set = (i: number): Code => [Op.local_set, i];
export const tee = (i: number): Code => [Op.local_tee, i];
export const i32 = (n: number): Code => [Op.i32_const, ...sleb(n)];
export const i64 = (n: number | bigint): Code => [
  Op.i64_const,
  ...(typeof n === 'bigint' ? sleb64(n) : sleb(n)),
];
/** A memory access with alignment exponent `align` and a constant `offset`. */
export const mem = (op: number, align: number, offset = 0): Code => [op, align, ...uleb(offset)];

function flatten(code: Code, out: number[]): number[] {
  if (typeof code === 'number') out.push(code);
  else for (const c of code) flatten(c, out);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

/** One exported function of a module. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  /** Local variables after the parameters, by type. */
  readonly locals: readonly number[];
  readonly body: Code;
}

/**
 * A module of exported functions that import `env.mem`, a memory of at least `pages` 64K pages.
 */
export function wasmModule(pages: number, functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vec(f.params.map((t) => [t])),
    ...vec(f.results.map((t) => [t])),
  ]);
  const codes = functions.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...flatten(f.body, []), Op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(pages)]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}

/** The parts of the WebAssembly JavaScript API used here (the ES library declares none of it). */
export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmCompiled;
  readonly Instance: new (
    module: WasmCompiled,
    imports: { env: { mem: WasmMemory } },
  ) => { readonly exports: Record<string, unknown> };
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
}
/** A compiled module. */
export type WasmCompiled = object;
/** A module's memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The WebAssembly API of this JavaScript engine, if it has one. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * A getter of this thread's one instance of a one-function module, built on first use and shared
 * by every caller (a call runs to completion synchronously). It gives null where WebAssembly is
 * missing or forbidden: a page whose Content Security Policy forbids it (the visualizer's) leaves
 * everything to the JavaScript loops. The fuzz tests check that the modules compile here.
 */
export function sharedWasm<T>(
  pages: number,
  fn: WasmFunction,
  make: (api: WasmApi, module: WasmCompiled) => T,
): () => T | null {
  let shared: T | null | undefined;
  return () => {
    if (shared !== undefined) return shared;
    shared = null;
    if (wasmApi === undefined) return null;
    try {
      shared = make(wasmApi, new wasmApi.Module(wasmModule(pages, [fn])));
    } catch {
      // Compiling or instantiating is forbidden here.
    }
    return shared;
  };
}
