/**
 * The per-access path of the machine: translate each trace record through the CPU's TLBs, walk
 * the page table on a miss, and stop at a page fault. This is the replay's hot loop; everything
 * around it (scheduling, the fault path) runs per slice or per fault.
 *
 * A fault ends the slice: the thread records what faulted (`faultVa`, `faultKind`) and the slice's
 * cycles include the walk that found nothing; the kernel takes the fault when those cycles have
 * passed (the executor ends the step), so an interrupt that preempts the slice delays the fault too.
 */
import type { AccessType } from '../core/events.js';
import type { PageSink } from '../hw/tlb.js';
import type { Thread } from '../kernel/thread.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import type { SimThread } from './sim_thread.js';
import { INSTR, LOAD } from './trace_batch.js';

/** Anything that translates addresses on a CPU: a traced thread, a driver touching its rings. */
export interface Translator {
  readonly kernel: Thread;
  translations: number;
  tlbHits: number;
  tlbMisses: number;
  walks: number;
  /** The current translation already faulted: its retry is not counted again. */
  retry: boolean;
  /** What the last translation faulted on (valid after a translation returned -1). */
  faultVa: number;
  faultKind: AccessType;
  /** Slow-path attribution: a counted translation of `va` missed the TLB; `va` faulted. */
  noteMiss(va: number): void;
  noteFault(va: number): void;
}

/**
 * What a paged address space needs from the access path (issue 16, `sim/swap_system.ts`): the
 * bits hardware sets. The accessed bit is set on a page walk only, as hardware sets it: a
 * translation that hits in the TLB sets nothing, so whoever clears the bit must flush the page's
 * TLB entries for a later access to set it again. Dirty bits come from the TLB's write sink (on
 * the slow steps of hit runs) and from the slow path, never from the hit loop itself.
 */
export interface PagingHooks extends PageSink {
  /** The address space the hooks belong to. */
  readonly asid: number;
  /** Exact LRU: every access is reported (`touch`), so hit runs are not used. */
  readonly everyAccess: boolean;
  /** A walk found a mapping for `va` (write: for a write access). */
  walked(va: number, write: boolean): void;
  /** An access to `va` (only when `everyAccess`). */
  touch(va: number): void;
}

/** The translation path of one machine. */
export class AccessPath {
  /** Cycles of a page walk and TLB fill. */
  readonly walkCycles: number;
  private readonly page: number;
  /** Issue 16: the paged address space's hooks, or null (no paging: nothing is called). */
  paging: PagingHooks | null = null;

  constructor(
    private readonly costs: CostModel,
    walkLevels: number,
    page: number,
  ) {
    this.walkCycles = walkLevels * costs.pageWalkStep + costs.tlbFill;
    this.page = page;
  }

  /**
   * Runs thread t's records on cpu for up to `budget` cycles. Returns the cycles used; stops
   * early when the thread faults (`t.faulted` set, the walk included in the cycles), runs dry or
   * finishes.
   */
  slice(cpu: Cpu, t: SimThread, budget: number): number {
    const tlb = cpu.tlb;
    const asid = t.kernel.pd.asid;
    const page = this.page;
    const invPage = 1 / page;
    const access = this.costs.accessCycles;
    const pages = t.pages;
    let batch = t.batch;
    cpu.asids.add(asid);
    let used = 0;
    let pos = t.pos;
    let len = t.len;
    let records = 0;
    t.faulted = false;
    const paging = this.paging !== null && this.paging.asid === asid ? this.paging : null;
    const exact = paging?.everyAccess === true;
    while (used < budget) {
      if (pos >= len) {
        t.pos = pos;
        if (!t.refill()) break;
        batch = t.batch;
        pos = t.pos;
        len = t.len;
      }
      // Fast path: a run of TLB hits, each costing the access itself (plus an STLB hit when a
      // level after the first served it).
      if (!t.secondHalf && !t.retry && !exact) {
        const stop = tlb.hitRun(
          asid,
          batch.kind,
          batch.addr,
          batch.size,
          pos,
          len,
          page,
          pages,
          access,
          this.costs.stlbHit,
          budget - used,
          paging,
        );
        const n = stop - pos;
        if (n > 0) {
          t.translations += n;
          t.tlbHits += n;
          records += n;
          used += tlb.runCycles;
          pos = stop;
          continue;
        }
      }
      // Slow path: one record through the full lookup, a walk or the fault path.
      const k = batch.kind[pos]!;
      const va = batch.addr[pos]!;
      // Offset in the page by multiply and floor: % on doubles is an fmod call in V8.
      const off = va - Math.floor(va * invPage) * page;
      t.pos = pos;
      const kind: AccessType = k === INSTR ? 'exec' : k === LOAD ? 'read' : 'write';
      const tlbKind = k === INSTR ? 'instruction' : 'data';
      if (!t.secondHalf) {
        const c = this.translate(cpu, t, asid, va, kind, tlbKind);
        if (c < 0) {
          t.records += records;
          t.faulted = true;
          return used + this.walkCycles;
        }
        used += c;
        pages.add(va);
        if (paging !== null) {
          if (kind === 'write') paging.add(va);
          if (exact) paging.touch(va);
        }
      }
      if (off + batch.size[pos]! > page) {
        // The access crosses into the next page: a second translation.
        t.secondHalf = true;
        const va2 = va - off + page;
        const c = this.translate(cpu, t, asid, va2, kind, tlbKind);
        if (c < 0) {
          t.records += records;
          t.faulted = true;
          return used + this.walkCycles;
        }
        used += c;
        pages.add(va2);
        if (paging !== null) {
          if (kind === 'write') paging.add(va2);
          if (exact) paging.touch(va2);
        }
        t.secondHalf = false;
      }
      used += access;
      records++;
      pos++;
    }
    t.records += records;
    t.pos = pos;
    return used;
  }

  /**
   * One translation by `t` on `cpu`. Returns its extra cycles, or -1 when it missed in the page
   * table (or lacks a right): a page fault on `t.faultVa`, whose walk the caller charges.
   */
  translate(
    cpu: Cpu,
    t: Translator,
    asid: number,
    va: number,
    kind: AccessType,
    tlbKind: 'instruction' | 'data',
  ): number {
    const tlb = cpu.tlb;
    const counted = !t.retry;
    if (counted) t.translations++;
    const lvl = tlb.lookup(asid, va, tlbKind);
    if (lvl >= 0 && (kind !== 'write' || tlb.lastWriteable) && (kind !== 'exec' || tlb.lastExecutable)) {
      if (counted) t.tlbHits++;
      t.retry = false;
      // A hit in the first stage of the path (the L1 arrays) is part of the access; deeper ones cost an STLB hit.
      return tlb.inFirstStage(tlbKind, lvl) ? 0 : this.costs.stlbHit;
    }
    if (counted) {
      t.tlbMisses++;
      t.noteMiss(va);
    }
    t.walks++;
    const m = t.kernel.pd.pageTable.lookup(va);
    if (m && (kind !== 'write' || m.writeable) && (kind !== 'exec' || m.executable)) {
      if (this.paging !== null && this.paging.asid === asid) this.paging.walked(va, kind === 'write');
      tlb.fill(asid, va, tlbKind, m);
      t.retry = false;
      return this.walkCycles;
    }
    t.noteFault(va);
    t.faultVa = va;
    t.faultKind = kind;
    return -1;
  }
}
