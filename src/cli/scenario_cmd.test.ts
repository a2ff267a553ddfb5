/** `faultline run | validate | schema`: output and exit status (0 pass, 1 failed expectation, 2 invalid). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DESIGNS } from '../sim/designs.js';
import { checkTimeline } from '../sim/timeline_check.js';
import {
  registerScenarioCommands,
  runScenarioFile,
  schemaOutput,
  validateScenarioFile,
} from './scenario_cmd.js';

const DESIGN_NAMES = DESIGNS.map((d) => d.name).join(', ');

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = mkdtempSync(join(tmpdir(), 'faultline-scenario-'));

/** Writes a scenario into the temp directory and returns its path. */
function file(name: string, text: string): string {
  const p = join(DIR, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = `name: tiny
machine: { arch: x86_64, ram: 64M }
components:
  - { name: app, ram: 1M, caps: 20, threads: [{ name: main }] }
steps:
  - alloc_ram: { name: ds, owner: app, size: 4K }
  - attach: { map: app, dataspace: ds, at: 0x1000000 }
  - read: { thread: app.main, address: 0x1000000, expect: { outcome: mapped, mapping_size: 4K } }
`;

describe('faultline run', () => {
  it('exits 0 with a summary when every expectation holds', async () => {
    expect(await runScenarioFile(file('good.yaml', GOOD))).toEqual({
      exitCode: 0,
      stdout: 'tiny: 3 step(s), 1 expectation(s), all hold\n',
      stderr: '',
    });
  });

  it('prints the run log with --log (a shipped scenario: its golden log)', async () => {
    const out = await runScenarioFile(join(ROOT, 'scenarios', 'rm_nested.yaml'), { log: true });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe(
      readFileSync(join(ROOT, 'src', 'scenario', '__golden__', 'rm_nested.log'), 'utf8'),
    );
  });

  it('exits 1 and names the failed expectation on stderr', async () => {
    const p = file('fail.yaml', GOOD.replace('mapping_size: 4K', 'mapping_size: 2M'));
    expect(await runScenarioFile(p)).toEqual({
      exitCode: 1,
      stdout: 'tiny: 3 step(s), 1 expectation(s), 1 failed\n',
      stderr: `${p}:8:5 step 3 (read): expected a 2M mapping, got 4K\n`,
    });
  });

  it('exits 2 for an invalid scenario, with every problem and no stack trace', async () => {
    const p = file('bad.yaml', GOOD.replace('size: 4K }', 'size: 4K, colour: red }'));
    expect(await runScenarioFile(p)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `${p}:6:50 steps[0].alloc_ram.colour: unknown key 'colour'; expected one of: name, owner, size, cpu, expect_error\n`,
    });
    const q = file('bad2.yaml', GOOD.replace('thread: app.main', 'thread: app.mian'));
    expect(await runScenarioFile(q)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `${q}:8:21 steps[2].read.thread: undefined thread 'app.mian'\n`,
    });
  });

  it('exits 2 for a YAML syntax error and for a missing file', async () => {
    const p = file('syntax.yaml', 'name: [x\n');
    expect(await runScenarioFile(p)).toMatchObject({
      exitCode: 2,
      stderr: `${p}:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]\n`,
    });
    const missing = join(DIR, 'nope.yaml');
    expect(await runScenarioFile(missing)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `${missing}: cannot read the scenario: no such file\n`,
    });
  });
});

const TRACE = (trace: string, extra = '') => `name: traced
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 1M
    caps: 20
    threads: [{ name: main }]
    behaviours:
      - trace_player: { thread: app.main, trace: ${trace} }
  - name: manager
    ram: 16M
    caps: 20
    behaviours:
      - on_demand: { map: mem, chunk: 2M }
steps:
  - create_region_map: { name: mem, owner: manager, size: 128T }
  - attach: { map: app, dataspace: mem, at: 0x1000, offset: 0x1000, writeable: true, executable: true }
  - simulate: {}
  - expect_metrics: { records: 9, faults.reflected: 3, mappings.2M: 3${extra} }
`;
const FIXTURE = join(ROOT, 'test', 'fixtures');

