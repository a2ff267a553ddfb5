/**
 * The containment study (`faultline contain`, seed 001): how far the damage of a misbehaving
 * dataspace manager reaches under each fault-handling design. The same multi-component workload
 * (`containment_workload.ts`) runs once without misbehaviour (the baseline) and once per
 * behaviour, per design; the machine is watched event by event (`blocking_watch.ts`) and then
 * audited (`mapping_audit.ts`). For each run it reports the blast radius:
 *
 * - which threads ended up blocked (in a fault or a call) for longer than the stall threshold, or
 *   for good, and for how long;
 * - whether core's threads (pager and RPC entrypoints) ever waited for a component, and whether
 *   the kernel ever ran for longer than the threshold at a stretch;
 * - how much later than in the baseline each uninvolved component finished;
 * - when the manager dies: who was blocked at that moment, and who of those ran again;
 * - wrong or stale mappings in the page tables (against core's resolution), and local-rm's map
 *   items of the wrong memory.
 *
 * Nothing about the outcome is assumed; the tests check the expected shape on these figures.
 */
import { type Misbehaviour, misbehaviourName } from '../components/misbehaviour.js';
import { BlockingWatch, type ThreadWatch } from './blocking_watch.js';
import {
  buildContainWorkload,
  type ContainRole,
  type ContainWorkload,
  rolesOf,
  UNINVOLVED,
} from './containment_workload.js';
import { type CostModel, cyclesToMicros, DEFAULT_COSTS } from './cost.js';
import type { SimTask } from './cpu.js';
import type { DesignOptions } from './designs.js';
import type { IpcCounters } from './ipc_path.js';
import { Machine } from './machine.js';
import { auditMappings, type MappingAudit } from './mapping_audit.js';
import type { TrustEdge } from './trust.js';

/** Version of the `faultline contain --json` object (docs/OUTPUT.md). */
export const CONTAIN_SCHEMA_VERSION = 1;

/** What the study runs. */
export interface ContainSpec extends ContainWorkload {
  /** Designs, by name, with their options (overrides applied). */
  readonly designs: readonly { readonly name: string; readonly options: DesignOptions }[];
  /** The misbehaviours tried (each design also runs a baseline without). */
  readonly behaviours: readonly Misbehaviour[];
  /** A run ends when nothing is left to do, or at this many cycles. */
  readonly horizon: number;
  /** A thread blocked longer than this at once (cycles) counts as stalled. */
  readonly stallThreshold: number;
  readonly costs?: CostModel;
}

/** One thread's figures (µs at the nominal clock). */
export interface ContainThread {
  /** `component: thread`. */
  readonly name: string;
  /** Its protection domain's label. */
  readonly component: string;
  readonly role: ContainRole;
  readonly cpu: number;
  readonly faultUs: number;
  readonly callUs: number;
  /** The longest single time blocked (fault or call). */
  readonly longestUs: number;
  /** Blocked (fault or call) when the run ended. */
  readonly blockedAtEnd: boolean;
  /** Kernel state at the end. */
  readonly state: string;
  /** When its program finished, or null. */
  readonly finishedUs: number | null;
}

/** A component some of whose threads stalled. */
export interface Stalled {
  readonly component: string;
  readonly threads: readonly string[];
  /** Its threads' longest single block. */
  readonly longestUs: number;
  /** The most time any one of its threads spent blocked, in all. */
  readonly blockedUs: number;
  /** Some thread of it was still blocked when the run ended. */
  readonly forever: boolean;
}

/** An uninvolved component's finish against the baseline's. */
export interface Delay {
  readonly component: string;
  readonly finishedUs: number | null;
  readonly baselineUs: number | null;
  /** finished − baseline, or null when either did not finish. */
  readonly delayUs: number | null;
}

