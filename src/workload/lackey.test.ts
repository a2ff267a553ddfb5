import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INSTR, LOAD, MODIFY, STORE, type TraceBatch, type TraceRecord } from '../sim/trace_batch.js';
import { LackeyParser, MAX_LINE_BYTES, parseLackey, type TraceSyntaxError } from './lackey.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));

/** Parses `input`, feeding it in pieces cut at `cuts`, and collects everything observable. */
function run(input: Uint8Array | string, cuts: number[] = [], batchCapacity = 4) {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const records: TraceRecord[] = [];
  const batchSizes: number[] = [];
  const parser = new LackeyParser((b: TraceBatch) => {
    batchSizes.push(b.length);
    records.push(...b.toRecords());
  }, batchCapacity);
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    const r = parser.feed(bytes.subarray(prev, p));
    prev = p;
    if (!r.ok) return { records, batchSizes, error: r, stats: null };
  }
  const e = parser.end();
  return { records, batchSizes, error: e.ok ? null : e, stats: e.ok ? e.value : null };
}

function errorOf(input: string | Uint8Array): TraceSyntaxError {
  const r = run(input);
  expect(r.error).not.toBeNull();
  return r.error!;
}

describe('LackeyParser', () => {
  it('parses the small fixture: kinds, addresses, sizes, skipped Valgrind lines', () => {
    const r = run(fixture('lackey_small.txt'));
    expect(r.error).toBeNull();
    expect(r.records).toEqual([
      { kind: INSTR, addr: 0x04000800, size: 3 },
      { kind: INSTR, addr: 0x04000803, size: 5 },
      { kind: STORE, addr: 0x7ff000398, size: 8 },
      { kind: INSTR, addr: 0x04000808, size: 4 },
      { kind: LOAD, addr: 0x04222cac, size: 8 },
      { kind: MODIFY, addr: 0x0421fb40, size: 4 },
      { kind: INSTR, addr: 0x0400080c, size: 2 },
      { kind: LOAD, addr: 0x7ff0003a0, size: 16 },
      { kind: STORE, addr: 0x0421fb44, size: 1 },
    ]);
    expect(r.stats).toEqual({ records: 9, lines: 16, partialLine: false, stopped: false });
    expect(r.batchSizes).toEqual([4, 4, 1]);
  });

  it('tolerates CRLF, tabs, trailing blanks, upper-case hex and a final line without newline', () => {
    const r = run(fixture('lackey_crlf_no_final_newline.txt'));
    expect(r.records.map((x) => x.kind)).toEqual([INSTR, LOAD, STORE, MODIFY]);
    expect(r.records[3]).toEqual({ kind: MODIFY, addr: 0x0421fb40, size: 4 });
    expect(r.stats).toMatchObject({ records: 4, lines: 4, partialLine: true });
    const t = run('I\t0400D7D4,8  \t\n L\t\t0,1\r\n--5-- verbose message\n\r\n');
    expect(t.records).toEqual([
      { kind: INSTR, addr: 0x400d7d4, size: 8 },
      { kind: LOAD, addr: 0, size: 1 },
    ]);
    expect(t.stats).toMatchObject({ lines: 4, partialLine: false });
  });

  it('accepts the largest address and size and nothing beyond', () => {
    expect(run(' S 1fffffffffffff,4096\n').records).toEqual([{ kind: STORE, addr: 2 ** 53 - 1, size: 4096 }]);
    expect(errorOf(' S 20000000000000,8\n')).toMatchObject({
      code: 'TRACE_SYNTAX',
      line: 1,
      column: 4,
      message:
        'line 1, column 4: address 0x20000000000000 is not canonical (expected at most 0x1fffffffffffff, or an upper-half address from 0xffe0000000000000, at most 16 hex digits)',
    });
  });

  it('reads canonical upper-half addresses exactly, sign-extended', () => {
    // The vsyscall page, the lowest 48-bit kernel-half address, the top byte, the lowest held.
    const r = run(
      'I  ffffffffff600000,8\n L ffff800000000000,8\n S ffffffffffffffff,1\n M 00ffe0000000000000,4\n',
    );
    expect(r.error).toBeNull();
    expect(r.records).toEqual([
      { kind: INSTR, addr: -0xa00000, size: 8 },
      { kind: LOAD, addr: -(2 ** 47), size: 8 },
      { kind: STORE, addr: -1, size: 1 },
      { kind: MODIFY, addr: -(2 ** 53), size: 4 },
    ]);
  });

  it.each([
    ['ffdfffffffffffff', 'bits 63..53 mixed'],
    ['8000000000000000', 'the lowest non-canonical upper-half value'],
    ['0000800000000000ffff', 'more than 64 bits'],
    ['1ffffffffffffffff', '17 digits'],
  ])('rejects the non-canonical address %s (%s) naming line, column and what was expected', (a) => {
    const e = errorOf(`I  1,1\n L\t${a},8\n`);
    expect(e).toMatchObject({ code: 'TRACE_SYNTAX', line: 2, column: 4 });
    expect(e.message).toBe(
      `line 2, column 4: address 0x${a} is not canonical (expected at most 0x1fffffffffffff, or an upper-half address from 0xffe0000000000000, at most 16 hex digits)`,
    );
  });

  it.each([
    ['I  0400d7d4,8\n L zz,8\n', 2, 4, "expected a hex address after 'L', found 'zz'"],
    [' L 04222cac 8\n', 1, 12, "missing ',' between address and size, found ' '"],
    [' L 04222cac;8\n', 1, 12, "missing ',' between address and size, found ';8'"],
    ['I  0,99999999\n', 1, 6, 'size 99999999 out of range (expected 1..4096)'],
    ['I  0,0\n', 1, 6, 'size 0 out of range (expected 1..4096)'],
    ['I  0,\n', 1, 6, "expected a decimal size after ',', found end of line"],
    ['I  0,8x\n', 1, 7, "expected end of line after size, found 'x'"],
    ['X  0,8\n', 1, 1, "expected 'I', ' L', ' S', ' M' or a '==' line, found 'X'"],
    ['=\n', 1, 1, "expected 'I', ' L', ' S', ' M' or a '==' line, found '='"],
    [' Q 0,8\n', 1, 2, "expected 'L', 'S' or 'M' after ' ', found 'Q'"],
    ['I0,8\n', 1, 2, "expected a space after 'I', found '0'"],
    ['\n\n S ,8\n', 3, 4, "expected a hex address after 'S', found ','"],
    ['I  0,8\nI  0', 2, 5, "missing ',' between address and size, found end of line"],
  ])('reports %j at line %i, column %i', (input, line, column, what) => {
    expect(errorOf(input)).toEqual({
      ok: false,
      code: 'TRACE_SYNTAX',
      line,
      column,
      message: `line ${line}, column ${column}: ${what}`,
      detail: what,
    });
  });

  it('names non-text bytes: binary garbage in a lackey file', () => {
    expect(errorOf(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0, 1, 10))).toMatchObject({
      line: 1,
      column: 1,
      message: "line 1, column 1: expected 'I', ' L', ' S', ' M' or a '==' line, found non-text byte 0x7f",
    });
    expect(errorOf('I  0,8\nI  \u00001,8\n')).toMatchObject({ line: 2, column: 4 });
  });

  it('rejects over-long record lines but not long Valgrind messages, wherever chunks are cut', () => {
    const long = `I${' '.repeat(MAX_LINE_BYTES)}1,1\n`;
    const msg = `==1== ${'x'.repeat(3 * MAX_LINE_BYTES)}\nI  1,1\n`;
    for (const cuts of [[], [7], [MAX_LINE_BYTES - 1], [1, MAX_LINE_BYTES + 2]]) {
      expect(run(long, cuts).error).toMatchObject({
        line: 1,
        column: MAX_LINE_BYTES + 1,
        message: `line 1, column ${MAX_LINE_BYTES + 1}: line longer than ${MAX_LINE_BYTES} bytes`,
      });
      expect(run(msg, cuts).records).toEqual([{ kind: INSTR, addr: 1, size: 1 }]);
    }
    const garbage = new Uint8Array(3 * MAX_LINE_BYTES).fill(0x41);
    garbage[10] = 0;
    expect(run(garbage, [100, 5000]).error?.message).toBe(
      `line 1, column ${MAX_LINE_BYTES + 1}: line longer than ${MAX_LINE_BYTES} bytes (not lackey text? non-text byte 0x00 at column 11)`,
    );
  });

  it('stays failed after an error and delivers only records before it', () => {
    const records: TraceRecord[] = [];
    const p = new LackeyParser((b) => records.push(...b.toRecords()), 2);
    const first = p.feed(new TextEncoder().encode('I  1,1\nI  2,1\nI  3,1\nbad\nI  4,1\n'));
    expect(first).toMatchObject({ ok: false, line: 4 });
    expect(p.feed(new TextEncoder().encode('I  5,1\n'))).toBe(first);
    expect(p.end()).toBe(first);
    expect(records.map((r) => r.addr)).toEqual([1, 2, 3]);
  });

  it('stops reading when the sink returns false', () => {
    let calls = 0;
    const p = new LackeyParser(() => {
      calls++;
      return false;
    }, 2);
    expect(p.feed(new TextEncoder().encode('I  1,1\nI  2,1\nI  3,1\nI  4,1\n')).ok).toBe(true);
    expect(p.feed(new TextEncoder().encode('garbage is ignored now\n')).ok).toBe(true);
    expect(p.end()).toEqual({ ok: true, value: { records: 2, lines: 2, partialLine: false, stopped: true } });
    expect(calls).toBe(1);
  });

  it('parseLackey handles strings and counts empty input as zero records', () => {
    const n: number[] = [];
    expect(parseLackey('', (b) => n.push(b.length))).toEqual({
      ok: true,
      value: { records: 0, lines: 0, partialLine: false, stopped: false },
    });
    expect(n).toEqual([]);
  });
});

