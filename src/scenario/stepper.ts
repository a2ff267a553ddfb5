/**
 * Runs a loaded scenario one step at a time (for the browser visualizer, `faultline view`): the
 * runner's own step loop (`Runner.steps()`, runner.ts), paused after every executed step with
 * core, the names and the machine open for inspection. Repeats are unrolled: each iteration's
 * steps are steps of their own. Going back means creating a new stepper and stepping it forward
 * again; a run is deterministic, so it reaches the same state.
 */
import type { Core } from '../core/core.js';
import type { CoreEventListener } from '../core/events.js';
import type { CostModel } from '../sim/cost.js';
import { type Ok, ok } from '../util/result.js';
import type { LoadedScenario } from './load.js';
import type { MetricValues } from './metrics.js';
import type { Names } from './names.js';
import type { ScenarioError } from './problem.js';
import { type ExecutedStep, type Failure, Runner } from './runner.js';
import type { ScenarioInputs, Simulation } from './simulation.js';
import { SIMULATOR } from './simulator.js';

/** One executed step (the runner's record of it). */
export type SteppedStep = ExecutedStep;

/** A scenario run paused between steps. */
export class ScenarioStepper {
  private readonly gen: Generator<ExecutedStep, void>;
  private finished = false;
  private executed = 0;

  private constructor(private readonly runner: Runner) {
    this.gen = runner.steps();
  }

  /**
   * Builds the machine and the components (the setup), ready for the first step. `listen` is
   * called with the new stepper before the setup; the listener it returns hears every core event
   * from then on, the machine's runs included.
   */
  static create(
    s: LoadedScenario,
    inputs: ScenarioInputs = {},
    listen?: (stepper: ScenarioStepper) => CoreEventListener,
  ): Ok<ScenarioStepper> | ScenarioError {
    const r = Runner.create(s, inputs, SIMULATOR);
    if (!r.ok) return r;
    const stepper = new ScenarioStepper(r.value);
    if (listen) stepper.core.onEvent(listen(stepper));
    if (!r.value.setup()) stepper.finished = true;
    return ok(stepper);
  }

  /** The scenario stepped. */
  get scenario(): LoadedScenario {
    return this.runner.scenario;
  }

  /** Core of the machine the steps act on. */
  get core(): Core {
    return this.runner.core;
  }

  /** The cost model the run uses. */
  get costs(): CostModel {
    return this.runner.costs;
  }

  /** The simulator's machine, in a simulated scenario. */
  get sim(): Simulation | null {
    return this.runner.sim;
  }

  /** The objects the scenario named so far. */
  get names(): Names {
    return this.runner.names;
  }

  /** Every failure so far (setup included). */
  get failures(): readonly Failure[] {
    return this.runner.failures;
  }

  /** Executed steps so far. */
  get position(): number {
    return this.executed;
  }

  /** True when no step is left (or the run stopped). */
  get done(): boolean {
    return this.finished;
  }

  /** Runs the next step; null when none is left. */
  next(): SteppedStep | null {
    if (this.finished) return null;
    const r = this.gen.next();
    if (r.done) {
      this.finished = true;
      return null;
    }
    this.executed++;
    if (r.value.stopped) this.finished = true;
    return r.value;
  }

  /** Every metric measured so far. */
  metrics(): MetricValues {
    return this.runner.metrics();
  }
}
