/**
 * Brendan's kernel-driven swap on the machine (seed 003, design option `swap: kernel`): the
 * kernel pages the traced program's memory itself, in the faulting thread's context, as kernel
 * pieces on its CPU. No pager thread and no user-level handler is involved:
 *
 * 1. The exception entry reads the page's not-present PTE (`PagedMemory`): all zero means
 *    anonymous memory never written (zero-fill, a minor fault), a swap entry holds the block
 *    number, an mmap entry the index of the memory-mapped range.
 * 2. Without a free frame it evicts a victim: unmaps it (TLB shootdown), writes its entry, and
 *    when it is dirty sends it to its swap provider (or file) and waits in `waiting-disk` for the
 *    returned status, as Brendan's pager does.
 * 3. A major fault sends a read to the provider's port, stores the sender and function ID it
 *    expects in the thread's message queue and waits in `waiting-disk`. The reply is matched and
 *    jumps the queue; the kernel takes it, puts the page in the frame and maps it.
 * 4. A bad status (I/O error, timeout, dead provider) terminates the thread; nothing else is lost.
 *
 * A unit here is one page, so a fault waits for at most one write and one read.
 */
import type { AccessType } from '../core/events.js';
import { Mapping } from '../hw/page_table.js';
import { MessageQueue } from '../kernel/message_queue.js';
import { type Eviction, NONE, type PageIn } from '../kernel/paged_memory.js';
import { hex } from '../util/hex.js';
import { invariant } from '../util/result.js';
import type { Cpu } from './cpu.js';
import type { IoServerTask } from './io_server_task.js';
import type { FaultingTask } from './machine_faults.js';
import { failureText, transferText } from './swap_figures.js';
import type { PageTransfer, SwapSystem } from './swap_system.js';

/** Function IDs of the kernel's messages to swap providers and the VFS. */
export const FN_READ = 1;
export const FN_WRITE = 2;

/** Where a thread's kernel-paged fault is. */
type Stage = 'decide' | 'send-write' | 'wrote' | 'zero-fill' | 'send-read' | 'read' | 'resume';

/** A fault the kernel is paging. */
interface KFault {
  readonly t: FaultingTask;
  readonly va: number;
  readonly access: AccessType;
  stage: Stage;
  ev: Eviction | null;
  frame: number;
  pin: PageIn | null;
  reply: PageTransfer | null;
  server: IoServerTask | null;
  /** The arrow of the transfer in progress on the timeline. */
  flow: number;
}

/** The kernel's pager for one paged address space. */
export class KernelPager {
  /** Each thread's message queue (a kernel object): replies land here. */
  readonly queues = new Map<FaultingTask, MessageQueue<PageTransfer>>();
  private readonly faults = new Map<FaultingTask, KFault>();
  /** Threads waiting for a unit another fault is moving. */
  private readonly waiters = new Map<number, FaultingTask[]>();
  private readonly job: number;
  /** Physical address of each frame (the pool, or pages taken one by one without a limit). */
  private readonly framePa: number[] = [];
  private readonly poolBase: number;

  constructor(private readonly sys: SwapSystem) {
    const m = sys.parts.machine;
    this.job = m.exec.defineJob((cpu, arg, now) => this.run(cpu, arg, now), 'kernel pager');
    const ram = sys.options.ram;
    let base = -1;
    if (ram !== null) {
      // The frames of the limit, taken once; without a limit frames come from RAM one by one.
      const ds = m.core.allocRam(sys.parts.manager, Math.floor(ram / sys.mem.unitBytes) * sys.mem.unitBytes);
      invariant(ds.ok, () => `no ${ram} bytes of RAM for the kernel's frames`);
      base = ds.value.phys;
    }
    this.poolBase = base;
    m.faults.divert = (cpu, t, now) => this.fault(cpu, t, now);
  }

  /** The thread's message queue. */
  queueOf(t: FaultingTask): MessageQueue<PageTransfer> {
    let q = this.queues.get(t);
    if (!q) {
      q = new MessageQueue();
      this.queues.set(t, q);
    }
    return q;
  }

