import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, BlockDevice } from '../hw/block_device.js';
import { unwrap } from '../util/result.js';
import { FileServer, type ServerCompletion, SwapProvider } from './block_server.js';
import { FileProvider } from './file_provider.js';

const dev = (depth = 4) =>
  unwrap(
    BlockDevice.create(
      {
        name: 'd',
        blocks: 64,
        readLatencyUs: 10,
        writeLatencyUs: 50,
        readMBps: 4096,
        writeMBps: 4096,
        queueDepth: depth,
      },
      1e9,
    ),
  );
const page = (v: number) => new Uint8Array(BLOCK_SIZE).fill(v);
/** Everything that completes, polled at its completion time. */
const drain = (s: { poll(n: number): ServerCompletion[]; nextCompletionAt(): number }) => {
  const out: ServerCompletion[] = [];
  for (let t = s.nextCompletionAt(); Number.isFinite(t); t = s.nextCompletionAt()) out.push(...s.poll(t));
  return out;
};

describe('SwapProvider', () => {
  it('stores pages in blocks and reads them back; zeros come back as null', () => {
    const s = new SwapProvider('swap0', dev());
    unwrap(s.submit(0, { id: 1, op: 'write', target: { kind: 'swap', block: 3 }, data: page(7) }));
    unwrap(s.submit(0, { id: 2, op: 'write', target: { kind: 'swap', block: 4 }, data: null }));
    drain(s);
    unwrap(s.submit(100_000, { id: 3, op: 'read', target: { kind: 'swap', block: 3 }, data: null }));
    unwrap(s.submit(100_000, { id: 4, op: 'read', target: { kind: 'swap', block: 4 }, data: null }));
    const got = drain(s);
    expect(got.map((c) => [c.id, c.status, c.data?.[0] ?? null])).toEqual([
      [3, 'ok', 7],
      [4, 'ok', null],
    ]);
    expect(s.stats).toMatchObject({ reads: 2, writes: 2, bytesRead: 2 * BLOCK_SIZE, cacheHits: 0 });
  });

  it('answers a read of a block being written from its write-back cache, not with the old bytes', () => {
    const s = new SwapProvider('swap0', dev());
    unwrap(s.submit(0, { id: 1, op: 'write', target: { kind: 'swap', block: 9 }, data: page(1) }));
    drain(s);
    unwrap(s.submit(1e5, { id: 2, op: 'write', target: { kind: 'swap', block: 9 }, data: page(2) }));
    // The device would finish this read (10 µs) before the write (50 µs) and see 1.
    unwrap(s.submit(1e5, { id: 3, op: 'read', target: { kind: 'swap', block: 9 }, data: null }));
    const [first] = s.poll(1e5);
    expect([first!.id, first!.cached, first!.data?.[0]]).toEqual([3, true, 2]);
    drain(s);
    unwrap(s.submit(1e6, { id: 4, op: 'read', target: { kind: 'swap', block: 9 }, data: null }));
    expect(drain(s)[0]).toMatchObject({ id: 4, cached: false });
  });

  it('reports device errors and refuses blocks it does not have or file targets', () => {
    const d = dev();
    const s = new SwapProvider('swap0', d);
    d.failBlock(5);
    unwrap(s.submit(0, { id: 1, op: 'read', target: { kind: 'swap', block: 5 }, data: null }));
    expect(drain(s)[0]).toMatchObject({ id: 1, status: 'IO_ERROR' });
    expect(s.submit(0, { id: 2, op: 'read', target: { kind: 'swap', block: 64 }, data: null }).ok).toBe(
      false,
    );
    expect(
      s.submit(0, { id: 3, op: 'read', target: { kind: 'file', file: 1, offset: 0 }, data: null }).ok,
    ).toBe(false);
  });
});

describe('FileServer', () => {
  it('reads file pages and writes dirty pages back without growing the file', () => {
    const files = new FileProvider();
    const h = unwrap(files.create('/data', BLOCK_SIZE + 100));
    unwrap(files.write(h, BLOCK_SIZE, new Uint8Array([5, 6])));
    const s = new FileServer('vfs', dev(), files);
    unwrap(
      s.submit(0, { id: 1, op: 'read', target: { kind: 'file', file: h, offset: BLOCK_SIZE }, data: null }),
    );
    expect(drain(s)[0]!.data?.subarray(0, 3)).toEqual(new Uint8Array([5, 6, 0]));
    unwrap(
      s.submit(1e6, {
        id: 2,
        op: 'write',
        target: { kind: 'file', file: h, offset: BLOCK_SIZE },
        data: page(9),
      }),
    );
    drain(s);
    expect(unwrap(files.size(h))).toBe(BLOCK_SIZE + 100);
    expect(unwrap(files.read(h, BLOCK_SIZE + 99, 1))[0]).toBe(9);
    expect(
      s.submit(2e6, { id: 3, op: 'read', target: { kind: 'file', file: 99, offset: 0 }, data: null }).ok,
    ).toBe(false);
  });
});
