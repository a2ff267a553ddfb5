/**
 * Lackey text cut into blocks and parsed block by block against one streaming parse as the
 * reference: over fuzzed text and block sizes, the blocks in order give the same records, lines and
 * final partial line, or the same first error at the same line and column with the same records
 * before it. The cuts themselves: every block starts at a line's start and holds no more records
 * than its batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceBatch, type TraceRecord } from '../sim/trace_batch.js';
import { parseLackey } from './lackey.js';
import {
  blockBytesFor,
  indexLackeyBlocks,
  type LackeyBlockIndex,
  parseLackeyBlock,
  rebaseSyntaxError,
} from './lackey_blocks.js';
import { mutated, text } from './lackey_fuzz.testutil.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const TIMEOUT = Math.max(60_000, RUNS * 100);

const readerOf = (bytes: Uint8Array) => (offset: number, length: number) =>
  bytes.subarray(offset, Math.min(bytes.length, offset + length));

/** The streaming parse: every record delivered, and how it ended. */
function reference(bytes: Uint8Array) {
  const records: TraceRecord[] = [];
  const end = parseLackey(bytes, (b) => void records.push(...b.toRecords()));
  return { records, end };
}

/** The blocks parsed in order, as the shared decode takes them, with the same outcome's shape. */
function blockwise(bytes: Uint8Array, index: LackeyBlockIndex, capacity: number) {
  const records: TraceRecord[] = [];
  const batch = new TraceBatch(capacity);
  let lines = 0;
  let partialLine = false;
  for (let i = 0; i < index.offsets.length; i++) {
    const at = index.offsets[i]!;
    const r = parseLackeyBlock(bytes, at, at + index.bytes[i]!, batch);
    records.push(...batch.toRecords());
    if (!r.ok) return { records, end: rebaseSyntaxError(r, lines) };
    lines += r.value.lines;
    partialLine = r.value.partialLine;
  }
  return {
    records,
    end: { ok: true, value: { records: records.length, lines, partialLine, stopped: false } },
  };
}

/** Checks the cuts: contiguous, at line starts, each block within its size or a single line. */
function checkCuts(bytes: Uint8Array, index: LackeyBlockIndex, blockBytes: number): void {
  let next = 0;
  for (let i = 0; i < index.offsets.length; i++) {
    const at = index.offsets[i]!;
    const n = index.bytes[i]!;
    expect(at).toBe(next);
    expect(n).toBeGreaterThan(0);
    if (at > 0) expect(bytes[at - 1]).toBe(10);
    const body = bytes.subarray(at, at + n - 1);
    if (n > blockBytes) expect(body.includes(10)).toBe(false);
    next = at + n;
  }
  expect(next).toBe(bytes.length);
}

describe('lackey text parsed block by block', () => {
  it(
    'gives the streaming parse: same records and totals, or the same first error',
    () => {
      fc.assert(
        fc.property(fc.oneof(text, mutated), fc.integer({ min: 1, max: 12 }), (bytes, capacity) => {
          const blockBytes = blockBytesFor(capacity);
          const index = indexLackeyBlocks(bytes.length, readerOf(bytes), blockBytes);
          if (bytes.length === 0) {
            expect(index).toBeNull();
            return;
          }
          // Texts that start like gzip or a binary trace are not cut; the fuzzed ones never do.
          expect(index).not.toBeNull();
          checkCuts(bytes, index!, blockBytes);
          const want = reference(bytes);
          const got = blockwise(bytes, index!, capacity);
          expect(got.end).toEqual(want.end);
          expect(got.records).toEqual(want.records);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it('fits the shortest record lines into the batch, up to a block of exactly its capacity', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('I 0,1', 'I 1,2', ' L 2,3', ''), { minLength: 1, maxLength: 200 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 12 }),
        (lines, nl, capacity) => {
          const bytes = new TextEncoder().encode(lines.join('\n') + (nl ? '\n' : ''));
          const index = indexLackeyBlocks(bytes.length, readerOf(bytes), blockBytesFor(capacity));
          if (index === null) return;
          const got = blockwise(bytes, index, capacity);
          expect(got).toEqual(reference(bytes));
        },
      ),
      { numRuns: RUNS },
    );
    // Three 6-byte lines and a last one without its newline: 23 bytes, four records in one block.
    const full = new TextEncoder().encode(`${'I 0,1\n'.repeat(3)}I 0,1`);
    expect(full.length).toBe(blockBytesFor(4));
    const index = indexLackeyBlocks(full.length, readerOf(full), blockBytesFor(4))!;
    expect([...index.bytes]).toEqual([23]);
    expect(blockwise(full, index, 4).records).toHaveLength(4);
    expect(() => blockwise(full, index, 3)).toThrow(/more records than its batch/);
  });

  it('cuts after the last newline before the limit, and a long line into a block of its own', () => {
    const long = `==1== ${'x'.repeat(100)}\n`;
    const bytes = new TextEncoder().encode(`I  1,1\nI  2,2\n${long}I  3,3`);
    const index = indexLackeyBlocks(bytes.length, readerOf(bytes), 17)!;
    expect([...index.offsets]).toEqual([0, 14, 14 + long.length]);
    expect([...index.bytes]).toEqual([14, long.length, 6]);
  });

  it('cuts a line too long to be a record into blocks of the usual size, with the same error; keeps a long message whole', () => {
    for (const [body, whole] of [
      ['X'.repeat(100_000), false],
      [`I${' '.repeat(100_000)}1,1`, false],
      [`==1== ${'m'.repeat(100_000)}`, true],
    ] as const) {
      const bytes = new TextEncoder().encode(`I 1,1\n${body}\nI 2,2\n`);
      const index = indexLackeyBlocks(bytes.length, readerOf(bytes), blockBytesFor(1000))!;
      const longest = Math.max(...index.bytes);
      expect(longest).toBe(whole ? body.length + 1 : blockBytesFor(1000));
      expect(blockwise(bytes, index, 1000)).toEqual(reference(bytes));
    }
  });

  it('numbers an error in a later block from the start of the file', () => {
    const bytes = new TextEncoder().encode('I  1,1\n\n==1== x\nI  2,2\n L zz,1\n');
    const index = indexLackeyBlocks(bytes.length, readerOf(bytes), blockBytesFor(1))!;
    const got = blockwise(bytes, index, 1);
    expect(got.end).toMatchObject({ ok: false, line: 5, column: 4 });
    expect(got.end).toEqual(reference(bytes).end);
  });

  it('cuts neither gzip nor a binary trace', () => {
    const gz = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 10, 10);
    expect(indexLackeyBlocks(gz.length, readerOf(gz), 100)).toBeNull();
    const bin = new TextEncoder().encode('FLTRACE1 and more bytes');
    expect(indexLackeyBlocks(bin.length, readerOf(bin), 100)).toBeNull();
  });
});
