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
 */
import { Core } from '../core/core.js';
import { describeEvent } from '../core/events.js';
import { type CostModel, DEFAULT_COSTS, overrideCosts } from '../sim/cost.js';
import { designOptions } from '../sim/designs.js';
import type { IrqSimResult } from '../sim/irq_run.js';
import { log2Floor } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { type Ok, ok } from '../util/result.js';
import { ErrorLines } from './error_lines.js';
import { childSite, instantiate, type Site, siteName, stepKindOf, topSite } from './expand.js';
import type { LoadedScenario } from './load.js';
import { irqMetrics, type MetricValues } from './metrics.js';
import { CannotProceed, Names } from './names.js';
import { type Position, type ScenarioError, scenarioError } from './problem.js';
import { createComponent, describeComponent, describeThread, registerThread } from './run_components.js';
import { executeSim, isSimStep, type SimStepEnv, simulate } from './run_sim.js';
import { execute, type StepOutput } from './run_steps.js';
import type { StepKind } from './schema.js';
import {
  behaviours,
  hasStep,
  isSimulated,
  KERNEL_WITH_SIMULATOR,
  RAM_BASE,
  type ScenarioInputs,
  Simulation,
} from './simulation.js';

export { RAM_BASE, type ScenarioInputs } from './simulation.js';

/** A failed expectation (or a step that could not proceed). */
export interface Failure extends Position {
  readonly file: string;
  /** Step label, e.g. `4` or `4.2 [i=17]`; `setup` for the machine and components. */
  readonly step: string;
  readonly kind: StepKind | 'setup';
  readonly message: string;
}

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
 * Runs a scenario; `inputs` carries what the caller read for it (trace records). Errs only when
 * its machine cannot be built or an input is missing.
 */
export function runScenario(s: LoadedScenario, inputs: ScenarioInputs = {}): Ok<RunReport> | ScenarioError {
  const d = s.data;
  const costs = overrideCosts(DEFAULT_COSTS, { ...d.costs, ...inputs.costs });
  if (!costs.ok) return scenarioError([s.source.problem(['costs'], costs.message)]);
  if (isSimulated(d)) {
    const m = d.machine;
    if (m.kernel) return scenarioError([s.source.problem(['machine', 'kernel'], KERNEL_WITH_SIMULATOR)]);
    const sim = Simulation.create(s, costs.value, inputs);
    if (!sim.ok) return sim;
    return ok(new Runner(s, sim.value.machine.core, costs.value, sim.value).run());
  }
  const m = d.machine;
  const kernel = m.kernel && {
    name: m.kernel.name ?? 'kernel',
    mapSizesLog2: m.kernel.mapSizes.map((x) => log2Floor(x as number)),
  };
  const core = Core.create({ arch: m.arch, kernel, ram: [{ base: RAM_BASE, size: m.ram as number }] });
  if (!core.ok) return scenarioError([s.source.problem(['machine'], core.message)]);
  return ok(new Runner(s, core.value, costs.value, null).run());
}

class Runner {
  private readonly log: string[] = [];
  private readonly failures: Failure[] = [];
  private readonly names = new Names();
  private readonly errors = new ErrorLines();
  /** Label of the step running now, for the error lines it produces. */
  private label = 'setup';
  private events: string[] = [];
  private stepCount = 0;
  private expectations = 0;
  private stopped = false;
  private readonly irqRuns = new Map<string, IrqSimResult>();
  /** True while the machine runs: core's events are counted, not logged. */
  private quiet = false;

  constructor(
    private readonly s: LoadedScenario,
    private readonly core: Core,
    private readonly costs: CostModel,
    private readonly sim: Simulation | null,
  ) {
    core.onEvent((e) => {
      if (e.type === 'error') this.errors.add(e.text, this.label);
      if (!this.quiet) this.events.push(describeEvent(e));
      else if (this.sim) this.sim.events.set(e.type, (this.sim.events.get(e.type) ?? 0) + 1);
    });
  }

  /** Every metric measured so far. */
  private metrics(): MetricValues {
    const out: Record<string, number> = this.sim?.ran ? this.sim.metrics(this.names.components.values()) : {};
    for (const [name, r] of this.irqRuns) Object.assign(out, irqMetrics(name, r));
    return out;
  }

  run(): RunReport {
    const d = this.s.data;
    const c = this.core;
    this.log.push(`scenario ${d.name}${d.description ? `: ${d.description.trim().split('\n')[0]}` : ''}`);
    const sizes = c.policy.mapSizesLog2.map((x) => sizeName(2 ** x)).join(', ');
    this.log.push(
      `machine: ${c.arch.name}, ${d.machine.cpus} CPU(s), ${sizeName(d.machine.ram as number)} RAM at ${hex(RAM_BASE)}, mapping sizes ${sizes}`,
    );
    const costs = Object.entries(this.costs)
      .filter(([k, v]) => DEFAULT_COSTS[k as keyof CostModel] !== v)
      .map(([k, v]) => `${k}=${v}`);
    const irq = hasStep(d.steps, 'irq');
    if (this.sim) this.log.push(this.sim.describe(costs));
    else {
      const unused = [
        d.machine.tlb !== undefined ? `tlb ${d.machine.tlb}` : '',
        ...(irq ? [] : costs.map((x) => `cost ${x}`)),
      ].filter(Boolean);
      if (unused.length)
        this.log.push(`for the simulator (not used by the core runner): ${unused.join(', ')}`);
      if (irq && costs.length) this.log.push(`costs (for the IRQ simulation): ${costs.join(', ')}`);
    }
    if (this.components() && this.steps(d.steps, null, true)) this.implicitSimulation();
    const failed = this.failures.length;
    const summary = `${this.stepCount} step(s), ${this.expectations} expectation(s), ${failed ? `${failed} failed` : 'all hold'}${this.stopped ? ', run stopped' : ''}`;
    this.log.push(`result: ${summary}`);
    return {
      name: d.name,
      simulated: this.sim !== null,
      metrics: this.metrics(),
      log: this.log,
      failures: this.failures,
      stopped: this.stopped,
      steps: this.stepCount,
      expectations: this.expectations,
      summary,
    };
  }

