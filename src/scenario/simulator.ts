/**
 * The simulator's part of a scenario run: building the machine of a simulated scenario and
 * executing the simulator's steps. Kept apart so that a run on a bare core, and validation, load
 * none of it (the runner takes it as a parameter; `sim_spec.needsSimulator` says when).
 */
import type { CostModel } from '../sim/cost.js';
import type { Ok } from '../util/result.js';
import type { LoadedScenario } from './load.js';
import type { ScenarioError } from './problem.js';
import { executeSim, simulate } from './run_sim.js';
import { type ScenarioInputs, Simulation } from './simulation.js';

/** What the runner needs of the simulator. */
export interface Simulator {
  /** Builds a simulated scenario's machine. */
  create(s: LoadedScenario, costs: CostModel, inputs: ScenarioInputs): Ok<Simulation> | ScenarioError;
  /** Executes a step of the simulator's kinds. */
  readonly executeSim: typeof executeSim;
  /** Runs the machine (the `simulate` step). */
  readonly simulate: typeof simulate;
}

/** The simulator. */
export const SIMULATOR: Simulator = {
  create: (s, costs, inputs) => Simulation.create(s, costs, inputs),
  executeSim,
  simulate,
};
