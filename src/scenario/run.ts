/**
 * Runs a loaded scenario on a fresh `Core`: builds the machine and components, executes the
 * steps in order and checks their expectations. Pure and synchronous (no I/O): returns the run
 * log (one line per step with core's events indented beneath, via `describeEvent`) and the failed
 * expectations, each naming its step and source position. A failed expectation does not stop
 * the run; a step that refers to an object that does not exist does.
 *
 * Built-in behaviours and designs other than `genode` need the simulator and are rejected.
 */
import { Core } from '../core/core.js';
import { describeEvent } from '../core/events.js';
import { log2Floor } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { type Ok, ok } from '../util/result.js';
import { childSite, instantiate, type Site, siteName, stepKindOf, topSite } from './expand.js';
import type { LoadedScenario } from './load.js';
import { CannotProceed, Names } from './names.js';
import { type Position, type Problem, type ScenarioError, scenarioError } from './problem.js';
import { execute, type StepEnv } from './run_steps.js';
import type { StepKind } from './schema.js';

/** Physical address where the machine's RAM starts. */
export const RAM_BASE = 0x40000000;

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
  /** The run log, one entry per line. */
  readonly log: readonly string[];
  readonly failures: readonly Failure[];
  /** True when a step could not proceed and the run stopped there. */
  readonly stopped: boolean;
  /** Steps executed (repeats multiplied out). */
  readonly steps: number;
  /** Expectations checked. */
  readonly expectations: number;
  /** One line: steps, expectations, failures. */
  readonly summary: string;
}

/** `file:line:col step 4 (write): message`. */
export function formatFailure(f: Failure): string {
  return `${f.file}:${f.line}:${f.column} step ${f.step} (${f.kind}): ${f.message}`;
}

/** The message for a behaviour or design the core-only runner cannot run. */
export function needsSimulator(what: string): string {
  return `${what} needs the simulator: run with faultline run --sim (not available yet)`;
}

/** What a scenario uses that only the simulator can run (empty when the core runner can run it). */
export function simulatorOnly(s: LoadedScenario): Problem[] {
  const problems: Problem[] = [];
  if (s.data.design !== 'genode')
    problems.push(s.source.problem(['design'], needsSimulator(`design '${s.data.design}'`)));
  s.data.components.forEach((c, ci) => {
    c.behaviours?.forEach((b, bi) => {
      const key = Object.keys(b)[0]!;
      problems.push(
        s.source.problem(['components', ci, 'behaviours', bi, key], needsSimulator(`behaviour ${key}`)),
      );
    });
  });
  return problems;
}

/** Runs a scenario. Errs only when it needs the simulator or its machine cannot be built. */
export function runScenario(s: LoadedScenario): Ok<RunReport> | ScenarioError {
  const rejected = simulatorOnly(s);
  if (rejected.length > 0) return scenarioError(rejected);
  const m = s.data.machine;
  const ram = m.ram as number;
  const kernel = m.kernel && {
    name: m.kernel.name ?? 'kernel',
    mapSizesLog2: m.kernel.mapSizes.map((x) => log2Floor(x as number)),
  };
  const core = Core.create({ arch: m.arch, kernel, ram: [{ base: RAM_BASE, size: ram }] });
  if (!core.ok) return scenarioError([s.source.problem(['machine'], core.message)]);
  return ok(new Runner(s, core.value).run());
}

class Runner {
  private readonly log: string[] = [];
  private readonly failures: Failure[] = [];
  private readonly names = new Names();
  private events: string[] = [];
  private stepCount = 0;
  private expectations = 0;
  private stopped = false;

  constructor(
    private readonly s: LoadedScenario,
    private readonly core: Core,
  ) {
    core.onEvent((e) => this.events.push(describeEvent(e)));
  }

  run(): RunReport {
    const d = this.s.data;
    const c = this.core;
    this.log.push(`scenario ${d.name}${d.description ? `: ${d.description.trim().split('\n')[0]}` : ''}`);
    const sizes = c.policy.mapSizesLog2.map((x) => sizeName(2 ** x)).join(', ');
    this.log.push(
      `machine: ${c.arch.name}, ${d.machine.cpus} CPU(s), ${sizeName(d.machine.ram as number)} RAM at ${hex(RAM_BASE)}, mapping sizes ${sizes}`,
    );
    const unused = [
      d.machine.tlb !== undefined ? `tlb ${d.machine.tlb}` : '',
      ...Object.entries(d.costs).map(([k, v]) => `cost ${k}=${v}`),
      ...Object.entries(d.overrides).map(([k, v]) => `override ${k}=${v}`),
    ].filter(Boolean);
    if (unused.length) this.log.push(`for the simulator (not used by the core runner): ${unused.join(', ')}`);
    if (this.components()) this.steps(d.steps, null, true);
    const failed = this.failures.length;
    const summary = `${this.stepCount} step(s), ${this.expectations} expectation(s), ${failed ? `${failed} failed` : 'all hold'}${this.stopped ? ', run stopped' : ''}`;
    this.log.push(`result: ${summary}`);
    return {
      name: d.name,
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
      const pd = this.core.createPd(`init -> ${comp.name}`, { ram: comp.ram as number, caps: comp.caps });
      if (!pd.ok)
        return this.setupFailure(['components', ci], `cannot create component ${comp.name}: ${pd.message}`);
      this.names.components.set(comp.name, pd.value);
      const threads: string[] = [];
      for (const [ti, t] of comp.threads.entries()) {
        const th = this.core.createThread(pd.value, t.name, t.cpu ?? 0);
        if (!th.ok)
          return this.setupFailure(
            ['components', ci, 'threads', ti],
            `cannot create thread ${t.name}: ${th.message}`,
          );
        th.value.ip = (t.ip as number | undefined) ?? 0;
        th.value.priority = t.priority ?? 0;
        this.names.threads.set(`${comp.name}.${t.name}`, th.value);
        threads.push(`${t.name} (cpu ${th.value.cpu}, ip ${hex(th.value.ip)})`);
      }
      this.log.push(
        `component ${comp.name}: ${pd.value}, address space region map #${pd.value.addressSpace.id}${threads.length ? `, threads ${threads.join(', ')}` : ''}`,
      );
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
    const inst = instantiate(raw, site, this.s.source);
    if (!inst.ok) {
      // The second pass instantiated every iteration already; kept for robustness.
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
    const failed: string[] = [];
    const env: StepEnv = {
      core: this.core,
      names: this.names,
      label: siteName(site),
      fail: (message) => {
        failed.push(message);
        this.failures.push({ file: this.s.file, ...pos, step: siteName(site), kind, message });
      },
      expect: () => {
        this.expectations++;
      },
    };
    this.events = [];
    try {
      const out = execute(step, env);
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
}
