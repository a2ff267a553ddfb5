import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePte, pteFormat, swapBudgetBlocks } from '../hw/pte.js';
import { unwrap } from '../util/result.js';
import { MmapRangeList } from './mmap_ranges.js';
import { NONE, PagedMemory } from './paged_memory.js';
import type { ReplacementName } from './replacement.js';
import { SwapRegistry } from './swap_registry.js';

const P = 4096;
const fmt = unwrap(pteFormat('x86_32'));

function memory(
  frames: number,
  opts: { replacement?: ReplacementName; swapBlocks?: number[]; unit?: number } = {},
) {
  const swap = new SwapRegistry({ budgetBlocks: swapBudgetBlocks(fmt), policy: 'round-robin' });
  (opts.swapBlocks ?? [64]).forEach((blocks, i) => {
    unwrap(swap.register({ name: `s${i}`, blocks, port: i }));
  });
  const mem = new PagedMemory({
    pageSize: P,
    unitPages: opts.unit ?? 1,
    frames,
    replacement: opts.replacement ?? 'lru',
    pte: fmt,
    swap,
    mmaps: new MmapRangeList(1000, P),
  });
  return { mem, swap };
}

/** Synchronous I/O: faults in `va` (evicting first when full), counting what moved. */
function access(mem: PagedMemory, va: number, write: boolean, n: { ins: number; outs: number }): void {
  if (mem.frameOf(mem.unitOf(va)) === NONE) {
    let f = mem.allocFrame();
    if (f === NONE) {
      const e = unwrap(mem.planEviction());
      n.outs += e.writes.length;
      f = mem.evictionDone(e);
    }
    const p = unwrap(mem.beginPageIn(va, f));
    n.ins += p.sources.filter((s) => s.kind === 'swap').length;
    mem.pageInDone(p);
  }
  mem.touch(va);
  mem.walked(va, write);
}