// ---- property tests: against a naive reference, and invariance under chunk splits ----

type Ref = { records: TraceRecord[]; errorLine: number | null };

/** Naive reference: split into lines, one regular expression per line. */
function reference(text: string): Ref {
  const records: TraceRecord[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kinds: Record<string, TraceRecord['kind']> = { I: INSTR, ' L': LOAD, ' S': STORE, ' M': MODIFY };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || line === '\r' || line.startsWith('==') || line.startsWith('--')) continue;
    const m = /^(I| [LSM])[ \t]+([0-9a-fA-F]+),([0-9]+)[ \t]*\r?$/.exec(line);
    const addr = m ? signExtended(BigInt(`0x${m[2]!}`)) : 0;
    const size = m ? Number(m[3]) : 0;
    if (!m || addr === null || size < 1 || size > 4096 || line.length > MAX_LINE_BYTES) {
      return { records, errorLine: i + 1 };
    }
    records.push({ kind: kinds[m[1]!]!, addr, size });
  }
  return { records, errorLine: null };
}

/** A 64-bit address in BigInt arithmetic, sign-extended; null when bits 63..53 differ or it needs more bits. */
function signExtended(v: bigint): number | null {
  if (v < 2n ** 53n) return Number(v);
  if (v >= 2n ** 64n - 2n ** 53n && v < 2n ** 64n) return Number(v - 2n ** 64n);
  return null;
}

