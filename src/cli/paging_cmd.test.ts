/**
 * Paging on the command line (issue 16): `--ram` and the swap flags on replay, their figures in
 * JSON and on the timeline (a block-device track, arrows from the fault through the provider and
 * the device back to the thread), `swap-sweep`, and clear one-line errors for bad paging flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceJson } from '../sim/timeline.js';
import { checkTimeline } from '../sim/timeline_check.js';
import { type RunFlags, runOptions } from './run_options.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-paging-'));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// Six pages written, then read back twice: with two frames every read is a swap-in.
const lines: string[] = [];
for (let round = 0; round < 3; round++)
  for (let p = 0; p < 6; p++)
    lines.push(`${round === 0 ? ' S' : ' L'} ${(0x10000000 + p * 4096).toString(16)},8`);
const TRACE = join(tmp, 'pages.txt');
writeFileSync(TRACE, `${lines.join('\n')}\n`);

describe('paging on the command line', () => {
  it('replay --ram: swap figures in JSON, a block-device track and arrows on the timeline', () => {
    const tl = join(tmp, 'tl.json');
    const r = cli('replay', TRACE, '--design', 'kernel-swap', '--ram', '8K', '--json', '--timeline', tl);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.swap).toMatchObject({
      ram: 8192,
      frames: 2,
      pager: 'kernel',
      data: 'copy',
      replacement: 'clock',
    });
    expect([j.swap.outs, j.swap.ins, j.faults.major, j.faults.minor]).toEqual([6, 12, 12, 6]);
    expect(j.swap.bytesIn).toBe(12 * 4096);
    expect(j.config.paging).toEqual({
      ram: '8K',
      replacement: 'clock',
      policy: 'priority',
      swap: ['swap0 nvme 1G'],
      mmap: [],
    });
    const json = JSON.parse(readFileSync(tl, 'utf8')) as TraceJson;
    expect(checkTimeline(json)).toEqual([]);
    const names = json.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => e.args?.name);
    expect(names).toContain('swap0 (nvme)');
    const disk = json.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'disk');
    expect(disk).toHaveLength(18);
    // Each transfer's arrow: fault → provider → device → provider → back, five points.
    const flows = new Map<number, number>();
    for (const e of json.traceEvents)
      if (e.ph === 'X' && e.bind_id !== undefined) flows.set(e.bind_id, (flows.get(e.bind_id) ?? 0) + 1);
    expect([...flows.values()].filter((n) => n === 5)).toHaveLength(18);
  });

  it('--mmap: pages of a mapped file come from the file server and go back to it, never to swap', () => {
    const r = cli(
      'replay',
      TRACE,
      '--design',
      'kernel-swap',
      '--ram',
      '8K',
      '--mmap',
      '0x10000000+24K',
      '--json',
    );
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    // 18 faults read the file; the 6 written pages go back once each when first evicted.
    expect([j.swap.fileIns, j.swap.fileOuts, j.swap.ins, j.swap.outs, j.faults.major]).toEqual([
      18, 6, 0, 0, 18,
    ]);
    expect(j.config.paging.mmap).toEqual(['0x10000000+24K rw']);
  });

  it('with a RAM limit the trace fits in, the figures equal those without a limit', () => {
    const plain = JSON.parse(cli('replay', 'test/fixtures/lackey_small.txt', '--json').out);
    const limited = JSON.parse(cli('replay', 'test/fixtures/lackey_small.txt', '--json', '--ram', '64M').out);
    expect([limited.swap.ins, limited.swap.outs, limited.swap.evictions]).toEqual([0, 0, 0]);
    for (const k of ['major', 'minor', 'latencyByKind']) delete limited.faults[k];
    delete limited.swap;
    delete limited.config.paging;
    expect(limited).toEqual(plain);
  });

  it('swap-sweep: a point per design and limit, the slowdown of the full working set is 1', () => {
    const out = join(tmp, 'sweep');
    const r = cli('swap-sweep', TRACE, '--shares', '0.5,1', '--out', out, '--json');
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.workingSet).toBe(6 * 4096);
    expect(j.points.map((p: { design: string; ram: number }) => [p.design, p.ram])).toEqual([
      ['kernel-swap', 12288],
      ['4k-only', 12288],
      ['kernel-swap', 24576],
      ['4k-only', 24576],
    ]);
    expect(j.points.slice(2).map((p: { slowdown: number }) => p.slowdown)).toEqual([1, 1]);
    expect(j.points[0].slowdown).toBeGreaterThan(1);
    expect(existsSync(join(out, 'swap-sweep.svg'))).toBe(true);
  });

  it('refuses bad paging flags: one line naming the flag, exit 2', () => {
    const r = cli(
      'replay',
      TRACE,
      '--design',
      'kernel-swap',
      '--arch',
      'x86_32',
      '--ram',
      '64K',
      '--swap',
      'hdd:5T',
    );
    expect([r.code, r.err.trim().split('\n').length, r.out]).toEqual([2, 1, '']);
    expect(r.err).toMatch(
      /^faultline: --swap: .*x86_32 not-present PTE \(30-bit block numbers\) names at most 1073741824/,
    );
    // The same checks, without a process each.
    const cases: [string[], RunFlags, RegExp][] = [
      [['genode'], { ram: '1M' }, /^--ram: genode: a RAM limit of 1M holds no 2M chunk, .*--chunk/],
      [['genode'], { ram: '64K', swap: ['floppy'] }, /^--swap: 'floppy' is not one of hdd, sata-ssd, nvme/],
      [['genode'], { swap: ['nvme:1G'] }, /^--swap: swap providers need a RAM limit/],
      [
        ['genode'],
        { ram: '64K', replacement: 'random' },
        /^--replacement: 'random' is not one of clock, lru, fifo/,
      ],
      [
        ['kernel-swap'],
        { mmap: ['0x1800+4K'] },
        /^--mmap: kernel-swap: mmap at 0x1800\+4K: start and size must be multiples of 4K/,
      ],
      [
        ['kernel-swap'],
        { ram: '64K', swap: ['nvme:5000'] },
        /^--swap nvme:5000: the size must be a multiple of 4 KiB/,
      ],
      [
        ['local-rm'],
        { ram: '64K', chunk: '4K' },
        /^--ram: local-rm: a dataspace manager pages .* only with faultHandling=async \(this design has local-rm\)/,
      ],
      [
        ['genode'],
        { ram: '64K', chunk: '4K', misbehave: 'dies' },
        /^--misbehave: genode: the swapping dataspace manager/,
      ],
    ];
    // The kernel pages regardless of how faults in managed dataspaces are handled.
    expect(runOptions(['kernel-swap'], { ram: '64K', set: ['faultHandling=sync-core-rpc'] })).toHaveLength(1);
    for (const [designs, flags, want] of cases) expect(() => runOptions(designs, flags)).toThrow(want);
  });
});
