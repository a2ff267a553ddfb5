/**
 * A Genode-style dataspace manager that swaps (issue 16, design option `swap: manager`): it pages
 * a managed dataspace in chunks like the on-demand handler, but under a RAM limit. When no frame
 * is free it evicts a chunk by **detaching** it (core revokes its mappings everywhere), writes the
 * chunk's dirty pages to a swap provider (or their file), and reuses its RAM dataspace. A chunk
 * that was swapped out comes back through the **reflected fault**: the manager reads its pages
 * from the providers and attaches the dataspace again, which wakes the faulters.
 *
 * Which pages are dirty and which chunks were used recently comes from the hardware's bits that
 * the model keeps (`PagedMemory`); Genode offers no such interface, so this is the idealised
 * manager a kernel with an accessed/dirty query would allow.
 *
 * Without eviction the work is exactly the on-demand handler's (fault, alloc, zero, attach), so a
 * RAM limit the program fits in changes nothing.
 */
import type { Core } from '../core/core.js';
import type { Dataspace } from '../core/dataspace.js';
import type { PdSession } from '../core/pd_session.js';
import type { FaultState, RegionMap } from '../core/region_map.js';
import type { SignalContext } from '../core/signal.js';
import {
  type Eviction,
  NONE,
  type PagedMemory,
  type PageSource,
  type PageTarget,
} from '../kernel/paged_memory.js';
import type { Thread } from '../kernel/thread.js';
import { alignDown } from '../util/bits.js';
import { hex } from '../util/hex.js';
import type { Result } from '../util/result.js';
import {
  type Action,
  compute,
  coreRpc,
  type IoWait,
  type Program,
  waitIo,
  waitSignal,
  zero,
} from './program.js';

/** A page transfer the manager waits for; `failure` says why it failed (null: it worked). */
export interface PageWait extends IoWait {
  failure: string | null;
  /** A read's bytes (null: zeros). */
  data: Uint8Array | null;
  /** Cycles the manager spends on the reply (copying the page out, or unmapping it from the provider). */
  receiveCycles: number;
  /** The server that answers. */
  readonly server: string;
}

/** What the manager needs from the simulator. */
export interface SwapManagerEnv {
  readonly mem: PagedMemory;
  /** Cycles to send a transfer (message, copy or mapping). */
  sendCost(op: 'read' | 'write'): number;
  /** Sends a page transfer now; the manager then waits on the result. */
  send(op: 'read' | 'write', where: PageSource | PageTarget, data: Uint8Array | null): PageWait;
  /** Removes the TLB entries of units whose accessed bits were cleared; returns the cycles. */
  flushCleared(units: readonly number[]): number;
  /** The faulting thread dies with `text` (a failed transfer, no memory): a clear error. */
  terminate(t: Thread, text: string): void;
  /** The threads waiting in a unit were served: with I/O (major) or not, by `server` if any. */
  served(threads: readonly Thread[], major: boolean, server: string | null): void;
}

/** Options of the swapping manager. */
export interface SwapManagerOptions {
  /** Bytes per chunk: the unit the manager attaches and evicts (a power of two, at least a page). */
  readonly chunk: number;
  /** CPU whose RAM partition allocations come from. */
  readonly cpu?: number;
}

/** A dataspace manager that pages a managed dataspace under a RAM limit. */
export class SwapManager {
  /** Chunks attached so far (as the on-demand handler counts them). */
  chunks = 0;
  /** The RAM dataspace of each frame. */
  private readonly dsOf: Dataspace[] = [];

  constructor(
    private readonly core: Core,
    readonly session: PdSession,
    readonly map: RegionMap,
    private readonly env: SwapManagerEnv,
    readonly options: SwapManagerOptions,
  ) {}

  /** Genode's design: on each fault signal, drain `fault()` until NONE. */
  *onSignals(ctx: SignalContext): Program {
    for (;;) {
      yield* waitSignal(ctx);
      yield* this.drain();
    }
  }

  /** One signal's worth of work: page in the chunk of each pending fault. */
  private *drain(): Generator<Action, void, unknown> {
    for (;;) {
      const st = yield* coreRpc<FaultState>('fault', () => this.map.fault());
      if (st.type === 'NONE') return;
      if (!(yield* this.serve(st))) return;
    }
  }

