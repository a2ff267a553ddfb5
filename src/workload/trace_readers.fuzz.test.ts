/**
 * Fuzzing the in-memory trace readers over bytes: whatever they are fed, in whatever chunks, the
 * lackey parser and the binary reader never throw. They deliver records that are valid (kind
 * 0..3, integer sign-extended address, size 1..4096) and end with either totals or their typed
 * error (`TRACE_SYNTAX` with a line and column inside the input, `TRACE_CORRUPT` with an offset
 * inside it), which they keep returning. The gzip layer and format detection are fuzzed in
 * cli/trace_source.fuzz.test.ts.
 */
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
import { BinaryTraceReader } from './binary_trace_reader.js';
import { LackeyParser } from './lackey.js';

/** Runs per property; `FUZZ_RUNS=100000 npx vitest run ...` searches longer. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
/** Longer searches get the time they need (the suite's default is 60 s per test). */
const TIMEOUT = Math.max(60_000, RUNS * 100);

/** Every record a reader delivers must be one the replay can take. */
function checkRecord(r: TraceRecord): void {
  expect(r.kind >= 0 && r.kind <= 3).toBe(true);
  expect(Number.isInteger(r.addr) && r.addr >= MIN_TRACE_ADDRESS && r.addr <= MAX_TRACE_ADDRESS).toBe(true);
  expect(Number.isInteger(r.size) && r.size >= 1 && r.size <= MAX_ACCESS_SIZE).toBe(true);
}

/** Cuts `bytes` at `cuts` (sorted, deduplicated, clamped) into chunks. */
function chunks(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Lackey-like text: records, near misses and junk, so the fuzzer gets past the first byte. */
const lackeyish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'I  0400d7d4,8',
        ' L 04222cac,8',
        ' S 7ff000398,4096',
        ' M ffffffffff600000,4',
        '==1== msg',
        '--2-- msg',
        '',
        '\r',
        ' L ffe0000000000000,1',
        ' L ffdfffffffffffff,1',
        ' L 1fffffffffffff,4096',
        ' L 20000000000000,1',
        'I  0,0',
        'I  0,4097',
        'I  0,99999999999999999999',
        `I  ${'f'.repeat(40)},1`,
      ),
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
    ),
    { maxLength: 40 },
  )
  .map((lines) => new TextEncoder().encode(lines.join('\n')));

/** Any bytes, lackey-like bytes, and lackey-like bytes with a few bytes overwritten. */
const lackeyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  lackeyish,
  fc
    .tuple(lackeyish, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }))
    .map(([b, flips]) => {
      const c = b.slice();
      for (const [at, v] of flips) if (c.length > 0) c[at % c.length] = v;
      return c;
    }),
);

describe('LackeyParser under fuzzing', () => {
  it(
    'never throws: valid records, then totals or a TRACE_SYNTAX error inside the input',
    () => {
      fc.assert(
        fc.property(
          lackeyBytes,
          fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
          fc.integer({ min: 1, max: 7 }),
          (bytes, cuts, cap) => {
            const records: TraceRecord[] = [];
            const p = new LackeyParser((b) => void records.push(...b.toRecords()), cap);
            let failure = null;
            for (const c of chunks(bytes, cuts)) {
              const r = p.feed(c);
              if (!r.ok) {
                failure = r;
                break;
              }
            }
            const end = p.end();
            if (failure) expect(end).toBe(failure);
            records.forEach(checkRecord);
            if (end.ok) {
              expect(end.value.records).toBe(records.length);
              return;
            }
            expect(end.code).toBe('TRACE_SYNTAX');
            const lines = new TextDecoder('latin1').decode(bytes).split('\n').length;
            expect(end.line >= 1 && end.line <= lines).toBe(true);
            expect(end.column >= 1 && end.column <= bytes.length + 1).toBe(true);
            expect(end.message.startsWith(`line ${end.line}, column ${end.column}: `)).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

/** A valid binary trace of a few records, blocks of 1..5 records, maybe declaring its count. */
const binaryTrace = fc
  .tuple(
    fc.array(
      fc.record({
        kind: fc.integer({ min: 0, max: 3 }),
        addr: fc.oneof(
          fc.nat({ max: 2 ** 32 }),
          fc.integer({ min: MIN_TRACE_ADDRESS, max: MAX_TRACE_ADDRESS }),
          fc.constantFrom(MIN_TRACE_ADDRESS, MAX_TRACE_ADDRESS, -1, 0),
        ),
        size: fc.oneof(fc.integer({ min: 1, max: 63 }), fc.integer({ min: 1, max: MAX_ACCESS_SIZE })),
      }),
      { maxLength: 12 },
    ),
    fc.integer({ min: 1, max: 5 }),
    fc.boolean(),
  )
  .map(([records, blockRecords, declare]) => {
    const b = new TraceBatch(Math.max(1, records.length));
    for (const r of records) b.push(r.kind as 0, r.addr, r.size);
    return encodeBinaryTrace([b], { blockRecords, recordCount: declare ? records.length : undefined });
  });

/** Valid traces with bytes overwritten, cut short, spliced, or prefixed by the header only. */
const binaryBytes = fc.oneof(
  fc
    .tuple(binaryTrace, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
    .map(([b, flips]) => {
      const c = b.slice();
      // Flips past the 8-byte magic, which only ever gives 'bad magic'.
      for (const [at, v] of flips) if (c.length > 8) c[8 + (at % (c.length - 8))] = v;
      return c;
    }),
  fc.tuple(binaryTrace, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
  fc.tuple(binaryTrace, binaryTrace, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    const x = a.subarray(0, i % (a.length + 1));
    const y = b.subarray(j % (b.length + 1));
    const c = new Uint8Array(x.length + y.length);
    c.set(x);
    c.set(y, x.length);
    return c;
  }),
  fc.tuple(binaryTrace, fc.uint8Array({ maxLength: 200 })).map(([b, tail]) => {
    const c = new Uint8Array(20 + tail.length);
    c.set(b.subarray(0, 20));
    c.set(tail, 20);
    return c;
  }),
  fc.uint8Array({ maxLength: 100 }),
);

describe('BinaryTraceReader under fuzzing', () => {
  it(
    'never throws: valid records, then totals or a TRACE_CORRUPT error at an offset inside the input',
    () => {
      fc.assert(
        fc.property(
          binaryBytes,
          fc.array(fc.nat({ max: 300 }), { maxLength: 6 }),
          fc.integer({ min: 1, max: 7 }),
          (bytes, cuts, cap) => {
            const records: TraceRecord[] = [];
            const reader = new BinaryTraceReader((b) => void records.push(...b.toRecords()), cap);
            let failure = null;
            for (const c of chunks(bytes, cuts)) {
              const r = reader.feed(c);
              if (!r.ok) {
                failure = r;
                break;
              }
            }
            const end = reader.end();
            if (failure) expect(end).toBe(failure);
            records.forEach(checkRecord);
            if (end.ok) {
              expect(end.value.records).toBe(records.length);
              return;
            }
            expect(end.code).toBe('TRACE_CORRUPT');
            expect(end.offset >= 0 && end.offset <= bytes.length).toBe(true);
            expect(end.message.startsWith(`offset ${end.offset}: `)).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
