/**
 * Synchronous IPC on the machine: ports are the kernel's endpoints (`kernel/ipc.ts`), and the
 * threads that call, receive and reply on them are program threads. The endpoint decides who
 * blocks and who is handed what; this module turns its transitions into time: a message or reply
 * that wakes a thread on another CPU arrives there as an IPI (a kernel job), and a call's deadline
 * fires as an engine event that expires the endpoint.
 *
 * Calling a port needs a capability to it. Every call checks it and records who called whom in the
 * trust log, so the rights a design needs are read off what ran (`faultline designs --trust`).
 */
import type { CallOutcome, Port, Received } from '../components/program.js';
import { Endpoint, type IpcOutcome } from '../kernel/ipc.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { InvariantError } from '../util/result.js';
import type { Cpu } from './cpu.js';
import type { EventEngine } from './engine.js';
import type { Executor } from './executor.js';
import type { ProgramTask } from './program_task.js';
import type { TrustLog } from './trust.js';

/** What IPC needs from the machine. */
export interface IpcHost {
  readonly engine: EventEngine;
  readonly exec: Executor;
  readonly cpus: readonly Cpu[];
  readonly trust: TrustLog;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
}

/** Counters of IPC on the machine. */
export interface IpcCounters {
  calls: number;
  replies: number;
  /** Calls whose deadline passed before a server took them: the messages lost. */
  lostMessages: number;
  /** Calls whose deadline passed while the server had them (a late reply is dropped). */
  replyTimeouts: number;
  /** Calls ended by the death of the server or the endpoint. */
  aborted: number;
  /** Replies that found nobody waiting (the caller timed out or died): wasted work. */
  droppedReplies: number;
  /** Cycles servers spent on the requests whose replies were dropped (from taking one to replying). */
  wastedCycles: number;
}

/** Wake-ups by the kernel's timer happen on the waiter's own CPU. */
const LOCAL = -1;

interface PortState {
  readonly port: Port;
  readonly ep: Endpoint<unknown, unknown>;
  readonly owner: ProtectionDomain;
  /** PDs holding a capability to call the port. */
  readonly callers: Set<ProtectionDomain>;
  /** Time of the pending expiry event, or Infinity. */
  armedAt: number;
}

/** IPC ports on one machine; see the module comment. */
export class IpcPath {
  readonly counters: IpcCounters = {
    calls: 0,
    replies: 0,
    lostMessages: 0,
    replyTimeouts: 0,
    aborted: 0,
    droppedReplies: 0,
    wastedCycles: 0,
  };
  private readonly ports: PortState[] = [];
  /** Cycles each server thread had been charged when it took its current request. */
  private readonly takenAt = new Map<Thread, number>();
  private readonly jWake: number;

  constructor(private readonly host: IpcHost) {
    this.jWake = host.exec.defineJob((_cpu, arg) => host.exec.wake(host.exec.taskAtIndex(arg)), 'IPI: IPC');
  }

  /** A new port served by threads of `owner`; only `owner` may call it until `grant`. */
  port(label: string, owner: ProtectionDomain): Port {
    const port: Port = { id: this.ports.length, label };
    this.ports.push({
      port,
      ep: new Endpoint(port.id, label),
      owner,
      callers: new Set([owner]),
      armedAt: Number.POSITIVE_INFINITY,
    });
    return port;
  }

  /** Gives `pd` a capability to call `port`. */
  grant(port: Port, pd: ProtectionDomain): void {
    this.state(port).callers.add(pd);
  }

  /** The PD serving `port`. */
  ownerOf(port: Port): ProtectionDomain {
    return this.state(port).owner;
  }

  /**
   * Task t calls `port` at `now` (it blocks until the reply, a timeout or an abort). Returns an
   * outcome at once only when the call cannot even start (no capability, a dead endpoint).
   */
  call(
    t: ProgramTask,
    port: Port,
    msg: unknown,
    timeout: number | undefined,
    now: number,
  ): CallOutcome | null {
    const s = this.state(port);
    const pd = t.kernel.pd;
    if (!s.callers.has(pd)) {
      return {
        ok: false,
        code: 'IPC_ABORTED',
        message: `${pd.label} holds no capability to call '${port.label}' of ${s.owner.label}`,
      };
    }
    this.host.trust.record(pd.label, s.owner.label, 'call', port.label);
    const deadline = timeout === undefined ? undefined : now + timeout;
    const r = s.ep.call(t.kernel, msg, { sendDeadline: deadline, replyDeadline: deadline });
    if (!r.ok) return { ok: false, code: 'IPC_ABORTED', message: r.message };
    this.counters.calls++;
    this.apply(s, r.value, t.kernel.cpu);
    return null;
  }

