/**
 * `faultline irq` as a user runs it: the JSON and table outputs, the chart file, and clear errors
 * (one line, exit status 2, no stack trace, no output file) for bad flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from './io.js';
import { parseIrqFlags, parseRate } from './irq_cmd.js';

const ROOT = join(import.meta.dirname, '..', '..');

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'faultline-irq-'));

const DEFAULTS = {
  cpus: '1,2,4,8,16',
  rate: '8M',
  duration: '5',
  design: 'both',
  packetCycles: '2000',
  ring: '256',
  flows: '1024',
  seed: '1',
};

describe('faultline irq', () => {
  it('prints the documented JSON, one run per design and CPU count, and writes the chart', () => {
    const out = join(tmp, 'json');
    const r = cli('irq', '--cpus', '1,4', '--rate', '8M', '--duration', '1', '--json', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.runs.map((x: { design: string; cpus: number }) => `${x.design}@${x.cpus}`)).toEqual([
      'direct@1',
      'direct@4',
      'core-thread@1',
      'core-thread@4',
    ]);
    for (const run of j.runs) {
      expect(Object.keys(run).sort()).toEqual(
        [
          'cpuLoad',
          'cpus',
          'design',
          'droppedPackets',
          'irqLatency',
          'lostInterrupts',
          'migrations',
          'packetsPerSecond',
          'queues',
        ].sort(),
      );
      expect(run.migrations).toEqual({ count: 0, cycles: 0, rebalances: 0 });
      expect(run.queues).toBe(run.cpus);
      expect(run.cpuLoad).toHaveLength(run.cpus);
      expect(run.irqLatency.p99).toBeGreaterThanOrEqual(run.irqLatency.p50);
    }
    expect(j.runs[1].packetsPerSecond).toBeGreaterThan(3 * j.runs[0].packetsPerSecond);
    expect(j.runs[3].irqLatency.p99).toBeGreaterThan(j.runs[1].irqLatency.p99);
    const svg = readFileSync(join(out, 'irq.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Packets handled');
    expect(svg).toContain('IRQ latency p99');
    // Same flags, same bytes.
    const again = cli('irq', '--cpus', '1,4', '--rate', '8M', '--duration', '1', '--json', '--out', out);
    expect(again.out).toBe(r.out);
  });

  it('prints a table with one row per run and the plot path; --queues pairs with --cpus', () => {
    const out = join(tmp, 'table');
    const r = cli(
      'irq',
      '--cpus',
      '2,4',
      '--queues',
      '4,8',
      '--design',
      'direct',
      '--duration',
      '0.5',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^design\s+CPUs\s+queues\s+packets\/s\s+p50 µs\s+p99 µs/);
    expect(lines[2]).toMatch(/^direct\s+2\s+4\s/);
    expect(lines[3]).toMatch(/^direct\s+4\s+8\s/);
    expect(lines.at(-1)).toBe(`plot: ${join(out, 'irq.svg')}`);
  });

  it('--routing cpu0 --balance irqbalance moves queues off CPU 0 and reports the moves and their cycles', () => {
    const args = [
      'irq',
      '--cpus',
      '4',
      '--queues',
      '8',
      '--rate',
      '4M',
      '--duration',
      '1',
      '--design',
      'direct',
    ];
    const out = join(tmp, 'balance');
    const fixed = cli(...args, '--routing', 'cpu0', '--json', '--out', out);
    const moved = cli(
      ...args,
      '--routing',
      'cpu0',
      '--balance',
      'irqbalance',
      '--balance-interval',
      '50',
      '--json',
      '--out',
      out,
    );
    expect(fixed.err + moved.err).toBe('');
    const [f] = JSON.parse(fixed.out).runs;
    const [m] = JSON.parse(moved.out).runs;
    expect(f.migrations.count).toBe(0);
    expect(f.cpuLoad.slice(1)).toEqual([0, 0, 0]);
    expect(m.migrations.count).toBeGreaterThan(0);
    expect(m.migrations.rebalances).toBe(m.migrations.count);
    expect(m.migrations.cycles).toBeGreaterThan(0);
    expect(m.irqLatency.p99).toBeLessThan(f.irqLatency.p99);
    expect(JSON.parse(moved.out).config.sweep).toMatchObject({
      routing: 'cpu0',
      balance: 'irqbalance',
      balanceIntervalUs: 50,
    });
    const table = cli(...args, '--routing', 'cpu0', '--balance', 'irqbalance', '--out', out);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toMatch(/\smoves\s+move cycles$/);
    expect(lines[2]).toMatch(/\s[1-9][\d,]*\s+[1-9][\d,]*$/);
  });

  it('rejects a bad flag with one clear line, exit status 2 and no chart', () => {
    const out = join(tmp, 'bad');
    const r = cli('irq', '--design', 'polling', '--out', out);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe("faultline: --design: 'polling' is not one of direct, core-thread, both\n");
    expect(existsSync(join(out, 'irq.svg'))).toBe(false);
  });

  it('validates every flag before running anything', () => {
    const bad = (f: Record<string, string>, msg: RegExp) => {
      expect(() => parseIrqFlags({ ...DEFAULTS, ...f })).toThrow(UserError);
      expect(() => parseIrqFlags({ ...DEFAULTS, ...f })).toThrow(msg);
    };
    bad({ cpus: '4,2' }, /--cpus: '4,2' must be strictly increasing/);
    bad({ cpus: '1,,2' }, /--cpus/);
    bad({ cpus: '0' }, /--cpus: '0' is not an integer from 1 to 256/);
    bad({ queues: '1,2,3' }, /--queues: expected one count for every run or one per CPU count \(5\), got 3/);
    bad({ rate: 'fast' }, /--rate: 'fast' is not a packet rate/);
    bad({ duration: '-1' }, /--duration/);
    bad({ duration: '0' }, /--duration/);
    bad({ seed: '1.5' }, /--seed/);
    bad({ ring: '0' }, /--ring/);
    bad({ balance: 'sometimes' }, /--balance: 'sometimes' is not one of static, irqbalance/);
    bad({ routing: 'cpu1' }, /--routing: 'cpu1' is not one of spread, cpu0/);
    bad({ balance: 'irqbalance', balanceInterval: '0' }, /--balance-interval: '0' is not an interval in µs/);
    bad({ balance: 'irqbalance', balanceInterval: '6000' }, /at most --duration, 5000 µs/);
    bad({ balanceInterval: '100' }, /--balance-interval: needs --balance irqbalance/);
    expect(parseIrqFlags({ ...DEFAULTS, balance: 'irqbalance' }).balanceIntervalUs).toBe(250);
    const ok = parseIrqFlags({ ...DEFAULTS, queues: '32', design: 'core-thread' });
    expect(ok.queues).toEqual([32, 32, 32, 32, 32]);
    expect(ok.designs).toEqual(['core-thread']);
    expect(parseIrqFlags(DEFAULTS).designs).toEqual(['direct', 'core-thread']);
  });

  it('parses packet rates with decimal suffixes', () => {
    expect(parseRate('20M')).toBe(20e6);
    expect(parseRate('500k')).toBe(5e5);
    expect(parseRate('1.5G')).toBe(1.5e9);
    expect(parseRate('1234')).toBe(1234);
    expect(() => parseRate('0')).toThrow(UserError);
    expect(() => parseRate('20X')).toThrow(UserError);
  });
});
