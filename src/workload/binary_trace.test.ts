import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessKind,
  INSTR,
  LOAD,
  MAX_TRACE_ADDRESS,
  MIN_TRACE_ADDRESS,
  STORE,
  TraceBatch,
  TraceInfoCollector,
  type TraceRecord,
} from '../sim/trace_batch.js';
import {
  BINARY_HEADER_BYTES,
  BinaryTraceWriter,
  encodeBinaryTrace,
  MAX_BLOCK_RECORDS,
} from './binary_trace.js';
import {
  BinaryTraceReader,
  binaryTraceInfo,
  decodeBinaryTrace,
  isBinaryTrace,
} from './binary_trace_reader.js';
import { parseLackey } from './lackey.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));

function batchesOf(records: readonly TraceRecord[], cap = 7): TraceBatch[] {
  const out: TraceBatch[] = [];
  for (let i = 0; i < records.length; i += cap) {
    const b = new TraceBatch(cap);
    for (const r of records.slice(i, i + cap)) b.push(r.kind, r.addr, r.size);
    out.push(b);
  }
  return out;
}

/** Decodes `bytes` fed in pieces cut at `cuts`; returns the records and the outcome. */
function decode(bytes: Uint8Array, cuts: number[] = [], batchCapacity = 5) {
  const records: TraceRecord[] = [];
  const reader = new BinaryTraceReader((b) => records.push(...b.toRecords()), batchCapacity);
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    const r = reader.feed(bytes.subarray(prev, p));
    prev = p;
    if (!r.ok) return { records, result: r };
  }
  return { records, result: reader.end() };
}

const record = fc.record({
  kind: fc.integer({ min: 0, max: 3 }).map((k) => k as AccessKind),
  addr: fc.oneof(
    // Delta magnitudes for every varint length: 1..8 bytes.
    fc.maxSafeNat(),
    fc.nat({ max: 2 ** 34 }),
    fc.nat({ max: 2 ** 27 }),
    fc.nat({ max: 2 ** 20 }),
    fc.nat({ max: 2 ** 13 }),
    fc.integer({ min: 0x7ff000000, max: 0x7ff001000 }),
    fc.constantFrom(0, 2 ** 53 - 1, 2 ** 52, 2 ** 52 - 1, 2 ** 31, 2 ** 28 - 1),
    // Sign-extended upper-half addresses: the whole range, the 48-bit kernel half, its ends.
    fc.integer({ min: MIN_TRACE_ADDRESS, max: -1 }),
    fc.integer({ min: -(2 ** 47), max: -(2 ** 47) + 2 ** 20 }),
    fc.constantFrom(MIN_TRACE_ADDRESS, MIN_TRACE_ADDRESS + 1, -1, -0xa00000, -(2 ** 52), -(2 ** 27)),
  ),
  size: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 4096 })),
});

const sample: TraceRecord[] = [
  { kind: INSTR, addr: 0x400000, size: 4 },
  { kind: LOAD, addr: 0x7ff000398, size: 8 },
  { kind: STORE, addr: 0x10000000, size: 4096 },
  { kind: INSTR, addr: 0x400004, size: 4 },
];

