/**
 * The WebAssembly lackey scanner against the JavaScript one as the reference: over fuzzed bytes in
 * random chunks and batch sizes, a parser using it delivers the same batches of records and ends
 * with the same totals, or the same error at the same line and column, as one using only the
 * JavaScript loop. Large inputs cross the scanner's input windows and its output limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../sim/trace_batch.js';
import { type LackeyEngine, LackeyParser } from './lackey.js';
import { wasmLackeyScanner } from './lackey_wasm.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const TIMEOUT = Math.max(60_000, RUNS * 100);

/** Everything a parse produced: the batches as delivered, and how it ended. */
function parse(engine: LackeyEngine, chunks: readonly Uint8Array[], cap: number) {
  const batches: TraceRecord[][] = [];
  const p = new LackeyParser((b) => void batches.push(b.toRecords()), cap, undefined, engine);
  const fed = [];
  for (const c of chunks) {
    const r = p.feed(c);
    fed.push(r.ok ? 'ok' : r.message);
    if (!r.ok) break;
  }
  return { batches, fed, end: p.end(), count: p.recordCount };
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

const hexDigits = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
  minLength: 0,
  maxLength: 20,
});
/** Lines near the format: every kind, blank and separator variant, addresses of 0..20 digits. */
const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom('I', ' L', ' S', ' M', ' X', 'L', 'i', ' '),
        fc.constantFrom(' ', '  ', '\t', ' \t', ''),
        hexDigits,
        fc.constantFrom(',', ';', ''),
        fc.oneof(
          fc.nat({ max: 5000 }).map(String),
          fc.constantFrom('', '0', '0008', '4096', '4097', '99999999999'),
        ),
        fc.constantFrom('', ' ', '\t', '\r', ' \r', '\r\r', 'x'),
      )
      .map((parts) => parts.join('')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '==1== msg',
      '--2-- msg',
      '',
      '\r',
      ' ',
      '=',
      ' L ffe0000000000000,1',
      ' L ffdfffffffffffff,1',
      ' L 1fffffffffffff,4096',
      ' L 20000000000000,1',
      ' L 0000000000000000000000000000001,1',
      `I  ${'f'.repeat(40)},1`,
      `I ${' '.repeat(4100)}1,1`,
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const text = fc
  .tuple(fc.array(line, { maxLength: 60 }), fc.boolean())
  .map(([lines, nl]) => new TextEncoder().encode(lines.join('\n') + (nl ? '\n' : '')));
const mutated = fc
  .tuple(text, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
  .map(([b, flips]) => {
    const c = b.slice();
    for (const [at, v] of flips) if (c.length > 0) c[at % c.length] = v;
    return c;
  });

describe('the WebAssembly lackey scanner', () => {
  it('is available here (else every parse would use the JavaScript loop and this file test nothing)', () => {
    expect(wasmLackeyScanner()).not.toBeNull();
  });

  it(
    'delivers what the JavaScript loop delivers: same batches, same totals or error',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(text, mutated, fc.uint8Array({ maxLength: 200 })),
          fc.array(fc.nat({ max: 600 }), { maxLength: 5 }),
          fc.integer({ min: 1, max: 9 }),
          (bytes, cuts, cap) => {
            const chunks = cut(bytes, cuts);
            expect(parse('auto', chunks, cap)).toEqual(parse('js', chunks, cap));
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it('agrees across input windows and output limits, up to an error placed anywhere', () => {
    // 90,000 good lines (about 1.3 MB: several 256 KiB windows, more than one output run of
    // 65,536 records), with a bad line or a Valgrind message at a few places.
    const good: string[] = [];
    for (let i = 0; i < 90_000; i++) {
      const a = ((i * 2654435761) % 2 ** 32).toString(16);
      good.push(
        i % 3 === 0 ? `I  ${a.padStart(8, '0')},${1 + (i % 15)}` : ` ${'LSM'[i % 3]} ${a},${1 << (i % 4)}`,
      );
    }
    // [where, line, records delivered]
    for (const [at, bad, records] of [
      [-1, '', 90_000],
      [17_000, '==9== message', 90_000],
      [18_724, ' L 12,', 18_724],
      [70_001, ' S ffe0000000000000,8', 90_001],
      [89_999, 'I  zz,1', 89_999],
    ] as const) {
      const lines = good.slice();
      if (at >= 0) lines.splice(at, 0, bad);
      const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
      for (const [chunkBytes, cap] of [
        [bytes.length, 65_536],
        [1 << 20, 65_536],
        [300_001, 70_000],
        [1 << 16, 1000],
      ] as const) {
        const chunks = [];
        for (let o = 0; o < bytes.length; o += chunkBytes) chunks.push(bytes.subarray(o, o + chunkBytes));
        const w = parse('auto', chunks, cap);
        expect(w).toEqual(parse('js', chunks, cap));
        expect(w.count).toBe(records);
      }
    }
  });
});
