/**
 * The rival designs from the command line: `--misbehave` on replay and compare, rights and
 * metadata from `faultline designs`.
 */
import { describe, expect, it } from 'vitest';
import { cliRun } from './cli.testutil.js';
import { UserError } from './io.js';
import { EXIT_THREAD_STOPPED, replay } from './replay_run.js';
import { runOptions } from './run_options.js';

const TRACE = 'test/fixtures/lackey_small.txt';

describe('--misbehave', () => {
  it('compare with a late manager: both designs finish; sync-core-rpc loses nothing without a timeout', async () => {
    const runs = runOptions(['genode', 'sync-core-rpc'], { misbehave: 'replies-late:30000' });
    const out = await replay(new URL(`../../${TRACE}`, import.meta.url).pathname, runs, { reader: 'inline' });
    expect(out.results.map((r) => r.faults.lost)).toEqual([0, 0]);
    expect(out.results.map((r) => r.config?.misbehave)).toEqual(['replies-late:30000', 'replies-late:30000']);
    expect(out.results[1]!.trust.some((e) => e.from === 'core' && e.kind === 'call')).toBe(true);
    expect(out.results[0]!.trust.some((e) => e.from === 'core' && e.kind === 'call')).toBe(false);
    // The late manager costs the program time: more cycles than without it.
    const plain = await replay(
      new URL(`../../${TRACE}`, import.meta.url).pathname,
      runOptions(['genode'], {}),
      {
        reader: 'inline',
      },
    );
    expect(out.results[0]!.cycles).toBeGreaterThan(plain.results[0]!.cycles + 30_000);
  });

  it('rejects a bad kind naming the flag and the choices', () => {
    expect(() => runOptions(['genode'], { misbehave: 'late' })).toThrow(UserError);
    expect(() => runOptions(['genode'], { misbehave: 'late' })).toThrow(
      "--misbehave: 'late' is not a misbehaviour; expected one of never-replies, replies-late:N, dies, faults-itself, wrong-mapping (N: cycles > 0)",
    );
  });
});

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
