import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainScenarioFile, explanations } from './explain_cmd.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('faultline explain', () => {
  it('keeps exactly the explain steps and their indented lines', () => {
    const log = [
      'step 1 (line 5): attach big to app -> …',
      '    attach …',
      'step 2 (line 6): explain read by app.main at 0x1000 -> 4K mapping of 0x1000 -> 0x2000',
      '      window       allows up to    2M',
      '      chosen: 4K, the largest supported size no constraint forbids',
      'step 3 (line 7): read app.main at 0x1000 -> mapped',
      '    fault: main read at 0x1000',
      'step 4.2 (line 9) [i=1]: explain write by app.main at 0x3000 -> 2M mapping of 0x200000 -> 0x400000',
      '      chosen: 2M, the largest supported size no constraint forbids',
    ];
    expect(explanations(log)).toEqual([log[2], log[3], log[4], '', log[7], log[8]]);
  });

  it('explains why a misaligned attach gets 4K where matching alignment would give 2M', async () => {
    const r = await explainScenarioFile(join(ROOT, 'scenarios/superpages_x86_64.yaml'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/alignment\s+allows up to\s+1M/);
    expect(r.stdout).toMatch(/chosen: 4K/);
    expect(r.stdout).toMatch(/with matching virtual\/physical alignment the same fault would get 2M/);
    expect(r.stdout).not.toMatch(/^step \d+ \(line \d+\): read/m);
  });

  it('says how to add an explain step when a scenario has none, and rejects bad files', async () => {
    const none = await explainScenarioFile(join(ROOT, 'scenarios/attach_conflicts.yaml'));
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/has no explain step/);
    const missing = await explainScenarioFile(join(ROOT, 'scenarios/nope.yaml'));
    expect(missing.exitCode).toBe(2);
  });
});
