/**
 * The counterfactual, checked by doing it: the moved attach, applied to the scenario text and run
 * again, gives the same fault the size the counterfactual promised. Where alignment does not
 * limit the size there is none.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../../../src/util/hex.js';
import { buildEpisodes, mappedAttempt } from './episodes.js';
import { ScenarioSession } from './session.js';
import { SHIPPED, shippedTraces } from './shipped.js';
import { counterfactual } from './why.js';
import { setScalar } from './yaml_edit.js';

function load(text: string): ScenarioSession {
  const s = ScenarioSession.load(text, 'x.yaml', shippedTraces());
  if (!('steps' in s)) throw new Error(s.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return s;
}

const text = (name: string) => SHIPPED.find((x) => x.name === name)!.text;

describe('counterfactual', () => {
  it('superpages_x86_64: the 1M-misaligned attach moved by 1M gives the read at 0x20201234 a 2M mapping', () => {
    const t = text('superpages_x86_64');
    const ses = load(t);
    const eps = buildEpisodes(ses.events, ses.steps);
    const ep = eps.find((e) => e.address === 0x20201234 && e.outcome === 'mapped')!;
    const f = mappedAttempt(ep)!;
    expect(f.decision.kind === 'mapped' && f.decision.mapping.sizeLog2).toBe(12);
    const cf = counterfactual(f, ses.events, ses.steps, f.step)!;
    expect(cf.sizeLog2).toBe(21);
    expect(cf.oldAt).toBe(0x20100000);
    expect(Math.abs(cf.newAt - cf.oldAt)).toBe(0x100000);
    expect(cf.step?.kind).toBe('attach');
    const edited = setScalar(t, [...cf.step!.path, 'attach', 'at'], hex(cf.newAt));
    if (!edited.ok) throw new Error(edited.message);
    const again = load(edited.text);
    const same = buildEpisodes(again.events, again.steps).find(
      (e) => e.address === 0x20201234 && e.outcome === 'mapped',
    )!;
    const g = mappedAttempt(same)!;
    expect(g.decision.kind === 'mapped' && g.decision.mapping.sizeLog2).toBe(cf.sizeLog2);
  });

  it('none where the window or the dataspace binds, not the alignment', () => {
    const ses = load(text('rm_fault'));
    for (const e of buildEpisodes(ses.events, ses.steps)) {
      const f = mappedAttempt(e)!;
      expect(counterfactual(f, ses.events, ses.steps, f.step)).toBeNull();
    }
  });

  it('superpages_armv7: the 64K dataspace attached 4K-aligned would get 64K when moved', () => {
    const t = text('superpages_armv7');
    const ses = load(t);
    const ep = buildEpisodes(ses.events, ses.steps).find((e) => e.address === 0x20002345)!;
    const f = mappedAttempt(ep)!;
    const cf = counterfactual(f, ses.events, ses.steps, f.step)!;
    expect(cf.sizeLog2).toBe(16);
    const edited = setScalar(t, [...cf.step!.path, 'attach', 'at'], hex(cf.newAt));
    if (!edited.ok) throw new Error(edited.message);
    const again = load(edited.text);
    const g = mappedAttempt(buildEpisodes(again.events, again.steps).find((e) => e.address === 0x20002345)!)!;
    expect(g.decision.kind === 'mapped' && g.decision.mapping.sizeLog2).toBe(16);
  });
});
