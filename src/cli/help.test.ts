/**
 * Help and docs speak to users: no internal jargon ("seed 000") in any command's help or in the
 * designs' descriptions, nothing in the repository pointing to files outside it, and the design
 * document users need is in docs/ and linked from the README.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { DESIGNS } from '../sim/designs.js';
import { cliRun } from './cli.testutil.js';
import { registerContainCommand } from './contain_cmd.js';
import { registerExplainCommand } from './explain_cmd.js';
import { registerIrqCommand } from './irq_cmd.js';
import { registerReplayCommands } from './replay_cmd.js';
import { registerScaleCommand } from './scale_cmd.js';
import { registerScenarioCommands } from './scenario_cmd.js';
import { registerTimeoutsCommand } from './timeouts_cmd.js';
import { registerTraceCommands } from './trace_cmd.js';
import { faultlineVersion } from './version.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Words that mean something only to the project's authors. */
const JARGON = /\bseeds? ?\d{3}\b|\bseed thread|DESIGN\.md §/i;
/** A path out of the repository: the parent's `shared` directory (spelled so as not to match itself). */
const OUTSIDE = new RegExp(`\\.\\./${'shared'}|/work/${'shared'}`);

function helps(cmd: Command): string[] {
  return [cmd.helpInformation(), ...cmd.commands.flatMap(helps)];
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('help texts', () => {
  it('carry no internal jargon, in any command or design description', () => {
    const program = new Command('faultline');
    for (const register of [
      registerReplayCommands,
      registerIrqCommand,
      registerScaleCommand,
      registerScenarioCommands,
      registerExplainCommand,
      registerTraceCommands,
      registerContainCommand,
      registerTimeoutsCommand,
    ])
      register(program);
    const texts = helps(program);
    expect(texts.length).toBeGreaterThan(12);
    for (const t of texts) expect(t).not.toMatch(JARGON);
    for (const d of DESIGNS) expect(d.description).not.toMatch(JARGON);
  });

  it('faultline --help lists the commands without jargon; --version prints the package version', async () => {
    const [help, version] = await Promise.all([cliRun(['--help']), cliRun(['--version'])]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/-V, --version/);
    expect(help.out).toMatch(/^ {2}scale /m);
    expect(help.out).not.toMatch(JARGON);
    expect(version).toMatchObject({ code: 0, err: '', out: `${faultlineVersion()}\n` });
    expect(version.out).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });
});

describe('the documentation', () => {
  it('points to nothing outside the repository', () => {
    const all = [
      join(ROOT, 'README.md'),
      ...['docs', 'scenarios', 'src'].flatMap((d) => files(join(ROOT, d))),
    ];
    const offending = all.filter((f) => OUTSIDE.test(readFileSync(f, 'utf8')));
    expect(offending).toEqual([]);
  });

  it('has the design document in docs/, linked from the README, with the invariants', () => {
    const design = readFileSync(join(ROOT, 'docs', 'DESIGN.md'), 'utf8');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(/\(docs\/DESIGN\.md\)/);
    for (const section of ['## 2. Vocabulary', '## 3. The simulator', '## 5. Invariants'])
      expect(design).toContain(section);
    expect(design).not.toMatch(JARGON);
  });
});

describe('a reader that stops early', () => {
  it('ends the command quietly (no EPIPE stack trace) when stdout is closed: `faultline scale --help | head -1`', async () => {
    const { spawnSync } = await import('node:child_process');
    const { MAIN, TSX } = await import('./cli.testutil.js');
    const cmd = `"${process.execPath}" --import "${TSX}" "${MAIN}" scale --help | head -1`;
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    expect(r.stdout).toBe('Usage: faultline scale [options]\n');
    expect(r.stderr).toBe('');
  });
});
