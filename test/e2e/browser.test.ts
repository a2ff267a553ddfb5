/**
 * The visualizer end to end in real Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core), served by `faultline view`'s server from the built app (dist/web, made by
 * `npm run build`). For every shipped scenario: load it from the picker, see its address spaces
 * and region maps, step through its last fault frame by frame (the captions must be the ones the
 * model computes here in Node), see the chosen mapping size, break the YAML and see the error at
 * the right line; no console error anywhere. A screenshot per view goes to test-artifacts/e2e/.
 * Then the counterfactual's apply-and-re-run, and the replay and compare panels.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../src/cli/replay_run.js';
import { runOptions } from '../../src/cli/run_options.js';
import { viewPayload, WEB_ROOT } from '../../src/cli/view_cmd.js';
import { startViewServer, type ViewServer } from '../../src/cli/view_server.js';
import { sizeName } from '../../src/util/hex.js';
import { buildEpisodes, episodeAt, mappedAttempt } from '../../web/src/model/episodes.js';
import { ScenarioSession } from '../../web/src/model/session.js';
import { SHIPPED, shippedTraces } from '../../web/src/model/shipped.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: ViewServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  expect(existsSync(join(WEB_ROOT, 'index.html')), `${WEB_ROOT} is missing: run npm run build`).toBe(true);
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`).toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  // Opens with a scenario file, as `faultline view scenarios/trace_player.yaml` does.
  const initial = await viewPayload(join(ROOT, 'scenarios/trace_player.yaml'));
  server = await startViewServer({ root: WEB_ROOT, initial: JSON.stringify(initial), port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(server.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(() => {
  const seen = problems.splice(0);
  expect(seen).toEqual([]);
});

/** A screenshot of the views (or of the editor) as a test artifact. */
const shot = (name: string, part: '.main' | '.left' | 'page' = '.main') =>
  part === 'page'
    ? page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
    : page.locator(part).screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const text = async (sel: string) => (await page.locator(sel).first().textContent()) ?? '';

function expected(name: string) {
  const s = SHIPPED.find((x) => x.name === name)!;
  const ses = ScenarioSession.load(s.text, `scenarios/${name}.yaml`, shippedTraces());
  if (!('steps' in ses)) throw new Error(`${name} does not load`);
  const eps = buildEpisodes(ses.events, ses.steps);
  const last = episodeAt(eps, ses.steps.length - 1);
  const mapped = last && mappedAttempt(last);
  const final = ses.stateAt(ses.steps.length);
  return {
    ses,
    last,
    size: mapped?.decision.kind === 'mapped' ? sizeName(2 ** mapped.decision.mapping.sizeLog2) : null,
    final,
  };
}

it('opens with the file given on the command line', async () => {
  await page.waitForSelector('[data-testid="summary"]');
  expect(await text('[data-testid="summary"]')).toMatch(
    /^trace_player: 7 step\(s\), all expectations hold, simulated/,
  );
});

