/**
 * Runs a loaded scenario one step at a time (for the browser visualizer, `faultline view`): the
 * same steps, checks and log texts as `runScenario`, but paused after every executed step with
 * core, the names and the machine open for inspection. Repeats are unrolled: each iteration's
 * steps are steps of their own. Going back means creating a new stepper and stepping it forward
 * again; a run is deterministic, so it reaches the same state.
 *
 * It mirrors `run.ts`'s runner (kept separate so that file keeps one job); a test checks that both
 * give the same failures and step texts for every shipped scenario.
 */
import { Core } from '../core/core.js';
import type { CoreEventListener } from '../core/events.js';
import { type CostModel, DEFAULT_COSTS, overrideCosts } from '../sim/cost.js';
import { designOptions } from '../sim/designs.js';
import type { IrqSimResult } from '../sim/irq_run.js';
import { log2Floor } from '../util/bits.js';
import { type Ok, ok } from '../util/result.js';
import { ErrorLines } from './error_lines.js';
import {
  childSite,
  instantiate,
  type Site,
  type StepInstance,
  siteName,
  stepKindOf,
  topSite,
} from './expand.js';
import type { LoadedScenario } from './load.js';
import { irqMetrics, type MetricValues } from './metrics.js';
import { CannotProceed, Names } from './names.js';
import { type Path, type ScenarioError, scenarioError } from './problem.js';
import type { Failure } from './run.js';
import { executeSim, isSimStep, type SimStepEnv, simulate } from './run_sim.js';
import { execute, type StepOutput } from './run_steps.js';
import type { StepKind } from './schema.js';
import {
  behaviours,
  isSimulated,
  KERNEL_WITH_SIMULATOR,
  RAM_BASE,
  type ScenarioInputs,
  Simulation,
} from './simulation.js';

/** One executed step. */
export interface SteppedStep {
  /** 0-based position among the executed steps. */
  readonly index: number;
  /** `4.2 [i=17]`; `end` for the implicit simulation after the last step. */
  readonly label: string;
  /** Path of the step in the file. */
  readonly path: Path;
  readonly line: number;
  readonly column: number;
  /** Nesting depth in repeats (0 at the top). */
  readonly depth: number;
  readonly kind: StepKind;
  /** The step with its placeholders filled in; null where it could not be instantiated. */
  readonly step: StepInstance | null;
  /** Its log text, as `faultline run --log` prints it after `step N (line L): `. */
  readonly text: string;
  /** Lines beneath it (explanations, the simulation's summary). */
  readonly lines: readonly string[];
  /** Expectations of this step that failed. */
  readonly failures: readonly Failure[];
  /** True when the step could not proceed: the run stops after it. */
  readonly stopped: boolean;
}

/** A scenario run paused between steps. */
export class ScenarioStepper {
  readonly names = new Names();
  /** Every failure so far (setup included). */
  readonly failures: Failure[] = [];
  /** Executed steps so far. */
  position = 0;
  private readonly irqRuns = new Map<string, IrqSimResult>();
  /** Core's error lines, for `expect_errors` (as the runner keeps them). */
  private readonly errors = new ErrorLines();
  /** Label of the step running now, for the error lines it produces. */
  private label = 'setup';
  private readonly gen: Generator<SteppedStep, void>;
  private finished = false;
  private setupFailed = false;
  private quiet = false;

  private constructor(
    readonly scenario: LoadedScenario,
    readonly core: Core,
    readonly costs: CostModel,
    readonly sim: Simulation | null,
  ) {
    core.onEvent((e) => {
      if (e.type === 'error') this.errors.add(e.text, this.label);
      if (this.quiet && this.sim) this.sim.events.set(e.type, (this.sim.events.get(e.type) ?? 0) + 1);
    });
    this.gen = this.run();
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
    const d = s.data;
    const costs = overrideCosts(DEFAULT_COSTS, { ...d.costs, ...inputs.costs });
    if (!costs.ok) return scenarioError([s.source.problem(['costs'], costs.message)]);
    let stepper: ScenarioStepper;
    if (isSimulated(d)) {
      if (d.machine.kernel)
        return scenarioError([s.source.problem(['machine', 'kernel'], KERNEL_WITH_SIMULATOR)]);
      const sim = Simulation.create(s, costs.value, inputs);
      if (!sim.ok) return sim;
      stepper = new ScenarioStepper(s, sim.value.machine.core, costs.value, sim.value);
    } else {
      const m = d.machine;
      const kernel = m.kernel && {
        name: m.kernel.name ?? 'kernel',
        mapSizesLog2: m.kernel.mapSizes.map((x) => log2Floor(x as number)),
      };
      const core = Core.create({ arch: m.arch, kernel, ram: [{ base: RAM_BASE, size: m.ram as number }] });
      if (!core.ok) return scenarioError([s.source.problem(['machine'], core.message)]);
      stepper = new ScenarioStepper(s, core.value, costs.value, null);
    }
    if (listen) stepper.core.onEvent(listen(stepper));
    stepper.setup();
    return ok(stepper);
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
    if (r.value.stopped) this.finished = true;
    return r.value;
  }

  /** Every metric measured so far. */
  metrics(): MetricValues {
    const out: Record<string, number> = this.sim?.ran ? this.sim.metrics(this.names.components.values()) : {};
    for (const [name, r] of this.irqRuns) Object.assign(out, irqMetrics(name, r));
    return out;
  }

