/**
 * A traced system with paged memory, driven access by access (for tests): each access is one
 * record pushed to the thread, and the machine runs until everything it caused is over. Reads and
 * writes then look at the byte in the frame the page table maps, so data really travels through
 * swap-outs, swap-ins and files.
 */
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { buildTracedSystem, type TracedSystem, type TracedSystemOptions } from './replay.js';
import { PushSource, type SimThread } from './sim_thread.js';
import type { PagingOptions } from './swap_options.js';
import { type AccessKind, LOAD, STORE, TraceBatch } from './trace_batch.js';

/** One traced thread on a paged system, driven one access at a time. */
export class PagedDriver {
  readonly sys: TracedSystem;
  readonly thread: SimThread;
  private readonly src = new PushSource();
  private readonly batch = new TraceBatch(1);

  constructor(design: string, paging: PagingOptions, opts: TracedSystemOptions = {}) {
    this.sys = buildTracedSystem([this.src], { design: unwrap(designOptions(design)), paging, ...opts });
    this.thread = this.sys.threads[0]!;
  }

  get swap() {
    return this.sys.swap!;
  }

  /** One access; false when the thread died instead (it stays dead). */
  access(va: number, kind: AccessKind): boolean {
    if (this.thread.fatal) return false;
    this.batch.clear();
    this.batch.push(kind, va, 1);
    this.src.push(this.batch);
    this.sys.machine.kick(this.thread);
    this.sys.machine.run();
    if (this.thread.fatal) {
      this.src.take();
      return false;
    }
    if (this.src.hasPending) throw new Error(`the access to 0x${va.toString(16)} did not complete`);
    return true;
  }

  /** Reads the byte at `va` (NaN when the thread died). */
  read(va: number): number {
    if (!this.access(va, LOAD)) return Number.NaN;
    return this.sys.machine.core.phys.read(this.pa(va));
  }

  /** Writes a byte at `va`; false when the thread died. */
  write(va: number, value: number): boolean {
    if (!this.access(va, STORE)) return false;
    this.sys.machine.core.phys.write(this.pa(va), value);
    return true;
  }

  /** Runs the machine until `w` is done. */
  await(w: { done: boolean }): void {
    this.sys.machine.run();
    if (!w.done) throw new Error('the operation did not complete');
  }

  private pa(va: number): number {
    const m = this.sys.app.pd.pageTable.lookup(va);
    if (!m) throw new Error(`0x${va.toString(16)} is not mapped after its access`);
    return m.pa + (va - m.va);
  }
}
