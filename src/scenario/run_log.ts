/**
 * Runs a loaded scenario: builds the machine and components, executes the steps in order and
 * checks their expectations. Pure and synchronous (no I/O): returns the run log (one line per step
 * with core's events indented beneath, via `describeEvent`) and the failed expectations, each
 * naming its step and source position. A failed expectation does not stop the run; a step that
 * refers to an object that does not exist does.
 *
 * A scenario with behaviours, a design other than genode, design overrides or a `simulate` step
 * runs on the simulator's machine (`simulation.ts`): its steps act on the machine's core, and the
 * `simulate` step (implicitly after the last step when absent) runs the behaviours. Any other
 * scenario runs on a bare `Core`. `irq` steps run the IRQ simulation in either.
 *
 * The step loop is `Runner` (runner.ts), which the browser's stepper shares: here it is drained
 * and its log framed by the machine's description and the result line. The simulator is a
 * parameter here (`run.ts` passes it), so the command line loads it only where it is needed.
 */
import { type CostModel, DEFAULT_COSTS } from '../sim/cost.js';
import { hex, sizeName } from '../util/hex.js';
import { type Ok, ok } from '../util/result.js';
import type { LoadedScenario } from './load.js';
import type { MetricValues } from './metrics.js';
import type { ScenarioError } from './problem.js';
import { type Failure, Runner } from './runner.js';
import { hasStep, RAM_BASE } from './sim_spec.js';
import type { ScenarioInputs } from './simulation.js';
import type { Simulator } from './simulator.js';

/** The outcome of a run. */
export interface RunReport {
  readonly name: string;
  /** True when the scenario ran on the simulator. */
  readonly simulated: boolean;
  /** The run log, one entry per line. */
  readonly log: readonly string[];
  readonly failures: readonly Failure[];
  /** True when a step could not proceed and the run stopped there. */
  readonly stopped: boolean;
  /** Steps executed (repeats multiplied out). */
  readonly steps: number;
  /** Expectations checked. */
  readonly expectations: number;
  /** Metrics measured at the end: the machine's (after a simulation) and every IRQ run's. */
  readonly metrics: MetricValues;
  /** One line: steps, expectations, failures. */
  readonly summary: string;
}

/** `file:line:col step 4 (write): message`. */
export function formatFailure(f: Failure): string {
  return `${f.file}:${f.line}:${f.column} step ${f.step} (${f.kind}): ${f.message}`;
}

/**
 * Runs a scenario with `simulator` (null for one that does not need it: `needsSimulator`);
 * `inputs` carries what the caller read for it (trace records). Errs only when its machine cannot
 * be built or an input is missing.
 */
export function runScenarioWith(
  s: LoadedScenario,
  inputs: ScenarioInputs,
  simulator: Simulator | null,
): Ok<RunReport> | ScenarioError {
  const r = Runner.create(s, inputs, simulator);
  if (!r.ok) return r;
  const run = r.value;
  const head = header(run);
  if (run.setup()) {
    for (const _ of run.steps()) {
      // each step logs itself
    }
  }
  const failed = run.failures.length;
  const summary = `${run.stepCount} step(s), ${run.expectations} expectation(s), ${failed ? `${failed} failed` : 'all hold'}${run.stopped ? ', run stopped' : ''}`;
  return ok({
    name: s.data.name,
    simulated: run.sim !== null,
    metrics: run.metrics(),
    log: [...head, ...run.log, `result: ${summary}`],
    failures: run.failures,
    stopped: run.stopped,
    steps: run.stepCount,
    expectations: run.expectations,
    summary,
  });
}

/** The log's first lines: the scenario, the machine, and the costs (and what they are for). */
function header(run: Runner): string[] {
  const d = run.scenario.data;
  const c = run.core;
  const out = [`scenario ${d.name}${d.description ? `: ${d.description.trim().split('\n')[0]}` : ''}`];
  const sizes = c.policy.mapSizesLog2.map((x) => sizeName(2 ** x)).join(', ');
  out.push(
    `machine: ${c.arch.name}, ${d.machine.cpus} CPU(s), ${sizeName(d.machine.ram as number)} RAM at ${hex(RAM_BASE)}, mapping sizes ${sizes}`,
  );
  const costs = Object.entries(run.costs)
    .filter(([k, v]) => DEFAULT_COSTS[k as keyof CostModel] !== v)
    .map(([k, v]) => `${k}=${v}`);
  const irq = hasStep(d.steps, 'irq');
  if (run.sim) out.push(run.sim.describe(costs));
  else {
    const unused = [
      d.machine.tlb !== undefined ? `tlb ${d.machine.tlb}` : '',
      ...(irq ? [] : costs.map((x) => `cost ${x}`)),
    ].filter(Boolean);
    if (unused.length) out.push(`for the simulator (not used by the core runner): ${unused.join(', ')}`);
    if (irq && costs.length) out.push(`costs (for the IRQ simulation): ${costs.join(', ')}`);
  }
  return out;
}
