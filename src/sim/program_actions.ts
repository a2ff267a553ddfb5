/**
 * What each action of a program costs and does on the machine (the `ActionHost` of
 * `program_task.ts`). Costs come from the cost model: computation as given, zeroing per KiB, a
 * system call `kernelEntryExit`, each half of an IPC `ipcRoundTrip / 2`, plus the design's extra
 * cost of a kernel entry (a trampoline's address-space switches). Effects happen when the cycles
 * have passed; blocking actions leave the thread blocked until their outcome is delivered.
 */
import type { Action, Port } from '../components/program.js';
import type { AccessType } from '../core/events.js';
import type { SignalContext } from '../core/signal.js';
import type { CostModel } from './cost.js';
import type { Cpu } from './cpu.js';
import type { EventEngine } from './engine.js';
import type { Executor } from './executor.js';
import type { IpcPath } from './ipc_path.js';
import { type ActionHost, type AnyAction, BLOCKED, type ProgramTask } from './program_task.js';

/** A request to core's RPC entrypoint: `run` is what core does; the rest prices it. */
export interface CoreRequest {
  readonly what: Extract<Action, { op: 'core' }>['what'];
  readonly run: () => unknown;
  readonly bytes?: number;
  /** CPU of the caller (whose RAM partition an allocation prefers). */
  readonly cpu: number;
}

/** Page faults sent to a pager or region mapper thread, FIFO. */
export interface FaultInbox<F> {
  readonly queue: F[];
  /** The server thread waiting for the next fault, if it waits. */
  waiter: ProgramTask | null;
}

/** What actions need from the machine. */
export interface ActionsHost {
  readonly engine: EventEngine;
  readonly exec: Executor;
  readonly costs: CostModel;
  readonly ipc: IpcPath;
  /** Extra cost of a kernel entry and exit on `cpu` under the design. */
  kernelEntryCost(cpu: Cpu): number;
  /** Core's next operation happens at `time` on `cpu`; returns the extra cycles it caused. */
  perform(time: number, cpu: number, op: () => void): number;
  /** The port of core's RPC entrypoint that serves callers on `cpu`. */
  corePortFor(cpu: number): Port;
  /** Reserves RAM allocator lock `index` from `now`: the time the caller's turn begins. */
  reserveLock(index: number, now: number): number;
  /** The fault inbox of a pager or region-mapper thread. */
  inboxOf(task: ProgramTask): FaultInbox<unknown>;
  /** Reports a component's failure. */
  error(text: string): void;
  /** The thread ended (its program returned or exited). */
  ended(task: ProgramTask, cpu: Cpu, now: number): void;
  /** A handler took `count` signals at `now` (its run of work begins). */
  signalTaken(task: ProgramTask, now: number, count: number): void;
  /** A handler waits for its next signal at `now` (its run of work ends). */
  signalWaited(task: ProgramTask, now: number): void;
  /** One translation of `va` by t on `cpu`: extra cycles, or -1 when it faults. */
  translate(cpu: Cpu, t: ProgramTask, va: number, access: AccessType): number;
  /** Cycles of a page walk that ends in a fault. */
  readonly walkCycles: number;
  /** t's translation faulted at `now`: the kernel takes the fault. */
  pageFault(cpu: Cpu, t: ProgramTask, now: number): void;
}

/** Charges and performs actions; see the module comment. */
export class ProgramActions implements ActionHost {
  /** Threads waiting for a signal, by context. */
  private readonly signalWaiters = new Map<SignalContext, ProgramTask>();

  constructor(private readonly host: ActionsHost) {}

  /** A signal for `ctx` reached its handler's CPU: a thread waiting for it runs. */
  signalArrived(ctx: SignalContext): void {
    const t = this.signalWaiters.get(ctx);
    if (!t) return;
    this.signalWaiters.delete(ctx);
    t.recharge();
    this.host.exec.wake(t);
  }

  /** A fault arrived in the inbox of `task`: a server waiting for one runs. */
  faultArrived(inbox: FaultInbox<unknown>): void {
    const t = inbox.waiter;
    if (!t) return;
    inbox.waiter = null;
    t.recharge();
    this.host.exec.wake(t);
  }

