/**
 * The layering rule of DESIGN.md §4 as a test: every file imports only its own layer and the
 * layers below it, and nothing below cli/ (report/ may write nothing either) imports node:.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = import.meta.dirname;

/** Layers from the bottom up; a layer may import those at or below its own rank. */
const RANK: Record<string, number> = {
  util: 0,
  hw: 1,
  kernel: 2,
  core: 3,
  components: 4,
  sim: 5,
  workload: 6,
  report: 7,
  scenario: 7,
  cli: 8,
  bench: 9,
};

/** Layers allowed to use Node's built-in modules (they do the I/O). */
const NODE_OK = new Set(['cli', 'bench']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.includes('.test') && !e.name.includes('.testutil')
        ? [join(dir, e.name)]
        : [],
  );
}

function layerOf(path: string): string {
  const rel = relative(SRC, path).split('/');
  return rel.length === 1 ? 'index' : rel[0]!;
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm;

describe('layers (DESIGN.md §4)', () => {
  const all = files(SRC);

  it('knows every layer directory', () => {
    for (const f of all) {
      const l = layerOf(f);
      if (l !== 'index')
        expect(RANK, `unknown layer directory '${l}' (${relative(SRC, f)})`).toHaveProperty(l);
    }
  });

  it('imports only downward, and I/O only in cli/ and bench/', () => {
    const problems: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) {
          if (!NODE_OK.has(from)) problems.push(`${relative(SRC, f)} imports ${spec}`);
          continue;
        }
        if (!spec.startsWith('.')) continue;
        const to = layerOf(join(f, '..', spec));
        if (from === 'index' || to === 'index') continue;
        if (RANK[to]! > RANK[from]!) problems.push(`${relative(SRC, f)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(problems).toEqual([]);
  });
});
