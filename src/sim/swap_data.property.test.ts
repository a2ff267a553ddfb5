/**
 * Invariant 9 (DESIGN.md §5) on the machine, against a flat reference memory: every byte read
 * equals the last byte written, through evictions, swap-outs and swap-ins on two providers, and
 * through a memory-mapped file (read in, written back on eviction, msync and munmap); memory
 * never written reads as zero. The file's contents and the memory's agree after msync.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplacementName } from '../kernel/replacement.js';
import { unwrap } from '../util/result.js';
import { PagedDriver } from './swap.testutil.js';
import { mmap, msync, munmap } from './swap_files.js';

const P = 4096;
const ANON = 0x100000;
const FILE_VA = 0x200000;
const ANON_PAGES = 10;
const FILE_PAGES = 4;
const OFFSETS = [0, 1, 7, 4095];

type Op =
  | { op: 'write'; file: boolean; page: number; at: number; value: number }
  | { op: 'read'; file: boolean; page: number; at: number }
  | { op: 'msync' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      file: fc.boolean(),
      page: fc.nat(ANON_PAGES - 1),
      at: fc.constantFrom(...OFFSETS),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      file: fc.boolean(),
      page: fc.nat(ANON_PAGES - 1),
      at: fc.constantFrom(...OFFSETS),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'msync' as const }) },
);

const CASES: ReadonlyArray<readonly [string, number]> = [
  ['kernel-swap', P],
  ['kernel-swap-map', P],
  ['4k-only', P],
  ['genode-swap-map', 2 * P],
];

function check(design: string, chunk: number, replacement: ReplacementName, ops: readonly Op[]): void {
  const d = new PagedDriver(
    design,
    {
      ram: 3 * chunk,
      replacement,
      policy: 'round-robin',
      providers: [
        { device: 'nvme', blocks: 64 },
        { device: 'sata-ssd', blocks: 64 },
      ],
    },
    { chunk, cpus: 2 },
  );
  const sys = d.swap;
  const fileBytes = new Uint8Array(FILE_PAGES * P);
  for (let i = 0; i < fileBytes.length; i += 97) fileBytes[i] = (i / 97) % 251 || 1;
  const h = unwrap(sys.files.create('/data', fileBytes.length));
  unwrap(sys.files.write(h, 0, fileBytes));
  let range = unwrap(mmap(sys, { start: FILE_VA, size: FILE_PAGES * P, file: h, offset: 0, writable: true }));
  const anon = new Map<number, number>();
  const vaOf = (o: { file: boolean; page: number; at: number }) =>
    o.file ? FILE_VA + (o.page % FILE_PAGES) * P + o.at : ANON + o.page * P + o.at;
  const want = (va: number) => (va >= FILE_VA ? fileBytes[va - FILE_VA]! : (anon.get(va) ?? 0));
  for (const o of ops) {
    if (o.op === 'msync') {
      d.await(msync(sys, range.index, 0));
      continue;
    }
    const va = vaOf(o);
    if (o.op === 'write') {
      expect(d.write(va, o.value)).toBe(true);
      if (o.file) fileBytes[va - FILE_VA] = o.value;
      else anon.set(va, o.value);
    } else expect(d.read(va), `read of 0x${va.toString(16)}`).toBe(want(va));
  }
  // Everything once more, then the file agrees with memory after msync, and after munmap and a new mmap.
  for (let p = 0; p < ANON_PAGES; p++)
    for (const at of OFFSETS) expect(d.read(ANON + p * P + at)).toBe(want(ANON + p * P + at));
  const sync = msync(sys, range.index, 0);
  d.await(sync);
  expect(sync.failed).toBe(0);
  expect(unwrap(sys.files.read(h, 0, fileBytes.length))).toEqual(fileBytes);
  unwrap(munmap(sys, range.index, 0));
  range = unwrap(mmap(sys, { start: FILE_VA, size: FILE_PAGES * P, file: h, offset: 0, writable: true }));
  for (let p = 0; p < FILE_PAGES; p++)
    for (const at of OFFSETS) expect(d.read(FILE_VA + p * P + at)).toBe(fileBytes[p * P + at]);
  expect(d.thread.fatal).toBeNull();
}

describe('invariant 9: swapped and file-backed pages keep their contents', () => {
  for (const [design, chunk] of CASES) {
    it(`${design} (unit ${chunk / 1024}K) against a flat memory`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom<ReplacementName>('clock', 'lru', 'fifo'),
          fc.array(opArb, { maxLength: 60 }),
          (repl, ops) => check(design, chunk, repl, ops),
        ),
        { numRuns: 15 },
      );
    });
  }

  it('two threads faulting at once on shared pages lose nothing (kernel-swap, 4k-only)', () => {
    const step = fc.record({
      a: fc.nat(7),
      b: fc.nat(7),
      va: fc.option(fc.integer({ min: 1, max: 255 }), { nil: null }),
      vb: fc.option(fc.integer({ min: 1, max: 255 }), { nil: null }),
    });
    for (const design of ['kernel-swap', '4k-only']) {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
          const d = new PagedDriver(design, { ram: 3 * P, policy: 'round-robin' }, { chunk: P, cpus: 2 }, 2);
          for (const s of steps) d.together([ANON + s.a * P + 5, ANON + s.b * P + 5], [s.va, s.vb]);
          // In the order the accesses happened, each read sees the last byte written there.
          const ref = new Map<number, number>();
          for (const e of d.log) {
            expect(e.got).toBe(ref.get(e.va) ?? 0);
            if (e.value !== null) ref.set(e.va, e.value);
          }
          expect(d.log).toHaveLength(2 * steps.length);
          expect(d.sys.threads.map((t) => t.fatal)).toEqual([null, null]);
        }),
        { numRuns: 15 },
      );
    }
  });

  it('spreads swapped pages over both providers (round robin) and reads them back', () => {
    const ops: Op[] = [];
    for (let p = 0; p < ANON_PAGES; p++) ops.push({ op: 'write', file: false, page: p, at: 1, value: p + 1 });
    for (let p = 0; p < ANON_PAGES; p++) ops.push({ op: 'read', file: false, page: p, at: 1 });
    const d = new PagedDriver('kernel-swap', {
      ram: 3 * P,
      policy: 'round-robin',
      providers: [
        { device: 'nvme', blocks: 64 },
        { device: 'hdd', blocks: 64 },
      ],
    });
    for (const o of ops) {
      if (o.op === 'write') d.write(ANON + o.page * P + o.at, o.value);
      else if (o.op === 'read') expect(d.read(ANON + o.page * P + o.at)).toBe(o.page + 1);
    }
    const r = d.swap.result();
    expect(r.providers.map((p) => p.outs > 0 && p.ins > 0)).toEqual([true, true]);
  });
});
