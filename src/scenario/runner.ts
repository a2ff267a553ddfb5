/**
 * The scenario runner's one step loop, shared by `runScenario` (run.ts), which drains it, and
 * the browser's `ScenarioStepper` (stepper.ts), which pauses between the steps it yields. A
 * `Runner` builds the machine, creates the components (`setup`) and then executes the steps in
 * order (`steps()`, repeats unrolled), checking their expectations and keeping the run log as
 * `faultline run --log` prints it: one line per logged step with core's events indented beneath.
 * A failed expectation does not stop the run; a step that refers to an object that does not exist
 * does (it is the last step yielded).
 */
import { Core } from '../core/core.js';
import { describeEvent } from '../core/events.js';
import { type CostModel, DEFAULT_COSTS, overrideCosts } from '../sim/cost.js';
import { designOptions } from '../sim/designs.js';
import type { IrqSimResult } from '../sim/irq_run.js';
import { log2Floor } from '../util/bits.js';
import { invariant, type Ok, ok } from '../util/result.js';
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
import { type Path, type Position, type ScenarioError, scenarioError } from './problem.js';
import { createComponent, describeComponent, describeThread, registerThread } from './run_components.js';
import type { SimStepEnv } from './run_sim.js';
import { execute, type StepOutput } from './run_steps.js';
import type { StepKind } from './schema.js';
import {
  behaviours,
  isSimStep,
  isSimulated,
  KERNEL_WITH_SIMULATOR,
  needsSimulator,
  RAM_BASE,
} from './sim_spec.js';
import type { ScenarioInputs, Simulation } from './simulation.js';
import type { Simulator } from './simulator.js';

/** A failed expectation (or a step that could not proceed). */
export interface Failure extends Position {
  readonly file: string;
  /** Step label, e.g. `4` or `4.2 [i=17]`; `setup` for the machine and components. */
  readonly step: string;
  readonly kind: StepKind | 'setup';
  readonly message: string;
}

/** One executed step (repeats unrolled: each iteration's steps are steps of their own), at its position in the file. */
export interface ExecutedStep extends Position {
  /** 0-based position among the executed steps. */
  readonly index: number;
  /** `4.2 [i=17]`; `end` for the implicit simulation after the last step. */
  readonly label: string;
  /** Path of the step in the file. */
  readonly path: Path;
  /** Nesting depth in repeats (0 at the top). */
  readonly depth: number;
  readonly kind: StepKind;
  /** The step with its placeholders filled in; null where it could not be instantiated (and for `end`). */
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

/** Where an executed step sits, and how its log lines start. */
interface At extends Position {
  readonly path: Path;
  readonly label: string;
  readonly depth: number;
  /** `  step 4.2 [i=17] (line 30): `, or '' for the implicit simulation. */
  readonly head: string;
  readonly indent: string;
}

/**
 * One run of a scenario: the machine, the names its steps bound, the log and the failures so far.
 * Call `setup` once (it creates the components), then take the steps from `steps()`.
 */
export class Runner {
  /** The objects the scenario named so far. */
  readonly names = new Names();
  /** The run log so far (the components and the logged steps), one entry per line. */
  readonly log: string[] = [];
  /** Every failure so far (setup included). */
  readonly failures: Failure[] = [];
  private readonly errors = new ErrorLines();
  /** Label of the step running now, for the error lines it produces. */
  private label = 'setup';
  private events: string[] = [];
  private nSteps = 0;
  private executed = 0;
  private nExpectations = 0;
  private halted = false;
  private setUp = false;
  private readonly irqRuns = new Map<string, IrqSimResult>();
  /** True while the machine runs: core's events are counted, not logged. */
  private quiet = false;

  private constructor(
    /** The scenario run. */
    readonly scenario: LoadedScenario,
    /** Core of the machine the steps act on. */
    readonly core: Core,
    /** The cost model (defaults, the scenario's and the caller's overrides). */
    readonly costs: CostModel,
    /** The simulator's machine, in a simulated scenario. */
    readonly sim: Simulation | null,
    /** The simulator's step executors, where the scenario needs them. */
    private readonly simulator: Simulator | null,
  ) {
    core.onEvent((e) => {
      if (e.type === 'error') this.errors.add(e.text, this.label);
      if (!this.quiet) this.events.push(describeEvent(e));
      else if (this.sim) this.sim.events.set(e.type, (this.sim.events.get(e.type) ?? 0) + 1);
    });
  }

