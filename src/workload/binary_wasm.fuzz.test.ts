/**
 * The WebAssembly binary decoder against the JavaScript one as the reference: over valid traces
 * of both versions and corrupted, cut and spliced ones, fed in random chunks with random batch
 * sizes, a reader using it delivers the same batches and ends with the same totals, or the same
 * error at the same offset, as one using only the JavaScript loop.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ACCESS_SIZE,
  MAX_TRACE_ADDRESS,
  MIN_TRACE_ADDRESS,
  TraceBatch,
  type TraceRecord,
} from '../sim/trace_batch.js';
import { encodeBinaryTrace } from './binary_trace.js';
import { type BinaryEngine, BinaryTraceReader } from './binary_trace_reader.js';
import { wasmBinaryDecoder } from './binary_wasm.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const TIMEOUT = Math.max(60_000, RUNS * 100);
const ROOT = join(import.meta.dirname, '..', '..');

function read(engine: BinaryEngine, chunks: readonly Uint8Array[], cap: number) {
  const batches: TraceRecord[][] = [];
  const r = new BinaryTraceReader((b) => void batches.push(b.toRecords()), cap, undefined, engine);
  const fed = [];
  for (const c of chunks) {
    const x = r.feed(c);
    fed.push(x.ok ? 'ok' : x.message);
    if (!x.ok) break;
  }
  return { batches, fed, end: r.end() };
}

function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Addresses near each other (short deltas), far apart, and at the ends of the range (wrapping). */
const address = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x400000, max: 0x401000 }) },
  { weight: 2, arbitrary: fc.nat({ max: 2 ** 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: MIN_TRACE_ADDRESS, max: MAX_TRACE_ADDRESS }) },
  { weight: 1, arbitrary: fc.constantFrom(MIN_TRACE_ADDRESS, MAX_TRACE_ADDRESS, -1, 0, 2 ** 53 - 2 ** 27) },
);
const trace = fc
  .tuple(
    fc.array(
      fc.record({
        kind: fc.integer({ min: 0, max: 3 }),
        addr: address,
        size: fc.oneof(fc.integer({ min: 1, max: 63 }), fc.integer({ min: 1, max: MAX_ACCESS_SIZE })),
      }),
      { maxLength: 200 },
    ),
    fc.integer({ min: 1, max: 80 }),
  )
  .map(([records, blockRecords]) => {
    const b = new TraceBatch(Math.max(1, records.length));
    for (const r of records) b.push(r.kind as 0, r.addr, r.size);
    return encodeBinaryTrace([b], { blockRecords });
  });
const damaged = fc.oneof(
  trace,
  fc
    .tuple(trace, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
    .map(([b, flips]) => {
      const c = b.slice();
      for (const [at, v] of flips) if (c.length > 20) c[20 + (at % (c.length - 20))] = v;
      return c;
    }),
  fc.tuple(trace, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
  fc.tuple(trace, trace, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    const x = a.subarray(0, i % (a.length + 1));
    const y = b.subarray(20 + (j % Math.max(1, b.length - 20)));
    const c = new Uint8Array(x.length + y.length);
    c.set(x);
    c.set(y, x.length);
    return c;
  }),
);

describe('the WebAssembly binary decoder', () => {
  it('is available here (else every read would use the JavaScript loop and this file test nothing)', () => {
    expect(wasmBinaryDecoder()).not.toBeNull();
  });

  it(
    'delivers what the JavaScript loop delivers: same batches, same totals or error',
    () => {
      fc.assert(
        fc.property(
          damaged,
          fc.array(fc.nat({ max: 3000 }), { maxLength: 5 }),
          fc.integer({ min: 1, max: 300 }),
          fc.boolean(),
          (bytes, cuts, cap, v1) => {
            // Version 1 reads the same bytes with its own address range and limits.
            if (v1 && bytes.length > 8) bytes[8] = 1;
            const chunks = cut(bytes, cuts);
            expect(read('auto', chunks, cap)).toEqual(read('js', chunks, cap));
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it('agrees on a version 1 fixture and on large blocks spanning its input windows', () => {
    const v1 = new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/binary_v1_wrap.fltrace')));
    expect(read('auto', [v1], 3)).toEqual(read('js', [v1], 3));
    const b = new TraceBatch(300_000);
    for (let i = 0; i < 300_000; i++)
      b.push((i % 4) as 0, ((i * 2654435761) % 2 ** 36) * (i % 7 === 0 ? -1 : 1), 1 + (i % 63));
    const bytes = encodeBinaryTrace([b], { blockRecords: 200_000 });
    for (const [chunkBytes, cap] of [
      [bytes.length, 65_536],
      [100_003, 70_000],
    ] as const) {
      const chunks = [];
      for (let o = 0; o < bytes.length; o += chunkBytes) chunks.push(bytes.subarray(o, o + chunkBytes));
      const w = read('auto', chunks, cap);
      expect(w).toEqual(read('js', chunks, cap));
      expect(w.end.ok && w.end.value.records).toBe(300_000);
    }
  });
});
