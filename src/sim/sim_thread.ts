/**
 * A user thread as the simulator runs it: a kernel thread plus the stream of memory accesses it
 * performs (a trace or a generator), its position in that stream and its per-thread counters.
 */
import type { AccessType } from '../core/events.js';
import type { Thread } from '../kernel/thread.js';
import type { Attribution } from './attribution.js';
import type { Cpu } from './cpu.js';
import type { FaultingTask } from './machine_faults.js';
import { INSTR, LOAD, TraceBatch } from './trace_batch.js';
/**
 * The access a thread stopped at for good: a fault nobody could resolve killed it (`died`: the
 * null page, outside the user address space, ...), or it waits for a fault handler that failed
 * (`blocked`, e.g. RAM ran out).
 */
export interface ThreadStop {
  /** `lost`: blocked for ever because its fault was given up (a call to a manager failed). */
  readonly how: 'died' | 'blocked' | 'lost';
  /** 1-based position of the record in the thread's access stream (its trace). */
  readonly record: number;
  /** The faulting address (sign-extended, see `TraceBatch.addr`): the second page of a crossing access. */
  readonly va: number;
  readonly access: AccessType;
  /** Core's error text for the fault, or the failed handler's. */
  readonly error: string;
}

/** What runs a traced thread's steps (the machine). */
export interface WorkloadRunner {
  /** Starts a slice of t's records at `now`: its cycles, or -1 when t blocked or ended instead. */
  sliceBegin(t: SimThread, cpu: Cpu, now: number): number;
  /** The slice's cycles passed: take its fault, or finish, or go on. */
  sliceEnd(t: SimThread, cpu: Cpu, now: number): void;
}

/** Where a thread's accesses come from. */
export interface AccessSource {
  /**
   * Fills `batch` with the next records and returns how many: 0 when the source is exhausted,
   * -1 when it is starved (a pushed trace whose next chunk has not arrived yet).
   */
  fill(batch: TraceBatch): number;
  /** Sources that already hold their records in a batch lend it instead of copying (see PushSource). */
  take?(): TraceBatch | null;
}

/** A source fed from outside, batch by batch (streamed traces); pushed batches are lent, not copied. */
export class PushSource implements AccessSource {
  private pending: TraceBatch | null = null;
  private ended = false;

  /** Hands over a batch; the thread consumes it before the caller may reuse it. */
  push(b: TraceBatch): void {
    this.pending = b;
  }

  /** No more batches will come. */
  end(): void {
    this.ended = true;
  }

  /** True while a pushed batch has not been consumed. */
  get hasPending(): boolean {
    return this.pending !== null;
  }

  /** The pushed batch itself, or null (then `fill` says whether the source is starved or done). */
  take(): TraceBatch | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }

  fill(_batch: TraceBatch): number {
    return this.ended ? 0 : -1;
  }
}

/** Bitmaps cached in front of {@link PageSet}'s map (a power of two). */
const PAGESET_CACHE = 8;

/**
 * Distinct smallest pages touched, as bitmaps of 512 pages per key. Consecutive accesses mostly
 * stay in one bitmap; the few bitmaps in use at once (code, heap, stack) sit in a small
 * direct-mapped cache in front of the map, so alternating between them costs no map lookup.
 */
export class PageSet {
  private readonly maps = new Map<number, Uint32Array>();
  private readonly cacheKey = new Float64Array(PAGESET_CACHE).fill(-1);
  private readonly cacheMap: Uint32Array[] = Array.from({ length: PAGESET_CACHE }, () => new Uint32Array(16));
  private lastPage = -1;
  /** 1 / page size: exact for a power of two, and a multiply is far cheaper than a division. */
  private readonly inv: number;

  constructor(pageSize: number) {
    this.inv = 1 / pageSize;
  }

  add(va: number): void {
    const page = Math.floor(va * this.inv);
    if (page === this.lastPage) return;
    this.lastPage = page;
    const key = Math.floor(page * (1 / 512));
    const slot = key & (PAGESET_CACHE - 1);
    let m: Uint32Array;
    if (this.cacheKey[slot] === key) m = this.cacheMap[slot]!;
    else {
      let found = this.maps.get(key);
      if (!found) {
        found = new Uint32Array(16);
        this.maps.set(key, found);
      }
      m = found;
      this.cacheKey[slot] = key;
      this.cacheMap[slot] = m;
    }
    const bit = page - key * 512;
    m[bit >>> 5]! |= 1 << (bit & 31);
  }

  /** Number of distinct pages added. */
  get size(): number {
    let n = 0;
    for (const m of this.maps.values()) {
      for (let i = 0; i < 16; i++) {
        let v = m[i]!;
        while (v) {
          v &= v - 1;
          n++;
        }
      }
    }
    return n;
  }
}

