/**
 * The paged memory of a traced system on the machine (issue 16, seed 003): a RAM limit, page
 * replacement, swap providers as user-level threads with one block device each, a file server for
 * memory-mapped files, and who pages — the kernel (Brendan's design, `swap_kernel.ts`) or a
 * user-level dataspace manager (Genode's, `components/swap_manager.ts`). This file builds the
 * pieces, installs the hooks (accessed and dirty bits on the access path, the kernel's fault
 * diversion), moves pages to and from the servers (`transfer`), and keeps the figures.
 */
import { FileServer, type ServerCompletion, SwapProvider } from '../components/block_server.js';
import { FileProvider } from '../components/file_provider.js';
import type { SwapManagerEnv } from '../components/swap_manager.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { BLOCK_SIZE, BlockDevice } from '../hw/block_device.js';
import { blockDevicePreset, presetSpec } from '../hw/block_device_presets.js';
import { type PteFormat, pteBudget, swapBudgetBlocks } from '../hw/pte.js';
import { MmapRangeList } from '../kernel/mmap_ranges.js';
import { NONE, PagedMemory, type PageSource, type PageTarget } from '../kernel/paged_memory.js';
import { SwapRegistry } from '../kernel/swap_registry.js';
import { err, ok, type Result, unwrap } from '../util/result.js';
import type { PagingHooks } from './access_path.js';
import { NOMINAL_CLOCK_HZ } from './cost.js';
import type { Cpu } from './cpu.js';
import { defineIoServerJobs, type IoCall, IoServerTask, ReplyBox } from './io_server_task.js';
import type { Machine } from './machine.js';
import { PRIORITY } from './machine.js';
import type { FaultingTask } from './machine_faults.js';
import { Histogram } from './metrics.js';
import { swapResult } from './swap_figures.js';
import { KernelPager } from './swap_kernel.js';
import { managerEnv } from './swap_manager_env.js';
import { checkPaging, DEFAULT_SWAP_TIMEOUT_US, type PagingOptions, type SwapResult } from './swap_options.js';
import { SwapTimeline } from './swap_timeline.js';

/** How a page transfer ended. */
export type TransferStatus = 'ok' | 'IO_ERROR' | 'DEAD' | 'TIMEOUT';

/** The result of a page transfer. */
export interface PageTransfer {
  readonly status: TransferStatus;
  /** A read's bytes (null: zeros). */
  readonly data: Uint8Array | null;
  readonly server: IoServerTask;
  /** When the request was sent. */
  readonly sentAt: number;
}

/** Per-server counters. */
export interface ServerFigures {
  ins: number;
  outs: number;
  timeouts: number;
  readonly latency: Histogram;
  /** The server's and its device's own counters at the last reset. */
  from: { cacheHits: number; ioErrors: number; queueWaitCycles: number };
}

/** The traced system's parts the paged memory needs. */
export interface PagedSystemParts {
  readonly machine: Machine;
  readonly app: PdSession;
  /** The dataspace manager's session: it owns the RAM and the servers' sessions are made beside it. */
  readonly manager: PdSession;
  readonly memory: RegionMap;
  /** Bytes the manager replaces together (its chunk). */
  readonly chunk: number;
}

/** Counters the two pagers share. */
export interface PagingCounters {
  diskWait: number;
  major: number;
  minor: number;
  terminated: number;
  fileIns: number;
  fileOuts: number;
}

/** Port numbers of the servers (endpoint ids the kernel's registry names). */
const FIRST_PORT = 0x5000;

/** The paged memory of a traced system; see the module comment. */
export class SwapSystem implements PagingHooks {
  readonly mem: PagedMemory;
  readonly registry: SwapRegistry;
  readonly servers: IoServerTask[] = [];
  readonly files = new FileProvider('vfs');
  readonly pager: 'kernel' | 'manager';
  readonly mode: 'copy' | 'map';
  readonly asid: number;
  readonly everyAccess: boolean;
  readonly counters: PagingCounters = {
    diskWait: 0,
    major: 0,
    minor: 0,
    terminated: 0,
    fileIns: 0,
    fileOuts: 0,
  };
  readonly latency = { major: new Histogram(), minor: new Histogram() };
  readonly drawing: SwapTimeline | null;
  readonly timeout: number;
  private fileServer: IoServerTask | null = null;
  /** Per-server counters. */
  readonly figures = new Map<IoServerTask, ServerFigures>();
  private readonly byPort = new Map<number, IoServerTask>();
  private readonly replies = new ReplyBox();
  private readonly jobs;
  private nextId = 1;
  /** Faulters a manager served, with what their fault was (its latency is recorded at the reply). */
  readonly served = new Map<FaultingTask, { major: boolean; server: IoServerTask | null }>();
  /** The paged memory's counters at the last reset. */
  base = { evictions: 0, evictionsDirty: 0, zeroFills: 0 };

