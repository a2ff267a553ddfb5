/**
 * Components and threads of a scenario: the ones the components list declares (created before
 * the first step) and the ones `create_component` and `create_thread` create during the run, as
 * Genode's tests do (rm_fault starts its child, which starts its faulting threads, mid-test).
 * Both go through here so that they get the same names: the address space is the component's
 * name, Genode's stack and linker areas (`areas: true`) are `NAME.stack_area` and
 * `NAME.linker_area`, and a thread is `NAME.AS`, where AS defaults to the thread's name (threads
 * may share a name, as Genode's do, when each has its own AS).
 */
import type { Core, CoreErrorCode } from '../core/core.js';
import type { PdSession } from '../core/pd_session.js';
import type { Thread } from '../kernel/thread.js';
import { hex } from '../util/hex.js';
import { ok, type Result } from '../util/result.js';
import type { Names } from './names.js';
import type { StepArgs } from './schema.js';

/** What a thread declaration says (both forms, numbers resolved). */
export interface ThreadDecl {
  readonly name: string;
  readonly as?: string | undefined;
  readonly cpu?: number | undefined;
  readonly priority?: number | undefined;
  readonly ip?: number | undefined;
}

/** What a component declaration says (both forms, numbers resolved). */
export interface ComponentDecl {
  readonly name: string;
  readonly ram: number;
  readonly caps: number;
  readonly areas?: boolean | undefined;
}

/** How steps refer to a thread of a component. */
export function threadRef(component: string, t: ThreadDecl): string {
  return `${component}.${t.as ?? t.name}`;
}

/** Creates a component's PD session (with its areas when asked) and names it and its maps. */
export function createComponent(
  core: Core,
  names: Names,
  c: ComponentDecl,
): Result<PdSession, CoreErrorCode> {
  const pd = core.createPd(`init -> ${c.name}`, { ram: c.ram, caps: c.caps, areas: c.areas ?? false });
  if (!pd.ok) return pd;
  names.components.set(c.name, pd.value);
  if (pd.value.stackArea) names.maps.set(`${c.name}.stack_area`, pd.value.stackArea);
  if (pd.value.linkerArea) names.maps.set(`${c.name}.linker_area`, pd.value.linkerArea);
  return pd;
}

/** Sets a new thread's ip and priority and names it. */
export function registerThread(names: Names, component: string, th: Thread, t: ThreadDecl): void {
  th.ip = t.ip ?? 0;
  th.priority = t.priority ?? 0;
  names.threads.set(threadRef(component, t), th);
}

/** `main (cpu 0, ip 0x1000)`, or `exec_fault as exec_on_stack (…)`, for the log. */
export function describeThread(th: Thread, t: ThreadDecl, runs?: string): string {
  const as = t.as !== undefined && t.as !== t.name ? ` as ${t.as}` : '';
  return `${t.name}${as} (cpu ${th.cpu}, ip ${hex(th.ip)}${runs ? `, runs ${runs}` : ''})`;
}

/** `pd session '…' (…), address space region map #2, stack area #3, …`: a component in the log. */
export function describeComponent(pd: PdSession, threads: readonly string[]): string {
  const areas = pd.stackArea
    ? `, stack area region map #${pd.stackArea.id}, linker area region map #${pd.linkerArea!.id}`
    : '';
  return `${pd}, address space region map #${pd.addressSpace.id}${areas}${threads.length ? `, threads ${threads.join(', ')}` : ''}`;
}

/** Result of the creating steps below: the log line, or the failure (checked against expect_error by the caller). */
export type Created = Result<string, CoreErrorCode>;

/** The `create_component` step: the PD session and its threads, or nothing when one of them fails. */
export function createComponentStep(core: Core, names: Names, a: StepArgs<'create_component'>): Created {
  const pd = createComponent(core, names, a);
  if (!pd.ok) return pd;
  const threads: string[] = [];
  for (const t of a.threads) {
    const th = core.createThread(pd.value, t.name, t.cpu ?? 0);
    if (!th.ok) {
      // A failed step changes nothing: take the component back.
      core.destroyPd(pd.value);
      names.components.delete(a.name);
      names.maps.delete(`${a.name}.stack_area`);
      names.maps.delete(`${a.name}.linker_area`);
      for (const d of a.threads) names.threads.delete(threadRef(a.name, d));
      return th;
    }
    registerThread(names, a.name, th.value, t);
    threads.push(describeThread(th.value, t));
  }
  return ok(describeComponent(pd.value, threads));
}

/** The `create_thread` step. */
export function createThreadStep(core: Core, names: Names, a: StepArgs<'create_thread'>): Created {
  const th = core.createThread(names.component(a.component), a.name, a.cpu ?? 0);
  if (!th.ok) return th;
  registerThread(names, a.component, th.value, a);
  return ok(describeThread(th.value, a));
}
