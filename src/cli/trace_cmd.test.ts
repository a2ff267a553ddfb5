/**
 * `faultline trace info` and `faultline trace convert`: known counts of the small fixture, lossless
 * round trips between lackey text and the binary format (plain and gzip), and bad inputs giving a
 * file:line error, a non-zero exit and no output file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ACCESS_SIZE, MAX_TRACE_ADDRESS, TraceBatch, type TraceRecord } from '../sim/trace_batch.js';
import { BinaryTraceWriter } from '../workload/binary_trace.js';
import { decodeBinaryTrace } from '../workload/binary_trace_reader.js';
import { parseLackey } from '../workload/lackey.js';
import { UserError } from './io.js';
import { convertTrace, LackeyTextWriter, outputFormat, traceInfo } from './trace_cmd.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SMALL = 'test/fixtures/lackey_small.txt';
const BAD = 'test/fixtures/lackey_bad_address.txt';
const tmp = mkdtempSync(join(tmpdir(), 'faultline-tracecmd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A fresh empty directory per test, so "no output file" means an empty listing. */
function dir(name: string): string {
  const d = join(tmp, name);
  rmSync(d, { recursive: true, force: true });
  return mkdtempSync(`${d}-`);
}

const SMALL_COUNTS = {
  records: 9,
  perKind: { I: 4, L: 2, S: 2, M: 1 },
  pages: 4,
  footprint: 16384,
  lowest: 0x4000800,
  highest: 0x7ff0003af,
};

describe('faultline trace info', () => {
  it('reports the known counts of the small fixture', async () => {
    expect(await traceInfo(join(ROOT, SMALL))).toEqual({
      file: join(ROOT, SMALL),
      format: 'lackey',
      gzip: false,
      bytes: 337,
      lines: 16,
      sharedDecode: true,
      ...SMALL_COUNTS,
    });
  });

  it('says whether compare decodes a binary trace on both replaying threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-info-'));
    const bin = join(dir, 'small.bin');
    await convertTrace(join(ROOT, SMALL), bin);
    expect(await traceInfo(bin)).toMatchObject({ format: 'binary', sharedDecode: true, ...SMALL_COUNTS });
    expect(cli('trace', 'info', bin).out).toContain(
      'blocks     one batch each: compare decodes them on both',
    );
    // The same records in blocks of 2: the reader thread decodes them.
    const out: Uint8Array[] = [];
    const w = new BinaryTraceWriter((c) => out.push(c), { blockRecords: 2 });
    const r = decodeBinaryTrace(readFileSync(bin), (b) => {
      w.write(b);
      return true;
    });
    expect(r.ok).toBe(true);
    w.finish();
    const small = join(dir, 'blocks2.bin');
    writeFileSync(small, Buffer.concat(out));
    expect(await traceInfo(small)).toMatchObject({ sharedDecode: false, ...SMALL_COUNTS });
    writeFileSync(join(dir, 'small.bin.gz'), gzipSync(readFileSync(bin)));
    expect(await traceInfo(join(dir, 'small.bin.gz'))).toMatchObject({ gzip: true, sharedDecode: false });
  });

  it('says that compare parses plain lackey text on both replaying threads, and gzip text on the reader thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-info-'));
    const gz = join(dir, 'small.txt.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(ROOT, SMALL))));
    expect(await traceInfo(gz)).toMatchObject({ gzip: true, sharedDecode: false, ...SMALL_COUNTS });
    expect(cli('trace', 'info', gz).out).toContain(
      'blocks     gzip-compressed: compare parses it on the reader thread',
    );
    expect(cli('trace', 'info', SMALL).out).toContain(
      'blocks     lines cut into blocks: compare parses them on both',
    );
  });

  it('prints text and --json from the command line', () => {
    const text = cli('trace', 'info', SMALL);
    expect(text.code).toBe(0);
    expect(text.out).toContain('records    9 (I 4, L 2, S 2, M 1)');
    expect(text.out).toContain('4 distinct 4K pages (16K footprint)');
    expect(text.out).toContain('0x4000800..0x7ff0003af');
    const json = cli('trace', 'info', SMALL, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ format: 'lackey', gzip: false, ...SMALL_COUNTS });
  });

  it('rejects a bad trace with a UserError naming file and line', async () => {
    const e = await traceInfo(BAD).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e).toMatchObject({
      message: `${BAD}: line 4, column 4: expected a hex address after 'L', found 'zz'`,
      exitCode: 2,
    });
  });
});

