import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { TraceRecord } from '../sim/trace_batch.js';
import { BinaryTraceWriter } from '../workload/binary_trace.js';
import { replay } from './replay_run.js';
import { runOptions } from './run_options.js';
import { openTrace } from './trace_source.js';
import {
  autoThreaded,
  COMPARE_MIN_RECORDS,
  estimatedRecords,
  isBinaryTraceFile,
  partnerPays,
  readTrace,
  readTraceThreaded,
  THREAD_MIN_RECORDS,
} from './trace_thread.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'faultline-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function temp(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** A lackey trace of n lines over a few pages, so batches of 1000 records wrap the ring often. */
function lackey(n: number): string {
  const lines = ['==1== Lackey'];
  for (let i = 0; i < n; i++) {
    lines.push(
      i % 3 === 0
        ? `I  ${(0x400000 + i * 4).toString(16)},4`
        : ` L ${(0x7ff000 + (i % 512) * 8).toString(16)},8`,
    );
  }
  return `${lines.join('\n')}\n`;
}

type Reader = typeof openTrace;
async function collect(read: Reader, path: string, batchCapacity = 1000) {
  const records: TraceRecord[] = [];
  const result = await read(path, (b) => void records.push(...b.toRecords()), { batchCapacity });
  return { records, result };
}

describe('reading a trace on a reader thread', () => {
  const text = lackey(20_000);
  const plain = temp('t.lackey', text);
  const gz = temp('t.lackey.gz', gzipSync(text));

  it('delivers the same records and summary as reading in this thread (text, gzip, binary)', async () => {
    const chunks: Uint8Array[] = [];
    const w = new BinaryTraceWriter((c) => void chunks.push(c.slice()));
    await openTrace(plain, (b) => void w.write(b));
    w.finish();
    const bin = temp('t.fltrace', Buffer.concat(chunks));
    for (const path of [plain, gz, bin]) {
      const inline = await collect(openTrace, path);
      const threaded = await collect(readTraceThreaded, path);
      expect(inline.records).toHaveLength(20_000);
      expect(threaded.records).toEqual(inline.records);
      expect(threaded.result).toEqual(inline.result);
    }
  });

  it('reports a malformed line exactly as the inline reader, after the records before it', async () => {
    const bad = temp('bad.lackey', `${lackey(5000)} L 0x12q4,8\n${lackey(10)}`);
    const inline = await collect(openTrace, bad);
    const threaded = await collect(readTraceThreaded, bad);
    expect(threaded.result.ok).toBe(false);
    expect(threaded.result).toEqual(inline.result);
    expect(threaded.records).toEqual(inline.records);
    const missing = await collect(readTraceThreaded, join(dir, 'nope.lackey'));
    expect(missing.result).toMatchObject({ ok: false, code: 'TRACE_NOT_FOUND' });
  });

  it('stops when the consumer says so, and survives a consumer that throws', async () => {
    let seen = 0;
    const res = await readTraceThreaded(
      plain,
      (b) => {
        seen += b.length;
        return seen < 3000 ? undefined : false;
      },
      { batchCapacity: 1000 },
    );
    expect(res).toMatchObject({ ok: true, value: { records: 3000, stopped: true } });
    await expect(
      readTraceThreaded(plain, () => {
        throw new Error('consumer broke');
      }),
    ).rejects.toThrow('consumer broke');
    // The thread is free again and reads the whole file.
    expect((await collect(readTraceThreaded, plain)).records).toHaveLength(20_000);
  });

  it('lets timers and signal handlers run while a slow consumer keeps the reader ahead', async () => {
    // 20 batches of 1000 records, each taking 5 ms: slots are always full, so nothing awaits a fill.
    let ticked = false;
    const timer = setTimeout(() => {
      ticked = true;
    }, 10);
    let seen = 0;
    const res = await readTraceThreaded(
      plain,
      (b) => {
        const until = performance.now() + 5;
        while (performance.now() < until) {}
        seen += b.length;
        return ticked ? false : undefined; // what Ctrl-C does through replay's shouldStop
      },
      { batchCapacity: 1000 },
    );
    clearTimeout(timer);
    expect(res.ok).toBe(true);
    expect(seen).toBeLessThan(20_000);
  });

  it('is what readTrace uses in thread mode, and a replay through it prints the same result', async () => {
    const trace = fixture('lackey_small.txt');
    const run = (reader: 'thread' | 'inline') =>
      replay(plain, runOptions(['genode'], {}), { reader }).then((o) => JSON.stringify(o.results));
    expect(await run('thread')).toBe(await run('inline'));
    const small = await collect((p, c, o) => readTrace(p, c, { ...o, mode: 'thread' }), trace);
    expect(small.records.length).toBe(
      readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => /^( [LSM]|I) /.test(l)).length,
    );
  });
});

