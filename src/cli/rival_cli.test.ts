/**
 * The rival designs from the command line: `--misbehave` on replay and compare, rights and
 * metadata from `faultline designs`.
 */
import { describe, expect, it } from 'vitest';
import { cliRun } from './cli.testutil.js';
import { EXIT_THREAD_STOPPED } from './replay_run.js';

const TRACE = 'test/fixtures/lackey_small.txt';

describe.concurrent('rival designs on the command line', () => {
  it('replay --misbehave never-replies: the traced thread waits for ever (exit 3), the config says why', async () => {
    const r = await cliRun(['replay', TRACE, '--misbehave', 'never-replies', '--json']);
    expect(r.code).toBe(EXIT_THREAD_STOPPED);
    const j = JSON.parse(r.out);
    expect(j.config.misbehave).toBe('never-replies');
    expect(j.stopped).toMatchObject({ reason: 'thread-blocked' });
    expect(j.records).toBeLessThan(j.trace.records);
    expect(j.trust.some((e: { kind: string }) => e.kind === 'signal')).toBe(true);
  });

  it('compare --misbehave replies-late: both designs finish; sync-core-rpc loses nothing without a timeout', async () => {
    const r = await cliRun([
      'compare',
      TRACE,
      '--design',
      'genode',
      '--design',
      'sync-core-rpc',
      '--misbehave',
      'replies-late:30000',
      '--json',
      '--out',
      `${process.env.TMPDIR ?? '/tmp'}/faultline-rival-cli`,
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.results.map((x: { faults: { lost: number } }) => x.faults.lost)).toEqual([0, 0]);
    expect(
      j.results[1].trust.some((e: { from: string; kind: string }) => e.from === 'core' && e.kind === 'call'),
    ).toBe(true);
  });

  it('replay --misbehave with a bad kind: one line, exit 2', async () => {
    const r = await cliRun(['replay', TRACE, '--misbehave', 'late']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "faultline: --misbehave: 'late' is not a misbehaviour; expected one of never-replies, replies-late:N, dies, faults-itself, wrong-mapping (N: cycles > 0)\n",
    );
  });

  it('designs --trust --json lists the rights of every design; --metadata the bytes per design', async () => {
    const [t, m] = await Promise.all([
      cliRun(['designs', '--trust', '--json']),
      cliRun(['designs', '--metadata', '1,4', '--json']),
    ]);
    expect(t.code).toBe(0);
    const designs = JSON.parse(t.out).designs as { design: string; trust: { from: string; to: string }[] }[];
    expect(designs.map((d) => d.design)).toContain('local-rm');
    expect(designs.every((d) => d.trust.length > 0)).toBe(true);
    expect(m.code).toBe(0);
    const points = JSON.parse(m.out).points as { design: string; dataspaces: number }[];
    expect(points.map((p) => `${p.design}/${p.dataspaces}`)).toEqual([
      'genode/1',
      'genode/4',
      'sync-core-rpc/1',
      'sync-core-rpc/4',
      'local-rm/1',
      'local-rm/4',
    ]);
  });
});