describe('PagedMemory', () => {
  it('writes only dirty pages, keeps a clean swapped-in page in its block, and zero-fills unwritten ones', () => {
    const { mem } = memory(1);
    const n = { ins: 0, outs: 0 };
    access(mem, 0x1000, true, n); // dirty
    access(mem, 0x2000, false, n); // evicts 0x1000: written out
    expect(n).toEqual({ ins: 0, outs: 1 });
    access(mem, 0x1000, false, n); // evicts 0x2000 (never written: dropped), reads 0x1000 back
    expect(n).toEqual({ ins: 1, outs: 1 });
    expect(mem.pteOf(0x2000)).toBe(0n);
    access(mem, 0x2000, false, n); // 0x1000 is clean: dropped, its PTE names its block again
    expect(n).toEqual({ ins: 1, outs: 1 });
    expect(unwrap(decodePte(fmt, mem.pteOf(0x1000)))).toEqual({ kind: 'swap', block: 0n });
    expect(mem.stats).toMatchObject({ evictions: 3, evictionsDirty: 1, zeroFills: 3, pageIns: 4 });
  });

  it('stores the block number in the not-present entry in the architecture format and reads it back', () => {
    const { mem } = memory(1, { swapBlocks: [3, 5] });
    const n = { ins: 0, outs: 0 };
    for (const va of [0x1000, 0x2000, 0x3000]) access(mem, va, true, n);
    access(mem, 0x9000, false, n);
    // Round robin over two providers: blocks 0 (s0), 3 (s1, base 3), 1 (s0).
    const blocks = [0x1000, 0x2000, 0x3000].map((va) => unwrap(decodePte(fmt, mem.pteOf(va))));
    expect(blocks).toEqual([
      { kind: 'swap', block: 0n },
      { kind: 'swap', block: 3n },
      { kind: 'swap', block: 1n },
    ]);
    // x86_32: flag in bit 1, block from bit 2 (hw/pte.ts).
    expect(mem.pteOf(0x2000)).toBe((3n << 2n) | 2n);
    const f = mem.evictionDone(unwrap(mem.planEviction()));
    const p = unwrap(mem.beginPageIn(0x2000, f));
    expect(p.sources[0]).toMatchObject({ kind: 'swap', slot: { global: 3, provider: 2, block: 0 } });
  });

  it('evicts a clean victim when swap is full, and refuses cleanly when every victim is dirty', () => {
    const { mem, swap } = memory(2, { swapBlocks: [1], replacement: 'fifo' });
    const n = { ins: 0, outs: 0 };
    access(mem, 0x1000, true, n);
    access(mem, 0x2000, true, n);
    access(mem, 0x3000, false, n); // 0x1000 takes the only block
    access(mem, 0x4000, false, n); // 0x2000 is dirty and finds no block: 0x3000 (clean) goes instead
    expect(mem.frameOf(mem.unitOf(0x2000))).not.toBe(NONE);
    expect(mem.frameOf(mem.unitOf(0x3000))).toBe(NONE);
    mem.walked(0x4000, true);
    const r = mem.planEviction();
    expect(r.ok ? 'evicted' : r.code).toBe('SWAP_FULL');
    expect(mem.resident).toBe(2);
    expect(swap.freeBlocks()).toBe(0);
  });

  it('puts a victim whose write failed back, dirty, and frees the blocks it took', () => {
    const { mem, swap } = memory(1);
    const n = { ins: 0, outs: 0 };
    access(mem, 0x1000, true, n);
    const e = unwrap(mem.planEviction());
    expect(swap.freeBlocks()).toBe(63);
    mem.evictionFailed(e);
    expect(swap.freeBlocks()).toBe(64);
    expect(mem.frameOf(mem.unitOf(0x1000))).toBe(e.frame);
    expect(mem.pteOf(0x1000)).toBe(0n);
    expect(unwrap(mem.planEviction()).writes).toHaveLength(1);
  });

  it('puts the range index into the entries of a mapped file and reads file pages back as file sources', () => {
    const { mem } = memory(1);
    const r = unwrap(
      mem.mmap({ start: 0x10000, size: 0x2000, provider: 9, file: 1, offset: 0x3000, writable: true }),
    );
    expect(unwrap(decodePte(fmt, mem.pteOf(0x11000)))).toEqual({ kind: 'mmap', index: BigInt(r.index) });
    const p = unwrap(mem.beginPageIn(0x11000, mem.allocFrame()));
    expect(p.sources[0]).toMatchObject({ kind: 'file', offset: 0x4000 });
    mem.pageInDone(p);
    mem.walked(0x11000, true);
    expect(mem.dirtyPages(r.index).map((w) => w.target)).toMatchObject([{ kind: 'file', offset: 0x4000 }]);
    const e = unwrap(mem.planEviction());
    expect(e.writes[0]!.target.kind).toBe('file');
    mem.releaseFrame(mem.evictionDone(e));
    expect(unwrap(decodePte(fmt, mem.pteOf(0x11000)))).toEqual({ kind: 'mmap', index: BigInt(r.index) });
    expect(
      mem.mmap({ start: 0x1000, size: 0x1000, provider: 9, file: 1, offset: 0, writable: true }).ok,
    ).toBe(true);
    access(mem, 0x20000, true, { ins: 0, outs: 0 });
    const busy = mem.mmap({ start: 0x20000, size: 0x1000, provider: 9, file: 1, offset: 0, writable: true });
    expect(busy.ok ? 'mapped' : busy.code).toBe('MMAP_BUSY');
  });

  it('with exact LRU, swap-ins and swap-outs equal a naive LRU on random reference strings', () => {
    const refs = fc.array(fc.record({ page: fc.integer({ min: 0, max: 11 }), write: fc.boolean() }), {
      maxLength: 200,
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), refs, (frames, list) => {
        const { mem } = memory(frames, { swapBlocks: [16] });
        const n = { ins: 0, outs: 0 };
        // Naive reference: most recent last; pages ever written; pages dirtied since read in.
        const lru: number[] = [];
        const written = new Set<number>();
        const dirty = new Set<number>();
        let ins = 0;
        let outs = 0;
        for (const { page, write } of list) {
          access(mem, page * P, write, n);
          const i = lru.indexOf(page);
          if (i >= 0) lru.splice(i, 1);
          else {
            if (written.has(page)) ins++;
            if (lru.length === frames) {
              const v = lru.shift()!;
              if (dirty.delete(v)) outs++;
            }
          }
          lru.push(page);
          if (write) {
            written.add(page);
            dirty.add(page);
          }
        }
        expect(n).toEqual({ ins, outs });
      }),
    );
  });

  it('replaces whole units: a chunk of pages goes out and comes back together', () => {
    const { mem } = memory(1, { unit: 4 });
    const n = { ins: 0, outs: 0 };
    access(mem, 0x4000, true, n);
    access(mem, 0x6000, true, n);
    access(mem, 0x5000, false, n);
    access(mem, 0x8000, false, n);
    expect(n.outs).toBe(2);
    const f = mem.evictionDone(unwrap(mem.planEviction()));
    const p = unwrap(mem.beginPageIn(0x5000, f));
    expect(p.sources.map((s) => s.kind)).toEqual(['swap', 'zero', 'swap', 'zero']);
  });
});
