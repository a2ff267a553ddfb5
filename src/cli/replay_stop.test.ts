/**
 * A traced thread that stops for good while more batches of the trace follow (issue 13, item 8):
 * replay and compare finish, count the rest as not replayed, say why, and exit 3 — with the trace
 * read inline or on the reader thread, as lackey text or binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_CAPACITY, LOAD, TraceBatch } from '../sim/trace_batch.js';
import { encodeBinaryTrace } from '../workload/binary_trace.js';
import { EXIT_THREAD_STOPPED, replay } from './replay_run.js';
import { runOptions } from './run_options.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-stop-'));

/** More records after the fatal one than one batch holds, so at least one more batch follows. */
const AFTER = DEFAULT_BATCH_CAPACITY + 5000;

/** Two good loads, `bad` (hex, as lackey writes it), then AFTER loads of mapped memory. */
function lackey(bad: string): string {
  const lines = ['==1== Lackey', ' L 00400000,8', 'I  00400008,4', ` S ${bad},8`];
  for (let i = 0; i < AFTER; i++) lines.push(` L ${(0x500000 + 8 * (i % 4096)).toString(16)},8`);
  return `${lines.join('\n')}\n`;
}

/** The same records in the binary format. */
function binary(bad: number): Uint8Array {
  const b = new TraceBatch(AFTER + 3);
  b.push(LOAD, 0x400000, 8);
  b.push(0, 0x400008, 4);
  b.push(2, bad, 8);
  for (let i = 0; i < AFTER; i++) b.push(LOAD, 0x500000 + 8 * (i % 4096), 8);
  return encodeBinaryTrace([b]);
}

const files = {
  'lackey text': () => {
    const f = join(tmp, 'null.txt');
    writeFileSync(f, lackey('00000010'));
    return f;
  },
  'lackey text, gzip': () => {
    const f = join(tmp, 'null.txt.gz');
    writeFileSync(f, gzipSync(lackey('00000010')));
    return f;
  },
  binary: () => {
    const f = join(tmp, 'null.fltrace');
    writeFileSync(f, binary(0x10));
    return f;
  },
};

describe('replay of a trace whose thread dies before more batches', () => {
  for (const [format, make] of Object.entries(files)) {
    for (const reader of ['inline', 'thread'] as const) {
      it(`${format}, --reader ${reader}: counts the rest as not replayed and says why`, async () => {
        const out = await replay(make(), runOptions(['genode'], {}), { reader });
        const r = out.results[0]!;
        expect(out.trace.records).toBe(AFTER + 3);
        expect(out.interrupted).toBe(false);
        expect(r.records).toBe(2);
        expect(r.stopped).toMatchObject({
          reason: 'thread-died',
          record: 3,
          address: '0x10',
          access: 'write',
          cause: 'null-page',
        });
      });
    }
  }

  it('in a comparison, stops only the designs whose thread stopped', async () => {
    // The second run has 8 MiB of RAM: its handler cannot back the sixth 2 MiB chunk.
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) lines.push(` L ${(0x10000000 + i * 2 ** 21).toString(16)},8`);
    for (let i = 0; i < AFTER; i++) lines.push(` L ${(0x10000000 + 8 * (i % 4096)).toString(16)},8`);
    const f = join(tmp, 'ram.txt');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const [big, small] = runOptions(['genode', '4k-only'], {});
    const ram = [{ base: 0x40000000, size: 8 * 2 ** 20 }];
    const smallRam = { ...small!, system: { ...small!.system, ram } };
    const out = await replay(f, [big!, smallRam], { reader: 'inline' });
    expect(out.results.map((r) => r.records)).toEqual([AFTER + 6, 4]);
    expect(out.results[0]!.stopped).toBeNull();
    expect(out.results[1]!.stopped).toMatchObject({
      reason: 'thread-blocked',
      record: 5,
      cause: 'handler-failed',
    });
  });
});

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('faultline replay and compare when the traced thread dies', () => {
  it('replay --json: the vsyscall page kills the thread, exit 3, stopped says where and why', () => {
    const f = join(tmp, 'vsyscall.txt');
    writeFileSync(f, lackey('ffffffffff600000'));
    const r = cli('replay', f, '--json', '--reader', 'thread');
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT_THREAD_STOPPED);
    expect(EXIT_THREAD_STOPPED).toBe(3);
    const j = JSON.parse(r.out);
    expect(j.records).toBe(2);
    expect(j.trace.records).toBe(AFTER + 3);
    expect(j.interrupted).toBe(false);
    expect(j.stopped).toEqual({
      reason: 'thread-died',
      thread: 'main',
      record: 3,
      address: '0xffffffffff600000',
      access: 'write',
      cause: 'kernel-half',
      error:
        "illegal WRITE at address 0xffffffffff600000 by pager_object: pd='init -> traced' thread='main' ip=0x0",
    });
  });

  it('compare (text): one stopped line per design, exit 3', () => {
    const f = join(tmp, 'null2.fltrace');
    writeFileSync(f, binary(0));
    const r = cli('compare', f, '--out', join(tmp, 'cmp'), '--design', 'genode', '--design', 'trampoline');
    expect(r.err).toBe('');
    expect(r.code).toBe(3);
    const stops = r.out.split('\n').filter((l) => l.includes('stopped:'));
    expect(stops).toEqual(
      ['genode', 'trampoline'].map(
        (d) =>
          `${d}: stopped: thread 'main' died at record 3 of ${AFTER + 3} (write at 0x0: the null page); the ${AFTER + 1} records from there on were not replayed`,
      ),
    );
  });
});