/** One design × behaviour (or baseline) run. */
export interface ContainRun {
  readonly design: string;
  /** The victim manager's misbehaviour, or `none` (the baseline). */
  readonly misbehave: string;
  /** When the run ended, and whether it ended because nothing was left to do (else: the horizon). */
  readonly endUs: number;
  readonly quiet: boolean;
  readonly threads: readonly ContainThread[];
  /** Components stalled, the misbehaving manager's own left out. */
  readonly stalled: readonly Stalled[];
  /** Core's threads waiting for components: total, longest, which. */
  readonly core: {
    readonly blocked: boolean;
    readonly waitedUs: number;
    readonly longestUs: number;
    readonly threads: readonly string[];
  };
  /** The kernel never waits in this model; its longest stretch of back-to-back kernel jobs. */
  readonly kernel: { readonly blocked: boolean; readonly longestUs: number };
  readonly uninvolved: readonly Delay[];
  /** `dies` only: who was blocked when the manager died, and who of them ran again. */
  readonly recovery: {
    readonly diedUs: number;
    readonly recovered: readonly string[];
    readonly unrecovered: readonly string[];
  } | null;
  readonly mappings: MappingAudit & { readonly wrongMapItems: number };
  readonly faultsLost: number;
  readonly ipc: IpcCounters;
  /** local-rm: the kernel memory the mapping database held at most. */
  readonly mdbPeakBytes: number;
}

/** A design's baseline facts: its options and the rights its baseline run used. */
export interface ContainDesign {
  readonly design: string;
  readonly options: DesignOptions;
  readonly trust: readonly TrustEdge[];
}

/** The study's result (`faultline contain --json`). */
export interface ContainResult {
  readonly schemaVersion: number;
  readonly workload: ContainWorkload & {
    readonly horizonUs: number;
    readonly stallThresholdUs: number;
  };
  readonly designs: readonly ContainDesign[];
  readonly runs: readonly ContainRun[];
}

const us = (cycles: number) => Number(cyclesToMicros(cycles).toFixed(3));

/** What one run measured, before the baseline comparison. */
interface Measured {
  readonly run: Omit<ContainRun, 'uninvolved'>;
  /** Finish times of the uninvolved components (cycles, or null). */
  readonly finish: ReadonlyMap<string, number | null>;
  readonly trust: readonly TrustEdge[];
}

/** Runs one design with one behaviour (undefined: the baseline). */
function runOne(
  spec: ContainSpec,
  design: { readonly name: string; readonly options: DesignOptions },
  misbehave: Misbehaviour | undefined,
): Measured {
  const m = new Machine({ cpus: 2, design: design.options, costs: spec.costs ?? DEFAULT_COSTS });
  const built = buildContainWorkload(m, spec, misbehave);
  const tasks = BlockingWatch.tasksOf(m);
  const roles = rolesOf(m, built, tasks);
  const watch = new BlockingWatch(m, tasks);
  if (misbehave?.kind === 'dies') watch.watchDeath(built.manager.task);
  watch.run(spec.horizon);
  const quiet = m.engine.pending === 0;
  const end = quiet ? m.engine.now : Math.max(m.engine.now, Math.min(spec.horizon, m.engine.nextTime));
  watch.finish(end);
  const blockedNow = (w: ThreadWatch) => w.kind === 'fault' || w.kind === 'call';
  const nameOf = (t: SimTask) => `${t.kernel.pd.label}: ${t.kernel.name}`;
  const threads: ContainThread[] = watch.threads.map((w, i) => ({
    name: nameOf(w.task),
    component: w.task.kernel.pd.label,
    role: roles[i]!,
    cpu: w.task.kernel.cpu,
    faultUs: us(w.faultCycles),
    callUs: us(w.callCycles),
    longestUs: us(w.longest),
    blockedAtEnd: blockedNow(w),
    state: w.task.kernel.state,
    finishedUs: w.endedAt >= 0 ? us(w.endedAt) : null,
  }));
  const culprit = built.manager.task.kernel.pd.label;
  const stalledBy = new Map<
    string,
    { threads: string[]; longest: number; total: number; forever: boolean }
  >();
  const coreThreads: string[] = [];
  let coreWaited = 0;
  let coreLongest = 0;
  let coreForever = false;
  watch.threads.forEach((w, i) => {
    const t = threads[i]!;
    const stalled = w.longest >= spec.stallThreshold || blockedNow(w);
    if (w.task.kernel.pd === m.corePd) {
      if (w.callCycles > 0) coreThreads.push(t.name);
      coreWaited += w.callCycles;
      coreLongest = Math.max(coreLongest, w.longest);
      coreForever ||= blockedNow(w);
      return;
    }
    if (!stalled || t.component === culprit) return;
    const s = stalledBy.get(t.component) ?? { threads: [], longest: 0, total: 0, forever: false };
    s.threads.push(t.name);
    s.longest = Math.max(s.longest, w.longest);
    s.total = Math.max(s.total, w.faultCycles + w.callCycles);
    s.forever ||= blockedNow(w);
    stalledBy.set(t.component, s);
  });
  const stalled: Stalled[] = [...stalledBy].map(([component, s]) => ({
    component,
    threads: s.threads,
    longestUs: us(s.longest),
    blockedUs: us(s.total),
    forever: s.forever,
  }));
  let recovery: ContainRun['recovery'] = null;
  if (misbehave?.kind === 'dies' && watch.diedAt >= 0) {
    const stillBlocked = (t: SimTask) => blockedNow(watch.of(t)!);
    recovery = {
      diedUs: us(watch.diedAt),
      recovered: watch.blockedAtDeath.filter((t) => !stillBlocked(t)).map(nameOf),
      unrecovered: watch.blockedAtDeath.filter(stillBlocked).map(nameOf),
    };
  }
  const rm = m.localRm;
  const audit = auditMappings(m.core, built.sessions, rm ? (pd, va) => rm.managedAt(pd, va) : undefined);
  const finish = new Map<string, number | null>();
  for (const role of UNINVOLVED) {
    const t = built.mains.get(role)!;
    const w = watch.of(t)!;
    finish.set(t.kernel.pd.label, w.endedAt >= 0 ? w.endedAt : null);
  }
  return {
    run: {
      design: design.name,
      misbehave: misbehave ? misbehaviourName(misbehave) : 'none',
      endUs: us(end),
      quiet,
      threads,
      stalled,
      core: {
        blocked: coreLongest >= spec.stallThreshold || coreForever,
        waitedUs: us(coreWaited),
        longestUs: us(coreLongest),
        threads: coreThreads,
      },
      kernel: { blocked: watch.kernelLongest >= spec.stallThreshold, longestUs: us(watch.kernelLongest) },
      recovery,
      mappings: { ...audit, wrongMapItems: rm?.counters.wrongMappings ?? 0 },
      faultsLost: m.counters.faultsLost,
      ipc: { ...m.programs.ipc.counters },
      mdbPeakBytes: rm?.counters.peakBytes ?? 0,
    },
    finish,
    trust: m.programs.trust.list(),
  };
}