  /** A fault of t on `cpu` at `now`: taken when it lies in the paged address space. */
  private fault(cpu: Cpu, t: FaultingTask, now: number): boolean {
    const sys = this.sys;
    const m = sys.parts.machine;
    // The program's memory spans [page, map size) with identity coordinates (replay.ts).
    const va = t.faultVa;
    if (t.kernel.pd.asid !== sys.asid || va < m.core.pageSize || va >= sys.parts.memory.size) return false;
    if (!t.retry) {
      t.retry = true;
      t.faultStart = now;
      t.faults++;
      t.reflected = false;
    }
    m.exec.block(t, 'blocked-fault');
    m.drawing?.faulted(t, now, true);
    const k: KFault = {
      t,
      va: t.faultVa,
      access: t.faultKind,
      stage: 'decide',
      ev: null,
      frame: NONE,
      pin: null,
      reply: null,
      server: null,
      flow: 0,
    };
    this.faults.set(t, k);
    const c = m.costs;
    m.exec.kernel(cpu, this.job, t.index, c.exceptionEntryExit / 2 + m.kernelEntryCost(cpu) + c.pagerLookup);
    return true;
  }

  /** A kernel piece of t's fault ended on `cpu` at `now`. */
  private run(cpu: Cpu, index: number, now: number): void {
    const t = this.sys.parts.machine.exec.taskAtIndex(index) as FaultingTask;
    const k = this.faults.get(t);
    if (!k) return;
    switch (k.stage) {
      case 'decide':
        this.decide(k, cpu, now);
        break;
      case 'send-write':
        this.sendWrite(k, cpu, now);
        break;
      case 'wrote':
        this.wrote(k, cpu, now);
        break;
      case 'zero-fill':
        this.finish(k, cpu, now, null);
        break;
      case 'send-read':
        this.sendRead(k, cpu, now);
        break;
      case 'read':
        this.finish(k, cpu, now, k.reply!.data);
        break;
      case 'resume':
        this.resume(k, cpu, now);
        break;
    }
  }

  /** Queues the next piece of k on `cpu`. */
  private next(k: KFault, stage: Stage, cpu: Cpu, cost: number): void {
    k.stage = stage;
    this.sys.parts.machine.exec.kernel(cpu, this.job, k.t.index, cost);
  }

  /** Reads the PTE and decides: wait for a unit in transit, map a resident one, or get a frame. */
  private decide(k: KFault, cpu: Cpu, _now: number): void {
    const sys = this.sys;
    const mem = sys.mem;
    const m = sys.parts.machine;
    const unit = mem.unitOf(k.va);
    if (mem.transitOf(unit) !== null) {
      // Another fault moves this page: wait for it, then retry the access.
      this.faults.delete(k.t);
      m.exec.block(k.t, 'waiting-disk');
      const w = this.waiters.get(unit) ?? [];
      w.push(k.t);
      this.waiters.set(unit, w);
      return;
    }
    const range = mem.options.mmaps.find(k.va);
    if (k.access === 'write' && range && !range.writable) {
      this.fail(
        k,
        cpu,
        `WRITE violation at address ${hex(k.va)}: memory-mapped range ${range.index} is read-only`,
      );
      return;
    }
    if (mem.frameOf(unit) !== NONE) {
      // Resident (mapped again after a failed eviction): map it.
      this.next(k, 'resume', cpu, m.costs.mapInstall + m.costs.exceptionEntryExit / 2);
      return;
    }
    let f = mem.allocFrame();
    if (f === NONE) {
      const r = mem.planEviction();
      const flush = this.flushCleared(cpu.id);
      if (!r.ok) {
        this.fail(k, cpu, `out of memory: RAM limit reached and ${r.message}`);
        return;
      }
      const ev = r.value;
      k.t.kernel.pd.pageTable.unmap(ev.va, mem.unitBytes);
      const unmap = sys.flushTlb(cpu.id, ev.va, mem.unitBytes) + flush;
      if (ev.writes.length > 0) {
        invariant(ev.writes.length === 1, 'the kernel pages single pages');
        k.ev = ev;
        this.next(k, 'send-write', cpu, unmap + sys.sendCost('write'));
        return;
      }
      f = mem.evictionDone(ev);
      this.wakeWaiters(ev.unit);
      this.pageIn(k, f, cpu, unmap);
      return;
    }
    this.pageIn(k, f, cpu, 0);
  }

