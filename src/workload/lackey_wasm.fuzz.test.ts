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
import { mutated, text } from './lackey_fuzz.testutil.js';
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
