/**
 * What a component's thread does, as a program the machine runs: a generator that yields one
 * action at a time (compute, a system call, an RPC) and is resumed with its outcome once the
 * action's cycles have passed and, for a blocking action, once whatever it waited for arrived.
 * Components stay pure: they never see time; the machine charges each action and decides when
 * the thread runs, blocks and wakes.
 *
 * Programs compose with `yield*`: the helpers below yield one action and return its typed outcome,
 * e.g. `const st = yield* coreRpc('fault', () => map.fault())`.
 */
import type { AccessType } from '../core/events.js';
import type { SignalContext } from '../core/signal.js';

/** RPCs to core that the machine knows how to price (core's work on top of the IPC). */
export type CoreRpcName = 'fault' | 'alloc' | 'attach' | 'detach' | 'free' | 'map';

/** An IPC port the machine resolves to a kernel endpoint (a server's request queue). */
export interface Port {
  readonly id: number;
  readonly label: string;
}

/** How a call ended: the reply, or a failure (the deadline passed, or the partner or endpoint died). */
export type CallOutcome<R = unknown> =
  | { readonly ok: true; readonly reply: R }
  | { readonly ok: false; readonly code: 'IPC_TIMEOUT' | 'IPC_ABORTED'; readonly message: string };

/**
 * An I/O the program waits for (a page transfer to a swap provider): whoever completes it sets
 * `done` and calls `waiter`, which the machine sets while the thread waits.
 */
export interface IoWait {
  done: boolean;
  waiter: (() => void) | null;
}

/** A request a server received, with its caller's name (for the report and for replies). */
export interface Received<M = unknown> {
  readonly msg: M;
  readonly from: string;
}

/** One action of a program. */
export type Action =
  /** Plain computation of `cycles`. */
  | { readonly op: 'compute'; readonly cycles: number }
  /** Zero-filling `bytes` of fresh memory. */
  | { readonly op: 'zero'; readonly bytes: number }
  /** A lookup in a region map the component keeps itself (a local region mapper's, a manager's). */
  | { readonly op: 'lookup' }
  /** Wait for a signal on `ctx`; resumes with the coalesced count (≥ 1). */
  | { readonly op: 'wait-signal'; readonly ctx: SignalContext }
  /** An RPC to core: core's entrypoint runs `run` and the program resumes with its result. */
  | { readonly op: 'core'; readonly what: CoreRpcName; readonly run: () => unknown; readonly bytes?: number }
  /** A synchronous IPC call; resumes with a {@link CallOutcome}. `timeout` in cycles (default never). */
  | { readonly op: 'call'; readonly port: Port; readonly msg: unknown; readonly timeout?: number }
  /** Wait for a request on `port`; resumes with a {@link Received}. */
  | { readonly op: 'receive'; readonly port: Port }
  /** Answer the request received last. */
  | { readonly op: 'reply'; readonly port: Port; readonly msg: unknown }
  /** Do nothing for `cycles`, off the CPU (a misbehaving party replying late). */
  | { readonly op: 'sleep'; readonly cycles: number }
  /** Wait off the CPU, in `waiting-disk`, until `until` is done. */
  | { readonly op: 'wait-io'; readonly until: IoWait }
  /** Block for ever, off the CPU (a misbehaving party that never answers). */
  | { readonly op: 'hang' }
  /** Touch `address` of the thread's own address space (it may fault, like any thread). */
  | { readonly op: 'access'; readonly address: number; readonly access: AccessType }
  /** A failure the program cannot recover from: reported, and the thread stops. */
  | { readonly op: 'error'; readonly text: string }
  /** The thread ends (it dies: its pending calls are aborted, its clients see IPC_ABORTED). */
  | { readonly op: 'exit' };

/** A component thread's program. */
export type Program = Generator<Action, void, unknown>;

/** Computes for `cycles`. */
export function* compute(cycles: number): Generator<Action, void, unknown> {
  yield { op: 'compute', cycles };
}

/** Zero-fills `bytes`. */
export function* zero(bytes: number): Generator<Action, void, unknown> {
  yield { op: 'zero', bytes };
}

/** Looks an address up in a region map the component keeps itself. */
export function* lookup(): Generator<Action, void, unknown> {
  yield { op: 'lookup' };
}

/** Waits for a signal on `ctx`; returns how many were coalesced. */
export function* waitSignal(ctx: SignalContext): Generator<Action, number, unknown> {
  return (yield { op: 'wait-signal', ctx }) as number;
}

/** Calls core: `run` happens in core's entrypoint, when core serves the call. */
export function* coreRpc<T>(what: CoreRpcName, run: () => T, bytes?: number): Generator<Action, T, unknown> {
  return (yield bytes === undefined ? { op: 'core', what, run } : { op: 'core', what, run, bytes }) as T;
}

/** Calls a server synchronously. */
export function* call<R>(
  port: Port,
  msg: unknown,
  timeout?: number,
): Generator<Action, CallOutcome<R>, unknown> {
  return (yield timeout === undefined
    ? { op: 'call', port, msg }
    : { op: 'call', port, msg, timeout }) as CallOutcome<R>;
}

/** Waits for the next request on `port`. */
export function* receive<M>(port: Port): Generator<Action, Received<M>, unknown> {
  return (yield { op: 'receive', port }) as Received<M>;
}

/** Answers the request received last on `port`. */
export function* reply(port: Port, msg: unknown): Generator<Action, void, unknown> {
  yield { op: 'reply', port, msg };
}

/** Blocks for ever. */
export function* hang(): Generator<Action, void, unknown> {
  yield { op: 'hang' };
}

/** Touches `address` of the thread's own address space. */
export function* touch(address: number, access: AccessType): Generator<Action, void, unknown> {
  yield { op: 'access', address, access };
}

/** Sleeps off the CPU for `cycles`. */
export function* sleep(cycles: number): Generator<Action, void, unknown> {
  yield { op: 'sleep', cycles };
}

/** Waits off the CPU until `until` is done (at once when it is). */
export function* waitIo(until: IoWait): Generator<Action, void, unknown> {
  yield { op: 'wait-io', until };
}