  /** Creates the components and their threads, as the runner does. */
  private setup(): boolean {
    const fail = (path: Path, message: string): false => {
      this.failures.push({
        file: this.scenario.file,
        ...this.scenario.source.at(path),
        step: 'setup',
        kind: 'setup',
        message,
      });
      this.setupFailed = true;
      this.finished = true;
      return false;
    };
    for (const [ci, comp] of this.scenario.data.components.entries()) {
      const pd = this.core.createPd(`init -> ${comp.name}`, { ram: comp.ram as number, caps: comp.caps });
      if (!pd.ok) return fail(['components', ci], `cannot create component ${comp.name}: ${pd.message}`);
      this.names.components.set(comp.name, pd.value);
      for (const [ti, t] of comp.threads.entries()) {
        const ref = `${comp.name}.${t.name}`;
        const player = this.sim?.drives(ref)
          ? this.sim.addPlayer(ref, pd.value, t.name, t.cpu ?? 0, t.priority ?? 0)
          : undefined;
        const th = player
          ? player.ok
            ? ok(player.value.kernel)
            : player
          : this.core.createThread(pd.value, t.name, t.cpu ?? 0);
        if (!th.ok)
          return fail(['components', ci, 'threads', ti], `cannot create thread ${t.name}: ${th.message}`);
        th.value.ip = (t.ip as number | undefined) ?? 0;
        th.value.priority = t.priority ?? 0;
        this.names.threads.set(ref, th.value);
      }
    }
    return true;
  }

  private *run(): Generator<SteppedStep, void> {
    if (this.setupFailed) return;
    if (!(yield* this.steps(this.scenario.data.steps, null))) return;
    if (!this.sim || this.sim.ran || behaviours(this.scenario.data).length === 0) return;
    yield this.perform({ path: ['steps'], label: 'end', vars: {}, depth: 0 }, 'simulate', null, (env) =>
      simulate(env, ' (implicit, after the last step)'),
    );
  }

  private *steps(
    list: readonly unknown[],
    parent: { site: Site; var: string; i: number } | null,
  ): Generator<SteppedStep, boolean> {
    for (let j = 0; j < list.length; j++) {
      const site = parent ? childSite(parent.site, j, parent.var, parent.i) : topSite(j);
      if (!(yield* this.step(list[j], site))) return false;
    }
    return true;
  }

  private *step(raw: unknown, site: Site): Generator<SteppedStep, boolean> {
    const kind = stepKindOf(raw);
    const vars = this.names.vars;
    const inst = instantiate(
      raw,
      site,
      this.scenario.source,
      vars.size ? Object.fromEntries(vars) : undefined,
    );
    if (!inst.ok) {
      const pos = this.scenario.source.at(site.path);
      const f: Failure = {
        file: this.scenario.file,
        ...pos,
        step: siteName(site),
        kind,
        message: inst.message,
      };
      this.failures.push(f);
      yield this.record(site, kind, null, { text: kind }, [f], true);
      return false;
    }
    const step = inst.value;
    if (step.kind === 'repeat') {
      const a = step.args;
      for (let i = 0; i < a.times; i++) {
        if (!(yield* this.steps(a.steps, { site, var: a.var, i }))) return false;
      }
      return true;
    }
    const r = this.perform(site, kind, step, (env) =>
      isSimStep(step) ? executeSim(step, env) : execute(step, env),
    );
    yield r;
    return !r.stopped;
  }

  private record(
    site: Site,
    kind: StepKind,
    step: StepInstance | null,
    out: StepOutput,
    failures: readonly Failure[],
    stopped: boolean,
  ): SteppedStep {
    const pos = this.scenario.source.at(site.path);
    return {
      index: this.position++,
      label: siteName(site),
      path: site.path,
      line: pos.line,
      column: pos.column,
      depth: site.depth,
      kind,
      step,
      text: out.text,
      lines: out.lines ?? [],
      failures,
      stopped,
    };
  }

  /** Executes one step with the runner's environment. */
  private perform(
    site: Site,
    kind: StepKind,
    step: StepInstance | null,
    run: (env: SimStepEnv) => StepOutput,
  ): SteppedStep {
    const s = this.scenario;
    const pos = s.source.at(site.path);
    const label = siteName(site);
    const failed: Failure[] = [];
    this.label = label;
    const env: SimStepEnv = {
      core: this.core,
      names: this.names,
      errors: this.errors,
      label,
      fail: (message, at) => {
        const f: Failure = { file: s.file, ...(at ?? pos), step: label, kind, message };
        failed.push(f);
        this.failures.push(f);
      },
      keyAt: (key) => s.source.keyAt([...site.path, kind], key),
      expect: () => {},
      scenario: s,
      sim: this.sim,
      costs: this.costs,
      irqDelivery: this.irqDelivery(),
      irqRuns: this.irqRuns,
      metrics: () => this.metrics(),
      quietly: (f) => {
        this.quiet = true;
        try {
          f();
        } finally {
          this.quiet = false;
        }
      },
    };
    try {
      return this.record(site, kind, step, run(env), failed, false);
    } catch (e) {
      if (!(e instanceof CannotProceed)) throw e;
      env.fail(`cannot proceed: ${e.message}`);
      return this.record(site, kind, step, { text: kind }, failed, true);
    }
  }

  /** The IRQ delivery of the scenario's design (the irq step's default). */
  private irqDelivery(): SimStepEnv['irqDelivery'] {
    if (this.sim) return this.sim.options.irqDelivery;
    const d = designOptions(this.scenario.data.design, this.scenario.data.overrides);
    return d.ok ? d.value.irqDelivery : 'direct';
  }
}
