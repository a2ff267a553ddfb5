/**
 * The views rendered to HTML (no browser): what a user must see is in the markup. The address
 * spaces of rm_nested with its 4K mapping strip; rm_fault's fault path with its frames and
 * caption; why a misaligned attach got 4K, with the button that moves it; the editor's inline
 * error at its line; the replay and compare panels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { buildEpisodes } from '../model/episodes.js';
import { parseRunFile } from '../model/runfile.js';
import { ScenarioSession } from '../model/session.js';
import { SHIPPED, shippedTraces } from '../model/shipped.js';
import { Editor } from './Editor.js';
import { FaultPath } from './FaultPath.js';
import { CompareView, ReplayView } from './RunViews.js';
import { SpaceView } from './SpaceView.js';
import { WhyView } from './WhyView.js';

function session(name: string): ScenarioSession {
  const s = ScenarioSession.load(SHIPPED.find((x) => x.name === name)!.text, `${name}.yaml`, shippedTraces());
  if (!('steps' in s)) throw new Error(s.problems.map((p) => p.message).join('\n'));
  return s;
}

const noop = () => {};

describe('SpaceView', () => {
  it('draws every nesting level of rm_nested, the RAM and its 4K mapping', () => {
    const ses = session('rm_nested');
    const html = renderToString(
      <SpaceView snapshot={ses.stateAt(ses.steps.length)} width={1400} height={800} metrics={{}} />,
    );
    for (const title of ['app', 'level2 (managed)', 'level3 (managed)', 'level4 (managed)', 'ram (RAM)']) {
      expect(html).toContain(`data-title="${title}"`);
    }
    expect(html).toMatch(/class="mapping" data-size="4K"/);
    expect(html).toContain('dead-fault');
  });

  it('shows the state of an earlier step: before the attaches nothing is mapped', () => {
    const ses = session('rm_nested');
    const html = renderToString(
      <SpaceView snapshot={ses.stateAt(4)} width={1400} height={800} metrics={{}} />,
    );
    expect(html).not.toContain('class="mapping"');
    expect(html).toContain('level4');
  });

  it('marks a queued faulter and a reserved hole', () => {
    const ses = session('reserved_hole');
    const html = renderToString(
      <SpaceView snapshot={ses.stateAt(ses.steps.length)} width={1400} height={800} metrics={{}} />,
    );
    expect(html).toContain('data-kind="reserved"');
    expect(html).toMatch(/app\.t3 waits \(READ at 0x4020\)/);
  });
});

describe('FaultPath', () => {
  it('shows the frames up to the current one, the current caption and the lanes', () => {
    const ses = session('rm_fault');
    const eps = buildEpisodes(ses.events, ses.steps);
    const html = renderToString(
      <FaultPath
        episodes={eps}
        episode={eps[0]}
        frame={6}
        steps={ses.steps}
        width={1200}
        onFrame={noop}
        onEpisode={noop}
      />,
    );
    expect(html).toContain('frame 7 / 20');
    expect(html).toContain('park: faulter at sub');
    expect(html).toMatch(/queues it as an Rm_faulter at sub/);
    expect(html.match(/class="frame past/g)).toHaveLength(6);
    expect(html.match(/class="frame current/g)).toHaveLength(1);
    for (const lane of ['app.main', 'kernel', 'pager entrypoint', 'sub', 'fault handler'])
      expect(html).toContain(`>${lane}<`);
  });
});

describe('WhyView', () => {
  it('explains the 4K of a misaligned attach and offers to move it', () => {
    const ses = session('superpages_x86_64');
    const eps = buildEpisodes(ses.events, ses.steps);
    const ep = eps.find((e) => e.address === 0x20201234 && e.outcome === 'mapped');
    const text = SHIPPED.find((x) => x.name === 'superpages_x86_64')!.text;
    const html = renderToString(
      <WhyView
        episodes={eps}
        episode={ep}
        onEpisode={noop}
        events={ses.events}
        steps={ses.steps}
        text={text}
        width={1200}
        before={null}
        onApply={noop}
      />,
    );
    expect(html).toMatch(/data-testid="chosen-size"[^>]*>4K</);
    expect(html.match(/data-testid="constraint"/g)).toHaveLength(4);
    expect(html).toMatch(/class="constraint binds"[^>]*><text[^>]*>alignment</);
    expect(html).toMatch(
      /data-testid="apply-counterfactual"[^>]*>Attach at 0x20[02]00000 \(step 9, line 27\) and re-run/,
    );
  });
});

describe('Editor', () => {
  it('marks a problem at its line with its message', () => {
    const html = renderToString(
      <Editor
        text={'a: 1\nb: 2\nc: 3'}
        notes={[{ line: 2, column: 1, message: 'b: expected a string', severity: 'error' }]}
        activeLine={3}
        reveal={null}
        onChange={noop}
        onRun={noop}
      />,
    );
    expect(html).toMatch(/<div class="ln error" data-line="2">●2<\/div>/);
    expect(html).toMatch(/data-testid="inline-error" data-line="2">b: expected a string</);
    expect(html).toContain('class="bl  active"');
  });
});

describe('replay and compare panels', () => {
  const sample = (records: number, k4: number, m2: number) => ({
    records,
    cycles: records,
    hits: records - 2,
    misses: 2,
    cpus: [{ cpu: 0, levels: [{ name: 'L1d', valid: { '4K': k4, '2M': m2 }, hits: 5, misses: 1 }] }],
  });
  it('replay: figures, TLB entries by size per CPU over time', () => {
    const r = parseRunFile(
      {
        ...golden(),
        tlbSamples: [sample(65536, 3, 1), sample(131072, 7, 2)],
      },
      'r.json',
    );
    if (!('kind' in r) || r.kind !== 'replay') throw new Error('not a replay');
    const html = renderToString(<ReplayView r={r.result} trace="t.txt" width={1000} />);
    expect(html).toContain('TLB contents over time');
    expect(html).toContain('CPU 0: valid entries by page size');
    expect(html).toMatch(/7 × 4K/);
    expect(html).toMatch(/2 × 2M/);
  });

  it('replay without samples says how to get them', () => {
    const r = parseRunFile(golden(), 'r.json');
    if (!('kind' in r) || r.kind !== 'replay') throw new Error('not a replay');
    expect(renderToString(<ReplayView r={r.result} trace="t.txt" width={1000} />)).toContain('--tlb-samples');
  });

  it('compare: one column per design, the best marked', () => {
    const g = golden();
    const r = parseRunFile({ results: [g, { ...g, design: '4k-only', cycles: g.cycles * 2 }] }, 'c.json');
    if (!('kind' in r) || r.kind !== 'compare') throw new Error('not a comparison');
    const html = renderToString(<CompareView results={r.results} trace="t" width={1000} />);
    expect(html).toMatch(/<\/span> genode<\/th>/);
    expect(html).toMatch(/<\/span> 4k-only<\/th>/);
    expect(html).toMatch(/<th>modelled cycles<\/th><td class="best">/);
    expect(html).toContain('×2.00');
  });
});

/** The committed replay JSON of the small trace (test/golden). */
function golden() {
  return JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../test/golden/replay_small.json'), 'utf8'),
  );
}
