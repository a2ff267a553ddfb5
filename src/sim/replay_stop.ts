/**
 * Why a replay stopped before the end of its trace. A traced thread dies on an access nobody can
 * serve (the null page, the kernel half, an address the architecture cannot have): a real program
 * would get a segmentation fault there. Or it waits for ever on a fault handler that failed (RAM
 * ran out). Either way the records after it are not replayed, and the result says so (`stopped`
 * in docs/OUTPUT.md) instead of counting on silently or tripping over the unconsumed records.
 */
import type { AccessType } from '../core/events.js';
import type { Arch } from '../hw/arch.js';
import { hex } from '../util/hex.js';
import type { SimThread } from './sim_thread.js';

/**
 * Why a thread stopped, for a thread that died, by what was wrong with the address:
 * - `null-page`: below the first page (a null-pointer access);
 * - `kernel-half`: a canonical upper-half address of a 64-bit architecture, above the user
 *   address space (e.g. the vsyscall page 0xffffffffff600000);
 * - `non-canonical`: on a 64-bit architecture, an address whose upper bits are not the sign
 *   extension of its top virtual-address bit (hardware raises a general protection fault);
 * - `beyond-address-space`: on a 32-bit architecture, an address of 4G or more (or negative);
 * - `above-user-space`: inside the architecture's range, above the traced program's memory;
 * - `unresolved`: any other fault core could not resolve;
 *
 * and for a thread blocked for ever, `handler-failed`: its fault handler failed, or `fault-lost`:
 * the fault was given up (a synchronous design's call to a dataspace manager timed out or was
 * aborted, so nobody will ever resolve it).
 */
export type StopCause =
  | 'null-page'
  | 'kernel-half'
  | 'non-canonical'
  | 'beyond-address-space'
  | 'above-user-space'
  | 'unresolved'
  | 'handler-failed'
  | 'fault-lost';

/** Why a run stopped before the end of its trace (`stopped` of `faultline replay --json`). */
export interface ReplayStop {
  /**
   * `thread-died`: an access nobody could serve killed the traced thread; `thread-blocked`: the
   * thread waits for ever for a fault handler that failed.
   */
  readonly reason: 'thread-died' | 'thread-blocked';
  /** Name of the thread. */
  readonly thread: string;
  /** 1-based position in the trace of the record it stopped at; the records from it on were not replayed. */
  readonly record: number;
  /** The faulting address as 64-bit hex (`0xffffffffff600000`). */
  readonly address: string;
  readonly access: AccessType;
  readonly cause: StopCause;
  /** Core's error text for the fault, or the failed handler's, worded like Genode's. */
  readonly error: string;
}

/**
 * Classifies an address no mapping could serve, for a program whose memory spans
 * `page..userTop` on `arch` (64-bit architectures, vaBits >= 39, split their space in halves).
 */
export function addressCause(arch: Arch, userTop: number, page: number, va: number): StopCause {
  if (va >= 0 && va < page) return 'null-page';
  if (arch.vaBits >= 39) {
    const half = 2 ** (arch.vaBits - 1);
    if (va >= half || va < -half) return 'non-canonical';
    if (va < 0) return 'kernel-half';
  } else if (va < 0 || va >= 2 ** arch.vaBits) return 'beyond-address-space';
  return va >= userTop ? 'above-user-space' : 'unresolved';
}

/** Words for a cause, e.g. for `stopped: ... (the null page)`. */
export function describeCause(cause: StopCause, arch: Arch): string {
  switch (cause) {
    case 'null-page':
      return 'the null page';
    case 'kernel-half':
      return 'the kernel half, above the user address space';
    case 'non-canonical':
      return `not canonical: ${arch.name} has ${arch.vaBits}-bit virtual addresses`;
    case 'beyond-address-space':
      return `beyond ${arch.name}'s ${arch.vaBits}-bit address space`;
    case 'above-user-space':
      return 'above the user address space';
    case 'handler-failed':
      return 'its fault handler failed';
    case 'fault-lost':
      return 'its fault was given up: the call to its dataspace manager failed';
    default:
      return 'a fault core could not resolve';
  }
}

/**
 * After the machine ran out of work with more records pushed: a thread that is neither done,
 * starved nor dead is blocked in a fault nobody will ever resolve. Marks it stopped, blaming its
 * lost fault (`lost`: the fault path's record of faults given up) or else the latest error (the
 * failed handler's). Returns whether the thread stopped for good.
 */
export function settle(t: SimThread, errors: readonly string[], lost: readonly string[] = []): boolean {
  if (!t.fatal && !t.done && !t.starved) {
    const mine = [...lost].reverse().find((l) => l.startsWith(`fault of '${t.kernel.name}' `));
    t.stall(mine ?? errors.at(-1) ?? 'blocked for ever in a page fault', mine !== undefined);
  }
  return t.fatal !== null;
}

/** The stop of the first of `threads` that stopped for good, or null when none did. */
export function threadStop(
  threads: readonly SimThread[],
  arch: Arch,
  userTop: number,
  page: number,
): ReplayStop | null {
  for (const t of threads) {
    const f = t.fatal;
    if (!f) continue;
    return {
      reason: f.how === 'died' ? 'thread-died' : 'thread-blocked',
      thread: t.kernel.name,
      record: f.record,
      address: hex(f.va),
      access: f.access,
      cause:
        f.how === 'died'
          ? addressCause(arch, userTop, page, f.va)
          : f.how === 'lost'
            ? 'fault-lost'
            : 'handler-failed',
      error: f.error,
    };
  }
  return null;
}

/** One line for the text output: what stopped, where, and how many records were not replayed. */
export function stopText(stop: ReplayStop, traceRecords: number, arch: Arch): string {
  const left = traceRecords - stop.record + 1;
  const what = stop.reason === 'thread-died' ? 'died' : 'blocked for ever';
  return (
    `stopped: thread '${stop.thread}' ${what} at record ${stop.record} of ${traceRecords} ` +
    `(${stop.access} at ${stop.address}: ${describeCause(stop.cause, arch)}); ` +
    `${left === 1 ? 'that record was' : `the ${left} records from there on were`} not replayed`
  );
}
