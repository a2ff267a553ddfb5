/**
 * Readable, positioned messages for zod issues: unknown keys at the key, missing keys at their
 * mapping, unions of single-key objects (steps, behaviours) narrowed to the option the key names.
 */
import type { z } from 'zod';
import type { Path, Problem, SourceMap } from './problem.js';
import { BEHAVIOURS, STEP_KINDS } from './schema.js';

/** Describes a value for "got …" in messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** What issues are relative to: the data validated, its schema, and where it sits in the file. */
export interface IssueContext {
  /** Path of the validated data in the file. */
  readonly base: Path;
  /** The validated data. */
  readonly data: unknown;
  /** Its schema. */
  readonly root: unknown;
  readonly source: SourceMap;
  readonly out: Problem[];
}

/** Turns one zod issue (its path relative to `rel` below the context's base) into positioned problems. */
export function issueProblems(issue: z.core.$ZodIssue, rel: Path, ctx: IssueContext): void {
  const relPath: Path = [...rel, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
  const path: Path = [...ctx.base, ...relPath];
  const value = valueAt(ctx.data, relPath);
  const { source, out } = ctx;
  const at = (message: string) => out.push(source.problem(path, message));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(ctx.root, relPath, ctx.data);
      for (const key of issue.keys) {
        out.push(
          source.problem(
            [...path, key],
            `unknown key '${key}'${allowed.length ? `; expected one of: ${allowed.join(', ')}` : ''}`,
            source.keyAt(path, key),
          ),
        );
      }
      return;
    }
    case 'invalid_type':
      if (value === undefined && path.length > 0)
        at(`missing required key '${String(path[path.length - 1])}'`);
      else
        at(
          `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected}, got ${describeValue(value)}`,
        );
      return;
    case 'invalid_union':
      unionProblems(issue, relPath, value, ctx);
      return;
    case 'invalid_value':
      at(
        `expected ${issue.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(' or ')}, got ${describeValue(value)}`,
      );
      return;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what =
        issue.origin === 'array'
          ? `${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound} item(s)`
          : issue.origin === 'string'
            ? 'a non-empty string'
            : `a number ${issue.code === 'too_small' ? '>' : '<'}${issue.inclusive === false ? '' : '='} ${bound}`;
      at(`expected ${what}, got ${describeValue(value)}`);
      return;
    }
    case 'invalid_format':
    case 'not_multiple_of':
      at(`${issue.message}, got ${describeValue(value)}`);
      return;
    default:
      at(issue.message);
  }
}

/**
 * Unions of single-key objects (steps, behaviours) report every option's issues; keep those of
 * the option whose key the value has, or say which key was expected.
 */
function unionProblems(
  issue: z.core.$ZodIssueInvalidUnion,
  relPath: Path,
  value: unknown,
  ctx: IssueContext,
): void {
  const { source, out } = ctx;
  const path: Path = [...ctx.base, ...relPath];
  const atRoot = (i: z.core.$ZodIssue) => i.path.length === 0 && i.code !== 'custom';
  const candidates = issue.errors.filter((errs) => !errs.some(atRoot));
  if (candidates.length > 0) {
    for (const i of candidates[0]!) issueProblems(i, relPath, ctx);
    return;
  }
  if (value === undefined && path.length > 0) {
    out.push(source.problem(path, `missing required key '${String(path[path.length - 1])}'`));
    return;
  }
  const parent = path[path.length - 2];
  const what = parent === 'steps' ? 'step' : parent === 'behaviours' ? 'behaviour' : 'entry';
  // The keys the options stand for: steps and behaviours by name, others as each option reports its key missing.
  const keys: readonly string[] =
    what === 'step'
      ? STEP_KINDS
      : what === 'behaviour'
        ? BEHAVIOURS
        : issue.errors.flatMap((errs) =>
            errs
              .filter((i) => i.code === 'invalid_type' && i.path.length === 1)
              .map((i) => String(i.path[0])),
          );
  if (keys.length === 0 || !isRecord(value)) {
    const expected = keys.length ? `a ${what} (a mapping with one key)` : issue.message;
    out.push(source.problem(path, `${expected}, got ${describeValue(value)}`));
    return;
  }
  const given = Object.keys(value);
  const unknown = given.filter((k) => !keys.includes(k));
  if (unknown.length > 0) {
    for (const k of unknown) {
      out.push(
        source.problem(
          [...path, k],
          `unknown ${what} '${k}'; expected one of: ${keys.join(', ')}`,
          source.keyAt(path, k),
        ),
      );
    }
    return;
  }
  out.push(
    source.problem(path, `a ${what} has exactly one key, got ${given.length ? given.join(', ') : 'none'}`),
  );
}

interface SchemaLike {
  readonly _zod: { readonly def: SchemaDef };
}
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, SchemaLike>;
  readonly element?: SchemaLike;
  readonly options?: readonly SchemaLike[];
  readonly innerType?: SchemaLike;
  readonly in?: SchemaLike;
  readonly getter?: () => SchemaLike;
}

/** The keys the schema allows for the mapping at `path` (for "expected one of"). */
function allowedKeys(root: unknown, path: Path, data: unknown): string[] {
  let s: SchemaLike | undefined = root as SchemaLike;
  const unwrap = (x: SchemaLike | undefined): SchemaLike | undefined => {
    for (let d = x?._zod.def; d; d = x?._zod.def) {
      if (d.innerType) x = d.innerType;
      else if (d.type === 'pipe') x = d.in;
      else if (d.type === 'lazy') x = d.getter!();
      else return x;
    }
    return x;
  };
  const pick = (x: SchemaLike | undefined, depth: number): SchemaLike | undefined => {
    x = unwrap(x);
    const d = x?._zod.def;
    if (d?.type !== 'union') return x;
    const v = valueAt(data, path.slice(0, depth));
    const key = isRecord(v) ? Object.keys(v)[0] : undefined;
    return unwrap(
      d.options!.find((o) => key !== undefined && unwrap(o)?._zod.def.shape?.[key]) ?? d.options![0],
    );
  };
  for (let i = 0; i < path.length && s; i++) {
    const d: SchemaDef | undefined = pick(s, i)?._zod.def;
    const seg = path[i]!;
    s = typeof seg === 'number' ? d?.element : d?.shape?.[seg];
  }
  const shape = pick(s, path.length)?._zod.def.shape;
  return shape ? Object.keys(shape) : [];
}