  /**
   * Builds the scenario's machine (not yet its components). Errs when it cannot be built or an
   * input is missing. `simulator` is `SIMULATOR` (simulator.ts), which a caller may load only for
   * a scenario that needs it (`needsSimulator`), so a run on a bare core starts without it.
   */
  static create(
    s: LoadedScenario,
    inputs: ScenarioInputs,
    simulator: Simulator | null,
  ): Ok<Runner> | ScenarioError {
    const d = s.data;
    invariant(simulator !== null || !needsSimulator(d), () => `scenario ${d.name} needs the simulator`);
    const costs = overrideCosts(DEFAULT_COSTS, { ...d.costs, ...inputs.costs });
    if (!costs.ok) return scenarioError([s.source.problem(['costs'], costs.message)]);
    const m = d.machine;
    if (isSimulated(d)) {
      if (m.kernel) return scenarioError([s.source.problem(['machine', 'kernel'], KERNEL_WITH_SIMULATOR)]);
      const sim = simulator!.create(s, costs.value, inputs);
      if (!sim.ok) return sim;
      return ok(new Runner(s, sim.value.machine.core, costs.value, sim.value, simulator));
    }
    const kernel = m.kernel && {
      name: m.kernel.name ?? 'kernel',
      mapSizesLog2: m.kernel.mapSizes.map((x) => log2Floor(x as number)),
    };
    const core = Core.create({ arch: m.arch, kernel, ram: [{ base: RAM_BASE, size: m.ram as number }] });
    if (!core.ok) return scenarioError([s.source.problem(['machine'], core.message)]);
    return ok(new Runner(s, core.value, costs.value, null, simulator));
  }

  /** Steps executed so far (repeats multiplied out; not one that could not be instantiated). */
  get stepCount(): number {
    return this.nSteps;
  }

  /** Expectations checked so far. */
  get expectations(): number {
    return this.nExpectations;
  }

  /** True when the setup or a step could not proceed: the run stopped there. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Every metric measured so far. */
  metrics(): MetricValues {
    const out: Record<string, number> = this.sim?.ran ? this.sim.metrics(this.names.components.values()) : {};
    for (const [name, r] of this.irqRuns) Object.assign(out, irqMetrics(name, r));
    return out;
  }

  /**
   * Creates the components and their threads, logging each; false when one cannot be created
   * (the run stops: `steps()` yields nothing). Call it once, before `steps()`.
   */
  setup(): boolean {
    invariant(!this.setUp, 'a run is set up once');
    this.setUp = true;
    for (const [ci, comp] of this.scenario.data.components.entries()) {
      const pd = createComponent(this.core, this.names, { ...comp, ram: comp.ram as number });
      if (!pd.ok)
        return this.setupFailure(['components', ci], `cannot create component ${comp.name}: ${pd.message}`);
      const threads: string[] = [];
      for (const [ti, raw] of comp.threads.entries()) {
        const t = { ...raw, ip: raw.ip as number | undefined };
        const ref = `${comp.name}.${t.as ?? t.name}`;
        const player = this.sim?.drives(ref)
          ? this.sim.addPlayer(ref, pd.value, t.name, t.cpu ?? 0, t.priority ?? 0)
          : undefined;
        const th = player
          ? player.ok
            ? ok(player.value.kernel)
            : player
          : this.core.createThread(pd.value, t.name, t.cpu ?? 0);
        if (!th.ok)
          return this.setupFailure(
            ['components', ci, 'threads', ti],
            `cannot create thread ${t.name}: ${th.message}`,
          );
        registerThread(this.names, comp.name, th.value, t);
        threads.push(describeThread(th.value, t, this.sim?.players.get(ref)?.what));
      }
      this.log.push(`component ${comp.name}: ${describeComponent(pd.value, threads)}`);
      this.flushEvents('  ');
    }
    return true;
  }

  /**
   * The steps, executed one per iteration (repeats unrolled), then the implicit simulation when
   * the scenario has behaviours and no simulate step ran them. Ends early when a step could not
   * proceed (or the setup failed).
   */
  *steps(): Generator<ExecutedStep, void> {
    invariant(this.setUp, 'a run steps after its setup');
    if (this.halted) return;
    if (!(yield* this.list(this.scenario.data.steps, null, true))) return;
    if (!this.sim || this.sim.ran || behaviours(this.scenario.data).length === 0) return;
    this.nSteps++;
    const pos = this.scenario.source.at(['steps']);
    const at: At = { path: ['steps'], label: 'end', depth: 0, ...pos, head: '', indent: '' };
    yield this.perform(at, 'simulate', null, true, (env) =>
      this.simulator!.simulate(env, ' (implicit, after the last step)'),
    );
  }

  private setupFailure(path: Path, message: string): false {
    const s = this.scenario;
    this.failures.push({ file: s.file, ...s.source.at(path), step: 'setup', kind: 'setup', message });
    this.log.push(`  FAILED: ${message}`, 'run stopped');
    this.halted = true;
    return false;
  }

  private flushEvents(indent: string): void {
    for (const e of this.events) this.log.push(`${indent}    ${e}`);
    this.events = [];
  }

  /** Runs a list of steps; returns false when the run stopped. */
  private *list(
    list: readonly unknown[],
    parent: { site: Site; var: string; i: number } | null,
    logged: boolean,
  ): Generator<ExecutedStep, boolean> {
    for (let j = 0; j < list.length; j++) {
      const site = parent ? childSite(parent.site, j, parent.var, parent.i) : topSite(j);
      if (!(yield* this.step(list[j], site, logged))) return false;
    }
    return true;
  }

