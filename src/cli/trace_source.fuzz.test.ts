/**
 * Fuzzing trace input as `replay` reads it (format detection, gzip, lackey, binary) over bytes:
 * `readTraceFromStream` never throws or rejects; it resolves to a summary or to a typed
 * `TraceSourceError` naming the stream. Corrupt gzip (bytes overwritten, cut short, trailing
 * junk) is the main target: zlib's own errors must come back as TRACE_CORRUPT.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceBatch } from '../sim/trace_batch.js';
import { encodeBinaryTrace } from '../workload/binary_trace.js';
import { readTraceFromStream, type TraceSourceCode } from './trace_source.js';

/** Runs per property; `FUZZ_RUNS=10000 npx vitest run ...` searches longer. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
/** Longer searches get the time they need (the suite's default is 60 s per test). */
const TIMEOUT = Math.max(60_000, RUNS * 100);

const CODES: readonly TraceSourceCode[] = ['TRACE_EMPTY', 'TRACE_SYNTAX', 'TRACE_CORRUPT', 'TRACE_IO'];

const LACKEY = new TextEncoder().encode(
  '==1== Lackey\nI  0400d7d4,8\n L 04222cac,8\n S ffffffffff600000,4\n M 7ff000398,4096\n',
);
const BINARY = (() => {
  const b = new TraceBatch(5);
  b.push(0, 0x400000, 4);
  b.push(1, -0xa00000, 8);
  b.push(2, 0x7ff000398, 4096);
  b.push(3, 2 ** 53 - 1, 1);
  b.push(1, -(2 ** 53), 2);
  return encodeBinaryTrace([b], { blockRecords: 2 });
})();

/** A valid trace in one of the four forms. */
const valid = fc.constantFrom(LACKEY, BINARY, gzipSync(LACKEY), gzipSync(BINARY));

/** Valid traces with bytes overwritten, cut short or followed by junk, and plain junk. */
const input = fc.oneof(
  fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    )
    .map(([b, flips]) => {
      const c = b.slice();
      for (const [at, v] of flips) c[at % c.length] = v;
      return c;
    }),
  fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
  fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([b, junk]) => {
    const c = new Uint8Array(b.length + junk.length);
    c.set(b);
    c.set(junk, b.length);
    return c;
  }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.of(0x1f, 0x8b, ...b)),
  fc.uint8Array({ maxLength: 64 }),
);

/** The bytes as a stream of chunks cut at `cuts`. */
async function* stream(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    yield bytes.subarray(prev, p);
    prev = p;
  }
}

describe('readTraceFromStream under fuzzing', () => {
  it(
    'resolves to a summary or a typed error naming the stream, for any bytes in any chunks',
    async () => {
      await fc.assert(
        fc.asyncProperty(input, fc.array(fc.nat({ max: 200 }), { maxLength: 4 }), async (bytes, cuts) => {
          let records = 0;
          const r = await readTraceFromStream(stream(bytes, cuts), 'fuzz.trace', (b) => {
            records += b.length;
          });
          if (r.ok) {
            expect(r.value.records).toBe(records);
            expect(r.value.records).toBeGreaterThan(0);
            return;
          }
          expect(CODES).toContain(r.code);
          expect(r.file).toBe('fuzz.trace');
          expect(r.message.startsWith('fuzz.trace: ')).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