  /** Starts bringing the page into frame `f`: zero-fill, or a read from its provider. */
  private pageIn(k: KFault, f: number, cpu: Cpu, extra: number): void {
    const sys = this.sys;
    const c = sys.parts.machine.costs;
    const pin = sys.mem.beginPageIn(k.va, f);
    if (!pin.ok) {
      // While this fault waited for a victim's write, another one brought the page in (or is
      // doing so): the frame goes back, and the decision is taken again.
      sys.mem.releaseFrame(f);
      this.next(k, 'decide', cpu, extra);
      return;
    }
    k.pin = pin.value;
    k.frame = f;
    if (!pin.value.major) {
      const zero = (sys.mem.unitBytes / 1024) * c.pageZeroPerKiB;
      this.next(k, 'zero-fill', cpu, extra + zero + c.mapInstall + c.exceptionEntryExit / 2);
      return;
    }
    this.next(k, 'send-read', cpu, extra + sys.sendCost('read'));
  }

  /** Sends the victim's dirty page (copied into the message, or its frame mapped) and waits. */
  private sendWrite(k: KFault, cpu: Cpu, now: number): void {
    const sys = this.sys;
    const w = k.ev!.writes[0]!;
    const data = sys.parts.machine.core.phys.readBytes(this.paOf(k.ev!.frame), sys.mem.pageSize);
    this.wait(k, cpu, now, FN_WRITE, 'write', w.target, data);
  }

  /** The write's status came back: the frame is free (or the victim stays and the thread dies). */
  private wrote(k: KFault, cpu: Cpu, _now: number): void {
    const sys = this.sys;
    const ev = k.ev!;
    k.ev = null;
    const r = k.reply!;
    if (r.status !== 'ok') {
      sys.mem.evictionFailed(ev);
      this.wakeWaiters(ev.unit);
      this.fail(k, cpu, this.failText(r, 'write', ev.writes[0]!.target.kind === 'file', ev.va));
      return;
    }
    const f = sys.mem.evictionDone(ev);
    this.wakeWaiters(ev.unit);
    this.pageIn(k, f, cpu, 0);
  }

  /** Sends the read of the faulting page and waits. */
  private sendRead(k: KFault, cpu: Cpu, now: number): void {
    const src = k.pin!.sources[0]!;
    invariant(src.kind !== 'zero', 'a major fault reads from swap or a file');
    this.wait(k, cpu, now, FN_READ, 'read', src, null);
  }

  /** Sends a request, expects its reply (sender, function ID) and blocks in waiting-disk. */
  private wait(
    k: KFault,
    cpu: Cpu,
    now: number,
    fn: number,
    op: 'read' | 'write',
    where: Parameters<SwapSystem['transfer']>[2],
    data: Uint8Array | null,
  ): void {
    const sys = this.sys;
    const m = sys.parts.machine;
    const q = this.queueOf(k.t);
    k.flow = sys.drawing?.start(cpu.id, cpu.runStart, now) ?? 0;
    m.exec.block(k.t, 'waiting-disk');
    const server = sys.transfer(op, cpu.id, where, data, k.flow, (r) => this.replied(k, cpu, fn, r));
    k.server = op === 'read' ? server : k.server;
    q.expect(server.port, fn);
  }