describe('faultline run on the simulator', () => {
  it('runs a shipped trace_player scenario: its log equals the golden file', async () => {
    const out = await runScenarioFile(join(ROOT, 'scenarios', 'trace_player.yaml'), { log: true });
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe(
      readFileSync(join(ROOT, 'src', 'scenario', '__golden__', 'trace_player.log'), 'utf8'),
    );
  });

  it('reads the trace relative to the scenario file (lackey_small: 9 records, 3 faults, three 2M mappings)', async () => {
    const q = file('traced.yaml', TRACE(join(FIXTURE, 'lackey_small.txt')));
    expect(await runScenarioFile(q)).toEqual({
      exitCode: 0,
      stdout: 'traced: 4 step(s), 3 expectation(s), all hold\n',
      stderr: '',
    });
  });

  it('exits 1 and names a failed metric with its position', async () => {
    const p = file('metric.yaml', TRACE(join(FIXTURE, 'lackey_small.txt'), ', chunks: 4'));
    expect(await runScenarioFile(p)).toEqual({
      exitCode: 1,
      stdout: 'traced: 4 step(s), 4 expectation(s), 1 failed\n',
      stderr: `${p}:19:72 step 4 (expect_metrics): expected chunks = 4, got 3\n`,
    });
  });

  it('exits 2 for a missing trace file, at the trace, with no stack trace; validate too', async () => {
    const p = file('missing.yaml', TRACE('nope.txt'));
    const message = `${p}:9:50 components[0].behaviours[0].trace_player.trace: cannot read trace 'nope.txt' (${join(DIR, 'nope.txt')}): no such file\n`;
    expect(await runScenarioFile(p)).toEqual({ exitCode: 2, stdout: '', stderr: message });
    expect(await validateScenarioFile(p)).toEqual({ exitCode: 2, stdout: '', stderr: message });
  });

  it('exits 2 for a trace that does not parse, naming its line', async () => {
    const p = file('badtrace.yaml', TRACE(join(FIXTURE, 'lackey_bad_address.txt')));
    const r = await runScenarioFile(p);
    expect(r.exitCode).toBe(2);
    const head = `${p}:9:50 components[0].behaviours[0].trace_player.trace: cannot read trace '`;
    expect(r.stderr.startsWith(head)).toBe(true);
    expect(r.stderr).toMatch(
      /lackey_bad_address\.txt': line 4, column 4: expected a hex address after 'L', found 'zz'\n$/,
    );
    expect(r.stderr).not.toContain('    at ');
  });

  it('exits 2 for a bad behaviour option, metric name or design', async () => {
    const p = file('opt.yaml', TRACE('t.txt').replace('chunk: 2M }', 'chunk: 2M, pages: 3 }'));
    expect(await runScenarioFile(p)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `${p}:14:43 components[1].behaviours[0].on_demand.pages: unknown key 'pages'; expected one of: map, chunk, cpu, ram, replacement, swap, misbehave\n`,
    });
    const q = file('metric2.yaml', TRACE('t.txt', ', faults.total: 1'));
    expect((await runScenarioFile(q)).stderr).toMatch(
      /metric2\.yaml:19:72 steps\[3\]\.expect_metrics\.faults\.total: unknown metric 'faults\.total'; expected one of: records, /,
    );
    const d = file('design.yaml', TRACE('t.txt').replace('steps:', 'design: genode-fast\nsteps:'));
    expect(await runScenarioFile(d)).toMatchObject({
      exitCode: 2,
      stderr: `${d}:15:9 design: unknown design 'genode-fast'; expected one of ${DESIGN_NAMES}\n`,
    });
  });

  it('--cost overrides a cost of the scenario; a bad one exits 2', async () => {
    const p = file('cost.yaml', TRACE(join(FIXTURE, 'lackey_small.txt')));
    const out = await runScenarioFile(p, { log: true, cost: ['pageZeroPerKiB=0'] });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain('; costs pageZeroPerKiB=0\n');
    expect(await runScenarioFile(p, { cost: ['pageZero=1'] })).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: expect.stringMatching(/^--cost: unknown cost key 'pageZero'/),
    });
  });

  it('--timeline writes the simulated run as a valid trace-event file; refuses a core-only scenario and its own input', async () => {
    const p = file('timed.yaml', TRACE(join(FIXTURE, 'lackey_small.txt')));
    const out = join(DIR, 'timed.json');
    expect((await runScenarioFile(p, { timeline: out })).exitCode).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(checkTimeline(json)).toEqual([]);
    const names = new Set(json.traceEvents.map((e: { name: string }) => e.name));
    expect(names).toContain('page-fault entry');
    expect(json.otherData).toMatchObject({ scenario: 'traced' });
    const core = file('core.yaml', GOOD);
    expect(await runScenarioFile(core, { timeline: join(DIR, 'core.json') })).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: expect.stringMatching(/^--timeline: .*core\.yaml runs on the core model only/),
    });
    const before = readFileSync(p, 'utf8');
    const self = await runScenarioFile(p, { timeline: p });
    expect([self.exitCode, self.stderr]).toEqual([
      2,
      expect.stringMatching(/^--timeline: .* is the input file/),
    ]);
    expect(readFileSync(p, 'utf8')).toBe(before);
  });

  it('--cost takes whole cycles in a stated range, like replay', async () => {
    const p = file('good2.yaml', GOOD);
    expect(await runScenarioFile(p, { cost: ['ipcRoundTrip=2.5'] })).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: "--cost ipcRoundTrip: '2.5' is not an integer from 0 to 1000000000 cycles\n",
    });
  });

  it('a YAML alias bomb is an invalid scenario naming the file, not a crash', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(', ')}]`,
      );
    }
    const p = file('bomb.yaml', `name: bomb\n${levels.join('\n')}\n`);
    const expected = {
      exitCode: 2,
      stdout: '',
      stderr: `${p}:3:8: its aliases expand more than 1000 times (a YAML alias bomb?); write the values out instead\n`,
    };
    expect(await validateScenarioFile(p)).toEqual(expected);
    expect(await runScenarioFile(p)).toEqual(expected);
    // A few aliases are fine.
    const q = file(
      'alias.yaml',
      GOOD.replace('size: 4K }', 'size: &sz 4K }\n  - alloc_ram: { name: ds2, owner: app, size: *sz }'),
    );
    expect(await validateScenarioFile(q)).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('validate reports a simulated scenario as such', async () => {
    const p = file('valid.yaml', TRACE(join(FIXTURE, 'lackey_small.txt')));
    expect(await validateScenarioFile(p)).toEqual({
      exitCode: 0,
      stdout: `${p}: valid scenario 'traced' (2 component(s), 4 step(s), simulated with design genode)\n`,
      stderr: '',
    });
  });
});

describe('faultline validate and schema', () => {
  it('validate checks without running (a failing expectation is not a validation error)', async () => {
    const p = file('v.yaml', GOOD.replace('mapping_size: 4K', 'mapping_size: 2M'));
    expect(await validateScenarioFile(p)).toEqual({
      exitCode: 0,
      stdout: `${p}: valid scenario 'tiny' (1 component(s), 3 step(s))\n`,
      stderr: '',
    });
    const q = file('v2.yaml', 'name: t\n');
    expect(await validateScenarioFile(q)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `${q}:1:1 machine: missing required key 'machine'\n`,
    });
  });

  it('schema prints the committed JSON Schema', async () => {
    expect(await schemaOutput()).toEqual({
      exitCode: 0,
      stdout: readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8'),
      stderr: '',
    });
  });
});

describe('registerScenarioCommands', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('adds run, validate and schema, which print and set the exit status', async () => {
    const program = new Command().exitOverride();
    registerScenarioCommands(program);
    expect(program.commands.map((c) => c.name())).toEqual(['run', 'validate', 'schema']);
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    const p = file('cmd.yaml', GOOD.replace('mapping_size: 4K', 'mapping_size: 2M'));
    await program.parseAsync(['node', 'faultline', 'run', p, '--log']);
    expect(process.exitCode).toBe(1);
    expect(out.join('')).toContain('step 3 (line 8): read app.main at 0x1000000 -> mapped 4K');
    expect(err.join('')).toBe(`${p}:8:5 step 3 (read): expected a 2M mapping, got 4K\n`);
  });
});
