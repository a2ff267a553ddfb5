/**
 * Where a paged memory's pages (`paged_memory.ts`) come from and go to: decoding a page's
 * not-present entry into the source of a page-in, and planning the writes an eviction needs
 * (dirty file pages to their file, dirty anonymous pages to the swap block they kept or a new
 * one, all or none). Kept apart so that `paged_memory.ts` holds the residency state machine;
 * these only read the paged memory's options and frame table (and allocate swap blocks).
 */
import { decodePte } from '../hw/pte.js';
import { hex } from '../util/hex.js';
import { invariant, ok, type Result, unwrap } from '../util/result.js';
import { type FrameTable, NONE } from './frame_table.js';
import type { PagedMemoryOptions, PageSource, PageWrite } from './paged_memory_types.js';

/** What these need of a paged memory (a `PagedMemory` is one). */
export interface PagedMemoryLayout {
  readonly options: PagedMemoryOptions;
  readonly frames: FrameTable;
  readonly pageSize: number;
  readonly unitPages: number;
  readonly unitBytes: number;
}

/** Decodes the not-present entry `e` of the page at `va` (undefined: none) into where its data is. */
export function pageSource(mem: PagedMemoryLayout, e: bigint | undefined, va: number): PageSource {
  if (e === undefined) return { kind: 'zero' };
  const m = unwrap(decodePte(mem.options.pte, e));
  if (m.kind === 'swap') {
    const slot = mem.options.swap.locate(Number(m.block));
    invariant(
      slot !== undefined,
      () => `the PTE of ${hex(va)} names swap block ${m.block}, which is not allocated`,
    );
    return { kind: 'swap', slot };
  }
  if (m.kind === 'mmap') {
    const range = mem.options.mmaps.get(Number(m.index));
    invariant(range !== undefined, () => `the PTE of ${hex(va)} names range ${m.index}, which is not mapped`);
    return { kind: 'file', range, offset: range.offset + (va - (va % mem.pageSize) - range.start) };
  }
  return { kind: 'zero' };
}

/** The writes the victim `unit` in `frame` needs; allocates swap blocks (all or none). */
export function planWrites(
  mem: PagedMemoryLayout,
  unit: number,
  frame: number,
): Result<{ writes: PageWrite[]; allocated: number[] }, 'SWAP_FULL'> {
  const writes: PageWrite[] = [];
  const allocated: number[] = [];
  const base = unit * mem.unitBytes;
  for (let i = 0; i < mem.unitPages; i++) {
    const k = frame * mem.unitPages + i;
    if (mem.frames.dirty[k] !== 1) continue;
    const va = base + i * mem.pageSize;
    const range = mem.options.mmaps.find(va);
    if (range) {
      writes.push({
        va,
        page: i,
        target: { kind: 'file', range, offset: range.offset + (va - range.start) },
      });
      continue;
    }
    const known = mem.frames.block[k]!;
    let slot = known === NONE ? undefined : mem.options.swap.locate(known);
    if (!slot) {
      const a = mem.options.swap.allocate();
      if (!a.ok) {
        for (const g of allocated) mem.options.swap.free(g);
        return a;
      }
      slot = a.value;
      allocated.push(slot.global);
    }
    writes.push({ va, page: i, target: { kind: 'swap', slot } });
  }
  return ok({ writes, allocated });
}
