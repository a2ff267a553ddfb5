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
import { readTrace, readTraceThreaded } from './trace_thread.js';

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