  private constructor(
    readonly parts: PagedSystemParts,
    readonly options: PagingOptions,
    fmt: PteFormat,
  ) {
    const m = parts.machine;
    this.pager = m.design.swap;
    this.mode = m.design.swapData;
    this.asid = parts.app.pd.asid;
    const replacement = options.replacement ?? 'clock';
    this.everyAccess = replacement === 'lru' && options.ram !== null;
    this.timeout = Math.round(((options.timeoutUs ?? DEFAULT_SWAP_TIMEOUT_US) * NOMINAL_CLOCK_HZ) / 1e6);
    this.drawing = m.timeline ? new SwapTimeline(m.timeline) : null;
    const b = pteBudget(fmt);
    this.registry = new SwapRegistry({
      budgetBlocks: swapBudgetBlocks(fmt),
      budgetSource: `the ${m.arch.name} not-present PTE (${b.blockBits}-bit block numbers)`,
      policy: options.policy ?? 'priority',
    });
    const page = m.core.pageSize;
    const unitBytes = this.pager === 'kernel' ? page : parts.chunk;
    this.mem = new PagedMemory({
      pageSize: page,
      unitPages: unitBytes / page,
      frames: options.ram === null ? null : Math.floor(options.ram / unitBytes),
      replacement,
      pte: fmt,
      swap: this.registry,
      mmaps: new MmapRangeList(Number(b.maxRangeIndex > 2n ** 31n ? 2n ** 31n : b.maxRangeIndex), page),
    });
    this.jobs = defineIoServerJobs(m.exec, this.replies);
  }

  /**
   * Builds the paged memory of a traced system: checks the limit against the unit, registers the
   * providers (refusing one the PTE cannot address), starts their threads and installs the hooks.
   */
  static create(parts: PagedSystemParts, options: PagingOptions): Result<SwapSystem, 'INVALID_SWAP'> {
    const m = parts.machine;
    const checked = checkPaging(m.arch.name, m.design.swap, parts.chunk, options, m.design.faultHandling);
    if (!checked.ok) return checked;
    const s = new SwapSystem(parts, options, checked.value.fmt);
    for (const [i, p] of checked.value.providers.entries()) {
      const name = p.name ?? `swap${i}`;
      const port = FIRST_PORT + i;
      const reg = s.registry.register({ name, blocks: p.blocks, port, priority: p.priority });
      if (!reg.ok) return err('INVALID_SWAP', reg.message);
      const device = unwrap(
        BlockDevice.create(presetSpec(unwrap(blockDevicePreset(p.device)), p.blocks), NOMINAL_CLOCK_HZ),
      );
      const cpu = p.cpu ?? (((m.cpus.length - 1 - i) % m.cpus.length) + m.cpus.length) % m.cpus.length;
      s.addServer(new SwapProvider(name, device), port, cpu);
    }
    m.setPaging(s.pager === 'kernel' || options.ram !== null ? s : null);
    return ok(s);
  }

  // ---------------------------------------------------------------- hooks (PagingHooks)

  walked(va: number, write: boolean): void {
    this.mem.walked(va, write);
  }

  add(va: number): void {
    this.mem.written(va);
  }

  touch(va: number): void {
    this.mem.touch(va);
  }

  // ---------------------------------------------------------------- servers and transfers

  /** The server thread answering on `port`. */
  serverAt(port: number): IoServerTask | undefined {
    return this.byPort.get(port);
  }

  /** The swap provider named `name`. */
  provider(name: string): IoServerTask | undefined {
    return this.servers.find((t) => t.server.name === name);
  }

  /**
   * The provider's server dies now (its thread is gone): what it holds fails, the kernel gives it
   * no new blocks, and pages it holds can no longer be read (their faults terminate their threads).
   */
  killProvider(name: string): boolean {
    const t = this.provider(name);
    if (!t) return false;
    t.kill();
    const info = this.registry.providers().find((p) => p.port === t.port);
    if (info) unwrap(this.registry.markDead(info.id));
    return true;
  }

