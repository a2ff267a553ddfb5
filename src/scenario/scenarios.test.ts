/**
 * Every shipped scenario (scenarios/*.yaml) loads, runs with all expectations holding, and
 * produces exactly its committed run log (src/scenario/__golden__/NAME.log). After an intended
 * change of the log, regenerate with `UPDATE_GOLDEN=1 npx vitest run src/scenario` and review
 * the diff. The committed JSON Schema must equal the generated one.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.js';
import { formatProblem } from './problem.js';
import { formatFailure, runScenario } from './run.js';
import { lackey } from './scenario.testutil.js';
import { scenarioJsonSchemaText } from './schema.js';
import { traceRefs } from './sim_spec.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'scenarios');
const GOLDEN = join(import.meta.dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Loads and runs a shipped scenario; throws with readable problems when it cannot. */
function run(file: string) {
  const rel = `scenarios/${file}`;
  const loaded = loadScenario(readFileSync(join(DIR, file), 'utf8'), rel);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  const traces = new Map(traceRefs(loaded.value).map((t) => [t.trace, lackey(join(DIR, t.trace))]));
  const r = runScenario(loaded.value, { traces });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

describe('shipped scenarios', () => {
  it('there are at least eight, covering the classic programs', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const name of ['rm_fault', 'rm_nested', 'rm_stress', 'reserved_hole', 'sixth_level', 'quotas']) {
      expect(files).toContain(`${name}.yaml`);
    }
  });

  it.each(files)('%s starts with the schema line and a comment saying what it shows', (file) => {
    const lines = readFileSync(join(DIR, file), 'utf8').split('\n');
    expect(lines[0]).toBe('# yaml-language-server: $schema=../schema/scenario.schema.json');
    expect(lines[1]).toMatch(/^# \S.{20,}/);
  });

  it.each(files)('%s passes and its run log equals the golden file', (file) => {
    const report = run(file);
    expect(report.failures.map(formatFailure)).toEqual([]);
    expect(report.stopped).toBe(false);
    expect(report.expectations).toBeGreaterThan(0);
    const text = `${report.log.join('\n')}\n`;
    const golden = join(GOLDEN, file.replace(/\.yaml$/, '.log'));
    if (UPDATE) writeFileSync(golden, text);
    expect(existsSync(golden), `missing ${golden}: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('every golden file belongs to a shipped scenario', () => {
    const logs = readdirSync(GOLDEN).filter((f) => f.endsWith('.log'));
    expect(logs.sort()).toEqual(files.map((f) => f.replace(/\.yaml$/, '.log')));
  });

  it('runs are deterministic: the same scenario gives the same log twice', () => {
    expect(run('rm_fault.yaml').log).toEqual(run('rm_fault.yaml').log);
  });

  it.each(['percpu_genode.yaml', 'irq_delivery.yaml', 'trace_player.yaml', 'nic_rebalance.yaml'])(
    'simulated runs are deterministic: %s gives the same log and metrics twice',
    (file) => {
      const a = run(file);
      const b = run(file);
      expect(a.simulated || Object.keys(a.metrics).length > 0).toBe(true);
      expect(b.log).toEqual(a.log);
      expect(b.metrics).toEqual(a.metrics);
    },
  );

  it("Genode's region-map tests are there as written, each checking that no error line is left unchecked", () => {
    const genode = ['rm_fault', 'rm_nested', 'rm_stress', 'sub_rm', 'ds_ownership', 'sealed_ram'];
    for (const t of genode) {
      const text = readFileSync(join(DIR, `genode_${t}.yaml`), 'utf8');
      expect(text).toContain(`Genode's base/src/test/${t} (test-${t}) as written`);
      expect(text.trimEnd().split('\n').at(-1)).toBe('  - expect_errors: { count: 0 }');
    }
    const nested = run('genode_rm_nested.yaml').log;
    expect(nested.filter((l) => l.includes('expect_regions region_map -> 16 region(s)'))).toHaveLength(1);
    expect(nested.filter((l) => / read .* -> reflected to rm_shim2 /.test(l))).toHaveLength(1);
    expect(run('genode_rm_stress.yaml').steps).toBe(2 * 3 + 10000 * 2 * 3 + 4);
  });

  it('rm_fault takes 16 faults, rm_stress runs thousands of rounds', () => {
    const fault = run('rm_fault.yaml');
    expect(fault.log.filter((l) => l.includes('reflected: main queued as faulter'))).toHaveLength(16);
    expect(run('rm_stress.yaml').steps).toBeGreaterThan(12000);
  });
});

