/**
 * Synchronous IPC endpoints (L4 call / receive / reply) as a timeless state machine. A caller
 * blocks `in-ipc` until its reply; if a server waits, the message is handed over at once, else
 * the caller queues FIFO. Optional timeouts are absolute deadlines in virtual cycles that the
 * simulator passes in and enforces by calling `expire(now)` (schedule it at `nextDeadline()`).
 *
 * Seed 001: a send deadline that passes while the caller is still queued fails the call with
 * IPC_TIMEOUT and the message is lost (too short loses messages); a long or missing deadline
 * leaves the caller blocked for as long as the server does not run (too long stalls).
 *
 * Every operation returns the transition it caused (threads woken and blocked, plus events
 * saying which message went where), so the simulator can charge costs and draw the timeline.
 * The call and waiter records and the deadline scans are in `ipc_records.ts`.
 */
import { err, ok, type Result } from '../util/result.js';
import type { Mut, PendingCall, Waiter } from './ipc_records.js';
import { badDeadline, dueTimeouts, earliestDeadline, mut, zeroEndpointStats } from './ipc_records.js';
import type {
  CallOptions,
  EndpointStats,
  IpcErrorCode,
  IpcFailure,
  IpcOutcome,
  ReceiveOptions,
} from './ipc_types.js';
import type { Thread, ThreadHolder, Transition } from './thread.js';

export type {
  CallOptions,
  EndpointStats,
  IpcErrorCode,
  IpcEvent,
  IpcFailure,
  IpcOutcome,
  ReceiveOptions,
} from './ipc_types.js';

/** A synchronous IPC endpoint with request type `Req` and reply type `Rep`. */
export class Endpoint<Req = unknown, Rep = unknown> implements ThreadHolder {
  readonly stats: EndpointStats = zeroEndpointStats();
  private destroyed = false;
  private seq = 0;
  private nextCall = 0;
  /** Callers in the send phase, FIFO. */
  private readonly sendQueue: PendingCall<Req>[] = [];
  /** Servers blocked in receive, FIFO. */
  private readonly waiters: Waiter[] = [];
  /** Each caller's outstanding call (send or reply phase). */
  private readonly callOf = new Map<Thread, PendingCall<Req>>();
  /** Calls a server has taken and not answered, in the order taken. */
  private readonly taken = new Map<Thread, PendingCall<Req>[]>();

  constructor(
    readonly id: number,
    readonly label: string,
  ) {}

  /**
   * Sends `msg` and blocks the caller `in-ipc` until the reply. A waiting server (the longest
   * waiting) takes it at once and becomes ready; otherwise the caller queues FIFO. The outcome's
   * `call` identifies the call in later events.
   */
  call(
    caller: Thread,
    msg: Req,
    opts: CallOptions = {},
  ): Result<IpcOutcome<Req, Rep> & { call: number }, IpcErrorCode> {
    const v = this.runnable(caller, 'call');
    if (!v.ok) return v;
    const sendDeadline = opts.sendDeadline ?? Number.POSITIVE_INFINITY;
    const replyDeadline = opts.replyDeadline ?? Number.POSITIVE_INFINITY;
    for (const d of [sendDeadline, replyDeadline])
      if (badDeadline(d)) return this.invalidDeadline(caller, 'call', d);
    const out = mut<Req, Rep>();
    const pc: PendingCall<Req> = {
      id: this.nextCall++,
      seq: this.seq++,
      caller,
      msg,
      sendDeadline,
      replyDeadline,
      server: null,
    };
    this.stats.calls++;
    caller.state = 'in-ipc';
    out.block.push(caller);
    this.callOf.set(caller, pc);
    caller.hold(this);
    const w = this.waiters.shift();
    if (w) {
      this.stats.handedOver++;
      w.server.state = 'ready';
      out.wake.push(w.server);
      this.handOver(pc, w.server, out);
    } else {
      this.sendQueue.push(pc);
    }
    return ok({ ...out, call: pc.id });
  }

  /**
   * The server waits for a call: it takes the head of the queue at once (and stays runnable), or
   * blocks `in-ipc` until a caller arrives (or its deadline passes).
   */
  receive(server: Thread, opts: ReceiveOptions = {}): Result<IpcOutcome<Req, Rep>, IpcErrorCode> {
    const v = this.runnable(server, 'receive');
    if (!v.ok) return v;
    const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
    if (badDeadline(deadline)) return this.invalidDeadline(server, 'receive', deadline);
    const out = mut<Req, Rep>();
    this.receiveInto(server, deadline, out);
    return ok(out);
  }

  /**
   * Answers a call the server took: `caller` if given, else the one it took last (L4's implicit
   * reply partner). The caller becomes ready with `msg`. NO_REPLY_PENDING when there is none (the
   * caller timed out or died): nothing changes and the reply is lost.
   */
  reply(server: Thread, msg: Rep, caller?: Thread): Result<IpcOutcome<Req, Rep>, IpcErrorCode> {
    const v = this.runnable(server, 'reply');
    if (!v.ok) return v;
    const list = this.taken.get(server) ?? [];
    const i = caller ? list.findIndex((pc) => pc.caller === caller) : list.length - 1;
    if (i < 0) {
      const whom = caller ? `${caller}` : 'any caller';
      return err('NO_REPLY_PENDING', `${server} has no call from ${whom} to answer on ${this}`);
    }
    const out = mut<Req, Rep>();
    this.answer(server, i, msg, out);
    return ok(out);
  }

