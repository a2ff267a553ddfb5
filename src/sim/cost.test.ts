import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COST_INFO,
  COST_KEYS,
  cyclesToMicros,
  DEFAULT_COSTS,
  describeCosts,
  microsToCycles,
  NOMINAL_CLOCK_HZ,
  overrideCosts,
  parseCostAssignments,
} from './cost.js';

describe('cost model defaults', () => {
  it('has a finite non-negative default, a description and a source for every key', () => {
    expect(COST_KEYS.length).toBeGreaterThan(15);
    expect(Object.keys(DEFAULT_COSTS)).toEqual(COST_KEYS);
    for (const k of COST_KEYS) {
      const info = COST_INFO[k];
      expect(Number.isFinite(DEFAULT_COSTS[k]) && DEFAULT_COSTS[k] >= 0, k).toBe(true);
      expect(info.what.length, k).toBeGreaterThan(10);
      expect(info.source.length, k).toBeGreaterThan(10);
      // Estimates say so in their source.
      if (info.estimate) expect(info.source, k).toMatch(/estimate/i);
    }
  });

  it('keeps the orders of magnitude the literature reports', () => {
    const c = DEFAULT_COSTS;
    expect(c.kernelEntryExit).toBeGreaterThanOrEqual(50);
    expect(c.kernelEntryExit).toBeLessThanOrEqual(250);
    expect(c.ipcRoundTrip).toBeGreaterThan(2 * c.kernelEntryExit);
    expect(c.pageWalkStepMiss).toBeGreaterThan(10 * c.pageWalkStep);
    expect(cyclesToMicros(c.ipi)).toBeGreaterThanOrEqual(0.5);
    expect(cyclesToMicros(c.ipi)).toBeLessThanOrEqual(2);
    expect(c.tlbShootdown).toBeGreaterThan(c.ipi);
    expect(c.asSwitchPcid).toBeLessThan(c.asSwitch);
    expect(cyclesToMicros(c.diskRead)).toBeGreaterThanOrEqual(10);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_COSTS)).toBe(true);
  });

  it('converts cycles and microseconds at the nominal clock', () => {
    expect(NOMINAL_CLOCK_HZ).toBe(3e9);
    expect(cyclesToMicros(3000)).toBe(1);
    expect(microsToCycles(2)).toBe(6000);
    expect(cyclesToMicros(2000, 2e9)).toBe(1);
  });
});

describe('overrideCosts', () => {
  it('replaces the given keys and leaves the base untouched', () => {
    const r = overrideCosts(DEFAULT_COSTS, { ipcRoundTrip: 900, diskRead: 0 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.ipcRoundTrip).toBe(900);
    expect(r.value.diskRead).toBe(0);
    expect(r.value.ipi).toBe(DEFAULT_COSTS.ipi);
    expect(DEFAULT_COSTS.ipcRoundTrip).toBe(COST_INFO.ipcRoundTrip.cycles);
    expect(Object.isFrozen(r.value)).toBe(true);
  });

  it('rejects an unknown key, naming it and listing the valid ones', () => {
    const r = overrideCosts(DEFAULT_COSTS, { ipi: 1, ipcRoundtrip: 5 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('INVALID_COST');
    expect(r.message).toContain("'ipcRoundtrip'");
    expect(r.message).toContain("did you mean 'ipcRoundTrip'");
    for (const k of COST_KEYS) expect(r.message).toContain(k);
  });

  it('does not accept prototype keys', () => {
    const r = overrideCosts(DEFAULT_COSTS, JSON.parse('{"__proto__": 5, "toString": 1}'));
    expect(r.ok).toBe(false);
  });

  it('rejects negative, non-finite and non-number values', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100', null, undefined, {}]) {
      const r = overrideCosts(DEFAULT_COSTS, { ipi: bad });
      expect(r.ok, String(bad)).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('INVALID_COST');
        expect(r.message).toContain("'ipi'");
      }
    }
  });

  it('accepts any finite non-negative value for any key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COST_KEYS),
        fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }),
        (k, v) => {
          const r = overrideCosts(DEFAULT_COSTS, { [k]: v });
          expect(r.ok && r.value[k] === v).toBe(true);
        },
      ),
    );
  });
});

describe('parseCostAssignments', () => {
  it('parses key=value lists', () => {
    expect(parseCostAssignments(['ipi=6000', ' tlbFill = 2.5 '])).toEqual({
      ok: true,
      value: { ipi: 6000, tlbFill: 2.5 },
    });
  });

  it('rejects malformed entries, unknown keys and bad numbers', () => {
    for (const bad of ['ipi', '=5', 'nope=1', 'ipi=', 'ipi=abc', 'ipi=-3', 'ipi=Infinity']) {
      const r = parseCostAssignments([bad]);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.code).toBe('INVALID_COST');
    }
  });
});

describe('docs/COST_MODEL.md', () => {
  it('lists every key with its default', () => {
    const doc = readFileSync(new URL('../../docs/COST_MODEL.md', import.meta.url), 'utf8');
    for (const k of COST_KEYS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${k}\` `));
      expect(row, k).toBeDefined();
      expect(row!.split('|')[2]!.trim().replaceAll(',', ''), k).toBe(String(COST_INFO[k].cycles));
    }
  });

  it('describeCosts prints one line per key', () => {
    expect(describeCosts(DEFAULT_COSTS).split('\n')).toHaveLength(COST_KEYS.length);
  });
});
