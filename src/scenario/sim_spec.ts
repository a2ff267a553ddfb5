/**
 * What a scenario's simulated parts ask for, read off the scenario's data: its behaviours, whether
 * it runs on the simulator, and the options of its workloads, NIC and `irq` steps. Shared by the
 * checker and the runner, and loading none of the simulator: `faultline validate` and a run on a
 * bare core start without it (docs/BENCHMARKS.md, start-up).
 */
import { type CostModel, microsToCycles } from '../sim/cost.js';
import type { IrqSimOptions } from '../sim/irq_model.js';
import type { NicTraffic } from '../sim/nic_traffic.js';
import type { WorkloadSpec } from '../workload/synthetic.js';
import { type StepInstance, stepKindOf } from './expand.js';
import type { LoadedScenario } from './load.js';
import type { Path } from './problem.js';
import type { ComponentData, ScenarioData, StepArgs } from './schema.js';

/** RAM starts here in every scenario machine. */
export const RAM_BASE = 0x40000000;

/** Why machine.kernel and the simulator do not mix. */
export const KERNEL_WITH_SIMULATOR =
  'machine.kernel clamps mapping sizes on a bare core only; a simulated scenario picks them by design (e.g. design 4k-only or overrides: { mapping: smallest })';

type Behaviour = NonNullable<ComponentData['behaviours']>[number];
/** Arguments of the synthetic behaviour. */
export type SyntheticArgs = Extract<Behaviour, { synthetic: unknown }>['synthetic'];
/** Arguments of the on_demand behaviour. */
export type OnDemandArgs = Extract<Behaviour, { on_demand: unknown }>['on_demand'];

/** One behaviour with where it sits. */
export type BehaviourSite = {
  readonly component: string;
  /** Path of the behaviour's arguments, e.g. `components[1].behaviours[0].synthetic`. */
  readonly path: Path;
} & (
  | { readonly kind: 'on_demand'; readonly args: OnDemandArgs }
  | { readonly kind: 'synthetic'; readonly args: SyntheticArgs }
  | { readonly kind: 'trace_player'; readonly args: { readonly thread: string; readonly trace: string } }
  | { readonly kind: 'nic'; readonly args: NicArgs }
);

/** Every behaviour of the scenario, in file order. */
export function behaviours(d: ScenarioData): BehaviourSite[] {
  return d.components.flatMap((c, ci) =>
    (c.behaviours ?? []).map((b, bi) => {
      const [kind, args] = Object.entries(b)[0]!;
      return {
        component: c.name,
        path: ['components', ci, 'behaviours', bi, kind],
        kind,
        args,
      } as BehaviourSite;
    }),
  );
}

/** True when a step of this kind occurs in `steps`, repeat bodies included. */
export function hasStep(steps: readonly unknown[], kind: string): boolean {
  return steps.some((x) => {
    const k = stepKindOf(x);
    if (k === kind) return true;
    return k === 'repeat' && hasStep((x as { repeat: { steps: unknown[] } }).repeat.steps, kind);
  });
}

/** True when the scenario runs on the simulator rather than on a bare core. */
export function isSimulated(d: ScenarioData): boolean {
  return (
    d.design !== 'genode' ||
    Object.keys(d.overrides).length > 0 ||
    d.components.some((c) => (c.behaviours?.length ?? 0) > 0) ||
    d.steps.some((s) => stepKindOf(s) === 'simulate')
  );
}

/** Step kinds the simulator's executors run (`run_sim.ts`). */
export const SIM_STEP_KINDS = ['simulate', 'irq', 'expect_metrics'] as const;
/** A step the simulator's executors run. */
export type SimStep = Extract<StepInstance, { kind: (typeof SIM_STEP_KINDS)[number] }>;

/** True for the simulator's step kinds. */
export function isSimStep(step: StepInstance): step is SimStep {
  return (SIM_STEP_KINDS as readonly string[]).includes(step.kind);
}

/**
 * True when running the scenario needs the simulator (`simulator.ts`): it is simulated, or a step
 * of the simulator's kinds (an `irq` run, say) occurs on its bare core.
 */
export function needsSimulator(d: ScenarioData): boolean {
  return isSimulated(d) || SIM_STEP_KINDS.some((k) => hasStep(d.steps, k));
}

/** The trace files the scenario's trace_player behaviours replay (the caller reads them). */
export function traceRefs(s: LoadedScenario): { readonly trace: string; readonly path: Path }[] {
  return behaviours(s.data).flatMap((b) =>
    b.kind === 'trace_player' ? [{ trace: b.args.trace, path: [...b.path, 'trace'] }] : [],
  );
}

/** The workload spec of a synthetic behaviour (numbers are resolved: behaviours sit outside repeat). */
export function workloadSpec(a: SyntheticArgs): WorkloadSpec {
  const { thread: _thread, ...spec } = a;
  return spec as unknown as WorkloadSpec;
}

/** Arguments of the nic behaviour. */
export type NicArgs = Extract<Behaviour, { nic: unknown }>['nic'];

/** The NIC traffic a nic behaviour describes (numbers are fixed: behaviours sit outside repeat). */
export function nicTraffic(a: NicArgs): NicTraffic {
  const durationCycles = microsToCycles(a.duration_us);
  const interval =
    a.balance_interval_us === undefined
      ? Math.round(durationCycles / 20)
      : microsToCycles(a.balance_interval_us);
  return {
    ratePps: a.rate_pps,
    durationCycles,
    queues: a.queues,
    ringSize: a.ring,
    flows: a.flows,
    seed: a.seed,
    packetCycles: a.packet_cycles,
    routing: a.routing,
    rings: a.rings ?? 'ram',
    ringChunk: a.ring_chunk as number | undefined,
    ringPagerCpu: a.ring_pager_cpu,
    balance: a.balance === 'irqbalance' ? { intervalCycles: interval } : undefined,
  };
}

/** The IRQ simulation's options for an `irq` step (shared by the checker and the runner). */
export function irqSimOptions(
  a: StepArgs<'irq'>,
  design: IrqSimOptions['design'],
  cpus: number,
  costs?: CostModel,
): IrqSimOptions {
  return {
    design,
    cpus,
    queues: a.queues,
    ratePps: a.rate_pps,
    durationCycles: microsToCycles(a.duration_us),
    seed: a.seed,
    ringSize: a.ring,
    flows: a.flows,
    packetCycles: a.packet_cycles,
    costs,
    routing: a.routing,
    balance:
      a.balance === 'irqbalance'
        ? {
            intervalCycles:
              a.balance_interval_us === undefined
                ? Math.round(microsToCycles(a.duration_us) / 20)
                : microsToCycles(a.balance_interval_us),
          }
        : undefined,
    timer: a.timer && {
      periodCycles: microsToCycles(a.timer.period_us),
      trigger: a.timer.trigger,
      cpu: a.timer.cpu,
      workCycles: a.timer.work_cycles,
    },
  };
}
