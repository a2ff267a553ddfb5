/**
 * Norman's argument against IPC timeouts (seed 001), as a sweep of timeout × load on the
 * synchronous designs. Two workloads:
 *
 * - **Load** (too short loses messages, long ones accumulate): client threads fault into memory
 *   paged through a chain of managers (nested managed dataspaces, each level backed on demand by its
 *   own manager), while busy threads with the scheduler's 10 ms quanta compete for the managers'
 *   CPU at the managers' priority. A manager woken by a request queues behind them, once per RPC
 *   it makes; a timeout shorter than that wait loses the fault (the faulting thread stays blocked
 *   for good), a longer one lets the waits of every level add up.
 * - **Misbehaving** (DOpE: "if 10 clients misbehave, the GUI would freeze for half a second"):
 *   n client tasks each fault into memory of its own manager that never replies, and an innocent
 *   component served by the same pager touches plain RAM meanwhile. Whatever serves the faults
 *   waits out each call's timeout in turn.
 *
 * For each point it measures the faults lost (send and reply timeouts), the worst stall of a
 * faulting thread among the faults resolved, the longest a fault server stayed blocked without a
 * break (the waits of a chain's levels, and of faults queued behind them, added up), the total time
 * the servers were blocked, and the managers' work wasted on requests whose replies nobody took.
 */
import { type Misbehaviour, misbehaviourName } from '../components/misbehaviour.js';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { unwrap } from '../util/result.js';
import { BlockingWatch } from './blocking_watch.js';
import { type CostModel, cyclesToMicros, DEFAULT_COSTS } from './cost.js';
import type { SimTask } from './cpu.js';
import type { DesignOptions } from './designs.js';
import { Machine, PRIORITY } from './machine.js';
import type { ProgramTask } from './program_task.js';

/** Version of the `faultline timeouts --json` object (docs/OUTPUT.md). */
export const TIMEOUTS_SCHEMA_VERSION = 1;

/** What the study runs. */
export interface TimeoutSpec {
  /** The synchronous design (sync-core-rpc or local-rm); its ipcTimeout is swept. */
  readonly design: { readonly name: string; readonly options: DesignOptions };
  /** Timeouts in cycles ('never': no timeout). */
  readonly timeouts: readonly (number | 'never')[];
  /** Busy threads on the managers' CPU, per load point. */
  readonly loads: readonly number[];
  /** Managers chained through nested managed dataspaces. */
  readonly chain: number;
  /** Faulting threads, and the fresh chunks each touches. */
  readonly clients: number;
  readonly faultsPerClient: number;
  /** Computation between two touches of a client (and of the innocent component). */
  readonly computeCycles: number;
  /** Bytes each manager backs per fault. */
  readonly chunk: number;
  /** Scheduler quantum in cycles (10 ms at 3 GHz by default). */
  readonly quantum: number;
  /** Misbehaving managers (each with its own client) of the second workload. */
  readonly misbehaving: number;
  /** How they misbehave. */
  readonly misbehave: Misbehaviour;
  /** Pages the innocent component touches. */
  readonly innocentTouches: number;
  /** A run stops when its faulting threads are done, or at this many cycles. */
  readonly horizon: number;
  readonly costs?: CostModel;
}

/** One point of the sweep (µs at the nominal clock). */
export interface TimeoutPoint {
  readonly workload: 'load' | 'misbehaving';
  /** The timeout, µs, or null for never. */
  readonly timeoutUs: number | null;
  /** Busy threads (load) or misbehaving managers (misbehaving). */
  readonly load: number;
  /** Faults the faulting threads took, resolved, and lost (their calls timed out or went unanswered). */
  readonly faults: number;
  readonly resolved: number;
  readonly lost: number;
  /** Lost in the send phase (the manager never took the request) and in the reply phase. */
  readonly sendTimeouts: number;
  readonly replyTimeouts: number;
  /** Faulting threads not done when the run ended (a fault lost, or the horizon came first). */
  readonly unfinished: number;
  /** The faulting threads' longest wait for a fault that was resolved, or null if none was. */
  readonly worstStallUs: number | null;
  /**
   * The longest a fault server (pager entrypoint, region mapper) stayed blocked in calls without
   * going idle in between: every level of a chain for one fault, and the faults queued behind it.
   */
  readonly serverStallUs: number;
  /** Total time the fault servers were blocked in calls. */
  readonly serverBlockedUs: number;
  /** misbehaving: the innocent component's longest block (its freeze). */
  readonly innocentStallUs: number | null;
  /** Replies nobody took, and the managers' cycles spent on those requests. */
  readonly droppedReplies: number;
  readonly wastedUs: number;
  /** When the run ended (the faulting threads done, or the horizon). */
  readonly endUs: number;
}

/** The seed's DOpE figures, as the model produces them (not typed in). */
export interface DopeFigures {
  /** "A timeout of 5 milliseconds ... several busy threads ... the input event would get dropped." */
  readonly shortTimeout: TimeoutPoint;
  /** "50 milliseconds ... for each client. So if 10 clients misbehave, the GUI would freeze for half a second." */
  readonly freeze: TimeoutPoint;
}