  /** A reply (or the kernel's failure) reached the thread's CPU: it jumps the queue, the kernel goes on. */
  private replied(k: KFault, cpu: Cpu, fn: number, r: PageTransfer): void {
    const sys = this.sys;
    const m = sys.parts.machine;
    const q = this.queueOf(k.t);
    const d = q.deliver({ sender: r.server.port, fn, payload: r });
    if (!d.ok || d.value !== 'matched' || this.faults.get(k.t) !== k) return;
    const msg = q.take()!;
    k.reply = msg.payload;
    const c = m.costs;
    if (k.t.kernel.state === 'dead-fault') return;
    // The thread is ready again; its fault handler takes the message in the next kernel piece.
    if (fn === FN_WRITE) {
      this.next(k, 'wrote', cpu, sys.receiveCost('write', r.server, cpu.id));
      return;
    }
    if (r.status !== 'ok') {
      this.next(k, 'read', cpu, 0);
      return;
    }
    this.next(
      k,
      'read',
      cpu,
      sys.receiveCost('read', r.server, cpu.id) + c.mapInstall + c.exceptionEntryExit / 2,
    );
  }

  /** The page is in (zeros or `data`): map it, and the thread returns to its access. */
  private finish(k: KFault, cpu: Cpu, now: number, data: Uint8Array | null): void {
    const sys = this.sys;
    const pin = k.pin!;
    k.pin = null;
    if (k.reply && k.reply.status !== 'ok') {
      const r = k.reply;
      sys.mem.pageInFailed(pin);
      this.wakeWaiters(pin.unit);
      this.fail(k, cpu, this.failText(r, 'read', pin.sources[0]!.kind === 'file', k.va));
      return;
    }
    sys.parts.machine.core.phys.writeBytes(this.paOf(pin.frame), sys.mem.unitBytes, data);
    sys.mem.pageInDone(pin);
    this.wakeWaiters(pin.unit);
    this.resume(k, cpu, now, pin.major);
  }

  /** Installs the mapping of the faulting page and makes the thread ready. */
  private resume(k: KFault, _cpu: Cpu, now: number, major = false): void {
    const sys = this.sys;
    const m = sys.parts.machine;
    const mem = sys.mem;
    const unit = mem.unitOf(k.va);
    const f = mem.frameOf(unit);
    const range = mem.options.mmaps.find(k.va);
    const sizeLog2 = Math.log2(mem.unitBytes);
    k.t.kernel.pd.pageTable.install(
      new Mapping(unit * mem.unitBytes, this.paOf(f), sizeLog2, !range || range.writable, true),
    );
    this.faults.delete(k.t);
    const latency = now - k.t.faultStart;
    m.faultLatency.record(latency);
    sys.faultDone(k.t, latency, major, major ? k.server : null);
    m.exec.wake(k.t);
  }

  /** Terminates the faulting thread with `text`. */
  private fail(k: KFault, cpu: Cpu, text: string): void {
    this.faults.delete(k.t);
    this.queueOf(k.t).cancel();
    this.sys.terminate(k.t, cpu, `thread '${k.t.kernel.name}' terminated: ${text}`);
  }

  private failText(r: PageTransfer, op: 'read' | 'write', file: boolean, va: number): string {
    return `${transferText(op, file, va)} failed: ${failureText(r, this.sys.timeout)}`;
  }

  /** Flushes the TLB entries of units whose accessed bits clock cleared; returns the cycles. */
  private flushCleared(cpu: number): number {
    const mem = this.sys.mem;
    let cost = 0;
    for (const u of mem.takeCleared()) cost += this.sys.flushTlb(cpu, u * mem.unitBytes, mem.unitBytes);
    return cost;
  }

  /** Threads that waited for `unit` retry their access. */
  private wakeWaiters(unit: number): void {
    const w = this.waiters.get(unit);
    if (!w) return;
    this.waiters.delete(unit);
    for (const t of w) this.sys.parts.machine.exec.wake(t);
  }

  /** Physical address of frame f. */
  paOf(f: number): number {
    if (this.poolBase >= 0) return this.poolBase + f * this.sys.mem.unitBytes;
    let pa = this.framePa[f];
    if (pa === undefined) {
      const a = this.sys.parts.machine.core.phys.alloc(this.sys.mem.unitBytes);
      invariant(a.ok, () => `out of physical memory for frame ${f}`);
      pa = a.value.base;
      this.framePa[f] = pa;
    }
    return pa;
  }
}
