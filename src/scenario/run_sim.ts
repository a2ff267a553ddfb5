/**
 * The simulator's steps: `simulate` (start the on_demand handlers, run the machine, log what it
 * measured), `irq` (one run of the IRQ simulation) and `expect_metrics`. Like the other executors
 * they return the step's log and report failed expectations through `env.fail`.
 */
import type { CostModel } from '../sim/cost.js';
import { type IrqSimOptions, type IrqSimResult, runIrqSim } from '../sim/irq_run.js';
import type { LoadedScenario } from './load.js';
import { checkMetric, irqMetrics, type MetricValues, metricValue } from './metrics.js';
import type { Position } from './problem.js';
import type { StepEnv, StepOutput } from './run_steps.js';
import type { StepArgs } from './schema.js';
import { irqSimOptions, type SimStep } from './sim_spec.js';
import type { Simulation } from './simulation.js';

/** What the simulator's executors use besides the core executors' environment. */
export interface SimStepEnv extends StepEnv {
  readonly scenario: LoadedScenario;
  /** The machine, in a simulated scenario. */
  readonly sim: Simulation | null;
  readonly costs: CostModel;
  /** The IRQ delivery the design sets (the irq step's default). */
  readonly irqDelivery: IrqSimOptions['design'];
  /** IRQ runs so far, by name. */
  readonly irqRuns: Map<string, IrqSimResult>;
  /** Every metric measured so far. */
  metrics(): MetricValues;
  /** Position of a key of the step's arguments. */
  keyAt(key: string): Position;
  /** Runs `f` with core's events counted instead of logged. */
  quietly(f: () => void): void;
}

/** Executes one of the simulator's steps. */
export function executeSim(step: SimStep, env: SimStepEnv): StepOutput {
  switch (step.kind) {
    case 'simulate':
      return simulate(env, '');
    case 'irq':
      return irq(env, step.args);
    case 'expect_metrics': {
      const values = env.metrics();
      const shown: string[] = [];
      for (const [name, want] of Object.entries(step.args)) {
        env.expect();
        const v = metricValue(values, name);
        shown.push(`${name} = ${v ?? 'not measured'}`);
        const m = checkMetric(values, name, want);
        if (m) env.fail(m, env.keyAt(name));
      }
      return { text: `expect_metrics -> ${shown.join(', ')}` };
    }
  }
}

/** Starts the handlers and runs the machine; `how` qualifies the log line (the implicit run). */
export function simulate(env: SimStepEnv, how: string): StepOutput {
  const sim = env.sim;
  if (!sim || sim.ran) return { text: `simulate${how} -> nothing to run` };
  const started = sim.startHandlers(env.scenario, env.names);
  env.quietly(() => sim.run());
  const s = sim.summary(env.metrics());
  return { text: `simulate${how} -> ${s.text}`, lines: [...started, ...s.lines] };
}

function irq(env: SimStepEnv, a: StepArgs<'irq'>): StepOutput {
  const design = a.delivery ?? env.irqDelivery;
  const name = a.name ?? design;
  const cpus = a.cpus ?? env.scenario.data.machine.cpus;
  const r = runIrqSim(irqSimOptions(a, design, cpus, env.costs));
  const head = `irq ${name}: ${design} delivery, ${cpus} CPU(s), ${a.rate_pps} packets/s for ${a.duration_us} µs`;
  if (!r.ok) {
    env.fail(`the IRQ simulation cannot run: ${r.message}`);
    return { text: `${head} -> ${r.message}` };
  }
  const v = r.value;
  env.irqRuns.set(name, v);
  const lines = [
    `packets: ${v.packets.arrived} arrived, ${v.packets.handled} handled (${v.packets.handledInDuration} within the duration), ${v.packets.dropped} dropped`,
    `IRQ latency µs: p50 ${v.irqLatency.p50}, p99 ${v.irqLatency.p99}, max ${v.irqLatency.max} over ${v.irqLatency.count} deliveries; ${v.lostInterrupts} lost (coalesced) IRQs`,
    `CPU load from interrupt work: ${v.cpuLoad.join(', ')}`,
  ];
  if (v.timer) lines.push(`timer: ${v.timer.expirations} expirations, ${v.timer.read} read`);
  if (a.balance === 'irqbalance' || v.migrations.count > 0)
    lines.push(
      `migrations: ${v.migrations.count} (${v.migrations.cycles} cycles, ${v.migrations.rebalances} by the balancer)`,
    );
  const m = irqMetrics(name, v);
  return {
    text: `${head} -> ${v.queues} queue(s), ${m[`irq.${name}.packetsPerSecond`]} packets/s handled`,
    lines,
  };
}