  /**
   * The L4 fast path: answer the last call taken (a missing caller only drops the reply and is
   * reported as 'reply-dropped'), then receive as `receive` does.
   */
  replyAndWait(
    server: Thread,
    msg: Rep,
    opts: ReceiveOptions = {},
  ): Result<IpcOutcome<Req, Rep>, IpcErrorCode> {
    const v = this.runnable(server, 'reply and wait');
    if (!v.ok) return v;
    const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
    if (badDeadline(deadline)) return this.invalidDeadline(server, 'receive', deadline);
    const out = mut<Req, Rep>();
    const list = this.taken.get(server) ?? [];
    if (list.length > 0) this.answer(server, list.length - 1, msg, out);
    else {
      this.stats.repliesDropped++;
      out.events.push({
        kind: 'reply-dropped',
        server,
        msg,
        message: `${server} replied on ${this} but no caller waits for it (timed out, destroyed or never called)`,
      });
    }
    this.receiveInto(server, deadline, out);
    return ok(out);
  }

  /**
   * Fails everything whose deadline is <= now, ordered by deadline then by when it started:
   * queued callers (IPC_TIMEOUT, message lost), callers waiting for a reply (IPC_TIMEOUT, a late
   * reply is dropped) and waiting servers (IPC_TIMEOUT). They become ready.
   */
  expire(now: number): IpcOutcome<Req, Rep> {
    const out = mut<Req, Rep>();
    const due = dueTimeouts(now, this.sendQueue, this.taken, this.waiters, {
      send: (pc) => this.timeoutSend(pc, out),
      reply: (pc) => this.timeoutReply(pc, out),
      receive: (w) => this.timeoutReceive(w, out),
    });
    for (const d of due) d.fire();
    return out;
  }

  /** The earliest pending deadline, or null when nothing can time out. */
  nextDeadline(): number | null {
    return earliestDeadline(this.sendQueue, this.taken, this.waiters);
  }

  /**
   * Drops every reference to a thread that is being destroyed (its state is left alone): its
   * queued or taken call is discarded, its receive cancelled, and callers whose calls it had taken
   * are woken with IPC_ABORTED.
   */
  remove(t: Thread): IpcOutcome<Req, Rep> {
    const out = mut<Req, Rep>();
    const pc = this.callOf.get(t);
    if (pc) {
      this.callOf.delete(t);
      this.stats.discarded++;
      if (pc.server) this.untake(pc);
      else this.sendQueue.splice(this.sendQueue.indexOf(pc), 1);
    }
    const wi = this.waiters.findIndex((w) => w.server === t);
    if (wi >= 0) this.waiters.splice(wi, 1);
    for (const p of [...(this.taken.get(t) ?? [])]) {
      this.untake(p);
      this.failCall(p, 'IPC_ABORTED', 'reply', `${t} was destroyed before answering`, out);
      this.stats.aborted++;
    }
    t.release(this);
    return out;
  }

  /** ThreadHolder: see `remove`. */
  unlinkThread(t: Thread): Transition {
    return this.remove(t);
  }

  /** Destroys the endpoint: every caller and waiting server is woken with IPC_ABORTED; later operations fail. */
  destroy(): IpcOutcome<Req, Rep> {
    const out = mut<Req, Rep>();
    if (this.destroyed) return out;
    this.destroyed = true;
    const calls = [...this.callOf.values()].sort((a, b) => a.id - b.id);
    for (const pc of calls) {
      if (pc.server) this.untake(pc);
      else this.sendQueue.splice(this.sendQueue.indexOf(pc), 1);
      this.failCall(pc, 'IPC_ABORTED', pc.server ? 'reply' : 'send', `${this} was destroyed`, out);
      this.stats.aborted++;
    }
    for (const w of this.waiters.splice(0)) {
      w.server.state = 'ready';
      out.wake.push(w.server);
      out.events.push({
        kind: 'receive-failed',
        server: w.server,
        code: 'IPC_ABORTED',
        message: `${this} was destroyed`,
      });
      this.stats.aborted++;
      this.retain(w.server);
    }
    return out;
  }

  /** Callers queued in the send phase, FIFO. */
  queued(): Thread[] {
    return this.sendQueue.map((pc) => pc.caller);
  }

  /** Servers blocked in receive, FIFO. */
  receivers(): Thread[] {
    return this.waiters.map((w) => w.server);
  }

  /** Callers whose calls `server` took and has not answered, in the order taken. */
  awaitingReply(server: Thread): Thread[] {
    return (this.taken.get(server) ?? []).map((pc) => pc.caller);
  }