/** The uninvolved components' finishes against the baseline's. */
function delays(
  finish: ReadonlyMap<string, number | null>,
  baseline: ReadonlyMap<string, number | null>,
): Delay[] {
  return [...finish].map(([component, f]) => {
    const b = baseline.get(component) ?? null;
    return {
      component,
      finishedUs: f === null ? null : us(f),
      baselineUs: b === null ? null : us(b),
      delayUs: f === null || b === null ? null : us(f - b),
    };
  });
}

/** Progress of a study: runs done of the total, after each run. */
export type ContainProgress = (done: number, total: number, run: ContainRun) => void;

/**
 * Runs the study: per design, the baseline, then each behaviour. `shouldStop` is asked between
 * runs (Ctrl-C): the result then holds the runs done so far.
 */
export async function runContainment(
  spec: ContainSpec,
  opts: { onRun?: ContainProgress; shouldStop?: () => boolean; yieldEach?: () => Promise<void> } = {},
): Promise<ContainResult> {
  const runs: ContainRun[] = [];
  const designs: ContainDesign[] = [];
  const total = spec.designs.length * (spec.behaviours.length + 1);
  outer: for (const d of spec.designs) {
    let baseline: ReadonlyMap<string, number | null> | null = null;
    for (const b of [undefined, ...spec.behaviours]) {
      await opts.yieldEach?.();
      if (opts.shouldStop?.()) break outer;
      const r = runOne(spec, d, b);
      if (b === undefined) {
        baseline = r.finish;
        designs.push({ design: d.name, options: d.options, trust: r.trust });
      }
      const run: ContainRun = { ...r.run, uninvolved: delays(r.finish, baseline!) };
      runs.push(run);
      opts.onRun?.(runs.length, total, run);
    }
  }
  const { designs: _d, behaviours: _b, costs: _c, horizon, stallThreshold, ...workload } = spec;
  return {
    schemaVersion: CONTAIN_SCHEMA_VERSION,
    workload: { ...workload, horizonUs: us(horizon), stallThresholdUs: us(stallThreshold) },
    designs,
    runs,
  };
}
