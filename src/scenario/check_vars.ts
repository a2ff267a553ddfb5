/**
 * Attach vars in the second pass. An attach with `var` binds the address it chose; later steps
 * use it in `${…}`. Its value exists only when the run gets there, so the second pass checks a
 * string that uses one for syntax only, refuses it where a value must be known before the run
 * (names, repeat counts), and drops the problems the stand-in value would cause at its path: the
 * runner checks that value when it has it.
 */
import { type Deferred, deferRuntime, type Site, stepKindOf } from './expand.js';
import { interpolate } from './expr.js';
import { formatPath, type Path } from './problem.js';

/** Keys whose strings are names: fixed before the run, so they cannot use attach vars. */
const NAME_KEYS = new Set([
  'name',
  'as',
  'owner',
  'by',
  'map',
  'dataspace',
  'region',
  'signal',
  'thread',
  'component',
  'var',
]);

/** The attach vars bound so far, and the paths of the current step that use them. */
export class AttachVars {
  private readonly bound = new Set<string>();
  /** Formatted paths of the current step's strings that use attach vars. */
  private deferred: string[] = [];

  constructor(private readonly report: (path: Path, message: string) => void) {}

  /** True when an attach bound `name`. */
  has(name: string): boolean {
    return this.bound.has(name);
  }

  /** An attach binds `name` from here on. */
  bind(name: string): void {
    this.bound.add(name);
  }

  /**
   * Starts checking a step: reports what cannot wait for the run and returns the step with every
   * string that uses an attach var replaced by a stand-in, until {@link end}.
   */
  begin(raw: unknown, site: Site): unknown {
    const kind = stepKindOf(raw);
    const late = deferRuntime(raw, this.bound, site.vars);
    for (const d of late.deferred) this.checkNow(d, site, kind);
    this.deferred = late.deferred.map((d) => formatPath([...site.path, kind, ...d.path]));
    return late.step;
  }

  /** The step is checked. */
  end(): void {
    this.deferred = [];
  }

  /** True for a path (formatted) at or below a string of the current step that uses an attach var. */
  isDeferred(path: string): boolean {
    return this.deferred.some((d) => path === d || path.startsWith(`${d}.`) || path.startsWith(`${d}[`));
  }

  private checkNow(d: Deferred, site: Site, kind: string): void {
    const path: Path = [...site.path, kind, ...d.path];
    const key = d.path.at(-1);
    if (kind === 'repeat') {
      this.report(path, 'a repeat count cannot use an attach var: it must be known before the run');
    } else if (typeof key === 'string' && NAME_KEYS.has(key)) {
      this.report(
        path,
        `a ${key} cannot use an attach var: names are fixed before the run; attach vars are for numbers`,
      );
    } else {
      const standIns = Object.fromEntries([...this.bound].map((n) => [n, 1]));
      const r = interpolate(d.text, { ...standIns, ...site.vars });
      if (!r.ok) this.report(path, r.message);
    }
  }
}