  charge(t: ProgramTask, a: AnyAction, cpu: Cpu, now: number): number | typeof BLOCKED {
    const { costs, exec } = this.host;
    const entry = () => this.host.kernelEntryCost(cpu);
    const debt = t.debt;
    t.debt = 0;
    switch (a.op) {
      case 'compute':
        return a.cycles + debt;
      case 'zero':
        return (a.bytes / 1024) * costs.pageZeroPerKiB + debt;
      case 'lookup':
        return costs.pagerLookup + debt;
      case 'wait-signal':
        this.host.signalWaited(t, now);
        if (a.ctx.pending > 0) return costs.kernelEntryExit + entry() + debt;
        t.debt = debt;
        this.signalWaiters.set(a.ctx, t);
        exec.block(t, 'waiting-signal');
        return BLOCKED;
      case 'core':
      case 'call':
      case 'reply':
        return costs.ipcRoundTrip / 2 + entry() + debt;
      case 'receive':
        return costs.kernelEntryExit + entry() + debt;
      case 'sleep':
        if (t.armed) return debt;
        t.armed = true;
        t.debt = debt;
        this.later(t, now + a.cycles);
        return BLOCKED;
      case 'error':
      case 'exit':
        return debt;
      case 'wait-io':
        if (a.until.done) return debt;
        t.debt = debt;
        a.until.waiter = () => {
          a.until.waiter = null;
          if (t.finished || t.kernel.state === 'destroyed') return;
          t.recharge();
          exec.wake(t);
        };
        exec.block(t, 'waiting-disk');
        return BLOCKED;
      case 'hang':
        t.debt = debt;
        exec.block(t, 'in-ipc');
        return BLOCKED;
      case 'access': {
        const c = this.host.translate(cpu, t, a.address, a.access);
        if (c >= 0) return c + costs.accessCycles + debt;
        t.accessFaulted = true;
        return this.host.walkCycles + debt;
      }
      case 'perform':
        return a.cycles + debt;
      case 'lock': {
        if (t.armed) return debt;
        t.armed = true;
        const turn = this.host.reserveLock(a.index, now);
        if (turn <= now) return debt;
        t.debt = debt;
        this.later(t, turn);
        return BLOCKED;
      }
      case 'next-fault': {
        const inbox = this.host.inboxOf(t);
        if (inbox.queue.length > 0) return debt;
        t.debt = debt;
        inbox.waiter = t;
        exec.block(t, 'in-ipc');
        return BLOCKED;
      }
    }
  }

  perform(t: ProgramTask, a: AnyAction, cpu: Cpu, now: number): unknown {
    const { ipc } = this.host;
    switch (a.op) {
      case 'wait-signal': {
        const n = a.ctx.take();
        this.host.signalTaken(t, now, n);
        return n;
      }
      case 'core': {
        const msg: CoreRequest = { what: a.what, run: a.run, bytes: a.bytes, cpu: cpu.id };
        return ipc.call(t, this.host.corePortFor(cpu.id), msg, undefined, now) ?? BLOCKED;
      }
      case 'call':
        return ipc.call(t, a.port, a.msg, a.timeout, now) ?? BLOCKED;
      case 'receive':
        return ipc.receive(t, a.port) ?? BLOCKED;
      case 'reply':
        ipc.reply(t, a.port, a.msg);
        return undefined;
      case 'error':
        this.host.error(a.text);
        return undefined;
      case 'exit':
        this.host.ended(t, cpu, now);
        return BLOCKED;
      case 'perform': {
        let result: unknown;
        t.debt += this.host.perform(now, cpu.id, () => {
          result = a.run();
        });
        return result;
      }
      case 'next-fault':
        return this.host.inboxOf(t).queue.shift();
      case 'access':
        if (!t.accessFaulted) return undefined;
        t.accessFaulted = false;
        // The thread blocks in the fault; when it is resolved the access is charged again.
        this.host.pageFault(cpu, t, now);
        return BLOCKED;
      default:
        return undefined;
    }
  }

  ended(t: ProgramTask, cpu: Cpu, now: number): void {
    this.host.ended(t, cpu, now);
  }

  /** Blocks t off the CPU until `at`, when the same action is charged again. */
  private later(t: ProgramTask, at: number): void {
    const { exec, engine } = this.host;
    exec.block(t, 'in-ipc');
    engine.at(at, () => {
      if (t.finished || t.kernel.state === 'destroyed') return;
      t.recharge();
      exec.wake(t);
    });
  }
}
