/**
 * Every shipped scenario (scenarios/*.yaml) loads, runs with all expectations holding, and
 * produces exactly its committed run log (src/scenario/__golden__/NAME.log). After an intended
 * change of the log, regenerate with `UPDATE_GOLDEN=1 npx vitest run src/scenario` and review
 * the diff. The committed JSON Schema must equal the generated one.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, runScenario } from './run.js';
import { scenarioJsonSchemaText } from './schema.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'scenarios');
const GOLDEN = join(import.meta.dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Loads and runs a shipped scenario; throws with readable problems when it cannot. */
function run(file: string) {
  const rel = `scenarios/${file}`;
  const loaded = loadScenario(readFileSync(join(DIR, file), 'utf8'), rel);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  const r = runScenario(loaded.value);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

describe('shipped scenarios', () => {
  it('there are at least eight, covering the classic programs', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const name of ['rm_fault', 'rm_nested', 'rm_stress', 'reserved_hole', 'sixth_level', 'quotas']) {
      expect(files).toContain(`${name}.yaml`);
    }
  });

  it.each(files)('%s starts with the schema line and a comment saying what it shows', (file) => {
    const lines = readFileSync(join(DIR, file), 'utf8').split('\n');
    expect(lines[0]).toBe('# yaml-language-server: $schema=../schema/scenario.schema.json');
    expect(lines[1]).toMatch(/^# \S.{20,}/);
  });

  it.each(files)('%s passes and its run log equals the golden file', (file) => {
    const report = run(file);
    expect(report.failures.map(formatFailure)).toEqual([]);
    expect(report.stopped).toBe(false);
    expect(report.expectations).toBeGreaterThan(0);
    const text = `${report.log.join('\n')}\n`;
    const golden = join(GOLDEN, file.replace(/\.yaml$/, '.log'));
    if (UPDATE) writeFileSync(golden, text);
    expect(existsSync(golden), `missing ${golden}: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('every golden file belongs to a shipped scenario', () => {
    const logs = readdirSync(GOLDEN).filter((f) => f.endsWith('.log'));
    expect(logs.sort()).toEqual(files.map((f) => f.replace(/\.yaml$/, '.log')));
  });

  it('runs are deterministic: the same scenario gives the same log twice', () => {
    expect(run('rm_fault.yaml').log).toEqual(run('rm_fault.yaml').log);
  });

  it('rm_fault takes 16 faults, rm_stress runs thousands of rounds', () => {
    const fault = run('rm_fault.yaml');
    expect(fault.log.filter((l) => l.includes('reflected: main queued as faulter'))).toHaveLength(16);
    expect(run('rm_stress.yaml').steps).toBeGreaterThan(12000);
  });
});

describe('JSON Schema', () => {
  it('schema/scenario.schema.json is up to date (regenerate: faultline schema > schema/scenario.schema.json)', () => {
    const committed = readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8');
    expect(committed).toBe(scenarioJsonSchemaText());
  });

  it('is draft-07, strict, and knows every step kind', () => {
    const s = JSON.parse(scenarioJsonSchemaText());
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.additionalProperties).toBe(false);
    const kinds = s.definitions.step.anyOf.map((o: { required: string[] }) => o.required[0]);
    expect(kinds).toContain('attach');
    expect(kinds).toContain('repeat');
    for (const o of s.definitions.step.anyOf) expect(o.additionalProperties).toBe(false);
  });
});
