/**
 * `faultline contain` and `faultline timeouts` as a user runs them: flags validated with one clear
 * line, the JSON and the plot written, Ctrl-C keeping what was done (exit 130).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRun } from './cli.testutil.js';
import { containTable, parseContainFlags } from './contain_cmd.js';
import { UserError } from './io.js';
import { parseTimeoutFlags } from './timeouts_cmd.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-contain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const noStack = /\n\s+at /;

describe('faultline contain / timeouts flags', () => {
  it('reject bad values naming the flag', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [
        () => parseContainFlags({ misbehave: ['sometimes'] }),
        /^--misbehave: 'sometimes' is not a misbehaviour/,
      ],
      [() => parseContainFlags({ design: ['nope'] }), /^--design: unknown design 'nope'/],
      [() => parseContainFlags({ set: ['ipcTimeout=soon'] }), /^--set: design option ipcTimeout=soon/],
      [() => parseContainFlags({ memory: '32K', chunk: '64K' }), /^--memory:/],
      [() => parseContainFlags({ stall: '0' }), /^--stall: '0' is not a duration in µs/],
      [() => parseTimeoutFlags({ design: 'genode' }), /^--design: 'genode' has no IPC timeouts/],
      [() => parseTimeoutFlags({ timeouts: '5ms,1ms' }), /^--timeouts: '5ms,1ms' must be increasing/],
      [() => parseTimeoutFlags({ timeouts: 'never,5ms' }), /must be increasing \(never only last\)/],
      [() => parseTimeoutFlags({ loads: '0,-1' }), /^--loads:/],
      [() => parseTimeoutFlags({ set: ['ipcTimeout=5ms'] }), /^--set: ipcTimeout is what this study sweeps/],
      [() => parseTimeoutFlags({ chain: '9' }), /^--chain:/],
    ];
    for (const [f, msg] of bad) {
      expect(f).toThrow(UserError);
      expect(f).toThrow(msg);
    }
    const ok = parseTimeoutFlags({ timeouts: '500us,5ms,never', loads: '0,3' });
    expect(ok.timeouts).toEqual([1_500_000, 15_000_000, 'never']);
    expect(ok.loads).toEqual([0, 3]);
    const c = parseContainFlags({ misbehave: ['replies-late:30'], design: ['local-rm'] });
    expect(c.behaviours).toEqual([{ kind: 'replies-late', cycles: 30 }]);
    expect(c.designs.map((d) => d.name)).toEqual(['local-rm']);
  });
});

describe.concurrent('faultline contain / timeouts as a user runs them', () => {
  it('contain --json prints the runs and writes the heat map; the table says who stalled', async () => {
    const out = join(tmp, 'contain');
    const args = ['contain', '--design', 'sync-core-rpc', '--misbehave', 'never-replies', '--touches', '60'];
    const r = await cliRun([...args, '--json', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(false);
    expect(j.runs.map((x: { misbehave: string }) => x.misbehave)).toEqual(['none', 'never-replies']);
    expect(readFileSync(join(out, 'contain.svg'), 'utf8')).toMatch(/^<svg/);
    const table = containTable(j);
    expect(table).toMatch(/sync-core-rpc\s+never-replies\s+victim ∞, neighbour ∞, compute ∞\s+pager ep 0 ∞/);
    // A table wider than the terminal: one heading per run, then only the figures that say something.
    const wide = Math.max(...table.split('\n').map((l) => [...l].length));
    expect(containTable(j, wide)).toBe(table);
    const narrow = containTable(j, wide - 1);
    expect(narrow.split('\n')).toEqual([
      'sync-core-rpc  none',
      expect.stringMatching(/^ {4}core waited: pager ep 0 \S+ µs \(max \S+ µs\)$/),
      'sync-core-rpc  never-replies',
      '    stalled: victim ∞, neighbour ∞, compute ∞',
      '    core waited: pager ep 0 ∞',
      '    uninvolved delayed: neighbour never done, compute never done',
    ]);
  });

  it('timeouts: Ctrl-C keeps the points done, marks them interrupted and exits 130', async () => {
    const out = join(tmp, 'timeouts');
    const r = await cliRun(['timeouts', '--json', '--out', out], { interrupt: {} });
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(true);
    expect(j.points.length).toBeLessThan(40);
    expect(j.dope).toBeNull();
  });
});