/** The DOpE points: 5 ms with two busy threads; 50 ms with ten misbehaving managers. */
export const DOPE = {
  shortTimeoutCycles: 15_000_000,
  busyThreads: 2,
  longTimeoutCycles: 150_000_000,
  misbehaving: 10,
} as const;

/** The study's result. */
export interface TimeoutResult {
  readonly schemaVersion: number;
  readonly design: string;
  readonly spec: Omit<TimeoutSpec, 'design' | 'costs' | 'timeouts' | 'misbehave' | 'horizon' | 'quantum'> & {
    readonly timeoutsUs: readonly (number | null)[];
    readonly misbehave: string;
    readonly horizonUs: number;
    readonly quantumUs: number;
  };
  readonly points: readonly TimeoutPoint[];
  /** Null when the study was interrupted before them. */
  readonly dope: DopeFigures | null;
}

const us = (cycles: number) => Number(cyclesToMicros(cycles).toFixed(3));

/** A machine for one point: the design with the point's timeout, the spec's quantum and costs. */
function machine(spec: TimeoutSpec, timeout: number | 'never'): Machine {
  return new Machine({
    cpus: 2,
    design: { ...spec.design.options, ipcTimeout: timeout },
    costs: spec.costs ?? DEFAULT_COSTS,
    quantum: spec.quantum,
  });
}

function pd(m: Machine, label: string): PdSession {
  return unwrap(m.core.createPd(label, { ram: 2 ** 40, caps: 1_000_000 }));
}

/** Touches `count` addresses `stride` apart from `base`, each after `cycles` of computation. */
function* toucher(base: number, stride: number, count: number, cycles: number): Program {
  for (let i = 0; i < count; i++) {
    yield* compute(cycles);
    yield* touch(base + i * stride, 'write');
  }
}

/** Computes for ever, in steps of a millisecond (the scheduler's quantum cuts it). */
function* busy(): Program {
  for (;;) yield* compute(3_000_000);
}

const BASE = 0x1000_0000;

/** Builds the load workload; returns the faulting threads. */
function buildLoad(m: Machine, spec: TimeoutSpec, load: number): ProgramTask[] {
  const core = m.core;
  const size = spec.clients * spec.faultsPerClient * spec.chunk;
  const mgrs = Array.from({ length: spec.chain }, (_, i) => pd(m, `manager ${i + 1}`));
  const maps: RegionMap[] = mgrs.map((s) => unwrap(core.createRegionMap(s, size)));
  mgrs.forEach((s, i) => {
    const ctx = unwrap(core.createSignalContext(s, `level ${i + 1}`));
    unwrap(core.setFaultHandler(maps[i]!, ctx));
    const backing = i + 1 < spec.chain ? maps[i + 1]!.dataspace : undefined;
    const h = new OnDemandHandler(core, s, maps[i]!, { chunk: spec.chunk, cpu: 1, backing });
    m.addHandler(s, 'manager', 1, h, ctx);
  });
  const busyPd = pd(m, 'busy');
  for (let i = 0; i < load; i++) m.programs.addProgram(busyPd, `busy ${i}`, 1, busy(), PRIORITY.handler);
  const client = pd(m, 'client');
  unwrap(client.addressSpace.attach(maps[0]!.dataspace, { at: BASE, writeable: true }));
  return Array.from({ length: spec.clients }, (_, c) => {
    const first = BASE + c * spec.faultsPerClient * spec.chunk;
    const program = toucher(first, spec.chunk, spec.faultsPerClient, spec.computeCycles);
    return m.programs.addProgram(client, `client ${c}`, 0, program, PRIORITY.user);
  });
}

/** Builds the misbehaving workload; returns the faulting threads and the innocent component. */
function buildMisbehaving(
  m: Machine,
  spec: TimeoutSpec,
  n: number,
): { faulters: ProgramTask[]; innocent: ProgramTask } {
  const core = m.core;
  const faulters: ProgramTask[] = [];
  for (let i = 0; i < n; i++) {
    const mgr = pd(m, `manager ${i + 1}`);
    const map = unwrap(core.createRegionMap(mgr, spec.chunk));
    const ctx = unwrap(core.createSignalContext(mgr, `client ${i + 1} faults`));
    unwrap(core.setFaultHandler(map, ctx));
    const h = new OnDemandHandler(core, mgr, map, { chunk: spec.chunk, cpu: 1, misbehave: spec.misbehave });
    m.addHandler(mgr, 'manager', 1, h, ctx);
    const client = pd(m, `client ${i + 1}`);
    unwrap(client.addressSpace.attach(map.dataspace, { at: BASE, writeable: true }));
    faulters.push(m.programs.addProgram(client, 'main', 0, toucher(BASE, 0, 1, 0), PRIORITY.user));
  }
  const gui = pd(m, 'innocent');
  const ram = unwrap(core.allocRam(gui, spec.innocentTouches * 4096));
  unwrap(gui.addressSpace.attach(ram, { at: BASE, writeable: true }));
  const program = toucher(BASE, 4096, spec.innocentTouches, spec.computeCycles);
  const innocent = m.programs.addProgram(gui, 'main', 0, program, PRIORITY.user);
  return { faulters, innocent };
}

