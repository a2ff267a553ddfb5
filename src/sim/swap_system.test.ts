import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TlbLevelSpec } from '../hw/arch.js';
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { buildTracedSystem, type RunResult, resetStatistics, summarize } from './replay.js';
import { type AccessSource, PushSource } from './sim_thread.js';
import type { PagingOptions } from './swap_options.js';
import { checkPaging } from './swap_options.js';
import { type AccessKind, INSTR, LOAD, STORE, TraceBatch } from './trace_batch.js';

const P = 4096;
const BASE = 0x400000;

/** Records from an array, in batches of up to the batch's capacity. */
class ArraySource implements AccessSource {
  private next = 0;
  constructor(private readonly records: readonly (readonly [AccessKind, number])[]) {}
  fill(batch: TraceBatch): number {
    batch.clear();
    while (this.next < this.records.length && !batch.full) {
      const [k, va] = this.records[this.next++]!;
      batch.push(k, va, 8);
    }
    return batch.length;
  }
}

/** A TLB much smaller than the working sets below, so walks (and accessed bits) keep happening. */
const SMALL_TLB: TlbLevelSpec[] = [
  { name: 'L1i', kind: 'instruction', entries: 4, ways: 4, pageSizesLog2: [12, 21] },
  { name: 'L1d', kind: 'data', entries: 8, ways: 2, pageSizesLog2: [12, 21] },
];

function run(
  design: string,
  records: readonly (readonly [AccessKind, number])[],
  paging?: PagingOptions,
  chunk = P,
): RunResult {
  const sys = buildTracedSystem([new ArraySource(records)], {
    design: unwrap(designOptions(design)),
    chunk,
    tlb: SMALL_TLB,
    ...(paging ? { paging } : {}),
  });
  sys.machine.run();
  return summarize(sys, design);
}

/** Naive exact LRU over the pages of a reference string: misses on pages written before, evictions of dirty pages. */
function naiveLru(pages: readonly { page: number; write: boolean }[], frames: number) {
  const lru: number[] = [];
  const written = new Set<number>();
  const dirty = new Set<number>();
  let ins = 0;
  let outs = 0;
  for (const { page, write } of pages) {
    const i = lru.indexOf(page);
    if (i >= 0) lru.splice(i, 1);
    else {
      if (written.has(page)) ins++;
      if (lru.length === frames) if (dirty.delete(lru.shift()!)) outs++;
    }
    lru.push(page);
    if (write) {
      written.add(page);
      dirty.add(page);
    }
  }
  return { ins, outs };
}

describe('paged memory on the machine', () => {
  it('with 4k-only, 4K chunks and exact LRU, swap-ins and swap-outs equal a naive LRU (and so does kernel-swap)', () => {
    const refs = fc.array(fc.record({ page: fc.nat(11), write: fc.boolean() }), {
      minLength: 1,
      maxLength: 250,
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), refs, (frames, list) => {
        const records = list.map(({ page, write }) => [write ? STORE : LOAD, BASE + page * P + 8] as const);
        const want = naiveLru(list, frames);
        for (const design of ['4k-only', 'kernel-swap']) {
          const r = run(design, records, { ram: frames * P, replacement: 'lru' });
          expect([design, r.swap!.ins, r.swap!.outs]).toEqual([design, want.ins, want.outs]);
          expect(r.stopped).toBeNull();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('without pressure (RAM at least the working set) the results equal those without a limit', () => {
    // A loop over 24 pages of data and 2 of code, written and read, with a TLB too small to hold them.
    const records: (readonly [AccessKind, number])[] = [];
    for (let i = 0; i < 4000; i++) {
      records.push([INSTR, 0x10000 + (i % 2) * P]);
      records.push([i % 3 === 0 ? STORE : LOAD, BASE + ((i * 7) % 24) * P + (i % 64) * 8]);
    }
    for (const [design, chunk] of [
      ['genode', 2 ** 21],
      ['4k-only', P],
      ['partitioned', 2 ** 16],
    ] as const) {
      const plain = run(design, records, undefined, chunk);
      for (const replacement of ['clock', 'lru', 'fifo'] as const) {
        const limited = run(design, records, { ram: 64 * 2 ** 20, replacement }, chunk);
        const { swap, faults, ...rest } = limited;
        const { major: _major, minor: _minor, latencyByKind: _byKind, ...faultsRest } = faults;
        expect({ ...rest, faults: faultsRest }).toEqual(plain);
        expect([swap!.ins, swap!.outs, swap!.evictions]).toEqual([0, 0, 0]);
      }
    }
  });

  it('a warm-up reset counts the swap figures afresh: before plus after equals a run without it', () => {
    const records: (readonly [AccessKind, number])[] = [];
    for (let i = 0; i < 600; i++) records.push([i % 2 ? STORE : LOAD, BASE + ((i * 5) % 23) * P]);
    const paging = { ram: 6 * P, providers: [{ device: 'sata-ssd' as const, blocks: 64 }] };
    const whole = run('kernel-swap', records, paging);
    const src = new PushSource();
    const sys = buildTracedSystem([src], {
      design: unwrap(designOptions('kernel-swap')),
      tlb: SMALL_TLB,
      paging,
    });
    const push = (part: typeof records) => {
      const b = new TraceBatch(part.length);
      for (const [k, va] of part) b.push(k, va, 8);
      src.push(b);
      sys.machine.kick(sys.threads[0]!);
      sys.machine.run();
    };
    push(records.slice(0, 300));
    const before = summarize(sys, 'kernel-swap').swap!;
    const mark = resetStatistics(sys);
    push(records.slice(300));
    const after = summarize(sys, 'kernel-swap', { from: mark }).swap!;
    expect(before.ins + after.ins).toBe(whole.swap!.ins);
    expect(before.outs + after.outs).toBe(whole.swap!.outs);
    expect(before.evictions + after.evictions).toBe(whole.swap!.evictions);
    expect(after.ins).toBeGreaterThan(0);
    expect(after.providers[0]!.ins).toBe(after.ins);
  });

  it('refuses a provider larger than the PTE can name, and a limit below one unit', () => {
    const big = checkPaging('x86_32', 'kernel', P, {
      ram: 2 ** 20,
      providers: [{ device: 'hdd', blocks: 2 ** 30 + 1 }],
    });
    expect(big.ok ? 'ok' : big.message).toBe(
      "swap provider 'swap0' has 1073741825 blocks, but the x86_32 not-present PTE (30-bit block numbers) names at most 1073741824",
    );
    expect(
      checkPaging('x86_32', 'kernel', P, { ram: 2 ** 20, providers: [{ device: 'hdd', blocks: 2 ** 30 }] })
        .ok,
    ).toBe(true);
    const small = checkPaging('x86_64', 'manager', 2 ** 21, { ram: 2 ** 20 });
    expect(small.ok ? 'ok' : small.code).toBe('INVALID_SWAP');
    expect(checkPaging('microblaze', 'kernel', P, { ram: 2 ** 20 }).ok).toBe(false);
  });
});
