/**
 * The bookkeeping records of an IPC endpoint (`ipc.ts`): a pending call, a server waiting in
 * receive, the transition an operation builds, and the pure scans over them that deadlines need
 * (the earliest one, and which are due, in firing order). Kept apart so that `ipc.ts` holds the
 * endpoint's state machine itself; nothing here is public API.
 */
import type { EndpointStats, IpcEvent } from './ipc_types.js';
import type { Thread } from './thread.js';

/** A call from `caller`: queued to send while `server` is null, then taken by `server`. */
export interface PendingCall<Req> {
  readonly id: number;
  /** When it started, in the endpoint's order of calls and receives (ties in `expire`). */
  readonly seq: number;
  readonly caller: Thread;
  readonly msg: Req;
  readonly sendDeadline: number;
  readonly replyDeadline: number;
  server: Thread | null;
}

/** A server blocked in receive. */
export interface Waiter {
  readonly server: Thread;
  readonly deadline: number;
  readonly seq: number;
}

/** The transition an operation builds up. */
export type Mut<Req, Rep> = { wake: Thread[]; block: Thread[]; events: IpcEvent<Req, Rep>[] };

/** An empty transition. */
export function mut<Req, Rep>(): Mut<Req, Rep> {
  return { wake: [], block: [], events: [] };
}

/** Counters of a new endpoint. */
export function zeroEndpointStats(): EndpointStats {
  return {
    calls: 0,
    handedOver: 0,
    replies: 0,
    sendTimeouts: 0,
    replyTimeouts: 0,
    receiveTimeouts: 0,
    aborted: 0,
    repliesDropped: 0,
    discarded: 0,
  };
}

/** A deadline no time can be: NaN or negative. */
export function badDeadline(d: number): boolean {
  return Number.isNaN(d) || d < 0;
}

/** The earliest deadline of queued calls, taken calls and waiting servers, or null when none can pass. */
export function earliestDeadline<Req>(
  sendQueue: readonly PendingCall<Req>[],
  taken: ReadonlyMap<Thread, readonly PendingCall<Req>[]>,
  waiters: readonly Waiter[],
): number | null {
  let min = Number.POSITIVE_INFINITY;
  for (const pc of sendQueue) min = Math.min(min, pc.sendDeadline);
  for (const list of taken.values()) for (const pc of list) min = Math.min(min, pc.replyDeadline);
  for (const w of waiters) min = Math.min(min, w.deadline);
  return Number.isFinite(min) ? min : null;
}

/** A timeout that is due: its deadline, when what it ends started, and the endpoint's handler. */
export type Due = { deadline: number; seq: number; fire: () => void };

/**
 * Everything whose deadline is <= now, ordered by deadline then by when it started: queued calls
 * (send deadline), taken calls (reply deadline) and waiting servers (receive deadline), each bound
 * to the handler `on` gives for its kind. Collected before any fires, so firing cannot reorder it.
 */
export function dueTimeouts<Req>(
  now: number,
  sendQueue: readonly PendingCall<Req>[],
  taken: ReadonlyMap<Thread, readonly PendingCall<Req>[]>,
  waiters: readonly Waiter[],
  on: {
    send: (pc: PendingCall<Req>) => void;
    reply: (pc: PendingCall<Req>) => void;
    receive: (w: Waiter) => void;
  },
): Due[] {
  const due: Due[] = [];
  for (const pc of sendQueue) {
    if (pc.sendDeadline <= now) due.push({ deadline: pc.sendDeadline, seq: pc.seq, fire: () => on.send(pc) });
  }
  for (const list of taken.values()) {
    for (const pc of list) {
      if (pc.replyDeadline <= now)
        due.push({ deadline: pc.replyDeadline, seq: pc.seq, fire: () => on.reply(pc) });
    }
  }
  for (const w of waiters) {
    if (w.deadline <= now) due.push({ deadline: w.deadline, seq: w.seq, fire: () => on.receive(w) });
  }
  due.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
  return due;
}
