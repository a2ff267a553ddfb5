/**
 * Fuzzing the scenario loader (YAML, the zod schema, the name checks) over bytes and over YAML
 * structure: `loadScenario` never throws; it returns a loaded scenario or `INVALID_SCENARIO` with
 * at least one problem, each pinned to a line and column of the file.
 *
 * Structure: the bundled scenarios, parsed, then mutated at random paths (values replaced by
 * numbers, sizes, names, expressions, lists, maps; keys dropped or added; list items duplicated
 * or swapped; shared subtrees, which YAML writes as anchors and aliases) and written back as YAML,
 * so most mutants get past YAML and many past the schema into the name checks. Bytes: YAML-ish
 * fragments (indentation, flow collections, anchors, tags, directives) and arbitrary text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadScenario } from './load.js';

/** Runs per property; `FUZZ_RUNS=20000 npx vitest run ...` searches longer. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Longer searches get the time they need (the suite's default is 60 s per test). */
const TIMEOUT = Math.max(60_000, RUNS * 100);

const DIR = join(import.meta.dirname, '..', '..', 'scenarios');
const SOURCES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(DIR, f), 'utf8'));
const SEEDS: unknown[] = SOURCES.map((t) => parse(t));

/** What every call must return: ok, or INVALID_SCENARIO with positioned problems. */
function checkLoad(text: string): void {
  const r = loadScenario(text, 'fuzz.yaml');
  if (r.ok) return;
  expect(r.code).toBe('INVALID_SCENARIO');
  expect(r.problems.length).toBeGreaterThan(0);
  const lines = text.split('\n').length;
  for (const p of r.problems) {
    expect(p.file).toBe('fuzz.yaml');
    expect(Number.isInteger(p.line) && p.line >= 1 && p.line <= lines + 1).toBe(true);
    expect(Number.isInteger(p.column) && p.column >= 1).toBe(true);
    expect(typeof p.message === 'string' && p.message.length > 0).toBe(true);
  }
}

type Tree = unknown;

/** Paths to every node of a tree (keys and indices), the root included. */
function paths(t: Tree, base: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(base);
  if (Array.isArray(t)) {
    for (let i = 0; i < t.length; i++) paths(t[i], [...base, i], out);
  } else if (t !== null && typeof t === 'object')
    for (const [k, v] of Object.entries(t)) paths(v, [...base, k], out);
  return out;
}

function clone(t: Tree): Tree {
  return t === undefined ? undefined : structuredClone(t);
}

/** Values a mutation puts somewhere: the kinds the format uses, near-misses, and odd YAML. */
const leaf: fc.Arbitrary<Tree> = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    4096,
    0x1000,
    2 ** 53,
    2 ** 64,
    1e300,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '4K',
    '2M',
    '1G',
    '128T',
    '0x1000',
    '0x',
    '-4K',
    '99999999999999999999T',
    'app',
    'app.main',
    'main',
    'memory',
    'ram',
    'ds',
    'x86_64',
    'x86_32',
    'genode',
    'trampoline',
    // Expression placeholders, as `repeat` uses them (escaped: these are not JavaScript templates).
    `\${i * 0x1000}`,
    `\${`,
    `\${1/0}`,
    '0x1000 + 0x2000',
    '(',
    '',
    ' ',
    'null',
    true,
    false,
    null,
    'mapped',
    'error',
    'dead-fault',
    'REGION_CONFLICT',
    '../test/fixtures/lackey_small.txt',
    '/nonexistent',
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
);

const value: fc.Arbitrary<Tree> = fc.letrec<{ v: Tree }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('name', 'size', 'at', 'map', 'thread', 'x', 'steps', 'repeat'), tie('v'), {
      maxKeys: 3,
    }),
  ),
})).v;

type Mutation = (t: Tree, pick: number, v: Tree, key: string) => Tree;

/** Applies `f` to the node at path `p` (the root when empty) and returns the new tree. */
function at(t: Tree, p: ReadonlyArray<string | number>, f: (node: Tree) => Tree): Tree {
  if (p.length === 0) return f(t);
  const [head, ...rest] = p;
  if (Array.isArray(t)) {
    const c = [...t];
    c[head as number] = at(c[head as number], rest, f);
    return c;
  }
  if (t !== null && typeof t === 'object') {
    const c: Record<string, unknown> = { ...(t as Record<string, unknown>) };
    c[head as string] = at(c[head as string], rest, f);
    return c;
  }
  return t;
}

