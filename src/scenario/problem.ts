/**
 * Problems in scenario files, each pinned to a source position: `file:line:col path: message`.
 * `SourceMap` finds the YAML node behind a path such as `steps[3].attach.at`.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { Err } from '../util/result.js';

/** A path into the scenario data: keys and list indices. */
export type Path = readonly (string | number)[];

/** A position in the source, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** One problem with a scenario file. */
export interface Problem extends Position {
  readonly file: string;
  /** Where in the data, e.g. `steps[3].attach.at` (empty for YAML syntax errors). */
  readonly path: string;
  readonly message: string;
}

/** A scenario that cannot be run: every problem found, in source order. */
export interface ScenarioError extends Err<'INVALID_SCENARIO'> {
  readonly problems: readonly Problem[];
}

/** Renders a path as `steps[3].attach.at`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

/** `file:line:col path: message`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

/** Builds the error for a list of problems (sorted by position, duplicates dropped). */
export function scenarioError(problems: readonly Problem[]): ScenarioError {
  const seen = new Set<string>();
  const sorted = [...problems]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .filter((p) => {
      const k = formatProblem(p);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  return {
    ok: false,
    code: 'INVALID_SCENARIO',
    message: sorted.map(formatProblem).join('\n'),
    problems: sorted,
  };
}

/** Maps data paths to positions in one parsed YAML document. */
export class SourceMap {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Position of the node at `path`, or of its deepest existing ancestor. */
  at(path: Path): Position {
    return this.pos(this.walk(path).node);
  }

  /** Position of the key `key` of the mapping at `path` (for unknown keys). */
  keyAt(path: Path, key: string): Position {
    const { node, complete } = this.walk(path);
    if (complete && isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && String(pair.key.value) === key) return this.pos(pair.key);
      }
    }
    return this.pos(node);
  }

  /** A problem at `path`. */
  problem(path: Path, message: string, position: Position = this.at(path)): Problem {
    return { file: this.file, ...position, path: formatPath(path), message };
  }

  private walk(path: Path): { node: Node | null; complete: boolean } {
    let node = this.doc.contents as Node | null;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc) ?? null;
      let next: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        next = pair ? ((pair.value as Node | null) ?? (pair.key as Node)) : undefined;
      } else if (isSeq(node) && typeof seg === 'number') next = node.items[seg] as Node | undefined;
      if (!next) return { node, complete: false };
      node = next;
    }
    return { node, complete: true };
  }

  private pos(node: Node | null): Position {
    const offset = node?.range?.[0] ?? 0;
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }
}