describe('shipped simulated scenarios compare as the designs predict', () => {
  const m = (file: string) => run(file).metrics;

  it('the existing scenarios still run on a bare core; the new ones on the simulator', () => {
    expect(run('rm_fault.yaml').simulated).toBe(false);
    expect(run('ondemand_genode.yaml').simulated).toBe(true);
  });

  it('trace_player replays lackey_small: 9 records, 3 reflected faults, three 2M mappings', () => {
    const v = m('trace_player.yaml');
    expect([v.records, v['faults.reflected'], v['mappings.2M'], v.chunks]).toEqual([9, 3, 3, 3]);
  });

  it('4k-only takes a fault per touched page where genode maps 2M superpages', () => {
    const g = m('ondemand_genode.yaml');
    const k = m('ondemand_4k_only.yaml');
    expect(g['faults.reflected']).toBe(k['faults.reflected']);
    expect(k['faults.resolved']).toBe(k['pages.touched']);
    expect(k['faults.resolved']).toBeGreaterThan(100 * g['faults.resolved']!);
    expect(k['tlb.misses']).toBeGreaterThan(g['tlb.misses']!);
  });

  it('per-core faults: partitioned is free of cross-CPU messages and lock wait, the others are not', () => {
    const p = m('percpu_partitioned.yaml');
    const g = m('percpu_genode.yaml');
    const s = m('percpu_single_pager.yaml');
    expect([p['crossCpu.messages'], p['lock.waitCycles']]).toEqual([0, 0]);
    expect(g['lock.waitCycles']).toBeGreaterThan(0);
    expect(g['crossCpu.messages']).toBe(0);
    expect(s['crossCpu.messages']).toBeGreaterThan(0);
    expect(s['faults.latency.p50']).toBeGreaterThan(g['faults.latency.p50']!);
  });

  it('a trampoline without PCID misses the TLB more than with PCID, on the same faults', () => {
    const t = m('trampoline.yaml');
    const pcid = m('trampoline_pcid.yaml');
    expect(t['faults.resolved']).toBe(pcid['faults.resolved']);
    expect(t['tlb.misses']).toBeGreaterThan(pcid['tlb.misses']!);
  });

  it('a dry partition steals instead of failing', () => {
    const v = m('partition_dry.yaml');
    expect(v.steals).toBeGreaterThan(0);
    expect(v['faults.errors']).toBe(0);
  });

  it("a NIC on the single pager's CPU: IRQs wait and CPU 0's thread starves; fully local: neither", () => {
    const cpu0 = m('nic_single_pager.yaml');
    const local = m('nic_local.yaml');
    // The same program without the NIC (percpu_*.yaml): the same faults, so only the NIC differs.
    const cpu0Alone = m('percpu_single_pager.yaml');
    const localAlone = m('percpu_partitioned.yaml');
    expect(cpu0['faults.reflected']).toBe(cpu0Alone['faults.reflected']);
    expect(local['faults.reflected']).toBe(localAlone['faults.reflected']);
    expect(cpu0['nic.packets.arrived']).toBe(local['nic.packets.arrived']);
    expect(cpu0['nic.irqLatency.p50']).toBeGreaterThan(10 * local['nic.irqLatency.p50']!);
    expect(cpu0['faults.latency.max']).toBeGreaterThan(10 * cpu0Alone['faults.latency.max']!);
    expect(cpu0.cycles).toBeGreaterThan(1.2 * cpu0Alone.cycles!);
    expect(local['faults.latency.p50']).toBe(localAlone['faults.latency.p50']);
    expect(local['crossCpu.messages']).toBe(0);
  });

  it('rebalancing spreads the queues routed to CPU 0; static routes drop packets there', () => {
    const file = 'nic_rebalance.yaml';
    const text = readFileSync(join(DIR, file), 'utf8');
    expect(text).toContain('balance: irqbalance, balance_interval_us: 100,');
    // The same file with static routes and without its expectations (they state the rebalanced run).
    const staticText = text
      .slice(0, text.indexOf('  - expect_metrics:'))
      .replace('balance: irqbalance, balance_interval_us: 100,', 'balance: static,');
    const loaded = loadScenario(staticText, file);
    if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
    const r = runScenario(loaded.value);
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    const fixed = r.value.metrics;
    const balanced = m(file);
    expect(fixed['nic.migrations.count']).toBe(0);
    expect(balanced['nic.migrations.count']).toBeGreaterThan(0);
    expect(fixed['nic.packets.dropped']).toBeGreaterThan(0.1 * fixed['nic.packets.arrived']!);
    expect(balanced['nic.packets.dropped']).toBe(0);
    expect(fixed['nic.irqLatency.p99']).toBeGreaterThan(10 * balanced['nic.irqLatency.p99']!);
  });

  it('direct IRQ delivery has a lower p99 latency than the core thread', () => {
    const v = m('irq_delivery.yaml');
    expect(v['irq.direct.irqLatency.p99']).toBeLessThan(v['irq.core.irqLatency.p99']!);
  });
});

describe('JSON Schema', () => {
  it('schema/scenario.schema.json is up to date (regenerate: faultline schema > schema/scenario.schema.json)', () => {
    const committed = readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8');
    expect(committed).toBe(scenarioJsonSchemaText());
  });

  it('is draft-07, strict, and knows every step kind', () => {
    const s = JSON.parse(scenarioJsonSchemaText());
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.additionalProperties).toBe(false);
    const kinds = s.definitions.step.anyOf.map((o: { required: string[] }) => o.required[0]);
    expect(kinds).toContain('attach');
    expect(kinds).toContain('repeat');
    for (const o of s.definitions.step.anyOf) expect(o.additionalProperties).toBe(false);
  });
});
