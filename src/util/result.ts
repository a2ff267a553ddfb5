/**
 * Typed results for expected outcomes. An attach conflict or an exhausted quota is not an
 * exception: callers get a value with a stable `code` and a message that says what was wrong
 * and what was expected. Exceptions are reserved for broken invariants.
 */

/** A successful outcome carrying a value. */
export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

/** A failed outcome: a stable machine-readable code and a human message. */
export interface Err<C extends string = string> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
}

/** Either a value or a typed error. */
export type Result<T, C extends string = string> = Ok<T> | Err<C>;

// Results without a payload are shared: the scheduler and IPC return them on every operation.
const OK_VOID: Ok<undefined> = Object.freeze({ ok: true, value: undefined });
const OK_TRUE: Ok<boolean> = Object.freeze({ ok: true, value: true });
const OK_FALSE: Ok<boolean> = Object.freeze({ ok: true, value: false });

/** Wraps a value as a successful result. */
export function ok<T>(value: T): Ok<T> {
  if (value === undefined) return OK_VOID as Ok<T>;
  if (value === true) return OK_TRUE as Ok<T>;
  if (value === false) return OK_FALSE as Ok<T>;
  return { ok: true, value };
}

/** Builds a failed result. */
export function err<C extends string>(code: C, message: string): Err<C> {
  return { ok: false, code, message };
}

/** Thrown only when a model invariant is broken (a bug in faultline, never a user mistake). */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * Asserts an internal invariant. Pass the message as a function on hot paths: a template
 * string with formatted addresses would otherwise be built on every call.
 */
export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof message === 'string' ? message : message());
}

/** Returns the value of a result or throws an InvariantError (for tests and internal code that knows it succeeds). */
export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new InvariantError(`unexpected ${r.code}: ${r.message}`);
  return r.value;
}
