/**
 * The default multi-component workload of the containment study (`faultline contain`): who shares
 * what with the misbehaving manager, so that each design's blast radius becomes visible.
 *
 * - `victim` (CPU 0): its memory is a managed dataspace served by `victim manager`, the party that
 *   misbehaves.
 * - `neighbour` (CPU 0): its memory is served by its own, well-behaved `neighbour manager`; its
 *   faults reach the same pager entrypoint as the victim's (per-CPU pagers: the one of CPU 0).
 * - `compute` (CPU 0): computes and touches plain RAM; core resolves its faults at once, through
 *   the same pager entrypoint.
 * - `remote` (CPU 1): plain RAM like `compute`, but served by the other pager entrypoint.
 * - The two managers run on CPU 1 at the handler priority.
 *
 * Every component runs the same program: compute, then touch a random page of its memory, a fixed
 * number of times; it finishes when done, so a delay shows as a later finish.
 */
import type { Misbehaviour } from '../components/misbehaviour.js';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { unwrap } from '../util/result.js';
import type { SimTask } from './cpu.js';
import type { HandlerThread } from './handlers.js';
import { type Machine, PRIORITY } from './machine.js';
import { Prng } from './prng.js';
import type { ProgramTask } from './program_task.js';

/** Where every component's memory lies in its address space. */
export const MEMORY_BASE = 0x1000_0000;

/** The shape of the workload. */
export interface ContainWorkload {
  /** Bytes of memory of each component (managed or RAM). */
  readonly memory: number;
  /** Bytes each manager backs per fault (a power of two, at least a page). */
  readonly chunk: number;
  /** Touches of each component's program, each after `computeCycles` of computation. */
  readonly touches: number;
  readonly computeCycles: number;
  readonly seed: number;
}

/** What each thread of the workload is, for the report. */
export type ContainRole =
  | 'victim'
  | 'neighbour'
  | 'compute'
  | 'remote'
  | 'victim manager'
  | 'neighbour manager'
  | 'region mapper'
  | 'pager entrypoint'
  | 'core entrypoint';

/** The components whose delays the study reports (they have nothing to do with the manager). */
export const UNINVOLVED: readonly ContainRole[] = ['neighbour', 'compute', 'remote'];

/** The built workload. */
export interface BuiltWorkload {
  /** The component programs by role (victim, neighbour, compute, remote). */
  readonly mains: ReadonlyMap<ContainRole, ProgramTask>;
  readonly manager: HandlerThread;
  readonly neighbourManager: HandlerThread;
  readonly sessions: readonly PdSession[];
}

/** A component's program: compute, then touch a random page of [base, base + bytes), `touches` times. */
function* touchLoop(prng: Prng, base: number, bytes: number, w: ContainWorkload): Program {
  const pages = Math.floor(bytes / 4096);
  for (let i = 0; i < w.touches; i++) {
    yield* compute(w.computeCycles);
    yield* touch(base + prng.int(0, pages - 1) * 4096, 'write');
  }
}

/** Builds the workload on `machine`; `misbehave` is how the victim's manager behaves. */
export function buildContainWorkload(
  machine: Machine,
  w: ContainWorkload,
  misbehave: Misbehaviour | undefined,
): BuiltWorkload {
  const core = machine.core;
  const prng = new Prng(w.seed);
  const pd = (label: string) => unwrap(core.createPd(label, { ram: 2 ** 40, caps: 1_000_000 }));
  const sessions: PdSession[] = [];
  const mains = new Map<ContainRole, ProgramTask>();
  const main = (role: ContainRole, session: PdSession, cpu: number) => {
    const program = touchLoop(prng.fork(role), MEMORY_BASE, w.memory, w);
    mains.set(role, machine.programs.addProgram(session, 'main', cpu, program, PRIORITY.user));
  };
  const managed = (role: ContainRole, m: Misbehaviour | undefined): HandlerThread => {
    const app = pd(role);
    const mgr = pd(`${role} manager`);
    sessions.push(app, mgr);
    const map: RegionMap = unwrap(core.createRegionMap(mgr, w.memory));
    unwrap(app.addressSpace.attach(map.dataspace, { at: MEMORY_BASE, writeable: true }));
    // faults-itself: the manager uses the memory it manages in its own address space too.
    const selfAttach =
      m?.kind === 'faults-itself'
        ? unwrap(mgr.addressSpace.attach(map.dataspace, { writeable: true })).base
        : undefined;
    const ctx = unwrap(core.createSignalContext(mgr, `${role} faults`));
    unwrap(core.setFaultHandler(map, ctx));
    const handler = new OnDemandHandler(core, mgr, map, { chunk: w.chunk, cpu: 1, misbehave: m, selfAttach });
    const h = machine.addHandler(mgr, 'manager', 1, handler, ctx);
    main(role, app, 0);
    return h;
  };
  const ram = (role: ContainRole, cpu: number) => {
    const app = pd(role);
    sessions.push(app);
    const ds = unwrap(core.allocRam(app, w.memory));
    unwrap(app.addressSpace.attach(ds, { at: MEMORY_BASE, writeable: true }));
    main(role, app, cpu);
  };
  const manager = managed('victim', misbehave);
  const neighbourManager = managed('neighbour', undefined);
  ram('compute', 0);
  ram('remote', 1);
  return { mains, manager, neighbourManager, sessions };
}

/** The role of every task of the machine (core's threads and region mappers included). */
export function rolesOf(machine: Machine, built: BuiltWorkload, tasks: readonly SimTask[]): ContainRole[] {
  const byTask = new Map<SimTask, ContainRole>();
  for (const [role, t] of built.mains) byTask.set(t, role);
  byTask.set(built.manager.task, 'victim manager');
  byTask.set(built.neighbourManager.task, 'neighbour manager');
  const pagers = new Set<SimTask>(machine.faults.pagers.map((p) => p.task));
  return tasks.map((t) => {
    const r = byTask.get(t);
    if (r) return r;
    if (pagers.has(t)) return 'pager entrypoint';
    if (t.kernel.pd === machine.corePd) return 'core entrypoint';
    return 'region mapper';
  });
}