  private *step(raw: unknown, site: Site, logged: boolean): Generator<ExecutedStep, boolean> {
    const pos = this.scenario.source.at(site.path);
    const indent = '  '.repeat(site.depth);
    const label = siteName(site);
    const head = `${indent}step ${label} (line ${pos.line}): `;
    const at: At = { path: site.path, label, depth: site.depth, ...pos, head, indent };
    const kind = stepKindOf(raw);
    const vars = this.names.vars;
    const inst = instantiate(
      raw,
      site,
      this.scenario.source,
      vars.size ? Object.fromEntries(vars) : undefined,
    );
    if (!inst.ok) {
      // The second pass instantiated every iteration already, with stand-ins for attach vars: what
      // fails here is a var whose attach failed, or a value only the run reveals.
      const f: Failure = { file: this.scenario.file, ...pos, step: label, kind, message: inst.message };
      this.failures.push(f);
      yield this.halt(at, kind, null, inst.message, [f]);
      return false;
    }
    const step = inst.value;
    if (step.kind === 'repeat') {
      const a = step.args;
      const limit = a.log === 'all' ? a.times : a.log;
      if (logged) this.log.push(`${at.head}repeat ${a.times} time(s) (${a.var} = 0..${a.times - 1})`);
      for (let i = 0; i < a.times; i++) {
        if (!(yield* this.list(a.steps, { site, var: a.var, i }, logged && i < limit))) return false;
      }
      if (logged && a.times > limit) {
        this.log.push(
          `${indent}  … ${a.times - limit} more iteration(s) ran without log (failures are logged)`,
        );
      }
      return true;
    }
    this.nSteps++;
    const r = this.perform(at, kind, step, logged, (env) =>
      isSimStep(step) ? this.simulator!.executeSim(step, env) : execute(step, env),
    );
    yield r;
    return !r.stopped;
  }

  /**
   * Executes one step with its environment, logs it (when `logged` or failed) and records its
   * failures; a step that could not proceed stops the run.
   */
  private perform(
    at: At,
    kind: StepKind,
    step: StepInstance | null,
    logged: boolean,
    run: (env: SimStepEnv) => StepOutput,
  ): ExecutedStep {
    const s = this.scenario;
    const pos = { line: at.line, column: at.column };
    const failed: Failure[] = [];
    this.label = at.label;
    const env: SimStepEnv = {
      core: this.core,
      names: this.names,
      errors: this.errors,
      label: at.label,
      fail: (message, where) => {
        const f: Failure = { file: s.file, ...(where ?? pos), step: at.label, kind, message };
        failed.push(f);
        this.failures.push(f);
      },
      keyAt: (key) => s.source.keyAt([...at.path, kind], key),
      expect: () => {
        this.nExpectations++;
      },
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
    this.events = [];
    let out: StepOutput;
    try {
      out = run(env);
    } catch (e) {
      if (!(e instanceof CannotProceed)) throw e;
      const message = `cannot proceed: ${e.message}`;
      env.fail(message);
      return this.halt(at, kind, step, message, failed);
    }
    if (logged || failed.length > 0) {
      this.log.push(at.head + out.text);
      this.flushEvents(at.indent);
      for (const l of out.lines ?? []) this.log.push(`${at.indent}    ${l}`);
      for (const f of failed) this.log.push(`${at.indent}  FAILED: ${f.message}`);
    }
    return this.record(at, kind, step, out, failed, false);
  }

  /** A step that could not proceed (`why`; its failures recorded already): logged, and the run stops. */
  private halt(
    at: At,
    kind: StepKind,
    step: StepInstance | null,
    why: string,
    failures: readonly Failure[],
  ): ExecutedStep {
    this.halted = true;
    this.log.push(`${at.head}${kind}`, `${at.indent}  FAILED: ${why}`, `${at.indent}run stopped`);
    return this.record(at, kind, step, { text: kind }, failures, true);
  }

  private record(
    at: At,
    kind: StepKind,
    step: StepInstance | null,
    out: StepOutput,
    failures: readonly Failure[],
    stopped: boolean,
  ): ExecutedStep {
    const { path, label, line, column, depth } = at;
    const lines = out.lines ?? [];
    return {
      index: this.executed++,
      label,
      path,
      line,
      column,
      depth,
      kind,
      step,
      text: out.text,
      lines,
      failures,
      stopped,
    };
  }

  /** The IRQ delivery of the scenario's design (the irq step's default). */
  private irqDelivery(): SimStepEnv['irqDelivery'] {
    if (this.sim) return this.sim.options.irqDelivery;
    const d = designOptions(this.scenario.data.design, this.scenario.data.overrides);
    return d.ok ? d.value.irqDelivery : 'direct';
  }
}