  /** The file server (started on the first memory-mapped file). */
  fileServerTask(): IoServerTask {
    if (this.fileServer === null) {
      const m = this.parts.machine;
      const device = unwrap(
        BlockDevice.create(presetSpec(unwrap(blockDevicePreset('nvme')), 2 ** 20), NOMINAL_CLOCK_HZ),
      );
      this.fileServer = this.addServer(
        new FileServer('vfs', device, this.files),
        FIRST_PORT + 0xfff,
        m.cpus.length - 1,
      );
    }
    return this.fileServer;
  }

  /** Cycles the requester spends to send a page transfer (message, copy or mapping). */
  sendCost(op: 'read' | 'write'): number {
    const c = this.parts.machine.costs;
    const copy = this.mode === 'copy';
    return c.ipcRoundTrip / 2 + (copy ? (op === 'write' ? this.pageCopy() : 0) : c.mapInstall);
  }

  /** Cycles the requester on `cpu` spends on a reply from `server` (copy out, or unmap from the server). */
  receiveCost(op: 'read' | 'write', server: IoServerTask, cpu: number): number {
    const c = this.parts.machine.costs;
    if (this.mode === 'copy') return op === 'read' ? this.pageCopy() : 0;
    return c.invlpg + (server.kernel.cpu === cpu ? 0 : c.tlbShootdown);
  }

  /** Cycles to copy one page. */
  pageCopy(): number {
    return (BLOCK_SIZE / 1024) * this.parts.machine.costs.pageCopyPerKiB;
  }

  /**
   * Sends one page transfer from `cpu` now; `done` runs on `cpu` when the reply arrived (in a kernel
   * job), at once when the server is dead, or after the timeout. `flow` is the timeline arrow.
   */
  transfer(
    op: 'read' | 'write',
    cpu: number,
    where: PageSource | PageTarget,
    data: Uint8Array | null,
    flow: number,
    done: (t: PageTransfer) => void,
  ): IoServerTask {
    const m = this.parts.machine;
    const server =
      where.kind === 'file'
        ? this.fileServerTask()
        : this.serverAt(where.kind === 'swap' ? where.slot.port : -1)!;
    const target =
      where.kind === 'file'
        ? { kind: 'file' as const, file: where.range.file, offset: where.offset }
        : { kind: 'swap' as const, block: (where as { slot: { block: number } }).slot.block };
    const sentAt = m.engine.now;
    let finished = false;
    let timer = -1;
    const fig = this.figures.get(server)!;
    const finish = (status: TransferStatus, d: Uint8Array | null) => {
      if (finished) return;
      finished = true;
      // A timer still pending would move the clock to its deadline for nothing.
      if (timer >= 0) m.engine.cancel(timer);
      if (status === 'ok' && where.kind === 'swap') op === 'read' ? fig.ins++ : fig.outs++;
      if (status === 'ok' && where.kind === 'file')
        op === 'read' ? this.counters.fileIns++ : this.counters.fileOuts++;
      if (status === 'TIMEOUT') fig.timeouts++;
      this.counters.diskWait += m.engine.now - sentAt;
      // The reply's kernel piece on the requester's CPU ends the arrow (a timeout has none).
      if (status !== 'TIMEOUT') this.drawing?.end(flow, cpu, m.cpus[cpu]!.runStart, m.engine.now);
      done({ status, data: d, server, sentAt });
    };
    const call: IoCall = {
      req: { id: this.nextId++, op, target, data },
      cpu,
      flow,
      replied: (c: ServerCompletion | null) => finish(c === null ? 'DEAD' : c.status, c?.data ?? null),
    };
    server.send(call, cpu);
    if (!finished && Number.isFinite(this.timeout))
      timer = m.engine.at(sentAt + this.timeout, () => {
        timer = -1;
        finish('TIMEOUT', null);
      });
    return server;
  }

  /** Records a finished fault's latency: overall, by kind, and for the provider that served it. */
  faultDone(t: FaultingTask, latency: number, major: boolean, server: IoServerTask | null): void {
    if (major) {
      this.counters.major++;
      this.latency.major.record(latency);
    } else {
      this.counters.minor++;
      this.latency.minor.record(latency);
    }
    if (server) this.figures.get(server)?.latency.record(latency);
    const cap = this.mem.frames.capacity;
    this.drawing?.frames(
      this.parts.machine.engine.now,
      this.mem.resident,
      cap === null ? 0 : cap - this.mem.frames.inUse,
    );
    void t;
  }