describe('--reader auto', () => {
  const text = new TextEncoder().encode('I  0400d7d4,8\n');
  const binary = Uint8Array.from('FLTRACE1', (c) => c.charCodeAt(0));
  const gzip = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0);

  it('estimates records from the size: 14 bytes a lackey line, 3 a binary record, gzip by its recorded size', () => {
    expect(estimatedRecords({ bytes: 14_000, head: text, isize: 0 })).toBe(1000);
    expect(estimatedRecords({ bytes: 3000, head: binary, isize: 0 })).toBe(1000);
    expect(estimatedRecords({ bytes: 100, head: gzip, isize: 140_000 })).toBe(10_000);
  });

  it('reads on a thread only long traces, and only while a core is idle', () => {
    const long = { bytes: THREAD_MIN_RECORDS * 14, head: text, isize: 0, designs: 1 };
    expect(autoThreaded({ ...long, load: 0.3, cores: 2 })).toBe(true);
    expect(autoThreaded({ ...long, load: 1.2, cores: 2 })).toBe(false);
    expect(autoThreaded({ ...long, load: 0.3, cores: 1 })).toBe(false);
    expect(autoThreaded({ ...long, bytes: long.bytes - 14, load: 0.3, cores: 2 })).toBe(false);
    expect(autoThreaded({ ...long, bytes: THREAD_MIN_RECORDS * 3, head: binary, load: 0.3, cores: 2 })).toBe(
      true,
    );
  });

  it('gives a comparison a partner thread from 2 designs of a binary trace, 3 of a text one', async () => {
    expect([1, 2, 3].map((n) => partnerPays(n, true))).toEqual([false, true, true]);
    expect([1, 2, 3, 4].map((n) => partnerPays(n, false))).toEqual([false, false, true, true]);
    const chunks: Uint8Array[] = [];
    const w = new BinaryTraceWriter((c) => void chunks.push(c.slice()));
    await openTrace(temp('small.lackey', lackey(3)), (b) => void w.write(b));
    w.finish();
    expect(await isBinaryTraceFile(temp('b.bin', Buffer.concat(chunks)))).toBe(true);
    expect(await isBinaryTraceFile(temp('t.lackey', lackey(3)))).toBe(false);
    expect(await isBinaryTraceFile(temp('g.gz', gzipSync(Buffer.concat(chunks))))).toBe(false);
    expect(await isBinaryTraceFile(join(dir, 'missing'))).toBe(false);
  });

  it('reads a very long trace compared across designs on a thread even when the cores are busy', () => {
    const veryLong = { bytes: COMPARE_MIN_RECORDS * 14, head: text, isize: 0, load: 7, cores: 2 };
    expect(autoThreaded({ ...veryLong, designs: 2 })).toBe(true);
    expect(autoThreaded({ ...veryLong, designs: 1 })).toBe(false);
    expect(autoThreaded({ ...veryLong, bytes: veryLong.bytes - 14, designs: 2 })).toBe(false);
  });
});
