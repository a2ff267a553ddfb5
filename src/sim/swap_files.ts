/**
 * Memory-mapped files of a paged address space (issue 16, seed 003): `mmap` of a range of a file
 * of the file server, `msync` (dirty pages written back, then clean), `munmap` (written back,
 * then unmapped). Every page's not-present PTE holds the range's index until the page is read in.
 *
 * msync and munmap are system calls of the program: the kernel sends the write-backs from the
 * caller's CPU and the call completes when every reply is in (`done` of the returned wait).
 */
import type { IoWait } from '../components/program.js';
import type { MmapRange } from '../kernel/mmap_ranges.js';
import { err, ok, type Result } from '../util/result.js';
import type { PageTransfer, SwapSystem } from './swap_system.js';

/** What `mmap` is asked for. */
export interface MmapRequest {
  /** First virtual address (aligned to the paging unit) and size in bytes. */
  readonly start: number;
  readonly size: number;
  /** A file of the file server (`SwapSystem.files`) and the offset of `start` in it. */
  readonly file: number;
  readonly offset: number;
  readonly writable: boolean;
}

/** A write-back in progress: done when every page's reply came; `failed` counts the pages that did not make it. */
export interface SyncWait extends IoWait {
  pages: number;
  failed: number;
}

/** Maps a file range into the paged address space. */
export function mmap(sys: SwapSystem, r: MmapRequest): Result<MmapRange, string> {
  const port = sys.fileServerTask().port;
  const m = sys.mem.mmap({ ...r, provider: port });
  return m.ok ? ok(m.value) : err(m.code, m.message);
}

/** Writes the range's dirty pages back from `cpu`; each is clean (and write-protected: TLB flushed) first. */
export function msync(sys: SwapSystem, index: number, cpu: number): SyncWait {
  const wait: SyncWait = { done: false, waiter: null, pages: 0, failed: 0 };
  const writes = sys.mem.dirtyPages(index);
  const phys = sys.parts.machine.core.phys;
  let left = writes.length;
  const finish = () => {
    wait.done = true;
    wait.waiter?.();
  };
  if (left === 0) finish();
  for (const w of writes) {
    const pa = sys.physOf(w.va);
    const data = phys.readBytes(pa, sys.mem.pageSize);
    sys.mem.cleaned(w.va);
    sys.flushTlb(cpu, w.va - (w.va % sys.mem.pageSize), sys.mem.pageSize);
    wait.pages++;
    sys.transfer('write', cpu, w.target, data, 0, (t: PageTransfer) => {
      // A failed write-back leaves the page dirty, to be written again.
      if (t.status !== 'ok') {
        wait.failed++;
        sys.mem.written(w.va);
      }
      if (--left === 0) finish();
    });
  }
  return wait;
}

/**
 * Unmaps a range: its dirty pages must have been written back (msync); resident units leave (the
 * kernel's mappings, or the manager's attachments, go with their TLB entries), and the index is
 * free. BUSY while a unit of it moves.
 */
export function munmap(sys: SwapSystem, index: number, cpu: number): Result<MmapRange, string> {
  const r = sys.mem.munmap(index);
  if (!r.ok) return err(r.code, r.message);
  const unitBytes = sys.mem.unitBytes;
  for (const { unit } of r.value.frames) {
    const va = unit * unitBytes;
    if (sys.pager === 'manager') sys.parts.memory.detach(va);
    else {
      sys.parts.app.pd.pageTable.unmap(va, unitBytes);
      sys.flushTlb(cpu, va, unitBytes);
    }
  }
  return ok(r.value.range);
}