  /** Where a thread is in this endpoint: queued to send, waiting for a reply, blocked in receive, or not here. */
  phase(t: Thread): 'send' | 'reply' | 'receive' | null {
    const pc = this.callOf.get(t);
    if (pc) return pc.server ? 'reply' : 'send';
    return this.waiters.some((w) => w.server === t) ? 'receive' : null;
  }

  /** The id of a caller's outstanding call, or null. */
  callIdOf(caller: Thread): number | null {
    return this.callOf.get(caller)?.id ?? null;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  toString(): string {
    return `endpoint #${this.id} '${this.label}' (${this.sendQueue.length} queued, ${this.waiters.length} receiving)`;
  }

  private runnable(t: Thread, what: string): Result<void, IpcErrorCode> {
    if (this.destroyed) return err('ENDPOINT_DESTROYED', `${t} cannot ${what} on ${this}: it was destroyed`);
    if (t.state === 'destroyed') return err('THREAD_DESTROYED', `${t} cannot ${what}: it was destroyed`);
    if (t.blocked)
      return err(
        'THREAD_BLOCKED',
        `${t} cannot ${what} on ${this}: it is ${t.state}, expected ready or running`,
      );
    return ok(undefined);
  }

  private invalidDeadline(t: Thread, what: string, d: number): Result<never, IpcErrorCode> {
    return err('INVALID_DEADLINE', `${what} by ${t} on ${this}: deadline ${d} must be a time >= 0`);
  }

  private receiveInto(server: Thread, deadline: number, out: Mut<Req, Rep>): void {
    const pc = this.sendQueue.shift();
    if (pc) {
      this.handOver(pc, server, out);
      return;
    }
    server.state = 'in-ipc';
    out.block.push(server);
    this.waiters.push({ server, deadline, seq: this.seq++ });
    server.hold(this);
  }

  private handOver(pc: PendingCall<Req>, server: Thread, out: Mut<Req, Rep>): void {
    pc.server = server;
    let list = this.taken.get(server);
    if (!list) {
      list = [];
      this.taken.set(server, list);
    }
    list.push(pc);
    server.hold(this);
    out.events.push({ kind: 'received', server, caller: pc.caller, call: pc.id, msg: pc.msg });
  }

  private answer(server: Thread, index: number, msg: Rep, out: Mut<Req, Rep>): void {
    const pc = this.taken.get(server)![index]!;
    this.untake(pc);
    this.callOf.delete(pc.caller);
    pc.caller.state = 'ready';
    this.retain(pc.caller);
    this.stats.replies++;
    out.wake.push(pc.caller);
    out.events.push({ kind: 'replied', server, caller: pc.caller, call: pc.id, msg });
  }

  private timeoutSend(pc: PendingCall<Req>, out: Mut<Req, Rep>): void {
    this.sendQueue.splice(this.sendQueue.indexOf(pc), 1);
    this.stats.sendTimeouts++;
    this.failCall(
      pc,
      'IPC_TIMEOUT',
      'send',
      `no server took it by ${pc.sendDeadline}: the message is lost`,
      out,
    );
  }

  private timeoutReply(pc: PendingCall<Req>, out: Mut<Req, Rep>): void {
    this.untake(pc);
    this.stats.replyTimeouts++;
    this.failCall(pc, 'IPC_TIMEOUT', 'reply', `${pc.server} did not answer by ${pc.replyDeadline}`, out);
  }

  private timeoutReceive(w: Waiter, out: Mut<Req, Rep>): void {
    this.waiters.splice(this.waiters.indexOf(w), 1);
    this.stats.receiveTimeouts++;
    w.server.state = 'ready';
    out.wake.push(w.server);
    out.events.push({
      kind: 'receive-failed',
      server: w.server,
      code: 'IPC_TIMEOUT',
      message: `no call arrived at ${this} by ${w.deadline}`,
    });
    this.retain(w.server);
  }

  /** Ends a call without a reply: the caller becomes ready and learns why. */
  private failCall(
    pc: PendingCall<Req>,
    code: IpcFailure,
    phase: 'send' | 'reply',
    why: string,
    out: Mut<Req, Rep>,
  ): void {
    this.callOf.delete(pc.caller);
    pc.caller.state = 'ready';
    this.retain(pc.caller);
    out.wake.push(pc.caller);
    out.events.push({
      kind: 'call-failed',
      caller: pc.caller,
      call: pc.id,
      code,
      phase,
      msg: pc.msg,
      message: `call #${pc.id} by ${pc.caller} on ${this} failed with ${code}: ${why}`,
    });
  }

  /** Removes a taken call from its server's list. */
  private untake(pc: PendingCall<Req>): void {
    const server = pc.server!;
    const list = this.taken.get(server)!;
    list.splice(list.indexOf(pc), 1);
    if (list.length === 0) this.taken.delete(server);
    this.retain(server);
  }

  /** Keeps `t`'s holder registration in step with whether this endpoint still references it. */
  private retain(t: Thread): void {
    const referenced = this.callOf.has(t) || this.taken.has(t) || this.waiters.some((w) => w.server === t);
    if (referenced) t.hold(this);
    else t.release(this);
  }
}
