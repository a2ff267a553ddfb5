/**
 * Fault episodes tell the seed's story frame by frame: rm_fault's reflected faults (walk, park,
 * signal, fault(), attach, wake-up, retry, mapping), rm_nested's four-level walk, a violation's
 * error, sixth_level's explain that gives up, and the trace player's on-demand faults on the
 * simulator.
 */
import { describe, expect, it } from 'vitest';
import { buildEpisodes, type Episode, episodeAt, mappedAttempt } from './episodes.js';
import { ScenarioSession } from './session.js';
import { SHIPPED, shippedTraces } from './shipped.js';

function episodes(name: string): { ses: ScenarioSession; eps: Episode[] } {
  const s = SHIPPED.find((x) => x.name === name)!;
  const ses = ScenarioSession.load(s.text, `${name}.yaml`, shippedTraces());
  if (!('steps' in ses)) throw new Error(ses.problems.map((p) => p.message).join('\n'));
  return { ses, eps: buildEpisodes(ses.events, ses.steps) };
}

const tones = (e: Episode) => e.frames.map((f) => f.tone).join(' ');

describe('buildEpisodes', () => {
  it('rm_fault: sixteen reflected faults, each parked, signalled, attached, woken, retried and mapped 4K', () => {
    const { ses, eps } = episodes('rm_fault');
    expect(eps).toHaveLength(16);
    for (const [i, e] of eps.entries()) {
      expect(e.outcome).toBe('mapped');
      expect(e.address).toBe(0x30000000 + i * 4096 + 8);
      expect(e.attempts).toHaveLength(2);
      expect(e.lanes.map((l) => l.id)).toEqual([
        'thread',
        'kernel',
        'pager',
        expect.stringMatching(/^map:/),
        expect.stringMatching(/^map:/),
        'handler',
      ]);
    }
    const first = eps[0]!;
    expect(tones(first)).toBe(
      'trap call walk found walk error park signal call call wake trap call walk found walk found found map map',
    );
    const labels = first.frames.map((f) => f.label);
    expect(labels).toContain('lookup 0x8');
    expect(labels).toContain('park: faulter at sub');
    expect(labels).toContain("signal 'rm_fault_handler'");
    expect(labels).toContain('fault() → WRITE at 0x8');
    expect(labels).toContain("attach 'page0' at 0x0");
    expect(labels.at(-2)).toMatch(/^map 4K 0x30000000 → 0x[0-9a-f]+ rw-$/);
    // The handler's fault() is the expect_fault step, the retry its own later write step.
    const stepOf = (label: string) => ses.steps[first.frames.find((f) => f.label.startsWith(label))!.step]!;
    expect(stepOf('fault()').kind).toBe('expect_fault');
    expect(stepOf('attach').kind).toBe('attach');
    expect(stepOf('retry').kind).toBe('write');
    expect(mappedAttempt(first)!.decision.kind).toBe('mapped');
  });

  it('rm_nested: one walk through four maps, each rebased, then a violation that stays an error', () => {
    const { eps } = episodes('rm_nested');
    const [read, explain, write] = eps;
    expect(read!.frames.filter((f) => f.tone === 'walk').map((f) => f.label)).toEqual([
      'lookup 0x10039234',
      'lookup 0x39234',
      'lookup 0x19234',
      'lookup 0x9234',
    ]);
    expect(read!.frames.find((f) => f.detail.includes('rebased'))!.detail).toMatch(
      /0x10039234 − 0x10000000 = 0x39234/,
    );
    expect(explain!.outcome).toBe('explained');
    expect(explain!.lanes.map((l) => l.id)).not.toContain('kernel');
    expect(write!.outcome).toBe('error');
    expect(write!.frames.at(-1)!.detail).toMatch(/WRITE violation at address 0x10039234/);
  });

  it('sixth_level: the explain of a six-level chain shows the walk giving up', () => {
    const { eps } = episodes('sixth_level');
    const ex = eps.find((e) => e.outcome === 'explained')!;
    expect(ex.attempts[0]!.decision.kind).toBe('too-deep');
    expect(ex.frames.filter((f) => f.tone === 'walk')).toHaveLength(5);
    expect(ex.frames.at(-1)!.label).toMatch(/would fail: too deep/);
  });

  it('trace_player: the simulator’s on-demand faults, with the handler’s fault() and attach', () => {
    const { eps } = episodes('trace_player');
    expect(eps.filter((e) => e.outcome === 'mapped')).toHaveLength(3);
    for (const e of eps) {
      expect(
        e.frames.some(
          (f) =>
            f.label.startsWith('fault() → READ') ||
            f.label.startsWith('fault() → EXEC') ||
            f.label.startsWith('fault() → WRITE'),
        ),
      ).toBe(true);
      expect(mappedAttempt(e)!.decision.kind === 'mapped' && mappedAttempt(e)!.decision).toMatchObject({
        mapping: { sizeLog2: 21 },
      });
    }
  });

  it('reserved_hole: a fault left waiting stays an open, parked episode', () => {
    const { eps } = episodes('reserved_hole');
    const last = eps.at(-1)!;
    expect(last.outcome).toBe('waiting');
    expect(last.frames.at(-1)!.tone === 'signal' || last.frames.at(-1)!.label.startsWith('fault()')).toBe(
      true,
    );
  });

  it('episodeAt finds the last episode begun at or before a step', () => {
    const { eps } = episodes('rm_fault');
    expect(episodeAt(eps, -1)).toBeUndefined();
    for (const e of eps) {
      expect(episodeAt(eps, e.firstStep)).toBe(e);
      expect(episodeAt(eps, e.firstStep + 1)?.id).toBe(e.id);
    }
  });
});
