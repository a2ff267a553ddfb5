/**
 * Replays with a window (skip, warm-up, limit, intervals), per-level TLB figures and attribution,
 * checked against replays of trimmed trace files and against counts derived independently.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../sim/replay.js';
import type { WindowConfig } from '../sim/run_config.js';
import { replay, WHOLE_TRACE } from './replay_run.js';
import { runOptions } from './run_options.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-window-'));
let files = 0;

type Rec = readonly [kind: 'I' | 'L' | 'S' | 'M', addr: number, size: number];

function lackey(recs: readonly Rec[]): string {
  const path = join(tmp, `t${files++}.txt`);
  const line = ([k, a, s]: Rec) => `${k === 'I' ? 'I ' : ` ${k}`} ${a.toString(16).padStart(8, '0')},${s}`;
  writeFileSync(path, `${recs.map(line).join('\n')}\n`);
  return path;
}

/** A program-like trace: code fetches, a heap swept and revisited across 2M chunks, stack accesses, page crossings. */
function program(n: number): Rec[] {
  const out: Rec[] = [];
  let x = 12345;
  for (let i = 0; out.length < n; i++) {
    out.push(['I', 0x40_0000 + ((i * 4) % 0x3000), 4]);
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const heap = 0x1000_0000 + (x % (6 * 2 ** 21));
    if (i % 3 === 0) out.push(['L', heap, 8]);
    if (i % 5 === 1) out.push(['S', 0x7ff0_0000 + ((i * 8) % 0x4000), 8]);
    if (i % 97 === 5) out.push(['M', 0x1000_0ffc + 0x1000 * (i % 40), 8]); // crosses a page
  }
  return out.slice(0, n);
}

async function run(path: string, designs: string[], window: WindowConfig = WHOLE_TRACE, top = 10) {
  const flags = { cpus: '2' };
  return replay(path, runOptions(designs, flags), { reader: 'inline', window, top });
}

/** Every figure of a result that does not describe the input or the configuration. */
function figures(r: RunResult) {
  const { config: _c, intervals: _i, ...rest } = r;
  return rest;
}

/** The counts that do not depend on time (one traced thread, no revocations). */
function counts(r: RunResult) {
  return {
    records: r.records,
    translations: r.translations,
    hits: r.tlb.hits,
    misses: r.tlb.misses,
    walks: r.walks,
    resolved: r.faults.resolved,
    reflected: r.faults.reflected,
    stages: r.tlb.stages.map((s) => [s.hits, s.misses, s.hitsBySize, s.missesBySize]),
  };
}

const TRACE = program(3000);

describe('replay windows', () => {
  it('--skip and --limit replay exactly the records a trimmed trace holds', async () => {
    const full = lackey(TRACE);
    const a = await run(full, ['genode', '4k-only'], { skip: 700, warmup: 0, limit: 1200, interval: null });
    const b = await run(lackey(TRACE.slice(700, 1900)), ['genode', '4k-only']);
    expect(a.results.map(figures)).toEqual(b.results.map(figures));
    expect(a.results[0]!.records).toBe(1200);
    expect(a.results[0]!.config!.window).toEqual({ skip: 700, warmup: 0, limit: 1200, interval: null });
    const c = await run(full, ['genode'], { skip: 2500, warmup: 0, limit: null, interval: null });
    const d = await run(lackey(TRACE.slice(2500)), ['genode']);
    expect(figures(c.results[0]!)).toEqual(figures(d.results[0]!));
  });

  it('--warmup simulates its records, then counts only what follows', async () => {
    const full = lackey(TRACE);
    const warm = (await run(full, ['genode'], { skip: 0, warmup: 1000, limit: null, interval: null }))
      .results[0]!;
    const all = counts((await run(full, ['genode'])).results[0]!);
    const prefix = counts((await run(lackey(TRACE.slice(0, 1000)), ['genode'])).results[0]!);
    const w = counts(warm);
    expect(w.records).toBe(2000);
    for (const k of ['records', 'translations', 'hits', 'misses', 'walks', 'resolved', 'reflected'] as const)
      expect(w[k], k).toBe(all[k] - prefix[k]);
    // Stage counters subtract too (the warm-up's hits and misses are gone).
    w.stages.forEach(([h, m], i) => {
      expect(h).toBe((all.stages[i]![0] as number) - (prefix.stages[i]![0] as number));
      expect(m).toBe((all.stages[i]![1] as number) - (prefix.stages[i]![1] as number));
    });
    // Distinct pages and top lists start afresh: only pages the measured records touch.
    const pages = new Set(
      TRACE.slice(1000).flatMap(([, a, s]) => [Math.floor(a / 4096), Math.floor((a + s - 1) / 4096)]),
    );
    expect(warm.pages.touched).toBe(pages.size);
    expect(warm.top!.tlbMisses.total).toBe(warm.tlb.misses);
  });

  it('a trace that ends inside its warm-up measures nothing', async () => {
    const r = (
      await run(lackey(TRACE.slice(0, 500)), ['genode'], { skip: 0, warmup: 800, limit: null, interval: 100 })
    ).results[0]!;
    expect([r.records, r.tlb.hits, r.tlb.misses, r.walks, r.cycles, r.pages.touched]).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(r.faults.latency.count).toBe(0);
    expect(r.top!.faults.total).toBe(0);
    expect(r.intervals).toEqual([]);
  });

  it('--interval splits the measured records into intervals whose figures add up to the totals', async () => {
    const full = lackey(TRACE);
    const k = 256;
    const out = await run(full, ['genode'], { skip: 100, warmup: 300, limit: 2000, interval: k });
    const r = out.results[0]!;
    const iv = r.intervals!;
    expect(iv.length).toBe(Math.ceil(2000 / k));
    expect(iv.map((x) => x.start)).toEqual(iv.map((_, i) => i * k));
    expect(iv.slice(0, -1).every((x) => x.records === k)).toBe(true);
    const sum = (f: (x: (typeof iv)[number]) => number) => iv.reduce((a, x) => a + f(x), 0);
    expect(sum((x) => x.records)).toBe(r.records);
    expect(sum((x) => x.translations)).toBe(r.translations);
    expect(sum((x) => x.tlb.hits)).toBe(r.tlb.hits);
    expect(sum((x) => x.tlb.misses)).toBe(r.tlb.misses);
    expect(sum((x) => x.walks)).toBe(r.walks);
    expect(sum((x) => x.faults.resolved + x.faults.reflected)).toBe(r.faults.resolved + r.faults.reflected);
    expect(sum((x) => x.cycles)).toBe(r.cycles);
    expect(iv.at(-1)!.endCycle).toBe(r.cycles);
    // Cutting the run into intervals changes no count.
    const plain = await run(full, ['genode'], { skip: 100, warmup: 300, limit: 2000, interval: null });
    expect(counts(r)).toEqual(counts(plain.results[0]!));
    expect(plain.results[0]!.intervals).toBeUndefined();
  });
});

