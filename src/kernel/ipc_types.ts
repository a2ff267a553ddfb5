/**
 * The vocabulary of synchronous IPC (see `ipc.ts`): error codes, deadlines, the events an endpoint
 * reports and its counters. Kept apart so the simulator and reports can import the types alone.
 */
import type { Thread, Transition } from './thread.js';

/** Errors of IPC operations (nothing changes). */
export type IpcErrorCode =
  | 'THREAD_BLOCKED'
  | 'THREAD_DESTROYED'
  | 'NO_REPLY_PENDING'
  | 'INVALID_DEADLINE'
  | 'ENDPOINT_DESTROYED';

/** Why a call or receive ended without a message: its deadline passed, or the partner or endpoint died. */
export type IpcFailure = 'IPC_TIMEOUT' | 'IPC_ABORTED';

/** Deadlines of a call (absolute virtual time; omitted or Infinity = never). */
export interface CallOptions {
  /** A server must have taken the message by then, else IPC_TIMEOUT and the message is lost. */
  readonly sendDeadline?: number;
  /** Once taken, the reply must arrive by then, else IPC_TIMEOUT (a later reply is dropped). */
  readonly replyDeadline?: number;
}

/** Deadline of a receive (absolute virtual time): the L4 receive timeout that timer drivers use. */
export interface ReceiveOptions {
  readonly deadline?: number;
}

/** What happened in an IPC transition. `call` is the id returned by `call`. */
export type IpcEvent<Req, Rep> =
  | {
      readonly kind: 'received';
      readonly server: Thread;
      readonly caller: Thread;
      readonly call: number;
      readonly msg: Req;
    }
  | {
      readonly kind: 'replied';
      readonly server: Thread;
      readonly caller: Thread;
      readonly call: number;
      readonly msg: Rep;
    }
  | {
      readonly kind: 'call-failed';
      readonly caller: Thread;
      readonly call: number;
      readonly code: IpcFailure;
      /** 'send': still queued, the message is lost; 'reply': the server had it but did not answer. */
      readonly phase: 'send' | 'reply';
      readonly msg: Req;
      readonly message: string;
    }
  | {
      readonly kind: 'receive-failed';
      readonly server: Thread;
      readonly code: IpcFailure;
      readonly message: string;
    }
  | { readonly kind: 'reply-dropped'; readonly server: Thread; readonly msg: Rep; readonly message: string };

/** The transition an IPC operation caused. */
export type IpcOutcome<Req, Rep> = Transition<IpcEvent<Req, Rep>>;

/** Per-endpoint counters. */
export interface EndpointStats {
  calls: number;
  /** Calls that found a waiting server (no queueing). */
  handedOver: number;
  replies: number;
  /** Calls whose send deadline passed while queued: the messages lost. */
  sendTimeouts: number;
  replyTimeouts: number;
  receiveTimeouts: number;
  /** Calls and receives ended by the death of the partner or the endpoint. */
  aborted: number;
  /** Replies with nobody to take them (caller timed out, died, or never called). */
  repliesDropped: number;
  /** Calls discarded because their caller was destroyed. */
  discarded: number;
}
