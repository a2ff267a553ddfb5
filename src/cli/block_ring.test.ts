/**
 * The ring both replaying threads decode into, driven from one thread: batch i is block i whoever
 * decodes it, a slot is decoded again only once both consumers released it, and a block that
 * cannot be read is a clear read error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TraceBatch } from '../sim/trace_batch.js';
import { BinaryTraceWriter } from '../workload/binary_trace.js';
import { decodeBinaryTrace } from '../workload/binary_trace_reader.js';
import { readBlocksShared, sharedTrace } from './block_read.js';
import { BlockRing } from './block_ring.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-block-ring-'));
const PER = 100;

/** A binary trace of `n` records in blocks of PER, and its records as the streaming reader gives them. */
function trace(name: string, n: number): { path: string; batches: number[][] } {
  const out: Uint8Array[] = [];
  const w = new BinaryTraceWriter((c) => out.push(c), { blockRecords: PER });
  const b = new TraceBatch(n);
  for (let i = 0; i < n; i++) {
    b.kind[i] = i % 4;
    b.addr[i] = 0x400000 + ((i * 7919) % 50_000) * 64;
    b.size[i] = 1 + (i % 8);
  }
  b.length = n;
  w.write(b);
  w.finish();
  const path = join(dir, name);
  const bytes = Buffer.concat(out);
  writeFileSync(path, bytes);
  const batches: number[][] = [];
  const r = decodeBinaryTrace(
    bytes,
    (x) => {
      batches.push([...x.addr.subarray(0, x.length)]);
      return true;
    },
    PER,
  );
  if (!r.ok) throw new Error(r.message);
  return { path, batches };
}

const addrs = (b: TraceBatch) => [...b.addr.subarray(0, b.length)];

describe('BlockRing', () => {
  it('gives batch i as block i, decoded ahead as slots free, and reuses a slot only after both released it', () => {
    const { path, batches } = trace('a.bin', 10 * PER + 37);
    const shared = sharedTrace(path, PER, false);
    expect(shared?.format === 'binary' && shared.index.records.length).toBe(11);
    const ring = BlockRing.create(path, shared!, PER, 3, 2);
    const seen: number[][] = [];
    for (let i = 0; i < ring.length; i++) {
      let b = ring.ready(i);
      // Decoded ahead in the step before, but for the first.
      expect(b === null).toBe(i === 0);
      while (b === null) {
        expect(ring.decodeAhead()).toBe(true);
        b = ring.ready(i);
      }
      seen.push(addrs(b));
      ring.allow(i + 1);
      ring.release(i);
      // Decoding ahead fills the two other slots; batch i's stays held until the partner released it.
      while (ring.decodeAhead());
      for (let k = i + 1; k < Math.min(i + 3, ring.length); k++) expect(ring.ready(k)).not.toBeNull();
      // Still batch i for the partner (checked first: partnerTake would wait for it forever).
      expect(ring.ready(i)).not.toBeNull();
      expect(addrs(ring.partnerTake(i)!)).toEqual(seen[i]);
      ring.partnerDone(i);
      if (i + 3 < ring.length) {
        expect(ring.decodeAhead()).toBe(true);
        expect(ring.ready(i + 3)).not.toBeNull();
      }
    }
    expect(seen).toEqual(batches);
    expect(ring.decodeAhead()).toBe(false);
    ring.end(ring.length);
    expect(ring.partnerTake(ring.length)).toBeNull();
    ring.close();
  });

  it('reports a trace that disappears before it is read as a read error naming it', async () => {
    const { path } = trace('gone.bin', 3 * PER);
    const ring = BlockRing.create(path, sharedTrace(path, PER, false)!, PER, 4, 2);
    rmSync(path);
    const r = await readBlocksShared(ring, () => true, { partnerFailed: () => true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('TRACE_IO');
    expect(r.message).toMatch(/gone\.bin: read error: .*ENOENT/);
  });

  it('takes no trace it cannot decode block by block', () => {
    const { path } = trace('b.bin', 3 * PER);
    expect(sharedTrace(path, PER + 1, true)).toBeNull();
    expect(sharedTrace(join(dir, 'missing.bin'), PER, true)).toBeNull();
    const text = join(dir, 'c.lackey');
    writeFileSync(text, 'I  04000000,4\n');
    // Lackey text only when asked for, and never gzip-compressed or empty.
    expect(sharedTrace(text, PER, false)).toBeNull();
    expect(sharedTrace(text, PER, true)?.format).toBe('lackey');
    writeFileSync(text, gzipSync('I  04000000,4\n'));
    expect(sharedTrace(text, PER, true)).toBeNull();
    writeFileSync(text, '');
    expect(sharedTrace(text, PER, true)).toBeNull();
  });

  it('parses lackey text cut at line ends, with lines counted per block', () => {
    const text = join(dir, 'd.lackey');
    const line = (i: number) =>
      `${i % 3 === 0 ? 'I ' : ' L'} ${(0x4000 + i * 64).toString(16)},${1 + (i % 8)}\n`;
    const body = Array.from(
      { length: 2000 },
      (_, i) => (i % 50 === 7 ? '==1== note\n\n' : '') + line(i),
    ).join('');
    writeFileSync(text, `${body}I  1,1`);
    const shared = sharedTrace(text, PER, true)!;
    const ring = BlockRing.create(text, shared, PER, 4, 2);
    expect(ring.length).toBeGreaterThan(10);
    const addrs: number[] = [];
    let lines = 0;
    for (let i = 0; i < ring.length; i++) {
      expect(ring.decodeAhead()).toBe(true);
      const b = ring.ready(i)!;
      expect(b.length).toBeLessThanOrEqual(PER);
      addrs.push(...b.addr.subarray(0, b.length));
      const l = ring.lines(i);
      lines += l.lines;
      expect(l.partialLine).toBe(i === ring.length - 1);
      ring.release(i);
      ring.release(i);
    }
    expect(addrs).toEqual([...Array.from({ length: 2000 }, (_, i) => 0x4000 + i * 64), 1]);
    expect(lines).toBe(2000 + 2 * 40 + 1);
    ring.close();
  });
});