describe('binary trace round trip', () => {
  it('decodes exactly what was encoded, for any blocking, batching and chunking', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 10 }),
        fc.boolean(),
        (records, blockRecords, cap, cuts, declare) => {
          const bytes = encodeBinaryTrace(batchesOf(records, cap), {
            blockRecords,
            recordCount: declare ? records.length : undefined,
          });
          const got = decode(bytes, cuts, cap);
          expect(got.result).toEqual({
            ok: true,
            value: {
              records: records.length,
              declaredRecords: declare ? records.length : null,
              stopped: false,
            },
          });
          expect(got.records).toEqual(records);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('wraps deltas across the whole sign-extended range exactly', () => {
    const top = MAX_TRACE_ADDRESS;
    const bottom = MIN_TRACE_ADDRESS;
    const records: TraceRecord[] = [
      0,
      top,
      1,
      top - 1,
      2 ** 52,
      0,
      2 ** 52 + 1,
      2 ** 52 - 1,
      bottom,
      top,
      bottom,
      -1,
      top,
      bottom + 1,
      top - 1,
      -(2 ** 47),
      2 ** 47 - 1,
      -0xa00000,
    ].map((addr) => ({ kind: LOAD, addr, size: 8 }));
    expect(decode(encodeBinaryTrace(batchesOf(records, 100))).records).toEqual(records);
  });

  it('carries the vsyscall page and the kernel half in a few bytes', () => {
    const b = new TraceBatch(2);
    b.push(INSTR, -0xa00000, 8); // 0xffffffffff600000
    b.push(INSTR, -0xa00000 + 0x400, 8);
    const bytes = encodeBinaryTrace([b]);
    // One block: tag + 4-byte varint of zigzag(-0xa00000) = 0x13fffff, then tag + 2-byte varint.
    expect(bytes.length).toBe(BINARY_HEADER_BYTES + 8 + 5 + 3 + 16);
    expect(decode(bytes).records).toEqual(b.toRecords());
  });

  it('still reads version 1 (addresses 0..2^53-1, deltas modulo 2^53)', () => {
    // Written by the version-1 writer; the same records as lackey text, read independently.
    const v1 = fixture('binary_v1_wrap.fltrace');
    expect(v1[8]).toBe(1);
    const expected: TraceRecord[] = [];
    const text = parseLackey(fixture('binary_v1_wrap.txt'), (b) => {
      expected.push(...b.toRecords());
    });
    expect(text.ok).toBe(true);
    expect(expected.map((r) => r.addr)).toContain(2 ** 53 - 1);
    const got = decode(v1, [3, 30]);
    expect(got.result).toEqual({ ok: true, value: { records: 8, declaredRecords: null, stopped: false } });
    expect(got.records).toEqual(expected);
  });

  it('is compact: a sequential fetch stream costs 2 bytes per record', () => {
    const b = new TraceBatch(10000);
    for (let i = 0; i < 10000; i++) b.push(INSTR, 0x400000 + 4 * i, 4);
    const bytes = encodeBinaryTrace([b], { blockRecords: 10000 });
    // header + one block (8-byte header, first record: tag + 4-byte varint of 2 * 0x400000,
    // the others: tag + 1-byte varint of 2 * 4) + end block
    expect(bytes.length).toBe(BINARY_HEADER_BYTES + 8 + 5 + 2 * 9999 + 16);
    expect(isBinaryTrace(bytes)).toBe(true);
  });

  it('emits fresh chunks the caller may keep: header, one per block, end', () => {
    const chunks: Uint8Array[] = [];
    const w = new BinaryTraceWriter((c) => chunks.push(c), { blockRecords: 2 });
    for (const b of batchesOf(sample, 3)) w.write(b);
    w.finish();
    // Block 1: I 0x400000 (1 + 4 bytes), L 0x7ff000398 (1 + 6). Block 2, deltas reset: S 0x10000000
    // size 4096 (1 + 2 + 5), I 0x400004 (1 + 4).
    expect(chunks.map((c) => c.length)).toEqual([20, 8 + 12, 8 + 13, 16]);
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length);
    expect(w.records).toBe(4);
  });

  it('summarises a trace with binaryTraceInfo like the collector does', () => {
    const c = new TraceInfoCollector();
    for (const b of batchesOf(sample)) c.add(b);
    const info = binaryTraceInfo(encodeBinaryTrace(batchesOf(sample)));
    expect(info).toEqual({ ok: true, value: c.result() });
    expect(info.ok && info.value.pages).toBe(3); // 0x400000, 0x7ff000000, 0x10000000 (4096 bytes, one page)
  });

  it('stops when the sink returns false', () => {
    const bytes = encodeBinaryTrace(batchesOf(sample));
    let calls = 0;
    const r = decodeBinaryTrace(
      bytes,
      () => {
        calls++;
        return false;
      },
      1,
    );
    expect(r).toEqual({ ok: true, value: { records: 1, declaredRecords: null, stopped: true } });
    expect(calls).toBe(1);
  });

  it('rejects invalid records at the writer as a bug', () => {
    const b = new TraceBatch(1);
    b.push(LOAD, 0.5, 8);
    expect(() => encodeBinaryTrace([b])).toThrow(/invalid trace record 0/);
  });
});