describe('faultline trace convert', () => {
  it('round-trips lackey -> binary -> lackey with identical counts and records', async () => {
    const d = dir('roundtrip');
    const bin = join(d, 'small.fltrace');
    const c1 = await convertTrace(join(ROOT, SMALL), bin);
    expect(c1).toMatchObject({ records: 9, bytesIn: 337, output: { format: 'binary', gzip: false } });
    expect(c1.bytesOut).toBe(readFileSync(bin).length);
    expect(readFileSync(bin).subarray(0, 8).toString('latin1')).toBe('FLTRACE1');
    expect(await traceInfo(bin)).toMatchObject({ format: 'binary', gzip: false, ...SMALL_COUNTS });

    const txt = join(d, 'back.txt');
    const c2 = await convertTrace(bin, txt);
    expect(c2).toMatchObject({ records: 9, input: { format: 'binary' }, output: { format: 'lackey' } });
    // Lackey's own spelling: the fixture's record lines, byte for byte.
    const recordLines = readFileSync(join(ROOT, SMALL), 'utf8')
      .split('\n')
      .filter((l) => /^(I | [LSM]) /.test(l));
    expect(readFileSync(txt, 'utf8')).toBe(`${recordLines.join('\n')}\n`);
    expect(readdirSync(d).sort()).toEqual(['back.txt', 'small.fltrace']);
  });

  it('writes and reads gzip on either side', async () => {
    const d = dir('gzip');
    const gzBin = join(d, 'small.fltrace.gz');
    const gzTxt = join(d, 'small.lackey.gz');
    await convertTrace(join(ROOT, SMALL), gzBin);
    await convertTrace(gzBin, gzTxt);
    for (const p of [gzBin, gzTxt]) expect([...readFileSync(p).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(await traceInfo(gzBin)).toMatchObject({ format: 'binary', gzip: true, ...SMALL_COUNTS });
    expect(await traceInfo(gzTxt)).toMatchObject({ format: 'lackey', gzip: true, ...SMALL_COUNTS });
  });

  it('picks the output format from the name', () => {
    expect(outputFormat('a.fltrace')).toEqual({ format: 'binary', gzip: false });
    expect(outputFormat('a.bin.gz')).toEqual({ format: 'binary', gzip: true });
    expect(outputFormat('a.TXT')).toEqual({ format: 'lackey', gzip: false });
    expect(outputFormat('a.lackey.gz')).toEqual({ format: 'lackey', gzip: true });
  });

  it('prints records and bytes in and out from the command line', () => {
    const d = dir('cli');
    const r = cli('trace', 'convert', SMALL, join(d, 'out.fltrace'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ records: 9, bytesIn: 337 });
    expect(j.bytesOut).toBe(readFileSync(join(d, 'out.fltrace')).length);
  });

  it('rejects a bad file with file:line, a non-zero exit and no output file', () => {
    const d = dir('bad');
    const r = cli('trace', 'convert', BAD, join(d, 'out.fltrace'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`faultline: ${BAD}: line 4, column 4: expected a hex address after 'L', found 'zz'\n`);
    expect(r.out).toBe('');
    expect(readdirSync(d)).toEqual([]);
  });

  it('leaves an existing output untouched when the conversion fails', async () => {
    const d = dir('keep');
    const out = join(d, 'out.fltrace');
    writeFileSync(out, 'previous');
    await expect(convertTrace(join(ROOT, BAD), out)).rejects.toThrow(/line 4, column 4/);
    await expect(convertTrace(join(ROOT, BAD), join(d, 'out.txt.gz'))).rejects.toThrow(/line 4, column 4/);
    await expect(convertTrace(join(d, 'missing.txt'), out)).rejects.toThrow(/missing\.txt: no such file/);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect(readdirSync(d)).toEqual(['out.fltrace']);
  });

  it('reports an unwritable output as a user error', async () => {
    const e = await convertTrace(join(ROOT, SMALL), '/dev/null/x.fltrace').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/^cannot write \/dev\/null\/x\.fltrace/);
  });
});

describe('LackeyTextWriter', () => {
  const record = fc.record({
    kind: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
    addr: fc.oneof(
      fc.nat({ max: 0xffffffff }),
      fc.integer({ min: 0, max: MAX_TRACE_ADDRESS }),
      fc.integer({ min: -(2 ** 53), max: -1 }),
    ),
    size: fc.integer({ min: 1, max: MAX_ACCESS_SIZE }),
  });

  it('writes text that lackey parsing reads back exactly (any address, any size)', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 50 }), (records: TraceRecord[]) => {
        const batch = new TraceBatch(Math.max(1, records.length));
        for (const r of records) batch.push(r.kind, r.addr, r.size);
        const chunks: Uint8Array[] = [];
        const w = new LackeyTextWriter((c) => chunks.push(c));
        w.write(batch);
        const back: TraceRecord[] = [];
        const text = Buffer.concat(chunks);
        const r = parseLackey(text, (b) => void back.push(...b.toRecords()));
        expect(r.ok).toBe(true);
        expect(back).toEqual(records);
        expect(w.records).toBe(records.length);
      }),
    );
  });

  it('spells addresses like lackey: at least 8 hex digits, no 0x', () => {
    const batch = new TraceBatch(6);
    batch.push(0, 0x800, 3);
    batch.push(1, 0x1fff000fea, 4096);
    batch.push(3, MAX_TRACE_ADDRESS, 1);
    batch.push(0, -0xa00000, 4096); // the vsyscall page, sign-extended
    batch.push(2, -(2 ** 53), 8);
    const chunks: Uint8Array[] = [];
    new LackeyTextWriter((c) => chunks.push(c)).write(batch);
    expect(Buffer.concat(chunks).toString()).toBe(
      'I  00000800,3\n L 1fff000fea,4096\n M 1fffffffffffff,1\nI  ffffffffff600000,4096\n S ffe0000000000000,8\n',
    );
  });

  it('refuses to convert a trace onto itself and leaves it untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-self-'));
    const file = join(dir, 'self.txt');
    writeFileSync(file, 'I  0400d7d4,8\n L 04222cac,8\n');
    await expect(convertTrace(file, file)).rejects.toThrow(/is the input file/);
    expect(readFileSync(file, 'utf8')).toBe('I  0400d7d4,8\n L 04222cac,8\n');
  });
});
