/**
 * The command line as a user runs it: golden JSON of a small trace, every bad input giving a
 * clear error with file and line, a non-zero exit, no stack trace and no partial output file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkTimeline } from '../sim/timeline_check.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(ROOT, 'test', 'golden');

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function golden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const tmp = mkdtempSync(join(tmpdir(), 'faultline-cli-'));

describe('faultline replay', () => {
  it('prints the documented JSON for a small trace (golden)', () => {
    const r = cli('replay', 'test/fixtures/lackey_small.txt', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['records', 'translations', 'tlb', 'faults', 'mappings', 'pages', 'cycles'])
      expect(j).toHaveProperty(k);
    expect(j.translations).toBeGreaterThanOrEqual(j.records);
    expect(j.tlb.hits + j.tlb.misses).toBe(j.translations);
    golden('replay_small.json', `${JSON.stringify(j, null, 2)}\n`);
  });

  it('gives the same JSON for the plain and gzip forms of the trace', () => {
    const text = readFileSync(join(ROOT, 'test/fixtures/lackey_small.txt'));
    const gz = join(tmp, 'small.txt.gz');
    writeFileSync(gz, gzipSync(text));
    const a = JSON.parse(cli('replay', 'test/fixtures/lackey_small.txt', '--json').out);
    const b = JSON.parse(cli('replay', gz, '--json').out);
    delete a.trace;
    delete b.trace;
    expect(b.config.trace.gzip).toBe(true);
    delete a.config.trace;
    delete b.config.trace;
    expect(b).toEqual(a);
  });

  it('writes a valid timeline and an HTML report titled as a replay, with its command line and machine', () => {
    const tl = join(tmp, 't.json');
    const html = join(tmp, 'r.html');
    const r = cli(
      'replay',
      'test/fixtures/lackey_small.txt',
      '--cpus',
      '2',
      '--timeline',
      tl,
      '--report',
      html,
      '--set',
      'pagers=single',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(tl, 'utf8'));
    expect(checkTimeline(json)).toEqual([]);
    // CPU 1 ran only the handler: it has a track too.
    const cpus = json.traceEvents
      .filter(
        (e: { ph: string; pid: number; name: string }) =>
          e.ph === 'M' && e.pid === 1 && e.name === 'thread_name',
      )
      .map((e: { args: { name: string } }) => e.args.name);
    expect(cpus.sort()).toEqual(['CPU 0', 'CPU 1']);
    const samples = json.traceEvents.filter(
      (e: { ph: string; name: string }) => e.ph === 'C' && e.name === 'TLB misses',
    );
    expect(new Set(samples.map((e: { ts: number }) => e.ts)).size).toBeGreaterThan(1);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<svg/);
    expect(page).toContain('<title>faultline replay</title>');
    expect(page).toContain(
      `<dd>faultline replay test/fixtures/lackey_small.txt --cpus 2 --timeline ${tl} --report ${html} --set pagers=single</dd>`,
    );
    expect(page).toMatch(
      /<dt>machine<\/dt><dd>x86_64, 2 CPUs, TLB L1i:128x8:4k\|[^<]*, design genode \(pagers=single\)<\/dd>/,
    );
  });

  it('measures the window the flags ask for and states the effective configuration', () => {
    const r = cli(
      'replay',
      'test/fixtures/lackey_small.txt',
      '--json',
      '--skip',
      '1',
      '--warmup',
      '2',
      '--limit',
      '5',
      '--interval',
      '2',
      '--top',
      '1',
      '--cost',
      'ipi=7',
      '--set',
      'eagerMapping=true',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.records).toBe(5);
    expect(j.intervals.map((i: { records: number }) => i.records)).toEqual([2, 2, 1]);
    expect(j.top.faults.pages.length).toBeLessThanOrEqual(1);
    const c = j.config;
    expect(c.window).toEqual({ skip: 1, warmup: 2, limit: 5, interval: 2 });
    expect(c.top).toBe(1);
    expect(c.costs.ipi).toBe(7);
    expect(c.costOverrides).toEqual({ ipi: 7 });
    expect(c.design).toMatchObject({ name: 'genode', overrides: { eagerMapping: true } });
    expect(c.design.options.eagerMapping).toBe(true);
    expect(c.tlb.levels.map((l: { name: string }) => l.name)).toEqual([
      'L1i',
      'L1i-big',
      'L1d',
      'L1d-big',
      'L2',
    ]);
    expect(c.trace).toEqual({
      file: 'test/fixtures/lackey_small.txt',
      format: 'lackey',
      gzip: false,
      records: 9,
    });
    expect(c.faultline).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  const bad: Array<[string, () => string, RegExp]> = [
    ['a bad hex address', () => 'test/fixtures/lackey_bad_address.txt', /lackey_bad_address\.txt.*line \d+/],
    ['an empty file', () => 'test/fixtures/empty.txt', /empty\.txt.*no trace records/],
    [
      'a missing comma',
      () => {
        const p = join(tmp, 'nocomma.txt');
        writeFileSync(p, 'I  0400d7d4,8\n L 04222cac 8\n');
        return p;
      },
      /nocomma\.txt.*line 2.*','/,
    ],
    [
      'a huge size',
      () => {
        const p = join(tmp, 'huge.txt');
        writeFileSync(p, 'I  0400d7d4,8\n S 7ff000398,99999999\n');
        return p;
      },
      /huge\.txt.*line 2.*size/,
    ],
    [
      'a truncated gzip',
      () => {
        const p = join(tmp, 'cut.gz');
        const gz = gzipSync(Buffer.from('I  0400d7d4,8\n'.repeat(5000)));
        writeFileSync(p, gz.subarray(0, gz.length / 2));
        return p;
      },
      /cut\.gz.*(end of gzip|unexpected end)/i,
    ],
    [
      'binary garbage',
      () => {
        const p = join(tmp, 'garbage.bin');
        writeFileSync(p, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
        return p;
      },
      /garbage\.bin.*line 1/,
    ],
    ['a missing file', () => join(tmp, 'nope.txt'), /nope\.txt/],
  ];
  for (const [what, make, message] of bad) {
    it(`rejects ${what} with a clear error, exit 2, no stack trace and no partial output`, () => {
      const out = join(tmp, `${what.replaceAll(' ', '_')}.json`);
      const r = cli('replay', make(), '--timeline', out);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('an unknown command or a missing argument is a usage error: exit 2, no stack trace', () => {
    const unknown = cli('bogus-command');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'bogus-command'/);
    const missing = cli('replay');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing required argument 'trace'/);
    expect(missing.err + unknown.err).not.toMatch(/\n\s+at /);
  });

  it('rejects bad flags with a clear message', () => {
    expect(cli('replay', 'test/fixtures/lackey_small.txt', '--design', 'nonsense').err).toMatch(
      /unknown design 'nonsense'/,
    );
    expect(cli('replay', 'test/fixtures/lackey_small.txt', '--tlb', 'l1d:63x4').err).toMatch(/--tlb/);
    expect(cli('replay', 'test/fixtures/lackey_small.txt', '--cpus', '0').code).toBe(2);
    expect(cli('replay', 'test/fixtures/lackey_small.txt', '--set', 'pagers=many').err).toMatch(
      /^faultline: --set: design option pagers=many is not valid/,
    );
    expect(cli('replay', 'test/fixtures/lackey_small.txt', '--tlb', '')).toMatchObject({
      code: 2,
      out: '',
      err: expect.stringMatching(/^faultline: --tlb: invalid TLB spec '': it is empty/),
    });
    const arch = cli('walkthrough', '--arch', 'pdp11');
    expect(arch.code).toBe(2);
    expect(arch.err).toBe(
      "faultline: --arch: 'pdp11' is not one of x86_32, x86_32-pae, x86_64, armv7, armv8, riscv-sv39, microblaze\n",
    );
    const limit = cli('replay', 'test/fixtures/lackey_small.txt', '--limit', '0');
    expect([limit.code, limit.err]).toEqual([
      2,
      "faultline: --limit: '0' is not an integer of at least 1 (records)\n",
    ]);
    expect(cli('compare', 'test/fixtures/lackey_small.txt', '--skip', '-3').err).toMatch(/--skip: '-3'/);
  });
});

describe('faultline compare and designs', () => {
  it('compares designs side by side and writes the plot and the report', () => {
    const out = join(tmp, 'cmp');
    const designs = [
      'genode',
      'genode-single-pager',
      '4k-only',
      'partitioned',
      'trampoline',
      'trampoline-pcid',
    ];
    const r = cli(
      'compare',
      'test/fixtures/lackey_small.txt',
      ...designs.flatMap((d) => ['--design', d]),
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /genode\s+genode-single-pager\s+4k-only\s+partitioned\s+trampoline\s+trampoline-pcid/,
    );
    const svg = readFileSync(join(out, 'compare.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    for (const d of designs) expect(svg).toContain(`>${d}</text>`);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('<title>faultline comparison</title>');
    expect(html).toContain(
      '<dt>command</dt><dd>faultline compare test/fixtures/lackey_small.txt --design genode',
    );
  });

  it('lists the designs with their options', () => {
    const r = cli('designs');
    for (const d of ['genode', 'genode-single-pager', '4k-only', 'partitioned'])
      expect(r.out).toMatch(new RegExp(`^${d}$`, 'm'));
    expect(r.out).toMatch(/pagers=per-cpu/);
  });
});

describe('the README’s commands', () => {
  it('faultline demo (npm start) runs end to end and writes what it says', () => {
    const out = join(tmp, 'demo');
    const r = cli('demo', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/resolved through 2 region maps: 2M/);
    expect(r.out).toMatch(/genode\s+4k-only/);
    expect(r.out).toMatch(/Open .*demo-timeline\.json in https:\/\/ui\.perfetto\.dev/);
    expect(r.out.trimEnd().split('\n').at(-1)).toMatch(/^ {2}npx faultline view scenarios\/rm_fault\.yaml/);
    expect(checkTimeline(JSON.parse(readFileSync(join(out, 'demo-timeline.json'), 'utf8')))).toEqual([]);
    expect(readFileSync(join(out, 'demo-report.html'), 'utf8')).toMatch(/<svg/);
  });

  it('package.json runs the demo on npm start and vitest on npm test', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toMatch(/main\.js demo/);
    expect(pkg.scripts.test).toMatch(/vitest run/);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm install\nnpm start/);
  });
});