describe('binary trace errors', () => {
  const good = encodeBinaryTrace(batchesOf(sample), { blockRecords: 3 });

  it('bad magic', () => {
    const bad = good.slice();
    bad[3] = 0x58;
    expect(decode(bad).result).toEqual({
      ok: false,
      code: 'TRACE_CORRUPT',
      offset: 3,
      message: "offset 3: bad magic: expected 'FLTRACE1', found 'FLTXACE1'",
    });
  });

  it('unsupported version and flags', () => {
    const v = good.slice();
    v[8] = 7;
    expect(decode(v).result).toMatchObject({
      offset: 8,
      message: 'offset 8: unsupported version 7 (this reader supports 1 and 2)',
    });
    const f = good.slice();
    f[10] = 1;
    expect(decode(f).result).toMatchObject({
      offset: 10,
      message: 'offset 10: unsupported flags 0x1 (expected 0)',
    });
  });

  it('truncation anywhere is detected, at the right offset', () => {
    for (let n = 0; n < good.length; n++) {
      const r = decode(good.subarray(0, n), [n >> 1]).result;
      expect(r.ok, `prefix of ${n} bytes`).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('TRACE_CORRUPT');
        expect(r.message).toMatch(/truncated|empty input/);
        expect((r as { offset: number }).offset).toBe(n);
      }
    }
    const atEnd = good.length - 16;
    expect(decode(good.subarray(0, atEnd)).result).toMatchObject({
      offset: atEnd,
      message: `offset ${atEnd}: truncated: missing end-of-trace block`,
    });
    expect(decode(good.subarray(0, 0)).result).toMatchObject({
      offset: 0,
      message: 'offset 0: empty input: no binary trace header',
    });
  });

  it('a block cut short names the missing payload bytes', () => {
    const r = decode(good.subarray(0, BINARY_HEADER_BYTES + 8 + 3)).result;
    expect(r).toMatchObject({
      offset: 31,
      message: expect.stringMatching(/^offset 31: truncated block: \d+ of \d+ payload bytes missing$/),
    });
  });

  it('trailing data after the end block', () => {
    const extra = new Uint8Array(good.length + 1);
    extra.set(good);
    expect(decode(extra).result).toMatchObject({
      offset: good.length,
      message: expect.stringContaining('after the end-of-trace block'),
    });
  });

  it('implausible block headers, stray payload bytes and count mismatches', () => {
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(BINARY_HEADER_BYTES, MAX_BLOCK_RECORDS + 1, true);
    expect(decode(huge).result).toMatchObject({
      offset: 20,
      message: expect.stringContaining('block of 1048577 records'),
    });

    // A one-record block whose payload claims 3 bytes but the record takes 2.
    const b = new TraceBatch(1);
    b.push(LOAD, 1, 8);
    const one = encodeBinaryTrace([b]);
    const stray = new Uint8Array(one.length + 1);
    stray.set(one.subarray(0, 28));
    stray[28] = one[28]!;
    stray[29] = one[29]!;
    stray[30] = 0;
    stray.set(one.subarray(30), 31);
    new DataView(stray.buffer).setUint32(24, 3, true);
    expect(decode(stray).result).toMatchObject({
      offset: 30,
      message: "offset 30: 1 stray bytes after the block's last record",
    });

    const declared = encodeBinaryTrace(batchesOf(sample));
    new DataView(declared.buffer).setUint32(12, 5, true);
    new DataView(declared.buffer).setUint32(16, 0, true);
    expect(decode(declared).result).toMatchObject({
      message: expect.stringContaining('header declares 5 records, found 4'),
    });
  });

  it('an address varint of more than 8 bytes, or a delta beyond 2^54 (2^53 in version 1)', () => {
    /** A trace of one block holding one load record: tag then `varint`, and the end block. */
    const oneRecord = (varint: number[]) => {
      const head = encodeBinaryTrace([]).subarray(0, BINARY_HEADER_BYTES);
      const out = new Uint8Array(BINARY_HEADER_BYTES + 8 + 1 + varint.length + 16);
      const view = new DataView(out.buffer);
      out.set(head);
      view.setUint32(20, 1, true);
      view.setUint32(24, 1 + varint.length, true);
      out.set([LOAD | (8 << 2), ...varint], 28);
      const endAt = 29 + varint.length;
      view.setUint32(endAt + 4, 8, true);
      view.setUint32(endAt + 8, 1, true);
      return out;
    };
    expect(decode(oneRecord([0x90, 0x80, 0x80, 0x80, 0x80, 0x01])).records).toEqual([
      { kind: LOAD, addr: 2 ** 34 + 8, size: 8 }, // zigzag 2^35 + 16: a 6-byte varint
    ]);
    expect(decode(oneRecord([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).result).toMatchObject({
      offset: 28,
      message: 'offset 28: address varint longer than 8 bytes',
    });
    // Zigzag 2^54 - 1 is the largest value (the delta -2^53); 2^54 is one beyond.
    const max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f];
    expect(decode(oneRecord(max)).records).toEqual([{ kind: LOAD, addr: MIN_TRACE_ADDRESS, size: 8 }]);
    expect(decode(oneRecord([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])).result).toMatchObject({
      offset: 28,
      message: 'offset 28: address delta exceeds 2^54',
    });
    const v1 = (bytes: Uint8Array) => {
      bytes[8] = 1;
      return bytes;
    };
    // Version 1: zigzag 2^53 - 1 (the delta -2^52, wrapped to 2^52) is the largest, 2^53 beyond.
    expect(decode(v1(oneRecord([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]))).records).toEqual([
      { kind: LOAD, addr: 2 ** 52, size: 8 },
    ]);
    expect(decode(v1(oneRecord([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]))).result).toMatchObject({
      offset: 28,
      message: 'offset 28: address delta exceeds 2^53',
    });
  });

  it('a record running past its block', () => {
    const b = new TraceBatch(1);
    b.push(LOAD, 0x7ff000000, 8); // 6-byte varint
    const bytes = encodeBinaryTrace([b]);
    new DataView(bytes.buffer).setUint32(24, 2, true); // claim the payload is 2 bytes
    expect(decode(bytes).result).toMatchObject({
      offset: 28,
      message: 'offset 28: record runs past the end of its block',
    });
  });
});
