/**
 * A traced system with paged memory, driven access by access (for tests): each access is one
 * record pushed to a thread, and the machine runs until everything it caused is over. The byte an
 * access reads or writes moves at the moment the access translates (the slice that replays it),
 * in the frame the page table maps then, as on hardware, so data really travels through
 * swap-outs, swap-ins and files, also while other threads fault at the same time.
 */
import { unwrap } from '../util/result.js';
import type { AccessPath } from './access_path.js';
import type { Cpu } from './cpu.js';
import { designOptions } from './designs.js';
import { buildTracedSystem, type TracedSystem, type TracedSystemOptions } from './replay.js';
import { PushSource, type SimThread } from './sim_thread.js';
import type { PagingOptions } from './swap_options.js';
import { LOAD, STORE, TraceBatch } from './trace_batch.js';

interface Pending {
  readonly va: number;
  /** The byte to write, or null for a read. */
  readonly value: number | null;
  /** What the access read (before its write), once it happened. */
  got: number;
}

/** Traced threads on a paged system (one by default), driven one access at a time. */
export class PagedDriver {
  readonly sys: TracedSystem;
  readonly thread: SimThread;
  private readonly srcs: PushSource[];
  private readonly batches: TraceBatch[];
  private readonly pending: (Pending | null)[];
  /** Every access as it happened, in order: the address, the byte written (or null) and the byte read. */
  readonly log: { va: number; value: number | null; got: number }[] = [];

  constructor(design: string, paging: PagingOptions, opts: TracedSystemOptions = {}, threads = 1) {
    this.srcs = Array.from({ length: threads }, () => new PushSource());
    this.batches = this.srcs.map(() => new TraceBatch(1));
    this.pending = this.srcs.map(() => null);
    this.sys = buildTracedSystem(this.srcs, { design: unwrap(designOptions(design)), paging, ...opts });
    this.thread = this.sys.threads[0]!;
    // The data moves when the record is replayed: right after its slice translated it.
    const ap = (this.sys.machine as unknown as { access: AccessPath }).access;
    const slice = ap.slice.bind(ap);
    ap.slice = (cpu: Cpu, t: SimThread, budget: number) => {
      const before = t.records;
      const used = slice(cpu, t, budget);
      if (t.records > before) this.happened(t);
      return used;
    };
  }

  get swap() {
    return this.sys.swap!;
  }

  /**
   * One access per thread at once (thread i reads `vas[i]`, or writes `values[i]` there); returns
   * what each read (before its write), NaN where a thread died.
   */
  together(vas: readonly number[], values: readonly (number | null)[]): number[] {
    const m = this.sys.machine;
    vas.forEach((va, i) => {
      const t = this.sys.threads[i]!;
      if (t.fatal) return;
      const b = this.batches[i]!;
      b.clear();
      b.push(values[i] === null || values[i] === undefined ? LOAD : STORE, va, 1);
      this.pending[i] = { va, value: values[i] ?? null, got: Number.NaN };
      this.srcs[i]!.push(b);
      m.kick(t);
    });
    m.run();
    return vas.map((_, i) => {
      const t = this.sys.threads[i]!;
      const p = this.pending[i];
      this.pending[i] = null;
      if (t.fatal) {
        this.srcs[i]!.take();
        return Number.NaN;
      }
      if (this.srcs[i]!.hasPending || !p || Number.isNaN(p.got))
        throw new Error(`thread ${i}'s access did not complete`);
      return p.got;
    });
  }

  /** Reads the byte at `va` (NaN when the thread died). */
  read(va: number): number {
    return this.together([va], [null])[0]!;
  }

  /** Writes a byte at `va`; false when the thread died. */
  write(va: number, value: number): boolean {
    return !Number.isNaN(this.together([va], [value])[0]!);
  }

  /** Runs the machine until `w` is done. */
  await(w: { done: boolean }): void {
    this.sys.machine.run();
    if (!w.done) throw new Error('the operation did not complete');
  }

  private happened(t: SimThread): void {
    const i = this.sys.threads.indexOf(t);
    const p = this.pending[i];
    if (!p) return;
    const m = this.sys.app.pd.pageTable.lookup(p.va);
    if (!m) throw new Error(`0x${p.va.toString(16)} is not mapped as its access is replayed`);
    const pa = m.pa + (p.va - m.va);
    const phys = this.sys.machine.core.phys;
    p.got = phys.read(pa);
    if (p.value !== null) phys.write(pa, p.value);
    this.log.push({ va: p.va, value: p.value, got: p.got });
  }
}
