/**
 * The second pass over a schema-valid scenario: machine and quota figures, cost keys, and every
 * name the steps use, in order. A name (component, region map, dataspace, signal, region) is
 * defined once, by the components list or by a step that is not expected to fail, and must be
 * defined before a step refers to it. Repeat bodies are checked once per iteration with their
 * placeholders filled in, so `page${i}` works (attach vars: `check_vars.ts`); the whole run may not exceed
 * {@link MAX_STEP_INSTANCES} steps. The simulated parts (design, behaviours, simulate, irq,
 * expect_metrics) are checked by `check_sim.ts` in the same order.
 */
import { archByName, mappingSizesLog2 } from '../hw/arch.js';
import { DEFAULT_COSTS, overrideCosts } from '../sim/cost.js';
import { isPow2, log2Floor } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { SimChecker } from './check_sim.js';
import { AttachVars } from './check_vars.js';
import { childSite, instantiate, type Site, type StepInstance, topSite, varsText } from './expand.js';
import type { LoadedScenario } from './load.js';
import { formatPath, type Path, type Position, type Problem } from './problem.js';

/** Most step executions a scenario may have (repeats multiplied out). */
export const MAX_STEP_INSTANCES = 100_000;
/** Most problems reported for one scenario. */
const MAX_PROBLEMS = 100;

type NameKind = 'component' | 'region map' | 'dataspace' | 'signal' | 'region';

interface Def {
  readonly kind: NameKind;
  readonly line: number;
  /** The owning component (a component owns itself). */
  readonly owner: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** What the second pass reads of a component and its threads (setup list or create_component). */
interface ThreadShape {
  readonly name: string;
  readonly as?: string | undefined;
  readonly cpu?: number | undefined;
  readonly ip?: number | string | undefined;
}
interface ComponentShape {
  readonly name: string;
  readonly ram: number | string;
  readonly areas?: boolean | undefined;
  readonly threads: readonly ThreadShape[];
}

/** Checks what the schema cannot: figures, names and references. Returns every problem found. */
export function checkScenario(s: LoadedScenario): Problem[] {
  return new Checker(s).run();
}

class Checker {
  private readonly problems: Problem[] = [];
  private readonly names = new Map<string, Def>();
  private readonly threads = new Set<string>();
  /** Variables attach steps bound (`var`): their values exist only at run time. */
  private readonly vars = new AttachVars((path, message) => this.report(path, message));
  private instances = 0;
  private readonly cpus: number;

  private readonly sim: SimChecker;

  constructor(private readonly s: LoadedScenario) {
    this.cpus = s.data.machine.cpus;
    this.sim = new SimChecker(s, {
      report: (path, message, position) => this.report(path, message, position),
      fixed: (v, path) => this.fixed(v, path),
      map: (name, path) => {
        this.ref(name, ['component', 'region map'], path);
      },
      cpu: (n, path) => this.cpu(n, path),
    });
  }

  run(): Problem[] {
    this.machine();
    this.sim.machine();
    for (const [k, v] of Object.entries(this.s.data.costs)) {
      const r = overrideCosts(DEFAULT_COSTS, { [k]: v });
      if (!r.ok) this.report(['costs', k], r.message);
    }
    this.components();
    this.sim.behaviours();
    const steps = this.s.data.steps;
    for (let i = 0; i < steps.length && this.problems.length < MAX_PROBLEMS; i++)
      this.step(steps[i], topSite(i));
    this.sim.end();
    return this.problems;
  }

  /** Loop variables of the step being checked, for messages. */
  private where = '';
  /** Problems already reported, by path and message without the iteration: one report per site. */
  private readonly seen = new Set<string>();

  private report(path: Path, message: string, position?: Position): void {
    if (this.vars.isDeferred(formatPath(path))) return;
    this.add(this.s.source.problem(path, this.where ? `${message} (when ${this.where})` : message, position));
  }

