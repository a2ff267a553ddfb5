/**
 * What `npm pack` ships must be enough to run faultline from the installed package: the built CLI
 * and visualizer, the schema, the scenarios, the traces the scenarios and the demo read, and the
 * docs the README links to.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function packed(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
  return new Set(pack.files.map((f) => f.path));
}

describe('the npm package', () => {
  const files = packed();

  it('holds the built command line, the visualizer, the schema and the bundled trace', () => {
    for (const f of [
      'dist/cli/main.js',
      'dist/web/index.html',
      'schema/scenario.schema.json',
      'traces/sort.lackey.gz',
    ])
      expect(files, f).toContain(f);
  });

  it("holds every shipped scenario and every trace file a scenario's trace_player reads", () => {
    const scenarios = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml'));
    expect(scenarios.length).toBeGreaterThan(0);
    for (const s of scenarios) {
      expect(files).toContain(`scenarios/${s}`);
      const text = readFileSync(join(ROOT, 'scenarios', s), 'utf8');
      for (const m of text.matchAll(/trace:\s*([^\s,}]+)/g))
        expect(files, `${s} reads ${m[1]}`).toContain(normalize(join('scenarios', m[1]!)));
    }
  });

  it('holds the docs the README links to', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(files, l).toContain(l);
  });
});