/** Runs one point. */
export function runTimeoutPoint(
  spec: TimeoutSpec,
  workload: TimeoutPoint['workload'],
  timeout: number | 'never',
  load: number,
): TimeoutPoint {
  const m = machine(spec, timeout);
  let faulters: ProgramTask[];
  let innocent: ProgramTask | null = null;
  if (workload === 'load') faulters = buildLoad(m, spec, load);
  else ({ faulters, innocent } = buildMisbehaving(m, spec, load));
  const servers = new Set<SimTask>([
    ...m.faults.pagers.map((p) => p.task),
    ...BlockingWatch.tasksOf(m).filter((t) => t.kernel.name === 'region mapper'),
  ]);
  const watch = new BlockingWatch(m, BlockingWatch.tasksOf(m));
  // The run is over once the innocent component (or every faulting thread) is done, or stuck.
  const waitFor = innocent ? [innocent] : faulters;
  const over = () => waitFor.every((t) => t.finished);
  watch.run(spec.horizon, over);
  const end = Math.min(m.engine.now, spec.horizon);
  watch.finish(end);
  const ipc = m.programs.ipc.counters;
  const server = watch.threads.filter((w) => servers.has(w.task));
  const faults = faulters.reduce((n, t) => n + t.faults, 0);
  // The faulting threads' longest wait for a fault that was resolved (a lost one never ends).
  const worst = Math.max(0, ...faulters.map((t) => watch.of(t)!.longestEnded));
  const innocentWatch = innocent ? watch.of(innocent)! : null;
  return {
    workload,
    timeoutUs: timeout === 'never' ? null : us(timeout),
    load,
    faults,
    resolved: faults - m.counters.faultsLost,
    lost: m.counters.faultsLost,
    sendTimeouts: ipc.lostMessages,
    replyTimeouts: ipc.replyTimeouts,
    unfinished: faulters.filter((t) => !t.finished).length,
    worstStallUs: worst > 0 ? us(worst) : null,
    serverStallUs: us(Math.max(0, ...server.map((w) => w.longestEpisode))),
    serverBlockedUs: us(server.reduce((n, w) => n + w.callCycles, 0)),
    innocentStallUs: innocentWatch ? us(innocentWatch.longest) : null,
    droppedReplies: ipc.droppedReplies,
    wastedUs: us(ipc.wastedCycles),
    endUs: us(end),
  };
}

/** Progress: points done of the total, after each point. */
export type TimeoutProgress = (done: number, total: number, p: TimeoutPoint) => void;

/** Every point of the sweep: the load workload per load and timeout, then the misbehaving one per timeout. */
export function timeoutPlan(
  spec: TimeoutSpec,
): { workload: TimeoutPoint['workload']; timeout: number | 'never'; load: number }[] {
  return [
    ...spec.loads.flatMap((load) =>
      spec.timeouts.map((timeout) => ({ workload: 'load' as const, timeout, load })),
    ),
    ...spec.timeouts.map((timeout) => ({
      workload: 'misbehaving' as const,
      timeout,
      load: spec.misbehaving,
    })),
  ];
}

/** Runs the sweep; `shouldStop` (Ctrl-C) is asked between points, the points so far are kept. */
export async function runTimeoutStudy(
  spec: TimeoutSpec,
  opts: { onPoint?: TimeoutProgress; shouldStop?: () => boolean; yieldEach?: () => Promise<void> } = {},
): Promise<TimeoutResult> {
  const plan = timeoutPlan(spec);
  const total = plan.length + 2;
  const points: TimeoutPoint[] = [];
  let dope: DopeFigures | null = null;
  let done = 0;
  const step = async (run: () => TimeoutPoint): Promise<TimeoutPoint | null> => {
    await opts.yieldEach?.();
    if (opts.shouldStop?.()) return null;
    const p = run();
    opts.onPoint?.(++done, total, p);
    return p;
  };
  for (const p of plan) {
    const point = await step(() => runTimeoutPoint(spec, p.workload, p.timeout, p.load));
    if (!point) break;
    points.push(point);
  }
  if (points.length === plan.length) {
    const short = await step(() => runTimeoutPoint(spec, 'load', DOPE.shortTimeoutCycles, DOPE.busyThreads));
    const freeze =
      short &&
      (await step(() => runTimeoutPoint(spec, 'misbehaving', DOPE.longTimeoutCycles, DOPE.misbehaving)));
    if (short && freeze) dope = { shortTimeout: short, freeze };
  }
  const { design, costs: _c, timeouts, misbehave, horizon, quantum, ...rest } = spec;
  return {
    schemaVersion: TIMEOUTS_SCHEMA_VERSION,
    design: design.name,
    spec: {
      ...rest,
      timeoutsUs: timeouts.map((t) => (t === 'never' ? null : us(t))),
      misbehave: misbehaviourName(misbehave),
      horizonUs: us(horizon),
      quantumUs: us(quantum),
    },
    points,
    dope,
  };
}
