/**
 * Step instances: a validated step with its `${…}` placeholders filled in for the loop variables
 * in scope and the variables earlier attach steps bound (`var`), and its numbers resolved, together with where it sits (path in the file, a label such
 * as `4.2[i=17]`). The second pass and the runner both walk steps through here, so a step means
 * the same to both.
 */
import { type Err, type Ok, ok, type Result } from '../util/result.js';
import { hasPlaceholder, interpolate, parseNumber, type Vars } from './expr.js';
import { issueProblems } from './issues.js';
import type { Path, Problem, SourceMap } from './problem.js';
import { STEP_ARGS, type StepArgs, type StepKind } from './schema.js';

const EMPTY: Vars = Object.freeze({});

/** Where a step instance sits. */
export interface Site {
  /** Path of the step in the file, e.g. `['steps', 3, 'repeat', 'steps', 1]`. */
  readonly path: Path;
  /** Display label: 1-based step numbers, nested ones joined by dots, with loop variables. */
  readonly label: string;
  /** Loop variables in scope. */
  readonly vars: Vars;
  /** Nesting depth (0 at the top). */
  readonly depth: number;
}

/** A step ready to check or run. */
export type StepInstance = { [K in StepKind]: { readonly kind: K; readonly args: StepArgs<K> } }[StepKind];

/** Problems found while instantiating a step. */
export interface InstanceError extends Err<'INVALID_STEP'> {
  readonly problems: readonly Problem[];
}

/** The site of top-level step `index` (0-based). */
export function topSite(index: number): Site {
  return { path: ['steps', index], label: String(index + 1), vars: {}, depth: 0 };
}

/** The site of step `index` of a repeat body in iteration `value` of loop variable `name`. */
export function childSite(parent: Site, index: number, name: string, value: number): Site {
  return {
    path: [...parent.path, 'repeat', 'steps', index],
    label: `${parent.label}.${index + 1}`,
    vars: { ...parent.vars, [name]: value },
    depth: parent.depth + 1,
  };
}

/** `i=3, j=0`, or '' at the top level. */
export function varsText(vars: Vars): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** The label with loop variables: `4.2 [i=17]`. */
export function siteName(site: Site): string {
  const v = varsText(site.vars);
  return v ? `${site.label} [${v}]` : site.label;
}

/** The single key of a validated step. */
export function stepKindOf(step: unknown): StepKind {
  return Object.keys(step as object)[0] as StepKind;
}

/**
 * Fills in placeholders and resolves numbers; problems carry the step's position and iteration.
 * `bound` holds the variables attach steps bound so far (loop variables take precedence).
 */
export function instantiate(
  step: unknown,
  site: Site,
  source: SourceMap,
  bound: Vars = EMPTY,
): Ok<StepInstance> | InstanceError {
  const kind = stepKindOf(step);
  const vars: Vars = bound === EMPTY ? site.vars : { ...bound, ...site.vars };
  const args = (step as Record<string, unknown>)[kind];
  const base: Path = [...site.path, kind];
  const problems: Problem[] = [];
  const where = varsText(site.vars);
  const note = (p: Problem): Problem => (where ? { ...p, message: `${p.message} (when ${where})` } : p);
  if (kind === 'repeat') {
    // Only `times` belongs to this level: the body is filled in per iteration.
    const r = args as { times: number | string };
    if (typeof r.times === 'number') return ok({ kind, args } as StepInstance);
    const n = resolveNumber(r.times, vars);
    if (n.ok) return ok({ kind, args: { ...(args as object), times: n.value } } as StepInstance);
    problems.push(note(source.problem([...base, 'times'], n.message)));
    return { ok: false, code: 'INVALID_STEP', message: n.message, problems };
  }
  const filled = fill(args, [], vars, (path, message) =>
    problems.push(note(source.problem([...base, ...path], message))),
  );
  if (problems.length > 0)
    return { ok: false, code: 'INVALID_STEP', message: problems[0]!.message, problems };
  if (filled === args) return ok({ kind, args } as StepInstance);
  const parsed = STEP_ARGS[kind].safeParse(filled);
  if (!parsed.success) {
    const ctx = { base, data: filled, root: STEP_ARGS[kind], source, out: problems };
    for (const issue of parsed.error.issues) issueProblems(issue, [], ctx);
    return { ok: false, code: 'INVALID_STEP', message: problems[0]!.message, problems: problems.map(note) };
  }
  return ok({ kind, args: parsed.data } as StepInstance);
}

function resolveNumber(s: string, vars: Vars): Result<number> {
  const text = interpolate(s, vars);
  if (!text.ok) return text;
  return parseNumber(text.value);
}

/** Copies `v` with placeholders filled in; returns `v` itself when it holds none. */
function fill(v: unknown, path: Path, vars: Vars, report: (path: Path, message: string) => void): unknown {
  if (typeof v === 'string') {
    if (!hasPlaceholder(v)) return v;
    const r = interpolate(v, vars);
    if (r.ok) return r.value;
    report(path, r.message);
    return v;
  }
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x, i) => {
      const y = fill(x, [...path, i], vars, report);
      changed ||= y !== x;
      return y;
    });
    return changed ? out : v;
  }
  if (v !== null && typeof v === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = fill(x, [...path, k], vars, report);
      changed ||= y !== x;
      out[k] = y;
    }
    return changed ? out : v;
  }
  return v;
}

/** Identifiers the `${…}` placeholders of a string mention (number literals excluded). */
function placeholderNames(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/\$\{([^}]*)\}/g)) {
    for (const w of m[1]!.match(/[A-Za-z_0-9]+/g) ?? []) if (!/^[0-9]/.test(w)) out.push(w);
  }
  return out;
}

/** A string of a step whose value is known only at run time, where it sits in the step's arguments. */
export interface Deferred {
  readonly path: Path;
  readonly text: string;
}

/**
 * The step with every string that uses a run-time variable (one of `runtime` not shadowed by a
 * loop variable: an attach var) replaced by '0', for the second pass, and those strings. Their
 * values exist only when the run gets there: the runner checks them then.
 */
export function deferRuntime(
  step: unknown,
  runtime: ReadonlySet<string>,
  loopVars: Vars,
): { step: unknown; deferred: Deferred[] } {
  const deferred: Deferred[] = [];
  if (runtime.size === 0) return { step, deferred };
  const walk = (v: unknown, path: Path): unknown => {
    if (typeof v === 'string') {
      if (!hasPlaceholder(v)) return v;
      const late = placeholderNames(v).some((n) => runtime.has(n) && !Object.hasOwn(loopVars, n));
      if (!late) return v;
      deferred.push({ path, text: v });
      return '0';
    }
    if (Array.isArray(v)) {
      const out = v.map((x, i) => walk(x, [...path, i]));
      return out.every((x, i) => x === v[i]) ? v : out;
    }
    if (v !== null && typeof v === 'object') {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] = walk(x, [...path, k]);
        changed ||= out[k] !== x;
      }
      return changed ? out : v;
    }
    return v;
  };
  const kind = stepKindOf(step);
  // A repeat's body is deferred per iteration, when its steps are checked.
  if (kind === 'repeat') {
    const r = (step as { repeat: { times: unknown } }).repeat;
    const times = walk(r.times, ['times']);
    return times === r.times ? { step, deferred } : { step: { repeat: { ...r, times } }, deferred };
  }
  const args = (step as Record<string, unknown>)[kind];
  const out = walk(args, []);
  return { step: out === args ? step : { [kind]: out }, deferred };
}