const recordLine = fc
  .record({
    kind: fc.constantFrom('I', ' L', ' S', ' M'),
    gap: fc.constantFrom(' ', '  ', '\t'),
    addr: fc.oneof(
      { weight: 4, arbitrary: fc.nat({ max: 0xffffffff }).map(BigInt) },
      { weight: 2, arbitrary: fc.maxSafeNat().map(BigInt) },
      // Around the canonical boundaries of the upper half, and beyond 64 bits.
      { weight: 2, arbitrary: fc.bigInt({ min: 2n ** 64n - 2n ** 53n - 8n, max: 2n ** 64n - 1n }) },
      { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n - 4n, max: 2n ** 68n }) },
    ),
    pad: fc.nat({ max: 8 }),
    upper: fc.boolean(),
    size: fc.integer({ min: 1, max: 64 }),
    tail: fc.constantFrom('', '\r', ' ', ' \r'),
  })
  .map(({ kind, gap, addr, pad, upper, size, tail }) => {
    const h = addr.toString(16).padStart(pad, '0');
    return `${kind}${gap}${upper ? h.toUpperCase() : h},${size}${tail}`;
  });
const otherLine = fc.constantFrom(
  '==123== hello',
  '--9-- x',
  '',
  '\r',
  '==',
  ' L 12,0',
  ' X 1,1',
  'I  1;1',
  'I  z,1',
);
const traceText = fc
  .tuple(
    fc.array(fc.oneof({ weight: 12, arbitrary: recordLine }, { weight: 1, arbitrary: otherLine })),
    fc.boolean(),
  )
  .map(([lines, finalNewline]) => lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : ''));

describe('LackeyParser properties', () => {
  it('agrees with a naive line-by-line reference', () => {
    fc.assert(
      fc.property(traceText, (text) => {
        const ref = reference(text);
        const got = run(text, [], 3);
        expect(got.records).toEqual(ref.records);
        expect(got.error?.line ?? null).toBe(ref.errorLine);
      }),
      { numRuns: 300 },
    );
  });

  it('splitting the same input at arbitrary positions yields identical records and errors', () => {
    fc.assert(
      fc.property(
        traceText,
        fc.array(fc.nat({ max: 2000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 9 }),
        (text, cuts, cap) => {
          const whole = run(text, [], 1000);
          const split = run(text, cuts, cap);
          expect(split.records).toEqual(whole.records);
          expect(split.error).toEqual(whole.error);
          expect(split.stats).toEqual(whole.stats);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('byte-at-a-time feeding equals one chunk', () => {
    fc.assert(
      fc.property(traceText, (text) => {
        const n = new TextEncoder().encode(text).length;
        const all = Array.from({ length: n }, (_, i) => i);
        expect(run(text, all)).toEqual(run(text));
      }),
      { numRuns: 50 },
    );
  });
});
