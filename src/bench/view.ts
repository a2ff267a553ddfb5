/**
 * The visualizer's figures (issue 17), measured in Chromium (Debian's /usr/bin/chromium through
 * playwright-core) on the built app: the bundle's size, the first render of a system of 100,000
 * regions (the model's run and the drawing separately, from the page's own marks), and the work of
 * one fault-path frame step (click to laid-out frame). Needs `npm run build` and chromium.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { viewPayload, WEB_ROOT } from '../cli/view_cmd.js';
import { startViewServer } from '../cli/view_server.js';
import type { Recorder } from './harness.js';

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

/** A scenario of `n` one-page regions (a page apart) in one address space, and a read. */
export function manyRegions(n: number): string {
  return `name: regions_${n}
description: ${n} regions in one address space
machine: { arch: x86_64, ram: 64M }
components:
  - name: app
    ram: 64M
    caps: ${n + 100}
    threads: [{ name: main, ip: 0x1000 }]
steps:
  - alloc_ram: { name: page, owner: app, size: 4K }
  - repeat:
      times: ${n}
      log: 0
      steps:
        - attach: { map: app, dataspace: page, at: '\${0x10000000 + i * 8K}' }
  - read: { thread: app.main, address: 0x10000010, expect: { outcome: mapped } }
`;
}

function bundleBytes(): { js: number; css: number; jsGzip: number; cssGzip: number } {
  const dir = join(WEB_ROOT, 'assets');
  const out = { js: 0, css: 0, jsGzip: 0, cssGzip: 0 };
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const kind = f.endsWith('.js') ? 'js' : f.endsWith('.css') ? 'css' : null;
    if (!kind) continue;
    out[kind] += statSync(p).size;
    out[`${kind}Gzip`] += gzipSync(readFileSync(p)).length;
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function viewBenchmarks(r: Recorder): Promise<void> {
  if (!existsSync(join(WEB_ROOT, 'index.html')) || !existsSync(CHROMIUM)) {
    process.stderr.write(`  skipped: needs ${WEB_ROOT} (npm run build) and ${CHROMIUM}\n`);
    return;
  }
  const b = bundleBytes();
  r.record('view.bundle.js', b.js / 1024, 'KiB', `${(b.jsGzip / 1024).toFixed(1)} KiB gzip`);
  r.record('view.bundle.css', b.css / 1024, 'KiB', `${(b.cssGzip / 1024).toFixed(1)} KiB gzip`);

  const dir = mkdtempSync(join(tmpdir(), 'faultline-view-bench-'));
  const file = join(dir, 'regions.yaml');
  writeFileSync(file, manyRegions(99_990));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const big = await startViewServer({
      root: WEB_ROOT,
      initial: JSON.stringify(await viewPayload(file)),
      port: 0,
    });
    const model: number[] = [];
    const draw: number[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
      await page.goto(big.url);
      await page.waitForFunction(
        () =>
          (globalThis as { __faultline?: { marks: Record<string, number> } }).__faultline?.marks[
            'space-rendered'
          ],
        null,
        { timeout: 120_000 },
      );
      const m = await page.evaluate(
        () => (globalThis as unknown as { __faultline: { marks: Record<string, number> } }).__faultline.marks,
      );
      model.push(m['model-done']! - m['load-start']!);
      draw.push(m['space-rendered']! - m['model-done']!);
      await page.close();
    }
    await big.close();
    r.record(
      'view.first-render.100k-regions',
      median(draw),
      'ms',
      'snapshot drawn and laid out after the run; target < 1000',
    );
    r.record(
      'view.model-run.100k-attach-steps',
      median(model),
      'ms',
      'loading and running the scenario in the page',
    );

    const small = await startViewServer({
      root: WEB_ROOT,
      initial: JSON.stringify(await viewPayload(join(WEB_ROOT, '../../scenarios/rm_fault.yaml'))),
      port: 0,
    });
    const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    await page.goto(small.url);
    await page.waitForSelector('[data-testid="summary"]');
    await page.click('[data-testid="tab-path"]');
    await page.evaluate(() => {
      (globalThis as unknown as { __faultline: { frameTimes: number[] } }).__faultline.frameTimes.length = 0;
    });
    for (let round = 0; round < 5; round++) {
      await page.click('button[title="first frame"]');
      for (let i = 0; i < 19; i++) await page.click('[data-testid="frame-next"]');
    }
    const times = await page.evaluate(
      () => (globalThis as unknown as { __faultline: { frameTimes: number[] } }).__faultline.frameTimes,
    );
    await small.close();
    r.record(
      'view.fault-path.frame-step.p50',
      median(times),
      'ms',
      `${times.length} steps of rm_fault's fault; target < 16`,
    );
    r.record('view.fault-path.frame-step.max', Math.max(...times), 'ms');
  } finally {
    await browser.close();
  }
}
