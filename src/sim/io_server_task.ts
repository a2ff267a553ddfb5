/**
 * A block server's thread on the machine (issue 16): a swap provider or the file server, a
 * user-level thread in its own protection domain with one simulated block device. Each step
 * either takes one request from its port and submits it to the device (`blockSubmit`), or sends
 * one reply. A device completion is an interrupt: a kernel job on the server's CPU that polls the
 * device and makes the thread ready. With nothing to do the thread waits for a message (`in-ipc`).
 *
 * Data travels as the design says (`swapData`): **copy** carries the page in a 4100-byte message
 * (the server copies a written page out of the message into its DMA buffer, and a read page into
 * its reply); **map** has the requester map the frame into the server for the transfer, so
 * messages are a few bytes and the copies disappear (the requester pays the mapping and unmapping).
 *
 * A server can die (`kill`): every request it holds, and every later one, fails at once; the kernel
 * knows the port is gone.
 */
import type { BlockServer, ServerCompletion, ServerRequest } from '../components/block_server.js';
import { BLOCK_SIZE } from '../hw/block_device.js';
import type { Thread } from '../kernel/thread.js';
import type { CostModel } from './cost.js';
import type { Cpu, SimTask } from './cpu.js';
import type { EventEngine } from './engine.js';
import type { Executor } from './executor.js';
import type { SwapTimeline } from './swap_timeline.js';

/** A request as it travels: the server request, who waits for it and how to answer. */
export interface IoCall {
  readonly req: ServerRequest;
  /** CPU the requester runs on (the reply is a kernel job there). */
  readonly cpu: number;
  /** The reply arrived on the requester's CPU (c null: the server is dead). */
  replied(c: ServerCompletion | null, now: number): void;
  /** The timeline's flow for this request (0: none). */
  flow: number;
}

/** What a server task needs from the machine. */
export interface IoServerHost {
  readonly engine: EventEngine;
  readonly exec: Executor;
  readonly cpus: readonly Cpu[];
  readonly costs: CostModel;
  readonly mode: 'copy' | 'map';
  readonly drawing: SwapTimeline | null;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
}

/** Kernel jobs shared by every server of a machine. */
export interface IoServerJobs {
  /** A message reached the server's CPU (arg: server index). */
  readonly arrive: number;
  /** A device completion interrupt (arg: server index). */
  readonly irq: number;
  /** A reply reached the requester's CPU (arg: reply number). */
  readonly reply: number;
}

/** Replies on their way to requesters, by the number their kernel job carries (shared by the servers). */
export class ReplyBox {
  private next = 0;
  private readonly pending = new Map<number, () => void>();

  /** Parks a reply; returns its number (a kernel job's 32-bit argument). */
  put(f: () => void): number {
    const key = this.next;
    this.next = (this.next + 1) % 2 ** 31;
    this.pending.set(key, f);
    return key;
  }

  /** Takes the reply with this number. */
  take(key: number): () => void {
    const f = this.pending.get(key)!;
    this.pending.delete(key);
    return f;
  }
}

/** Registers the kernel jobs of I/O servers on an executor. */
export function defineIoServerJobs(exec: Executor, replies: ReplyBox): IoServerJobs {
  return {
    arrive: exec.defineJob(
      (_c, arg) => (exec.taskAtIndex(arg) as IoServerTask).wakeUp(),
      'IPI: message to provider',
    ),
    irq: exec.defineJob(
      (_c, arg, now) => (exec.taskAtIndex(arg) as IoServerTask).interrupt(now),
      'disk interrupt',
    ),
    reply: exec.defineJob((_c, arg) => replies.take(arg)(), 'provider reply'),
  };
}

/** Counters of one server task. */
export interface IoServerCounters {
  requests: number;
  replies: number;
  interrupts: number;
  /** Requests failed because the server was dead. */
  refused: number;
}

/** One server thread; see the module comment. */
export class IoServerTask implements SimTask {
  readonly category = 'driver';
  index = -1;
  left = -1;
  readonly counters: IoServerCounters = { requests: 0, replies: 0, interrupts: 0, refused: 0 };
  dead = false;
  private readonly queue: IoCall[] = [];
  private readonly done: { call: IoCall; c: ServerCompletion }[] = [];
  private readonly inFlight = new Map<number, IoCall>();
  /** What the step in progress does at its end. */
  private action: 'submit' | 'reply' | null = null;
  /** When the next device interrupt is due (Infinity: none armed). */
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(
    readonly kernel: Thread,
    readonly server: BlockServer,
    /** The port (endpoint id) requests are sent to. */
    readonly port: number,
    private readonly host: IoServerHost,
    private readonly jobs: IoServerJobs,
    private readonly replies: ReplyBox,
  ) {}

  /** Requests waiting for the thread, submitted and not answered, and answers not sent. */
  get pending(): number {
    return this.queue.length + this.inFlight.size + this.done.length;
  }