  /** Task t waits for a request on `port`: the request at once, or null (t blocks until one comes). */
  receive(t: ProgramTask, port: Port): Received | null {
    const s = this.state(port);
    const r = s.ep.receive(t.kernel);
    if (!r.ok) throw new InvariantError(`receive on '${port.label}': ${r.message}`);
    let got: Received | null = null;
    for (const e of r.value.events) {
      if (e.kind === 'received' && e.server === t.kernel) {
        got = { msg: e.msg, from: e.caller.pd.label };
        this.takenAt.set(t.kernel, t.charged);
      }
    }
    this.apply(s, { ...r.value, events: r.value.events.filter((e) => e.kind !== 'received') }, t.kernel.cpu);
    return got;
  }

  /** Task t answers the request it took last on `port`. */
  reply(t: ProgramTask, port: Port, msg: unknown): void {
    const s = this.state(port);
    const r = s.ep.reply(t.kernel, msg);
    if (!r.ok) {
      // The caller timed out or died meanwhile: the reply, and the work behind it, is wasted.
      if (r.code === 'NO_REPLY_PENDING') {
        this.counters.droppedReplies++;
        this.counters.wastedCycles += t.charged - (this.takenAt.get(t.kernel) ?? t.charged);
      } else throw new InvariantError(`reply on '${port.label}': ${r.message}`);
      return;
    }
    this.counters.replies++;
    this.apply(s, r.value, t.kernel.cpu);
  }

  /** A thread that dies leaves every port: its callers see IPC_ABORTED. */
  remove(t: Thread): void {
    for (const s of this.ports) {
      if (s.ep.phase(t) === null && s.ep.awaitingReply(t).length === 0) continue;
      this.apply(s, s.ep.remove(t), t.cpu);
    }
  }

  private state(port: Port): PortState {
    const s = this.ports[port.id];
    if (s === undefined || s.port !== port) throw new InvariantError(`unknown port '${port.label}'`);
    return s;
  }

  /** Turns an endpoint transition into outcomes, blocked threads, wake-ups and a deadline timer. */
  private apply(s: PortState, out: IpcOutcome<unknown, unknown>, fromCpu: number): void {
    const exec = this.host.exec;
    for (const t of out.block) {
      const task = exec.taskOf(t);
      if (task) exec.block(task, 'in-ipc');
    }
    for (const e of out.events) {
      if (e.kind === 'received') {
        const server = exec.taskOf(e.server) as ProgramTask | undefined;
        if (server) this.takenAt.set(e.server, server.charged);
        this.wake(e.server, { msg: e.msg, from: e.caller.pd.label }, fromCpu);
      } else if (e.kind === 'replied') this.wake(e.caller, { ok: true, reply: e.msg }, fromCpu);
      else if (e.kind === 'call-failed') {
        if (e.code === 'IPC_ABORTED') this.counters.aborted++;
        else if (e.phase === 'send') this.counters.lostMessages++;
        else this.counters.replyTimeouts++;
        this.wake(e.caller, { ok: false, code: e.code, message: e.message }, fromCpu);
      } else if (e.kind === 'receive-failed') this.wake(e.server, null, fromCpu);
      else if (e.kind === 'reply-dropped') this.counters.droppedReplies++;
    }
    this.arm(s);
  }

  /** Delivers an outcome to a blocked program thread; across CPUs it arrives as an IPI. */
  private wake(t: Thread, outcome: unknown, fromCpu: number): void {
    const exec = this.host.exec;
    const task = exec.taskOf(t) as ProgramTask | undefined;
    if (!task) return;
    task.deliver(outcome);
    if (fromCpu === LOCAL || t.cpu === fromCpu) exec.wake(task);
    else exec.kernel(this.host.cpus[t.cpu]!, this.jWake, task.index, this.host.crossCpu());
  }

  /** Schedules the endpoint's expiry at its next deadline (once per deadline). */
  private arm(s: PortState): void {
    const next = s.ep.nextDeadline();
    if (next === null || next >= s.armedAt) return;
    s.armedAt = next;
    const engine = this.host.engine;
    engine.at(Math.max(next, engine.now), () => {
      s.armedAt = Number.POSITIVE_INFINITY;
      // The kernel's timer fires on each waiter's own CPU: no IPI.
      this.apply(s, s.ep.expire(engine.now), LOCAL);
    });
  }
}