const MUTATIONS: Mutation[] = [
  // Replace a node.
  (t, pick, v) => {
    const ps = paths(t);
    return at(t, ps[pick % ps.length]!, () => v);
  },
  // Drop a key or a list item.
  (t, pick) => {
    const ps = paths(t).filter((p) => p.length > 0);
    if (ps.length === 0) return t;
    const p = ps[pick % ps.length]!;
    return at(t, p.slice(0, -1), (parent) => {
      if (Array.isArray(parent)) return parent.filter((_, i) => i !== p.at(-1));
      const c = { ...(parent as Record<string, unknown>) };
      delete c[p.at(-1) as string];
      return c;
    });
  },
  // Add a key to a map, or an item to a list.
  (t, pick, v, key) => {
    const ps = paths(t).filter((p) => {
      let n: Tree = t;
      for (const s of p) n = (n as Record<string | number, Tree>)[s];
      return n !== null && typeof n === 'object';
    });
    if (ps.length === 0) return t;
    const p = ps[pick % ps.length]!;
    return at(t, p, (n) => (Array.isArray(n) ? [...n, v] : { ...(n as object), [key]: v }));
  },
  // Duplicate a node in place of another: the same object twice, written as an anchor and alias.
  (t, pick, _v) => {
    const ps = paths(t);
    const from = ps[pick % ps.length]!;
    const to = ps[(pick * 7 + 3) % ps.length]!;
    let n: Tree = t;
    for (const s of from) n = (n as Record<string | number, Tree>)[s];
    return at(t, to, () => n);
  },
  // Swap two items of a list (steps out of order: names used before they exist).
  (t, pick) => {
    const lists = paths(t).filter((p) => {
      let n: Tree = t;
      for (const s of p) n = (n as Record<string | number, Tree>)[s];
      return Array.isArray(n) && n.length > 1;
    });
    if (lists.length === 0) return t;
    return at(t, lists[pick % lists.length]!, (n) => {
      const c = [...(n as Tree[])];
      const i = pick % c.length;
      const j = (pick >>> 3) % c.length;
      [c[i], c[j]] = [c[j], c[i]];
      return c;
    });
  },
];

const mutant = fc
  .tuple(
    fc.nat({ max: SEEDS.length - 1 }),
    fc.array(fc.tuple(fc.nat({ max: MUTATIONS.length - 1 }), fc.nat(), value, fc.string({ maxLength: 8 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([s, ms]) => {
    let t = clone(SEEDS[s]);
    for (const [m, pick, v, key] of ms) t = MUTATIONS[m]!(t, pick, v, key);
    return t;
  });

/** YAML-ish text: the fragments YAML's grammar turns on, and arbitrary strings. */
const yamlish = fc
  .array(
    fc.tuple(
      fc.constantFrom('', '  ', '    ', '\t', '- ', '  - '),
      fc.oneof(
        fc.constantFrom(
          'name: t',
          'machine: { arch: x86_64, ram: 64M }',
          'components:',
          'steps:',
          '- name: app',
          'threads: [{ name: main }]',
          'alloc_ram: { name: a, owner: app, size: 4K }',
          'attach: { map: app, dataspace: a }',
          '&a { x: 1 }',
          '*a',
          '<<: *a',
          '!!binary aGVsbG8=',
          '!!set { a, b }',
          '!!omap [ a: 1 ]',
          '!!timestamp 2001-12-14',
          '!custom x',
          '!!int 0x1000',
          '!!float .nan',
          '? [a, b]',
          ': v',
          '---',
          '...',
          '%YAML 1.2',
          '%TAG ! tag:x,2000:',
          '"unterminated',
          "'a''b'",
          '|',
          '>-',
          '{',
          '[',
          '}',
          ']',
          '#',
          'key: [1, 2',
          'a: b: c',
        ),
        fc.string({ maxLength: 16 }),
      ),
    ),
    { maxLength: 14 },
  )
  .map((lines) => lines.map(([indent, l]) => indent + l).join('\n'));

/** Anchored lists of aliases of the previous level, `depth` deep and `width` wide: up to an alias bomb. */
const aliasNest = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), fc.boolean())
  .map(([depth, width, inSteps]) => {
    let t = inSteps ? 'name: t\nmachine: { arch: x86_64, ram: 64M }\nsteps:\n' : '';
    const pre = inSteps ? '  - log: ' : '';
    t += `${pre}&a0 [x]\n`;
    for (let i = 1; i <= depth; i++)
      t += `${pre}&a${i} [${Array(width)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    return t;
  });

describe('loadScenario regressions found by fuzzing', () => {
  it('an alias without its anchor is a problem at the alias, not an exception', () => {
    expect(loadScenario('*!', 'a.yaml')).toMatchObject({
      ok: false,
      code: 'INVALID_SCENARIO',
      message: 'a.yaml:1:1: Unresolved alias (the anchor must be set before the alias): !',
    });
    expect(loadScenario('name: t\nsteps: [*nope]\n', 'a.yaml')).toMatchObject({
      message: 'a.yaml:2:9: Unresolved alias (the anchor must be set before the alias): nope',
    });
  });

  it('an alias bomb is a problem, not an exception', () => {
    let t = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++)
      t += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const r = loadScenario(t, 'bomb.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^bomb\.yaml:\d+:\d+: its aliases expand more than 1000 times/);
  });
});

describe('loadScenario under fuzzing', () => {
  it('the bundled scenarios load (the seeds of the structure fuzzer are valid)', () => {
    for (const text of SOURCES) expect(loadScenario(text, 'seed.yaml').ok).toBe(true);
  });

  it(
    'never throws on mutated scenarios: a loaded scenario or positioned problems',
    () => {
      fc.assert(
        fc.property(mutant, (t) => {
          checkLoad(stringify(t, { aliasDuplicateObjects: true }));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'never throws on YAML-ish text or arbitrary strings',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            yamlish,
            aliasNest,
            fc.string({ maxLength: 200 }),
            fc.string({ unit: 'binary', maxLength: 200 }),
          ),
          (text) => {
            checkLoad(text);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
