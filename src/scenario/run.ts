/**
 * Runs a loaded scenario with the simulator at hand (`run_log.ts` does the work): the entry point
 * for the library and the tests. The command line calls `runScenarioWith` itself, so that a run on
 * a bare core starts without loading the simulator.
 */
import type { Ok } from '../util/result.js';
import type { LoadedScenario } from './load.js';
import type { ScenarioError } from './problem.js';
import { type RunReport, runScenarioWith } from './run_log.js';
import type { ScenarioInputs } from './simulation.js';
import { SIMULATOR } from './simulator.js';

export { formatFailure, type RunReport, runScenarioWith } from './run_log.js';
export { type ExecutedStep, type Failure, Runner } from './runner.js';
export { RAM_BASE } from './sim_spec.js';
export type { ScenarioInputs } from './simulation.js';

/**
 * Runs a scenario; `inputs` carries what the caller read for it (trace records). Errs only when
 * its machine cannot be built or an input is missing.
 */
export function runScenario(s: LoadedScenario, inputs: ScenarioInputs = {}): Ok<RunReport> | ScenarioError {
  return runScenarioWith(s, inputs, SIMULATOR);
}
