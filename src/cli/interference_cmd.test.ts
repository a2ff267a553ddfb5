/**
 * `faultline scale --irq-rate` as a user runs it: the documented JSON (docs/OUTPUT.md), the same
 * bytes for the same flags, the table, and one clear line for a bad flag.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliRun } from './cli.testutil.js';
import { parseInterferenceFlags } from './interference_cmd.js';
import { UserError } from './io.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-interference-'));
const SMALL = ['--cpus', '2', '--duration', '0.2', '--private', '4M'];

describe('faultline scale --irq-rate', () => {
  it('prints the documented JSON: every combination at every load, the same bytes twice', async () => {
    const args = ['scale', '--irq-rate', '0,2M', ...SMALL, '--json', '--out', tmp];
    const r = await cliRun(args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j).sort()).toEqual(['config', 'interrupted', 'points', 'spec']);
    expect(j.interrupted).toBe(false);
    expect(j.config).toMatchObject({ arch: 'x86_64', sweep: j.spec });
    expect(j.config.faultline).toMatch(/^\d+\.\d+\.\d+/);
    expect(j.spec).toMatchObject({ cpus: 2, rates: [0, 2e6], durationCycles: 600_000, rings: 'ram' });
    expect(j.points).toHaveLength(16);
    for (const p of j.points) {
      expect(Object.keys(p).sort()).toEqual(
        [
          'allocator',
          'cpu0System',
          'cpus',
          'crossCpu',
          'driverFaults',
          'faults',
          'irqDelivery',
          'irqRate',
          'irqs',
          'lockWaitCycles',
          'migrationCycles',
          'migrations',
          'name',
          'packets',
          'pagers',
        ].sort(),
      );
      expect(Object.keys(p.faults).sort()).toEqual(['count', 'p50', 'p99', 'reflected', 'resolved']);
      expect(Object.keys(p.irqs).sort()).toEqual(['count', 'p50', 'p99']);
      expect(p.faults.count).toBe(p.faults.resolved.count + p.faults.reflected.count);
      // Without traffic there are no IRQs; with it every point took some.
      if (p.irqRate === 0) expect(p.irqs.count).toBe(0);
      else expect(p.irqs.count).toBeGreaterThan(0);
    }
    const again = await cliRun(args);
    expect(again.out).toBe(r.out);
  });

  it('prints a table, one row per combination and load, and the plots it wrote', async () => {
    const r = await cliRun(['scale', '--irq-rate', '1M', ...SMALL, '--out', tmp]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^design combination\s+IRQ load\s+faults\s+fault p50 µs/);
    expect(lines.slice(2, 10).map((l) => l.split(/\s{2,}/)[0])).toEqual([
      'single pager / core-thread IRQs / global RAM',
      'single pager / core-thread IRQs / partitioned RAM',
      'single pager / direct IRQs / global RAM',
      'single pager / direct IRQs / partitioned RAM',
      'per-CPU pagers / core-thread IRQs / global RAM',
      'per-CPU pagers / core-thread IRQs / partitioned RAM',
      'per-CPU pagers / direct IRQs / global RAM',
      'per-CPU pagers / direct IRQs / partitioned RAM',
    ]);
    expect(lines.at(-1)).toBe(
      `plots: ${join(tmp, 'interference-faults.svg')}, ${join(tmp, 'interference-irqs.svg')}`,
    );
  });

  it('rejects a bad flag with one clear line and exit status 2', async () => {
    const r = await cliRun(['scale', '--irq-rate', '2M,1M', '--out', tmp]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe("faultline: --irq-rate: '2M,1M' must be strictly increasing, e.g. 0,1M,2M,4M\n");
  });

  it('refuses an --out it cannot write before the first run', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = await cliRun(['scale', '--irq-rate', '1M', ...SMALL, '--out', file]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^faultline: --out: .*a-file/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('validates the study flags, routing and rebalancing included', () => {
    const f = { irqRate: '0,1M' };
    const bad = (more: Record<string, string>, msg: RegExp) =>
      expect(() => parseInterferenceFlags({ ...f, ...more })).toThrow(msg);
    bad({ cpus: '2,4' }, /--cpus: the interference study runs at one CPU count/);
    bad({ rings: 'disk' }, /--rings: 'disk' is not one of ram, managed, none/);
    bad({ balance: 'often' }, /--balance: 'often' is not one of static, irqbalance/);
    bad({ routing: 'cpu3' }, /--routing: 'cpu3' is not one of spread, cpu0/);
    bad({ balanceInterval: '50' }, /--balance-interval: needs --balance irqbalance/);
    bad({ balance: 'irqbalance', balanceInterval: '5000' }, /at most --duration, 2000 µs/);
    expect(() => parseInterferenceFlags({ irqRate: 'lots' })).toThrow(UserError);
    const spec = parseInterferenceFlags({
      ...f,
      routing: 'cpu0',
      balance: 'irqbalance',
      balanceInterval: '50',
    });
    expect(spec.routing).toEqual({ cpu: 0 });
    expect(spec.balance).toEqual({ intervalCycles: 150_000 });
    expect(parseInterferenceFlags({ ...f, balance: 'irqbalance' }).balance).toEqual({
      intervalCycles: 300_000,
    });
    expect(parseInterferenceFlags(f).balance).toBeUndefined();
  });
});