  // ---------------------------------------------------------------- the two pagers

  /** Physical address of a frame, as the pager that owns the frames says. */
  framePhys: (frame: number) => number = () => Number.NaN;

  /** Physical address of the byte at `va` of a resident unit (NaN when it is not resident). */
  physOf(va: number): number {
    const mem = this.mem;
    const unit = mem.unitOf(va);
    const f = mem.frameOf(unit);
    return f === NONE ? Number.NaN : this.framePhys(f) + (va - unit * mem.unitBytes);
  }

  /** Brendan's design: the kernel pages the program's faults itself. */
  startKernel(): KernelPager {
    const k = new KernelPager(this);
    this.framePhys = (f) => k.paOf(f);
    return k;
  }

  // ---------------------------------------------------------------- TLB and threads

  /**
   * Removes the TLB entries of `size` bytes at `va` of the paged address space on every CPU that
   * may hold them (a page unmapped, or its accessed bit cleared); returns the cycles it cost the
   * initiator on `cpu` (invlpg here, a shootdown round per remote CPU).
   */
  flushTlb(cpu: number, va: number, size: number): number {
    const m = this.parts.machine;
    const c = m.costs;
    let cost = 0;
    for (const other of m.cpus) {
      if (!other.asids.has(this.asid)) continue;
      other.tlb.flushRange(this.asid, va, size);
      if (other.id === cpu) cost += c.invlpg;
      else {
        m.faults.totals.shootdowns++;
        m.faults.totals.crossCpu++;
        cost += c.tlbShootdown;
      }
    }
    return cost;
  }

  /** Terminates a faulting thread: a clear error, the thread stops for good. */
  terminate(t: FaultingTask, cpu: Cpu | number, text: string): void {
    const m = this.parts.machine;
    const id = typeof cpu === 'number' ? cpu : cpu.id;
    this.counters.terminated++;
    m.faults.error(text);
    t.die(t.faultVa, t.faultKind, text);
    if (t.kernel.state !== 'dead-fault') m.exec.block(t, 'dead-fault');
    this.drawing?.terminated(id, m.engine.now, text);
  }

  // ---------------------------------------------------------------- figures

  /** The figures of the run (since the last reset). */
  result(): SwapResult {
    return swapResult(this);
  }

  /** Genode's design: the environment of a swapping dataspace manager whose thread runs on `cpu`. */
  managerEnv(cpu: number): SwapManagerEnv {
    return managerEnv(this, cpu);
  }

  /** Forgets every figure (the end of a warm-up). */
  reset(): void {
    for (const k of Object.keys(this.counters) as (keyof PagingCounters)[]) this.counters[k] = 0;
    this.latency.major.reset();
    this.latency.minor.reset();
    for (const [t, f] of this.figures) {
      f.ins = 0;
      f.outs = 0;
      f.timeouts = 0;
      f.latency.reset();
      const st = t.server.stats;
      f.from = {
        cacheHits: st.cacheHits,
        ioErrors: st.ioErrors,
        queueWaitCycles: t.server.device.stats.queueWaitCycles,
      };
    }
    this.base = { ...this.mem.stats };
  }

  private addServer(server: SwapProvider | FileServer, port: number, cpu: number): IoServerTask {
    const m = this.parts.machine;
    const label = `init -> ${server.name}`;
    const session = unwrap(m.core.createPd(label, { ram: 2 ** 24, caps: 1000 }));
    const k = unwrap(m.core.createThread(session, server.name, cpu));
    k.priority = PRIORITY.handler;
    k.state = 'in-ipc';
    const host = {
      engine: m.engine,
      exec: m.exec,
      cpus: m.cpus,
      costs: m.costs,
      mode: this.mode,
      drawing: this.drawing,
      crossCpu: () => m.faults.crossCpu(),
    };
    const t = new IoServerTask(k, server, port, host, this.jobs, this.replies);
    m.exec.admit(t);
    this.figures.set(t, {
      ins: 0,
      outs: 0,
      timeouts: 0,
      latency: new Histogram(),
      from: { cacheHits: 0, ioErrors: 0, queueWaitCycles: 0 },
    });
    this.byPort.set(port, t);
    if (server instanceof SwapProvider) this.servers.push(t);
    return t;
  }
}