  /**
   * The requester on `from` sends `call` now: it reaches the server's CPU (an IPI when remote).
   * A dead server fails it at once (the reply is the kernel's, on the requester's CPU).
   */
  send(call: IoCall, from: number): void {
    if (this.dead) {
      this.counters.refused++;
      this.answer(call, null, from);
      return;
    }
    this.queue.push(call);
    this.counters.requests++;
    const home = this.kernel.cpu;
    if (home === from) this.wakeUp();
    else this.host.exec.kernel(this.host.cpus[home]!, this.jobs.arrive, this.index, this.host.crossCpu());
  }

  /** A message or a completion is there: a waiting thread becomes ready. */
  wakeUp(): void {
    if (!this.dead && this.kernel.state === 'in-ipc') this.host.exec.wake(this);
  }

  /** The device interrupt: deliver what completed, wake the thread. */
  interrupt(now: number): void {
    this.armedAt = Number.POSITIVE_INFINITY;
    this.counters.interrupts++;
    this.collect(now);
    this.arm();
    this.wakeUp();
  }

  /** The server dies at `now`: everything it holds fails, and so does every later request. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    const calls = [...this.queue, ...this.inFlight.values(), ...this.done.map((d) => d.call)];
    this.queue.length = 0;
    this.inFlight.clear();
    this.done.length = 0;
    for (const call of calls) this.answer(call, null, this.kernel.cpu);
    // The thread is gone: it never runs again (a step in progress ends without effect).
    this.host.exec.block(this, 'dead-fault');
  }

  begin(_cpu: Cpu, _now: number): number {
    const c = this.host.costs;
    const copy = this.host.mode === 'copy';
    const pageCopy = (BLOCK_SIZE / 1024) * c.pageCopyPerKiB;
    if (this.done.length > 0) {
      this.action = 'reply';
      const d = this.done[0]!;
      // A read's page goes into the 4100-byte reply; with map it is already in the frame.
      const data = copy && d.call.req.op === 'read' && d.c.status === 'ok' ? pageCopy : 0;
      return c.kernelEntryExit + c.ipcRoundTrip / 2 + data;
    }
    if (this.queue.length > 0) {
      this.action = 'submit';
      const r = this.queue[0]!.req;
      // Receiving the message; a written page moves from the message into the DMA buffer.
      const data = copy && r.op === 'write' ? pageCopy : 0;
      return c.kernelEntryExit + c.ipcRoundTrip / 2 + data + c.blockSubmit;
    }
    this.action = null;
    this.host.exec.block(this, 'in-ipc');
    return -1;
  }

  end(cpu: Cpu, now: number): void {
    const action = this.action;
    this.action = null;
    if (this.dead) return;
    if (action === 'reply') {
      const { call, c } = this.done.shift()!;
      this.host.drawing?.step(call.flow, cpu.id, cpu.runStart, now);
      this.counters.replies++;
      this.answer(call, c, cpu.id);
    } else if (action === 'submit') {
      const call = this.queue.shift()!;
      this.host.drawing?.step(call.flow, cpu.id, cpu.runStart, now);
      const r = this.server.submit(now, call.req);
      if (!r.ok) {
        this.done.push({ call, c: failed(call.req, now) });
      } else this.inFlight.set(call.req.id, call);
      this.collect(now);
      this.arm();
    }
  }

  /** Completions due by `now` join the replies to send. */
  private collect(now: number): void {
    for (const c of this.server.poll(now)) {
      const call = this.inFlight.get(c.id);
      if (!call) continue;
      this.inFlight.delete(c.id);
      if (!c.cached) this.host.drawing?.device(this.server, c, call.flow);
      this.done.push({ call, c });
    }
  }

  /** Schedules the interrupt of the next device completion. */
  private arm(): void {
    const at = this.server.nextCompletionAt();
    if (!Number.isFinite(at) || at >= this.armedAt) return;
    this.armedAt = at;
    const c = this.host.costs;
    this.host.engine.at(at, () => {
      if (this.armedAt !== at || this.dead) return;
      this.host.exec.kernel(
        this.host.cpus[this.kernel.cpu]!,
        this.jobs.irq,
        this.index,
        c.irqEntry + c.irqAck,
      );
    });
  }

  /** Sends the answer to the requester's CPU: a kernel job there (an IPI when remote). */
  private answer(call: IoCall, c: ServerCompletion | null, from: number): void {
    const key = this.replies.put(() => call.replied(c, this.host.engine.now));
    const cost = this.host.costs.ipcRoundTrip / 2 + (call.cpu === from ? 0 : this.host.crossCpu());
    this.host.exec.kernel(this.host.cpus[call.cpu]!, this.jobs.reply, key, cost);
  }

  toString(): string {
    return `${this.server.name} server (${this.kernel.state}, ${this.pending} requests)`;
  }
}

/** The completion of a request the server could not even submit. */
function failed(req: ServerRequest, now: number): ServerCompletion {
  return {
    id: req.id,
    op: req.op,
    status: 'IO_ERROR',
    data: null,
    submittedAt: now,
    startAt: now,
    completeAt: now,
    cached: true,
    block: -1,
  };
}