  /** Brings in the chunk of one fault; false (after reporting) on a failure of the manager itself. */
  private *serve(st: FaultState): Generator<Action, boolean, unknown> {
    const chunk = Math.min(this.options.chunk, this.map.size);
    const base = alignDown(st.address, chunk);
    const size = Math.min(chunk, this.map.size - base);
    const head = this.map.faulters()[0]!.thread;
    const mem = this.env.mem;
    if (mem.frameOf(mem.unitOf(base)) !== NONE || mem.transitOf(mem.unitOf(base)) !== null) {
      const range = mem.options.mmaps.find(st.address);
      if (st.type === 'WRITE' && range && !range.writable) {
        // A write to a read-only mapped file: the faulting thread dies, as on a segmentation fault.
        const text = `WRITE violation at address ${hex(st.address)}: memory-mapped range ${range.index} is read-only`;
        this.env.terminate(head, text);
        return true;
      }
      yield { op: 'error', text: `swap manager: fault at ${hex(st.address)} in a chunk it already holds` };
      return false;
    }
    let frame = mem.allocFrame();
    let fresh = false;
    if (frame !== NONE && this.dsOf[frame] === undefined) {
      const ds = yield* coreRpc<Result<Dataspace>>(
        'alloc',
        () => this.core.allocRam(this.session, size, { cpu: this.options.cpu }),
        size,
      );
      if (!ds.ok) {
        mem.releaseFrame(frame);
        yield { op: 'error', text: `swap manager cannot back ${hex(base)}: ${ds.message}` };
        return false;
      }
      this.dsOf[frame] = ds.value;
      fresh = true;
    } else if (frame === NONE) {
      // One RPC picks the victim and detaches it. Choosing and detaching happen together: the
      // victim's dirty bits are final once its mappings are gone (a write in between would be
      // lost), as the kernel harvests a page's dirty bit when it unmaps it.
      const ev = yield* coreRpc<Result<Eviction>>('detach', () => {
        const e = mem.planEviction();
        if (e.ok) this.map.detach(e.value.va);
        return e;
      });
      const flush = this.env.flushCleared(mem.takeCleared());
      if (flush > 0) yield* compute(flush);
      if (!ev.ok) {
        this.env.terminate(head, `out of memory: RAM limit reached and ${ev.message}`);
        return true;
      }
      const evicted = yield* this.evict(ev.value, head);
      if (evicted === NONE) return true;
      frame = evicted;
    }
    if (!(yield* this.fill(frame, base, size, fresh, head))) return true;
    const r = yield* coreRpc<Result<unknown>>('attach', () =>
      this.map.attach(this.dsOf[frame]!, { at: base, writeable: this.writeable(base), executable: true }),
    );
    if (!r.ok) {
      yield { op: 'error', text: `swap manager cannot attach at ${hex(base)}: ${r.message}` };
      return false;
    }
    this.chunks++;
    return true;
  }

  /** Writes the detached victim's dirty pages; returns its frame, or NONE when a write failed. */
  private *evict(ev: Eviction, head: Thread): Generator<Action, number, unknown> {
    const mem = this.env.mem;
    const ds = this.dsOf[ev.frame]!;
    for (const w of ev.writes) {
      yield* compute(this.env.sendCost('write'));
      const data = this.core.phys.readBytes(ds.phys + w.page * mem.pageSize, mem.pageSize);
      const wait = this.env.send('write', w.target, data);
      yield* waitIo(wait);
      if (wait.receiveCycles > 0) yield* compute(wait.receiveCycles);
      if (wait.failure !== null) {
        // Nothing is lost: the victim goes back where it was, the faulting thread dies.
        yield* coreRpc('attach', () =>
          this.map.attach(ds, { at: ev.va, writeable: this.writeable(ev.va), executable: true }),
        );
        mem.evictionFailed(ev);
        const what =
          w.target.kind === 'file' ? 'writing back the memory-mapped page' : 'swap-out of the page';
        this.env.terminate(head, `${what} at ${hex(w.va)} failed: ${wait.failure}`);
        return NONE;
      }
    }
    return mem.evictionDone(ev);
  }

  /** Brings the chunk's pages into the frame's dataspace; false when a read failed. */
  private *fill(
    frame: number,
    base: number,
    size: number,
    fresh: boolean,
    head: Thread,
  ): Generator<Action, boolean, unknown> {
    const mem = this.env.mem;
    const ds = this.dsOf[frame]!;
    const pin = mem.beginPageIn(base, frame);
    if (!pin.ok) {
      yield { op: 'error', text: `swap manager: ${pin.message}` };
      return false;
    }
    // A new dataspace is zero-filled whole, as the on-demand handler's; a reused one page by page.
    if (fresh) yield* zero(size);
    let zeros = 0;
    let server: string | null = null;
    for (const [i, src] of pin.value.sources.entries()) {
      const pa = ds.phys + i * mem.pageSize;
      if (src.kind === 'zero') {
        if (!fresh) {
          this.core.phys.zero(pa, mem.pageSize);
          zeros += mem.pageSize;
        }
        continue;
      }
      yield* compute(this.env.sendCost('read'));
      const wait = this.env.send('read', src, null);
      yield* waitIo(wait);
      if (wait.receiveCycles > 0) yield* compute(wait.receiveCycles);
      if (wait.failure !== null) {
        mem.pageInFailed(pin.value);
        this.env.terminate(
          head,
          `swap-in of the page at ${hex(base + i * mem.pageSize)} failed: ${wait.failure}`,
        );
        return false;
      }
      server = wait.server;
      this.core.phys.writeBytes(pa, mem.pageSize, wait.data);
    }
    if (zeros > 0) yield* zero(zeros);
    const threads = this.map
      .faulters()
      .filter((f) => f.address >= base && f.address < base + size)
      .map((f) => f.thread);
    this.env.served(threads, pin.value.major, server);
    mem.pageInDone(pin.value);
    return true;
  }

  /** Physical address of a frame's dataspace (NaN before the frame was first used). */
  framePhys(frame: number): number {
    return this.dsOf[frame]?.phys ?? Number.NaN;
  }

  private writeable(va: number): boolean {
    const r = this.env.mem.options.mmaps.find(va);
    return !r || r.writable;
  }
}