describe('per-level TLB figures', () => {
  it('agree with the translation counts: every lookup reaches a first stage, every full miss walks', async () => {
    // A long trace over many pages, so that hit runs, deeper hits and evictions all happen.
    const out = await run(lackey(program(60_000)), ['genode', '4k-only']);
    for (const r of out.results) {
      const st = r.tlb.stages;
      const first = st.filter((s) => s.name.startsWith('L1'));
      const last = st.at(-1)!;
      const lookups = r.translations + (r.walks - r.tlb.misses); // retries after faults look up again
      expect(
        first.reduce((a, s) => a + s.lookups, 0),
        r.design,
      ).toBe(lookups);
      expect(last.lookups).toBe(first.reduce((a, s) => a + s.misses, 0));
      expect(last.misses).toBe(r.walks);
      expect(st.reduce((a, s) => a + s.hits, 0)).toBe(r.tlb.hits);
      // A walk that found no mapping is a page fault: the last stage's unresolved misses.
      expect(last.missesUnresolved).toBe(r.faults.resolved + r.faults.reflected + r.faults.errors);
      const bySize = Object.values(last.missesBySize).reduce((a, n) => a + n, 0);
      expect(bySize).toBe(r.walks - last.missesUnresolved);
      expect(r.tlb.levels.map((l) => l.name)).toEqual(['L1i', 'L1i-big', 'L1d', 'L1d-big', 'L2']);
    }
    const [genode, small] = out.results as [RunResult, RunResult];
    expect(genode.tlb.stages.at(-1)!.missesBySize['2M']).toBeGreaterThan(0);
    expect(small.tlb.stages.at(-1)!.missesBySize).toEqual({
      '4K': small.walks - small.tlb.stages.at(-1)!.missesUnresolved,
    });
  });
});

describe('attribution', () => {
  it('names the pages and the instructions whose accesses missed and faulted (reference: first touches)', async () => {
    // 4K pages only and fewer data pages than L1d holds: an access misses exactly when it is the
    // first to touch its page, and faults then (once more when its 2M chunk was new: reflected).
    const recs: Rec[] = [];
    const pages = [0x1000_0000, 0x1000_3000, 0x1020_0000, 0x1000_1000, 0x1040_0000];
    for (let i = 0; i < 40; i++) {
      recs.push(['I', 0x40_0000 + 8 * i, 4]);
      recs.push(['L', pages[i % 5]! + 16 * i, 8]);
      if (i % 4 === 3) recs.push(['S', pages[(i + 2) % 5]! + 8, 8]);
    }
    const wantMiss = new Map<number, number>();
    const wantMissIp = new Map<number, number>();
    const wantFault = new Map<number, number>();
    const seen = new Set<number>();
    const chunks = new Set<number>();
    let ip = Number.NaN;
    for (const [k, a] of recs) {
      if (k === 'I') ip = a;
      const page = a - (a % 4096);
      if (seen.has(page)) continue;
      seen.add(page);
      wantMiss.set(page, 1);
      wantMissIp.set(ip, (wantMissIp.get(ip) ?? 0) + 1);
      const chunk = Math.floor(a / 2 ** 21);
      wantFault.set(page, chunks.has(chunk) ? 1 : 2);
      chunks.add(chunk);
    }
    const path = lackey(recs);
    const sorted = (m: Map<number, number>) =>
      [...m]
        .sort((x, y) => y[1] - x[1] || x[0] - y[0])
        .map(([a, count]) => ({ address: `0x${a.toString(16)}`, count }));
    // Every record its own interval: each data access's instruction lies in an earlier batch.
    for (const interval of [null, 1]) {
      const r = (await run(path, ['4k-only'], { skip: 0, warmup: 0, limit: null, interval }, 100))
        .results[0]!;
      expect(r.top!.tlbMisses.pages).toEqual(sorted(wantMiss));
      expect(r.top!.tlbMisses.instructions).toEqual(sorted(wantMissIp));
      expect(r.top!.faults.pages).toEqual(sorted(wantFault));
      expect(r.top!.tlbMisses.total).toBe(r.tlb.misses);
      expect(r.top!.faults.total).toBe(r.faults.resolved + r.faults.reflected);
    }
    const short = (await run(path, ['4k-only'], WHOLE_TRACE, 2)).results[0]!;
    expect(short.top!.faults.pages).toEqual(sorted(wantFault).slice(0, 2));
    const none = (await run(path, ['4k-only'], WHOLE_TRACE, 0)).results[0]!;
    expect(none.top).toBeUndefined();
  });
});