  private setupFailure(path: (string | number)[], message: string): false {
    this.failures.push({
      file: this.s.file,
      ...this.s.source.at(path),
      step: 'setup',
      kind: 'setup',
      message,
    });
    this.log.push(`  FAILED: ${message}`, 'run stopped');
    this.stopped = true;
    return false;
  }

  private components(): boolean {
    for (const [ci, comp] of this.s.data.components.entries()) {
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

  private flushEvents(indent: string): void {
    for (const e of this.events) this.log.push(`${indent}    ${e}`);
    this.events = [];
  }

  /** Runs a list of steps; returns false when the run stopped. */
  private steps(
    list: readonly unknown[],
    parent: { site: Site; var: string; i: number } | null,
    logged: boolean,
  ): boolean {
    for (let j = 0; j < list.length; j++) {
      const site = parent ? childSite(parent.site, j, parent.var, parent.i) : topSite(j);
      if (!this.step(list[j], site, logged)) return false;
    }
    return true;
  }

  private step(raw: unknown, site: Site, logged: boolean): boolean {
    const pos = this.s.source.at(site.path);
    const indent = '  '.repeat(site.depth);
    const head = `${indent}step ${siteName(site)} (line ${pos.line}): `;
    const kind = stepKindOf(raw);
    const vars = this.names.vars;
    const inst = instantiate(raw, site, this.s.source, vars.size ? Object.fromEntries(vars) : undefined);
    if (!inst.ok) {
      // The second pass instantiated every iteration already, with stand-ins for attach vars: what
      // fails here is a var whose attach failed, or a value only the run reveals.
      this.failures.push({ file: this.s.file, ...pos, step: siteName(site), kind, message: inst.message });
      this.stopped = true;
      this.log.push(`${head}${kind}`, `${indent}  FAILED: ${inst.message}`, `${indent}run stopped`);
      return false;
    }
    const step = inst.value;
    if (step.kind === 'repeat') {
      const a = step.args;
      const limit = a.log === 'all' ? a.times : a.log;
      if (logged) this.log.push(`${head}repeat ${a.times} time(s) (${a.var} = 0..${a.times - 1})`);
      for (let i = 0; i < a.times; i++) {
        if (!this.steps(a.steps, { site, var: a.var, i }, logged && i < limit)) return false;
      }
      if (logged && a.times > limit) {
        this.log.push(
          `${indent}  … ${a.times - limit} more iteration(s) ran without log (failures are logged)`,
        );
      }
      return true;
    }
    this.stepCount++;
    return this.perform(head, indent, logged, site.path, siteName(site), kind, (env) =>
      isSimStep(step) ? executeSim(step, env) : execute(step, env),
    );
  }

  /** After the last step: runs the behaviours if no simulate step did. */
  private implicitSimulation(): void {
    if (!this.sim || this.sim.ran || behaviours(this.s.data).length === 0) return;
    this.stepCount++;
    this.perform('', '', true, ['steps'], 'end', 'simulate', (env) =>
      simulate(env, ' (implicit, after the last step)'),
    );
  }

  /**
   * Executes one step with its environment, logs it (when `logged` or failed) and records its
   * failures; returns false when it could not proceed (the run stops).
   */
  private perform(
    head: string,
    indent: string,
    logged: boolean,
    path: readonly (string | number)[],
    label: string,
    kind: StepKind,
    run: (env: SimStepEnv) => StepOutput,
  ): boolean {
    const pos = this.s.source.at(path);
    const failed: string[] = [];
    this.label = label;
    const env: SimStepEnv = {
      core: this.core,
      names: this.names,
      errors: this.errors,
      label,
      fail: (message, at) => {
        failed.push(message);
        this.failures.push({ file: this.s.file, ...(at ?? pos), step: label, kind, message });
      },
      keyAt: (key) => this.s.source.keyAt([...path, kind], key),
      expect: () => {
        this.expectations++;
      },
      scenario: this.s,
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
    try {
      const out = run(env);
      if (logged || failed.length > 0) {
        this.log.push(head + out.text);
        this.flushEvents(indent);
        for (const l of out.lines ?? []) this.log.push(`${indent}    ${l}`);
        for (const f of failed) this.log.push(`${indent}  FAILED: ${f}`);
      }
      return true;
    } catch (e) {
      if (!(e instanceof CannotProceed)) throw e;
      env.fail(`cannot proceed: ${e.message}`);
      this.stopped = true;
      this.log.push(
        `${head}${kind}`,
        `${indent}  FAILED: cannot proceed: ${e.message}`,
        `${indent}run stopped`,
      );
      return false;
    }
  }

  /** The IRQ delivery of the scenario's design (the irq step's default). */
  private irqDelivery(): SimStepEnv['irqDelivery'] {
    if (this.sim) return this.sim.options.irqDelivery;
    const d = designOptions(this.s.data.design, this.s.data.overrides);
    return d.ok ? d.value.irqDelivery : 'direct';
  }
}
