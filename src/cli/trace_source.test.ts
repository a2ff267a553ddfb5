import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { INSTR, LOAD, MODIFY, STORE, TraceBatch, type TraceRecord } from '../sim/trace_batch.js';
import { encodeBinaryTrace } from '../workload/binary_trace.js';
import { openTrace, readTraceFromStream, type TraceSourceOptions } from './trace_source.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'faultline-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function temp(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function read(path: string, options?: TraceSourceOptions) {
  const records: TraceRecord[] = [];
  const result = await openTrace(path, (b) => void records.push(...b.toRecords()), options);
  return { records, result };
}

const SMALL_KINDS = [INSTR, INSTR, STORE, INSTR, LOAD, MODIFY, INSTR, LOAD, STORE];

describe('openTrace', () => {
  it('streams a lackey file, whatever the read size', async () => {
    for (const chunkBytes of [undefined, 1, 7]) {
      const { records, result } = await read(fixture('lackey_small.txt'), { chunkBytes, batchCapacity: 2 });
      expect(records.map((r) => r.kind)).toEqual(SMALL_KINDS);
      expect(records[2]).toEqual({ kind: STORE, addr: 0x7ff000398, size: 8 });
      expect(result).toEqual({
        ok: true,
        value: {
          file: fixture('lackey_small.txt'),
          format: 'lackey',
          gzip: false,
          records: 9,
          lines: 16,
          partialLine: false,
          declaredRecords: null,
          stopped: false,
          bytes: 337,
        },
      });
    }
  });

  it('detects gzip by its magic and reads the same records', async () => {
    const text = readFileSync(fixture('lackey_small.txt'));
    const gz = temp('small.txt.gz', gzipSync(text));
    const { records, result } = await read(gz, { chunkBytes: 5 });
    expect(records.map((r) => r.kind)).toEqual(SMALL_KINDS);
    expect(result).toMatchObject({
      ok: true,
      value: { format: 'lackey', gzip: true, records: 9, bytes: gzipSync(text).length },
    });
  });

  it('detects the binary format, plain and gzipped', async () => {
    const b = new TraceBatch(3);
    b.push(INSTR, 0x400000, 4);
    b.push(LOAD, 0x7ff000398, 8);
    b.push(MODIFY, 2 ** 53 - 1, 1);
    const bin = encodeBinaryTrace([b], { recordCount: 3 });
    for (const [name, bytes, gzip] of [
      ['t.fltrace', bin, false],
      ['t.fltrace.gz', gzipSync(bin), true],
    ] as const) {
      const { records, result } = await read(temp(name, bytes), { chunkBytes: 3 });
      expect(records).toEqual(b.toRecords());
      expect(result).toMatchObject({
        ok: true,
        value: { format: 'binary', gzip, records: 3, declaredRecords: 3, lines: null },
      });
    }
  });

  it('fills the batches a supply hands out, one after another, and leaves delivered ones alone', async () => {
    const text = readFileSync(fixture('lackey_small.txt'));
    const { records: want } = await read(temp('s.lackey', text));
    const b = new TraceBatch(want.length);
    for (const r of want) b.push(r.kind, r.addr, r.size);
    for (const path of [temp('s2.lackey', text), temp('s.fltrace', encodeBinaryTrace([b]))]) {
      const delivered: TraceBatch[] = [];
      const supplied: TraceBatch[] = [];
      const supply = () => {
        supplied.push(new TraceBatch(2));
        return supplied.at(-1)!;
      };
      const result = await openTrace(path, (x) => void delivered.push(x), { batchSupply: supply });
      expect(result.ok).toBe(true);
      // Each delivered batch is a different supplied one, still holding its records.
      expect(new Set(delivered).size).toBe(delivered.length);
      expect(delivered.every((x) => supplied.includes(x) && x.length > 0)).toBe(true);
      expect(delivered.flatMap((x) => x.toRecords())).toEqual(want);
    }
  });

  it('truncated gzip: unexpected end of gzip data', async () => {
    const gz = gzipSync(Buffer.from('I  0400d7d4,8\n'.repeat(2000)));
    const path = temp('cut.gz', gz.subarray(0, gz.length >> 1));
    const { result } = await read(path);
    expect(result).toMatchObject({
      ok: false,
      code: 'TRACE_CORRUPT',
      file: path,
      message: expect.stringMatching(
        new RegExp(`^${path}: unexpected end of gzip data .*after ${gz.length >> 1} compressed bytes$`),
      ),
    });
  });

  it('corrupt gzip data', async () => {
    const gz = gzipSync(Buffer.from('I  0400d7d4,8\n'.repeat(100)));
    gz[gz.length - 5] ^= 0xff; // damage the length/CRC trailer
    const { result } = await read(temp('bad.gz', gz));
    expect(result).toMatchObject({
      ok: false,
      code: 'TRACE_CORRUPT',
      message: expect.stringContaining('corrupt gzip data'),
    });
  });

  it('binary garbage in a text file: error naming the file, line and byte', async () => {
    const path = temp(
      'garbage.txt',
      Buffer.concat([Buffer.from('I  1,1\n L 2,8\n'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 10])]),
    );
    const { result } = await read(path);
    expect(result).toEqual({
      ok: false,
      code: 'TRACE_SYNTAX',
      file: path,
      line: 3,
      column: 1,
      message: `${path}: line 3, column 1: expected 'I', ' L', ' S', ' M' or a '==' line, found non-text byte 0x7f`,
    });
  });

  it('syntax errors name the file, line, column and what was expected', async () => {
    const path = fixture('lackey_bad_address.txt');
    const { records, result } = await read(path, { chunkBytes: 4 });
    expect(result).toMatchObject({
      code: 'TRACE_SYNTAX',
      line: 4,
      column: 4,
      message: `${path}: line 4, column 4: expected a hex address after 'L', found 'zz'`,
    });
    expect(records).toHaveLength(2);
  });

  it('a corrupt binary trace reports the byte offset', async () => {
    const b = new TraceBatch(1);
    b.push(LOAD, 1, 8);
    const bin = encodeBinaryTrace([b]);
    const path = temp('cut.fltrace', bin.subarray(0, bin.length - 3));
    expect((await read(path)).result).toMatchObject({
      code: 'TRACE_CORRUPT',
      offset: bin.length - 3,
      message: `${path}: offset ${bin.length - 3}: truncated block: 3 of 8 payload bytes missing`,
    });
  });

  it('empty inputs: no trace records', async () => {
    expect((await read(fixture('empty.txt'))).result).toMatchObject({
      code: 'TRACE_EMPTY',
      message: `${fixture('empty.txt')}: no trace records (the input is empty)`,
    });
    expect((await read(fixture('only_valgrind_messages.txt'))).result).toMatchObject({
      code: 'TRACE_EMPTY',
      message: expect.stringContaining('no trace records (2 lines, none of them an access)'),
    });
    expect((await read(temp('empty.gz', gzipSync(Buffer.alloc(0))))).result).toMatchObject({
      code: 'TRACE_EMPTY',
    });
    expect((await read(temp('empty.fltrace', encodeBinaryTrace([])))).result).toMatchObject({
      code: 'TRACE_EMPTY',
    });
  });

  it('missing file and unreadable path', async () => {
    const missing = join(dir, 'nope.txt');
    expect(await openTrace(missing, () => {})).toEqual({
      ok: false,
      code: 'TRACE_NOT_FOUND',
      file: missing,
      message: `${missing}: no such file`,
    });
    expect(await openTrace(dir, () => {})).toMatchObject({ ok: false, code: 'TRACE_IO', file: dir });
  });

  it('stops reading when the consumer returns false', async () => {
    const path = temp('many.txt', 'I  1,1\n'.repeat(100000));
    let seen = 0;
    const result = await openTrace(
      path,
      (b) => {
        seen += b.length;
        return false;
      },
      { batchCapacity: 1000, chunkBytes: 4096 },
    );
    expect(result).toMatchObject({ ok: true, value: { stopped: true, records: 1000 } });
    expect(seen).toBe(1000);
  });

  it('lets consumer exceptions propagate', async () => {
    await expect(
      openTrace(fixture('lackey_small.txt'), () => {
        throw new RangeError('simulator bug');
      }),
    ).rejects.toThrow('simulator bug');
  });
});

describe('readTraceFromStream', () => {
  it('reads a live stream (e.g. valgrind stdout), strings or bytes', async () => {
    const records: TraceRecord[] = [];
    const stream = Readable.from(['==1== Lackey\nI  0400d7', 'd4,8\n S 7ff0', Buffer.from('00398,8\n')]);
    const result = await readTraceFromStream(stream, 'valgrind', (b) => void records.push(...b.toRecords()));
    expect(records).toEqual([
      { kind: INSTR, addr: 0x400d7d4, size: 8 },
      { kind: STORE, addr: 0x7ff000398, size: 8 },
    ]);
    expect(result).toMatchObject({ ok: true, value: { file: 'valgrind', records: 2, lines: 3 } });
  });

  it('reports stream failures as TRACE_IO', async () => {
    const stream = new Readable({
      read() {
        this.destroy(new Error('pipe closed'));
      },
    });
    expect(await readTraceFromStream(stream, 'valgrind', () => {})).toEqual({
      ok: false,
      code: 'TRACE_IO',
      file: 'valgrind',
      message: 'valgrind: read error: pipe closed',
    });
  });
});