  private add(p: Problem): void {
    const key = `${p.path}: ${p.message.replace(/ \(when [^)]*\)$/, '')}`;
    if (this.problems.length >= MAX_PROBLEMS || this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push(p);
  }

  /** A number outside steps: placeholders are not allowed there. */
  private fixed(v: number | string, path: Path): number | undefined {
    if (typeof v === 'number') return v;
    this.report(path, `\${…} is only allowed in steps, got '${v}'`);
    return undefined;
  }

  private machine(): void {
    const m = this.s.data.machine;
    const arch = archByName(m.arch);
    if (!arch.ok) {
      this.report(['machine', 'arch'], arch.message);
      return;
    }
    const page = 2 ** arch.value.pageSizesLog2[0]!;
    const ram = this.fixed(m.ram, ['machine', 'ram']);
    if (ram !== undefined && (ram <= 0 || ram % page !== 0)) {
      this.report(
        ['machine', 'ram'],
        `RAM must be a positive multiple of the ${sizeName(page)} page, got ${hex(ram)}`,
      );
    }
    if (!m.kernel) return;
    const sizes: number[] = [];
    m.kernel.mapSizes.forEach((v, i) => {
      const n = this.fixed(v, ['machine', 'kernel', 'mapSizes', i]);
      if (n === undefined) return;
      if (!isPow2(n))
        this.report(['machine', 'kernel', 'mapSizes', i], `a mapping size is a power of two, got ${hex(n)}`);
      else sizes.push(log2Floor(n));
    });
    if (sizes.length !== m.kernel.mapSizes.length) return;
    const r = mappingSizesLog2(arch.value, { name: m.kernel.name ?? 'kernel', mapSizesLog2: sizes });
    if (!r.ok) this.report(['machine', 'kernel', 'mapSizes'], r.message);
  }

  private components(): void {
    this.s.data.components.forEach((c, ci) => {
      this.component(c, ['components', ci]);
    });
    this.s.data.components.forEach((c, ci) => {
      c.behaviours?.forEach((b, bi) => {
        const [key, args] = Object.entries(b)[0]! as [string, { thread?: string }];
        if (args.thread !== undefined)
          this.thread(args.thread, ['components', ci, 'behaviours', bi, key, 'thread']);
      });
    });
  }

  /** A component (of the list or created by a step): its name, areas and threads. */
  private component(c: ComponentShape, at: Path): void {
    this.define(c.name, 'component', c.name, [...at, 'name']);
    // Numbers of steps are resolved already; those of the components list may hold no placeholder.
    const listed = at[0] === 'components';
    if (listed) this.fixed(c.ram, [...at, 'ram']);
    if (c.areas) {
      // Dotted names cannot be defined by a step, so they never collide with one.
      for (const area of ['stack_area', 'linker_area'])
        this.names.set(`${c.name}.${area}`, { kind: 'region map', line: this.line(at), owner: c.name });
    }
    c.threads.forEach((t, ti) => {
      this.newThread(c.name, t, [...at, 'threads', ti]);
    });
  }

  /** A thread of component `comp`: steps refer to it as `comp.AS` (AS defaults to its name). */
  private newThread(comp: string, t: ThreadShape, tp: Path): void {
    const ref = `${comp}.${t.as ?? t.name}`;
    if (this.threads.has(ref)) {
      this.report(
        [...tp, t.as === undefined ? 'name' : 'as'],
        `thread '${t.as ?? t.name}' is already defined in ${comp}${t.as === undefined ? ': threads may share a name when each has its own as' : ''}`,
      );
    }
    this.threads.add(ref);
    if (t.cpu !== undefined) this.cpu(t.cpu, [...tp, 'cpu']);
    if (t.ip !== undefined && tp[0] === 'components') this.fixed(t.ip, [...tp, 'ip']);
  }

  private cpu(n: number, path: Path): void {
    if (n >= this.cpus)
      this.report(path, `CPU ${n} does not exist: the machine has ${this.cpus} CPU(s), numbered from 0`);
  }

  private line(path: Path): number {
    return this.s.source.at(path).line;
  }

  private define(name: string, kind: NameKind, owner: string, path: Path): void {
    const old = this.names.get(name);
    if (!IDENT.test(name)) {
      this.report(
        path,
        `'${name}' is not a valid name: use letters, digits, _ and -, starting with a letter or _`,
      );
    } else if (old) {
      this.report(path, `'${name}' is already defined at line ${old.line} (as a ${old.kind})`);
    } else this.names.set(name, { kind, line: this.line(path), owner });
  }

  /** Looks up a name that must be one of `kinds`; reports and returns undefined otherwise. */
  private ref(name: string, kinds: readonly NameKind[], path: Path): Def | undefined {
    const d = this.names.get(name);
    if (!d) {
      this.report(path, `undefined ${kinds.join(' or ')} '${name}'`);
      return undefined;
    }
    if (!kinds.includes(d.kind)) {
      this.report(path, `'${name}' is a ${d.kind} (defined at line ${d.line}), not a ${kinds.join(' or ')}`);
      return undefined;
    }
    return d;
  }

  private thread(ref: string, path: Path): void {
    if (this.threads.has(ref)) return;
    const dot = ref.indexOf('.');
    const comp = dot < 0 ? undefined : this.names.get(ref.slice(0, dot));
    if (dot < 0) this.report(path, `a thread is written 'component.thread', got '${ref}'`);
    else if (comp?.kind !== 'component')
      this.report(path, `undefined component '${ref.slice(0, dot)}' in thread '${ref}'`);
    else this.report(path, `undefined thread '${ref}'`);
  }

  private step(raw: unknown, site: Site): void {
    if (++this.instances > MAX_STEP_INSTANCES) {
      if (this.instances === MAX_STEP_INSTANCES + 1) {
        // Blame the top-level step: its repeat count, when it is a repeat.
        const top: Path = site.depth > 0 ? [...site.path.slice(0, 2), 'repeat', 'times'] : site.path;
        this.report(top, `the scenario runs more than ${MAX_STEP_INSTANCES} steps (repeats multiplied out)`);
      }
      return;
    }
    this.where = varsText(site.vars);
    const inst = instantiate(this.vars.begin(raw, site), site, this.s.source);
    if (!inst.ok) {
      for (const p of inst.problems) if (!this.vars.isDeferred(p.path)) this.add(p);
    } else this.check(inst.value, site);
    this.where = '';
    this.vars.end();
  }

  private check(step: StepInstance, site: Site): void {
    const p = (...rest: (string | number)[]): Path => [...site.path, step.kind, ...rest];
    const MAP: NameKind[] = ['component', 'region map'];
    const DS: NameKind[] = ['dataspace', 'region map'];
    const backedBy = (b: { dataspace: string } | undefined, ...at: string[]) => {
      if (b) this.ref(b.dataspace, DS, p(...at, 'backed_by', 'dataspace'));
    };
    switch (step.kind) {
      case 'create_region_map':
      case 'alloc_ram':
      case 'alloc_rom':
      case 'alloc_io_mem': {
        const a = step.args;
        this.ref(a.owner, ['component'], p('owner'));
        if (step.kind === 'alloc_ram' && step.args.cpu !== undefined) this.cpu(step.args.cpu, p('cpu'));
        if (!a.expect_error)
          this.define(
            a.name,
            step.kind === 'create_region_map' ? 'region map' : 'dataspace',
            a.owner,
            p('name'),
          );
        return;
      }
      case 'destroy_region_map':
        this.ref(step.args.map, ['region map'], p('map'));
        return;
      case 'free':
      case 'seal':
        this.ref(step.args.dataspace, DS, p('dataspace'));
        this.ref(step.args.by, ['component'], p('by'));
        if (step.args.expect && step.args.expect_error)
          this.report(p('expect'), 'expect and expect_error exclude each other');
        return;
      case 'attach': {
        const a = step.args;
        const map = this.ref(a.map, MAP, p('map'));
        this.ref(a.dataspace, DS, p('dataspace'));
        if (a.name !== undefined && !a.expect_error && map)
          this.define(a.name, 'region', map.owner, p('name'));
        if (a.var !== undefined) {
          if (Object.hasOwn(site.vars, a.var))
            this.report(p('var'), `'${a.var}' is a loop variable here; an attach var needs another name`);
          else if (a.expect_error) this.report(p('var'), 'an attach expected to fail binds no variable');
          else this.vars.bind(a.var);
        }
        return;
      }
      case 'create_component': {
        const a = step.args;
        if (!a.expect_error) this.component(a, p());
        return;
      }
      case 'create_thread': {
        const a = step.args;
        const comp = this.ref(a.component, ['component'], p('component'));
        if (comp && !a.expect_error) this.newThread(a.component, a, p());
        else if (a.cpu !== undefined) this.cpu(a.cpu, p('cpu'));
        return;
      }
      case 'expect_errors':
        if (step.args.match !== undefined) this.regex(step.args.match, p('match'));
        return;
      case 'detach': {
        const a = step.args;
        if (a.region !== undefined && a.map === undefined && a.at === undefined)
          this.ref(a.region, ['region'], p('region'));
        else if (a.region === undefined && a.map !== undefined && a.at !== undefined)
          this.ref(a.map, MAP, p('map'));
        else this.report(p(), 'detach needs either region, or map and at');
        return;
      }
      case 'fault_handler': {
        const a = step.args;
        const map = this.ref(a.map, MAP, p('map'));
        if ((a.signal === undefined) === (a.remove === undefined)) {
          this.report(p(), 'fault_handler needs either signal (to install) or remove: true');
        } else if (a.signal !== undefined && map && !a.expect_error) {
          const old = this.names.get(a.signal);
          if (old?.kind !== 'signal') this.define(a.signal, 'signal', map.owner, p('signal'));
        }
        return;
      }
      case 'read':
      case 'write':
      case 'exec': {
        const a = step.args;
        this.thread(a.thread, p('thread'));
        if (step.kind === 'write' && (step.args.value ?? 0) > 255) {
          this.report(p('value'), `a written byte is 0..255, got ${step.args.value}`);
        }
        const e = a.expect;
        if (!e) return;
        if (e.value !== undefined && step.kind !== 'read')
          this.report(p('expect', 'value'), 'expect.value applies to read only');
        if (e.value !== undefined && e.value > 255)
          this.report(p('expect', 'value'), `a byte is 0..255, got ${e.value}`);
        if (e.mapping_size !== undefined) this.pow2(e.mapping_size, p('expect', 'mapping_size'));
        if (e.map !== undefined) this.ref(e.map, MAP, p('expect', 'map'));
        if (typeof e.error === 'object') this.regex(e.error.match, p('expect', 'error', 'match'));
        backedBy(e.backed_by, 'expect');
        return;
      }
      case 'expect_fault':
      case 'expect_regions':
        this.ref(step.args.map, MAP, p('map'));
        return;
      case 'expect_thread':
      case 'destroy_thread':
      case 'explain':
        this.thread(step.args.thread, p('thread'));
        return;
      case 'expect_signal':
        this.ref(step.args.signal, ['signal'], p('signal'));
        return;
      case 'expect_mapping': {
        const a = step.args;
        this.thread(a.thread, p('thread'));
        if (a.size !== undefined) this.pow2(a.size, p('size'));
        if (
          a.none &&
          (a.size !== undefined || a.writeable !== undefined || a.executable !== undefined || a.backed_by)
        ) {
          this.report(
            p('none'),
            'none: true expects no mapping: drop size, writeable, executable and backed_by',
          );
        }
        backedBy(a.backed_by);
        return;
      }
      case 'expect_quota':
      case 'destroy_component':
        this.ref(step.args.component, ['component'], p('component'));
        return;
      case 'log':
        return;
      case 'simulate':
      case 'irq':
      case 'expect_metrics':
        this.sim.step(step, site);
        return;
      case 'repeat': {
        if (this.vars.has(step.args.var))
          this.report(p('var'), `'${step.args.var}' is an attach var; the loop variable needs another name`);
        const body = step.args.steps;
        for (let i = 0; i < step.args.times && this.instances <= MAX_STEP_INSTANCES; i++) {
          for (let j = 0; j < body.length; j++) this.step(body[j], childSite(site, j, step.args.var, i));
        }
        return;
      }
    }
  }

  private pow2(n: number, path: Path): void {
    if (!isPow2(n)) this.report(path, `mapping sizes are powers of two, got ${hex(n)}`);
  }

  private regex(src: string, path: Path): void {
    try {
      new RegExp(src);
    } catch (e) {
      this.report(path, `invalid regular expression: ${(e as Error).message}`);
    }
  }
}