/** A simulated user thread: replays its records in slices on its CPU (see `access_path.ts`). */
export class SimThread implements FaultingTask {
  readonly category = 'user';
  index = -1;
  left = -1;
  /** The records being replayed: the thread's own buffer, or a batch lent by the source. */
  batch: TraceBatch;
  private readonly own: TraceBatch;
  /** Next record in `batch` and how many it holds. */
  pos = 0;
  len = 0;
  /** The first page of a page-crossing access is done; its second page is next. */
  secondHalf = false;
  /** The current translation already faulted: its retry is not counted again. */
  retry = false;
  /** Time the current fault began (for latency). */
  faultStart = 0;
  reflected = false;
  /** The last slice ended in a page fault on `faultVa` (`faultKind` access). */
  faulted = false;
  faultVa = 0;
  faultKind: AccessType = 'read';
  /** The source is exhausted. */
  done = false;
  /** Simulated time the last record completed (once done). */
  finishedAt = -1;
  /** The source has nothing now but may later. */
  starved = false;
  /**
   * Cycles left of the slice in which the source ran dry (0: none). The trace's batches are how it
   * is read, not how the program ran: the next step goes on with the same slice, so steps (and the
   * timeline's pieces) do not depend on where batches end.
   */
  sliceLeft = 0;
  /** The last step ended only because the source ran dry: the next one continues it. */
  get continues(): boolean {
    // sliceLeft is set only by a step that ran dry without a fault.
    return this.starved && this.sliceLeft > 0;
  }
  /** Set when the thread stopped for good (see {@link ThreadStop}): it runs no more records. */
  fatal: ThreadStop | null = null;
  /** Records of the source in the batches before `batch` (positions in the stream, for {@link ThreadStop}). */
  private before = 0;
  private readonly pageSize: number;

  // Counters, published to the metrics registry at the end of a run.
  records = 0;
  translations = 0;
  tlbHits = 0;
  tlbMisses = 0;
  walks = 0;
  faults = 0;
  /** Distinct pages touched (a new set after a statistics reset: hit runs remember their sink). */
  pages: PageSet;
  /** Where the slow path attributes misses and faults to pages and instructions, or null (off). */
  attribution: Attribution | null = null;
  /** The most recent instruction fetch before record `iPos` of `batch` (or an earlier batch); NaN if none. */
  private iAddr = Number.NaN;
  private iPos = 0;

  constructor(
    readonly kernel: Thread,
    readonly source: AccessSource,
    pageSize: number,
    private readonly runner: WorkloadRunner,
    batchCapacity = 4096,
  ) {
    this.own = new TraceBatch(batchCapacity);
    this.batch = this.own;
    this.pageSize = pageSize;
    this.pages = new PageSet(pageSize);
  }

  /** Starts counting distinct pages afresh (a statistics reset). */
  resetPages(): void {
    this.pages = new PageSet(this.pageSize);
  }

  /**
   * The instruction address of the record at `pos` of `batch`: its own address for a fetch, else
   * that of the most recent fetch before it in this thread's trace (NaN when there is none). Asked
   * on the slow path only; positions asked in one batch never decrease, so the backward scans of a
   * batch cover each record at most once.
   */
  instructionAt(pos: number): number {
    const b = this.batch;
    if (b.kind[pos] === INSTR) return b.addr[pos]!;
    this.scanTo(pos);
    return this.iAddr;
  }

  /** A counted translation of `va` (of the current record) missed the TLB. */
  noteMiss(va: number): void {
    if (this.attribution !== null) this.attribution.miss(va, this.instructionAt(this.pos));
  }

  /** The current record's access to `va` raised a page fault. */
  noteFault(va: number): void {
    if (this.attribution !== null) this.attribution.fault(va, this.instructionAt(this.pos));
  }

  /** Remembers the most recent fetch in records [iPos, pos) of `batch`. */
  private scanTo(pos: number): void {
    const b = this.batch;
    for (let j = pos - 1; j >= this.iPos; j--) {
      if (b.kind[j] === INSTR) {
        this.iAddr = b.addr[j]!;
        break;
      }
    }
    if (pos > this.iPos) this.iPos = pos;
  }

  /** Loads the next records into `batch`; false when none are available (done or starved set). */
  refill(): boolean {
    // The batch ends here: its last fetch is the instruction of the next batch's first data access
    // (read now, while a lent batch is still ours).
    if (this.attribution !== null) this.scanTo(this.len);
    this.before += this.len;
    this.len = 0;
    const lent = this.source.take?.();
    if (lent && lent.length > 0) {
      this.batch = lent;
      this.pos = 0;
      this.len = lent.length;
      this.iPos = 0;
      return true;
    }
    this.batch = this.own;
    this.own.length = 0;
    const n = lent ? 0 : this.source.fill(this.own);
    if (n > 0) {
      this.pos = 0;
      this.len = n;
      this.iPos = 0;
      return true;
    }
    if (n === 0 && !lent) this.done = true;
    else this.starved = true;
    return false;
  }

  begin(cpu: Cpu, now: number): number {
    return this.runner.sliceBegin(this, cpu, now);
  }

  end(cpu: Cpu, now: number): void {
    this.runner.sliceEnd(this, cpu, now);
  }

  /** Records that the access at `pos` of the current batch (at `va`) killed the thread. */
  die(va: number, access: AccessType, error: string): void {
    this.fatal ??= { how: 'died', record: this.before + this.pos + 1, va, access, error };
  }

  /**
   * Records that the thread, blocked in a fault at `pos` of the current batch, will never run
   * again (its handler failed with `error`, or its fault was given up: `lost`).
   */
  stall(error: string, lost = false): void {
    const b = this.batch;
    const k = b.kind[this.pos]!;
    let va = b.addr[this.pos]!;
    if (this.secondHalf) va = (Math.floor(va / this.pageSize) + 1) * this.pageSize;
    const access: AccessType = k === INSTR ? 'exec' : k === LOAD ? 'read' : 'write';
    this.fatal ??= { how: lost ? 'lost' : 'blocked', record: this.before + this.pos + 1, va, access, error };
  }

  /** True when the thread can run now. */
  get runnable(): boolean {
    return !this.done && !this.starved && !this.kernel.blocked;
  }

  toString(): string {
    return `${this.kernel} at record ${this.records}`;
  }
}