describe.each(SHIPPED.map((s) => s.name))('%s', (name) => {
  it('loads, shows its maps, steps through a fault, shows the size, and marks a broken line', async () => {
    const want = expected(name);
    await page.click('[data-testid="tab-space"]');
    await page.selectOption('[data-testid="scenario-select"]', `scenarios/${name}.yaml`);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="summary"]')?.textContent?.startsWith(`${n}:`),
      name,
      { timeout: 30_000 },
    );
    expect(await text('[data-testid="summary"]')).toContain(`${want.ses.steps.length} step(s)`);

    // Address spaces and region maps.
    if (want.final.pds.length > 0) {
      for (const pd of want.final.pds) {
        await expect(page.locator(`[data-kind="space"][data-title="${pd.name}"]`).count()).resolves.toBe(1);
      }
      const regions = [...want.final.maps.values()].reduce((n, m) => n + m.regions.length, 0);
      if (regions > 0) {
        const drawn = await page
          .locator(
            '[data-kind="leaf"], [data-kind="managed"], [data-kind="reserved"], [data-testid="bundle"]',
          )
          .count();
        expect(drawn).toBeGreaterThan(0);
      }
    } else {
      await page.waitForSelector('[data-testid="no-spaces"]');
    }
    await shot(`${name}-address-spaces`);

    // The step bar goes back and forth.
    if (want.ses.steps.length > 1) {
      const end = await text('[data-testid="step-label"]');
      await page.click('[data-testid="step-back"]');
      expect(await text('[data-testid="step-label"]')).not.toBe(end);
      await page.click('[data-testid="step-forward"]');
      expect(await text('[data-testid="step-label"]')).toBe(end);
    }

    // The fault path of the last fault, frame by frame.
    await page.click('[data-testid="tab-path"]');
    const ep = want.last;
    if (ep) {
      // Step through every frame from the first in the page, then compare with the model's frames.
      await page.click('button[title="first frame"]');
      const seen = await page.evaluate(async (n) => {
        const read = () => [
          document.querySelector('[data-testid="frame-counter"]')?.textContent ?? '',
          document.querySelector('[data-testid="frame-caption"]')?.textContent ?? '',
        ];
        const out = [read()];
        for (let i = 1; i < n; i++) {
          document.querySelector<HTMLButtonElement>('[data-testid="frame-next"]')!.click();
          await new Promise((r) => requestAnimationFrame(r));
          out.push(read());
        }
        return out;
      }, ep.frames.length);
      expect(seen.map(([counter]) => counter)).toEqual(
        ep.frames.map((_, i) => `frame ${i + 1} / ${ep.frames.length}`),
      );
      for (const [i, [, caption]] of seen.entries()) expect(caption).toContain(ep.frames[i]!.detail);
      await page.click('[data-testid="frame-prev"]');
      expect(await text('[data-testid="frame-counter"]')).toBe(
        `frame ${Math.max(1, ep.frames.length - 1)} / ${ep.frames.length}`,
      );
    } else {
      await page.waitForSelector('[data-testid="fault-path-empty"]');
    }
    await page.waitForTimeout(400); // the current arrow's drawing animation
    await shot(`${name}-fault-path`);

    // The chosen size, on the tab and in the explanation.
    await page.click('[data-testid="tab-why"]');
    if (want.size) {
      expect(await text('[data-testid="tab-why"] .tab-badge')).toBe(want.size);
      expect(await text('[data-testid="chosen-size"]')).toBe(want.size);
      expect(await page.locator('[data-testid="constraint"]').count()).toBeGreaterThanOrEqual(3);
    }
    await shot(`${name}-why-this-size`);

    // Break the YAML: an unknown key right after `name:` is an error at that line.
    await page.click('button:has-text("YAML")');
    const lines = SHIPPED.find((x) => x.name === name)!.text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('name:')) + 1;
    lines.splice(at, 0, 'colour: blue');
    await page.fill('[data-testid="yaml"]', lines.join('\n'));
    const marker = page.locator(`[data-testid="inline-error"][data-line="${at + 1}"]`);
    await marker.waitFor({ timeout: 10_000 });
    expect(await marker.textContent()).toMatch(/colour/);
    expect(await page.locator('[data-testid="inline-error"]').count()).toBe(1);
    await shot(`${name}-broken-yaml`, '.left');
  }, 60_000);
});

describe('why this size: apply the counterfactual and re-run', () => {
  it('moves the misaligned attach of superpages_x86_64 and the same fault gets 2M', async () => {
    await page.selectOption('[data-testid="scenario-select"]', 'scenarios/superpages_x86_64.yaml');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="summary"]')?.textContent?.startsWith('superpages_x86_64:'),
    );
    await page.click('[data-testid="steps-tab"]');
    await page.click('.steprow:has(.label:text-is("11"))');
    await page.click('[data-testid="tab-why"]');
    expect(await text('[data-testid="chosen-size"]')).toBe('4K');
    await page.click('[data-testid="apply-counterfactual"]');
    await page.waitForSelector('[data-testid="applied"]');
    expect(await text('[data-testid="applied"]')).toMatch(/gets 2M \(it got 4K\)/);
    expect(await text('[data-testid="chosen-size"]')).toBe('2M');
    // The scenario itself expected 4K there: the run says so.
    expect(await text('[data-testid="summary"]')).toMatch(/1 failed/);
    await shot('superpages_x86_64-counterfactual-applied', 'page');
  }, 60_000);
});

describe('replay and compare panels', () => {
  it('show a replay with TLB contents per CPU over time, and a comparison of designs', async () => {
    const trace = join(ROOT, 'test/fixtures/lackey_small.txt');
    const out = await replay(trace, runOptions(['genode', '4k-only'], { cpus: '2' }), { tlbSamples: true });
    const results = out.results.map((r, i) => ({ ...r, tlbSamples: out.samples[i] }));
    const rep = join(ARTIFACTS, 'replay.json');
    const cmp = join(ARTIFACTS, 'compare.json');
    writeFileSync(rep, JSON.stringify({ ...results[0], trace: { file: 'lackey_small.txt' } }));
    writeFileSync(cmp, JSON.stringify({ results, trace: { file: 'lackey_small.txt' } }));

    await page.setInputFiles('[data-testid="open-file"]', rep);
    await page.waitForSelector('[data-testid="replay-view"]');
    expect(await page.locator('[data-testid="tlb-cpu"]').count()).toBeGreaterThanOrEqual(1);
    expect(await text('[data-testid="tlb-cpu"] h4')).toMatch(/CPU 0: valid entries by page size\s*2M/);
    await shot('replay');

    await page.setInputFiles('[data-testid="open-file"]', cmp);
    await page.waitForSelector('[data-testid="compare-view"]');
    const head = await text('[data-testid="compare-table"] thead');
    expect(head).toContain('genode');
    expect(head).toContain('4k-only');
    await shot('compare');
  }, 60_000);
});
