import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { BLOCK_SIZE, BlockDevice, type BlockDeviceSpec, type BlockTicket } from './block_device.js';
import { BLOCK_DEVICE_PRESET_NAMES, blockDevicePreset, presetSpec } from './block_device_presets.js';

// At 1 GHz a cycle is a nanosecond; at 4096 MB/s a 4 KiB block transfers in exactly 1 µs.
const GHZ = 1e9;
const base: BlockDeviceSpec = {
  name: 'test',
  blocks: 1024,
  readLatencyUs: 10,
  writeLatencyUs: 2,
  readMBps: 4096,
  writeMBps: 2048,
  queueDepth: 1,
};

function device(over: Partial<BlockDeviceSpec> = {}, clock = GHZ): BlockDevice {
  const d = BlockDevice.create({ ...base, ...over }, clock);
  if (!d.ok) throw new Error(d.message);
  return d.value;
}

function submit(
  d: BlockDevice,
  now: number,
  op: 'read' | 'write',
  block: number,
  count = 1,
  fill = 0,
): BlockTicket {
  const r = d.submit(now, {
    op,
    block,
    count,
    ...(op === 'write' ? { data: new Uint8Array(count * BLOCK_SIZE).fill(fill) } : {}),
  });
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const ends = (ts: readonly BlockTicket[]) => ts.map((t) => t.completeAt);

describe('BlockDevice timing', () => {
  it('charges latency plus transfer for a lone request', () => {
    const d = device();
    expect(d.serviceCycles('read')).toBe(11_000);
    expect(d.serviceCycles('write')).toBe(4_000);
    expect(d.serviceCycles('read', 3)).toBe(13_000);
    expect(submit(d, 500, 'read', 7)).toMatchObject({ seq: 0, startAt: 500, completeAt: 11_500 });
  });

  it('queues FIFO beyond the depth', () => {
    const d = device();
    const ts = [submit(d, 0, 'read', 1), submit(d, 0, 'read', 9), submit(d, 100, 'write', 20)];
    expect(ts.map((t) => t.startAt)).toEqual([0, 11_000, 22_000]);
    expect(ends(ts)).toEqual([11_000, 22_000, 26_000]);
    expect(d.stats.queueWaitCycles).toBe(0 + 11_000 + 21_900);
  });

  it('is bandwidth bound when latency is hidden by parallelism', () => {
    const d = device({ readLatencyUs: 0, queueDepth: 4 });
    const ts = Array.from({ length: 8 }, (_, i) => submit(d, 0, 'read', i * 7));
    expect(ends(ts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((k) => k * 1000));
  });

  it('overlaps latencies up to the depth and serializes transfers', () => {
    const d = device({ queueDepth: 4 });
    const ts = Array.from({ length: 5 }, (_, i) => submit(d, 0, 'read', i * 5));
    // Four start at once, are ready at 10,000 and take the channel in turn; the fifth waits for a slot.
    expect(ends(ts)).toEqual([11_000, 12_000, 13_000, 14_000, 22_000]);
    expect(ts[4]!.startAt).toBe(11_000);
  });

  it('lets a later request use an earlier gap on the channel', () => {
    const d = device({ queueDepth: 2 });
    const r = submit(d, 0, 'read', 0); // ready at 10,000, transfers until 11,000
    const w = submit(d, 0, 'write', 5); // ready at 2,000, transfers 2 µs: done at 4,000
    expect([r.completeAt, w.completeAt]).toEqual([11_000, 4_000]);
  });

  it('streams sequential requests queued back to back (a disk head in place)', () => {
    const d = device({ sequentialLatencyUs: 0 });
    const seq = [0, 1, 2].map((b) => submit(d, 0, 'read', b));
    expect(ends(seq)).toEqual([11_000, 12_000, 13_000]);
    const jump = submit(d, 0, 'read', 100);
    expect(jump.completeAt).toBe(24_000);
    // Idle in between: the next block pays the full access time again.
    const late = submit(d, 50_000, 'read', 101);
    expect(late.completeAt).toBe(61_000);
  });

  it('schedules greedily: FIFO starts, depth respected, transfers disjoint, no idle gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.record({
            dt: fc.nat(30_000),
            write: fc.boolean(),
            block: fc.nat(1000),
            count: fc.integer({ min: 1, max: 4 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (depth, reqs) => {
          const d = device({ queueDepth: depth, blocks: 1100 });
          let now = 0;
          const ts: BlockTicket[] = [];
          for (const r of reqs) {
            now += r.dt;
            ts.push(submit(d, now, r.write ? 'write' : 'read', r.block, r.count));
          }
          const latency = (t: BlockTicket) => (t.op === 'read' ? 10_000 : 2_000);
          const xfer = (t: BlockTicket) => d.transferCycles(t.op, t.count);
          const completions = new Set(ts.map((t) => t.completeAt));
          for (let i = 0; i < ts.length; i++) {
            const t = ts[i]!;
            if (i > 0) expect(t.startAt).toBeGreaterThanOrEqual(ts[i - 1]!.startAt);
            // Starts when submitted or when a slot frees; at most `depth` in service at its start.
            expect(t.startAt === t.submittedAt || completions.has(t.startAt)).toBe(true);
            expect(
              ts.filter((u) => u.startAt <= t.startAt && u.completeAt > t.startAt).length,
            ).toBeLessThanOrEqual(depth);
            // Transfers when ready or when the channel frees.
            const xs = t.completeAt - xfer(t);
            expect(xs).toBeGreaterThanOrEqual(t.startAt + latency(t));
            expect(xs === t.startAt + latency(t) || completions.has(xs)).toBe(true);
          }
          const spans = ts
            .map((t) => [t.completeAt - xfer(t), t.completeAt] as const)
            .sort((a, b) => a[0] - b[0]);
          for (let i = 1; i < spans.length; i++)
            expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
        },
      ),
    );
  });
});

describe('BlockDevice presets reproduce their datasheets', () => {
  const at3GHz = (name: string, blocks = 1 << 20) => {
    const p = blockDevicePreset(name);
    if (!p.ok) throw new Error(p.message);
    return device(presetSpec(p.value, blocks), 3e9);
  };

  it('QD1: one 4 KiB request takes 1/IOPS of the rating', () => {
    const cases: [string, 'read' | 'write', number][] = [
      ['nvme', 'read', 19_000],
      ['nvme', 'write', 60_000],
      ['sata-ssd', 'read', 10_000],
      ['sata-ssd', 'write', 40_000],
    ];
    for (const [name, op, iops] of cases)
      expect(Math.abs(at3GHz(name).serviceCycles(op) - 3e9 / iops)).toBeLessThanOrEqual(1);
    // HDD: 7.4 ms seek + 4.16 ms rotation + 4096 B at 193 MB/s = 11,581.2 µs.
    expect(at3GHz('hdd').serviceCycles('read')).toBe(34_680_000 + 63_669);
  });

  function iopsAtDepth(name: string, n: number): number {
    const d = at3GHz(name);
    let last = 0;
    for (let i = 0; i < n; i++) last = submit(d, 0, 'read', (i * 7919) % (1 << 20)).completeAt;
    return n / (last / 3e9);
  }

  it('QD32: NVMe reads within 2 % of the rated 600,000 IOPS; SATA bound by 540 MB/s', () => {
    expect(Math.abs(iopsAtDepth('nvme', 3200) / 600_000 - 1)).toBeLessThan(0.02);
    expect(Math.abs(iopsAtDepth('sata-ssd', 3200) / (540e6 / 4096) - 1)).toBeLessThan(0.005);
    expect(BLOCK_DEVICE_PRESET_NAMES).toEqual(['hdd', 'sata-ssd', 'nvme']);
    const bad = blockDevicePreset('floppy');
    expect(bad.ok || bad.code).toBe('UNKNOWN_DEVICE');
  });
});

describe('BlockDevice contents and faults', () => {
  it('round-trips block contents, sparse, with unwritten blocks reading as zeros', () => {
    const d = device({ queueDepth: 2 });
    const data = new Uint8Array(2 * BLOCK_SIZE).map((_, i) => (i * 31 + 7) & 0xff);
    const w = d.submit(0, { op: 'write', block: 10, count: 2, data });
    expect(w.ok).toBe(true);
    data.fill(0); // the device copied the buffer
    expect(d.poll(d.nextCompletionAt())).toMatchObject([{ status: 'ok', op: 'write' }]);
    const r = submit(d, 10_000, 'read', 9, 3);
    const [c] = d.poll(r.completeAt);
    const expected = new Uint8Array(3 * BLOCK_SIZE);
    for (let i = 0; i < 2 * BLOCK_SIZE; i++) expected[BLOCK_SIZE + i] = (i * 31 + 7) & 0xff;
    expect(c!.data).toEqual(expected);
    expect(d.blocksStored).toBe(2);
    submit(d, r.completeAt, 'write', 10, 1, 0);
    d.poll(Number.MAX_SAFE_INTEGER);
    expect(d.blocksStored).toBe(1);
    expect(d.peek(11)[0]).toBe((BLOCK_SIZE * 31 + 7) & 0xff);
  });

  it('writes zeros without a buffer when asked to (zeros: true), clearing what was there', () => {
    const d = device();
    submit(d, 0, 'write', 4, 1, 0x55);
    expect(d.submit(0, { op: 'write', block: 4, zeros: true }).ok).toBe(true);
    expect(d.submit(0, { op: 'write', block: 4 }).ok).toBe(false);
    d.poll(Number.MAX_SAFE_INTEGER);
    expect(d.blocksStored).toBe(0);
    expect(d.peek(4).every((b) => b === 0)).toBe(true);
  });

  it('applies data at completion: a read finishing before an overlapping write sees the old bytes', () => {
    const d = device({ queueDepth: 2, writeLatencyUs: 50 });
    const w = submit(d, 0, 'write', 3, 1, 0xaa);
    const r = submit(d, 0, 'read', 3);
    expect(r.completeAt).toBeLessThan(w.completeAt);
    const [first, second] = d.poll(w.completeAt);
    expect(first!.seq).toBe(r.seq);
    expect(first!.data![0]).toBe(0);
    expect(second!.seq).toBe(w.seq);
    const again = submit(d, w.completeAt, 'read', 3);
    expect(d.poll(again.completeAt)[0]!.data![0]).toBe(0xaa);
  });

  it('fails an injected request or a bad block with IO_ERROR and no effect', () => {
    const d = device();
    d.injectIoError(1);
    submit(d, 0, 'write', 5, 1, 1);
    submit(d, 0, 'write', 5, 1, 2);
    d.failBlock(8);
    submit(d, 0, 'read', 7, 2);
    const out = d.poll(Number.MAX_SAFE_INTEGER);
    expect(out.map((c) => c.status)).toEqual(['ok', 'IO_ERROR', 'IO_ERROR']);
    expect(out[2]!.data).toBeUndefined();
    expect(d.peek(5)[0]).toBe(1);
    expect(d.stats).toMatchObject({ requests: 3, writes: 1, reads: 0, ioErrors: 2 });
  });

  it('never completes anything after death; earlier completions still arrive', () => {
    const d = device({ queueDepth: 1 });
    const a = submit(d, 0, 'read', 1);
    const b = submit(d, 0, 'read', 2);
    d.kill(a.completeAt + 1);
    expect(d.dead).toBe(true);
    const c = submit(d, a.completeAt + 2, 'read', 3);
    expect(c.completeAt).toBe(Number.POSITIVE_INFINITY);
    expect(d.nextCompletionAt()).toBe(a.completeAt);
    expect(d.poll(b.completeAt + 1_000_000).map((x) => x.seq)).toEqual([0]);
    expect(d.nextCompletionAt()).toBe(Number.POSITIVE_INFINITY);
    expect(d.inFlight).toBe(2);
  });

  it('refuses malformed requests and specs, changing nothing', () => {
    const d = device();
    const bad = [
      d.submit(0, { op: 'read', block: 1024 }),
      d.submit(0, { op: 'read', block: 1020, count: 5 }),
      d.submit(0, { op: 'read', block: 0, count: 0 }),
      d.submit(0, { op: 'write', block: 0, data: new Uint8Array(100) }),
      d.submit(0, { op: 'write', block: 0 }),
    ];
    for (const r of bad) expect(r.ok || r.code).toBe('INVALID_REQUEST');
    expect(d.stats.requests).toBe(0);
    expect(submit(d, 0, 'read', 0).seq).toBe(0);
    for (const over of [{ blocks: 0 }, { queueDepth: 0 }, { readMBps: 0 }, { writeLatencyUs: -1 }]) {
      const r = BlockDevice.create({ ...base, ...over }, GHZ);
      expect(r.ok || r.code).toBe('INVALID_DEVICE');
    }
    expect(BlockDevice.create(base, 0).ok).toBe(false);
  });

  it('treats time going backwards as a broken invariant', () => {
    const d = device();
    submit(d, 100, 'read', 0);
    expect(() => d.poll(50)).toThrow(InvariantError);
  });
});
