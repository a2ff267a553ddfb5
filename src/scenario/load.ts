/**
 * Loads a scenario file: YAML (`parseDocument` + `LineCounter`), then the zod schema, then a
 * second pass over the steps in order that checks every name (`check.ts`). Every problem comes
 * back with its position as `file:line:col path: message`; all of them, not only the first.
 */
import { type Document, LineCounter, parseDocument, visit } from 'yaml';
import { type Ok, ok } from '../util/result.js';
import { checkScenario } from './check.js';
import { issueProblems } from './issues.js';
import { type Problem, type ScenarioError, SourceMap, scenarioError } from './problem.js';
import { Scenario, type ScenarioData } from './schema.js';

/** A scenario that passed every check, with the positions of its parts. */
export interface LoadedScenario {
  readonly file: string;
  readonly data: ScenarioData;
  readonly source: SourceMap;
}

/** Alias expansions one document may make (the yaml library's `maxAliasCount`). */
export const MAX_ALIAS_COUNT = 1000;

/** The problem of a document whose aliases expand too far, at its first alias. */
function aliasBomb(doc: Document, lineCounter: LineCounter, file: string): Problem {
  let at = 0;
  visit(doc, {
    Alias: (_key, node) => {
      at = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  const p = lineCounter.linePos(at);
  return {
    file,
    line: p.line,
    column: p.col,
    path: '',
    message: `its aliases expand more than ${MAX_ALIAS_COUNT} times (a YAML alias bomb?); write the values out instead`,
  };
}

/** Parses and checks a scenario given as text; `file` names it in problems. */
export function loadScenario(text: string, file: string): Ok<LoadedScenario> | ScenarioError {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(file, doc, lineCounter);
  if (doc.errors.length > 0) {
    return scenarioError(
      doc.errors.map((e) => {
        const p = lineCounter.linePos(e.pos[0]);
        return { file, line: p.line, column: p.col, path: '', message: e.message.split('\n')[0]! };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws, rather than reports, an alias bomb (expansion past the limit) and an alias
    // without its anchor.
    if (e instanceof ReferenceError && /alias/i.test(e.message) && !hasUnresolvedAlias(doc))
      return scenarioError([aliasBomb(doc, lineCounter, file)]);
    const at = lineCounter.linePos(aliasOffset(doc));
    const message = e instanceof Error ? e.message : String(e);
    return scenarioError([{ file, line: at.line, column: at.col, path: '', message }]);
  }
  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) {
    const problems: Problem[] = [];
    const ctx = { base: [], data: raw, root: Scenario, source, out: problems };
    for (const issue of parsed.error.issues) issueProblems(issue, [], ctx);
    return scenarioError(problems);
  }
  const loaded: LoadedScenario = { file, data: parsed.data, source };
  const problems = checkScenario(loaded);
  return problems.length > 0 ? scenarioError(problems) : ok(loaded);
}

/** True when some alias has no anchor before it. */
function hasUnresolvedAlias(doc: Document): boolean {
  let found = false;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        found = true;
        return visit.BREAK;
      }
    },
  });
  return found;
}

/** Offset of the first alias without an anchor before it, else of the first alias (0 if none). */
function aliasOffset(doc: Document): number {
  let first = -1;
  let unresolved = -1;
  visit(doc, {
    Alias(_key, node) {
      const at = node.range?.[0] ?? 0;
      if (first < 0) first = at;
      if (node.resolve(doc) === undefined) {
        unresolved = at;
        return visit.BREAK;
      }
    },
  });
  return Math.max(unresolved >= 0 ? unresolved : first, 0);
}
