/** Metric names and expectations: exact values, bounds, bounds naming other metrics, mapping sizes. */
import { describe, expect, it } from 'vitest';
import { canonicalMetric, checkMetric, metricProblem, metricValue } from './metrics.js';

const values = { records: 10, 'tlb.hitRate': 0.5, 'mappings.2M': 3, 'irq.a.irqLatency.p99': 1.5 };

describe('checkMetric', () => {
  it.each([
    ['records', 10, undefined],
    ['records', 11, 'expected records = 11, got 10'],
    ['tlb.hitRate', { min: 0.5 }, undefined],
    ['tlb.hitRate', { min: 0.6 }, 'expected tlb.hitRate >= 0.6, got 0.5'],
    ['tlb.hitRate', { max: 0.4 }, 'expected tlb.hitRate <= 0.4, got 0.5'],
    ['mappings.2M', { max: 'records' }, undefined],
    ['records', { max: 'mappings.2M' }, 'expected records <= mappings.2M (3), got 10'],
    ['mappings.2048K', 3, undefined],
    ['mappings.4K', 0, undefined],
    ['faults.reflected', 0, "metric 'faults.reflected' was not measured"],
  ] as const)('%s %j', (name, want, message) => {
    expect(checkMetric(values, name, want)).toBe(message);
  });
});

describe('metric names', () => {
  it('mapping sizes have one spelling; absent sizes count 0', () => {
    expect(canonicalMetric('mappings.2048K')).toBe('mappings.2M');
    expect(canonicalMetric('mappings.0x1000')).toBe('mappings.4K');
    expect(metricValue(values, 'mappings.1G')).toBe(0);
    expect(metricValue(values, 'records')).toBe(10);
  });

  it('are known where they are used', () => {
    const ctx = { simulated: true, irqRuns: new Set(['a']) };
    expect(metricProblem('records', ctx)).toBeUndefined();
    expect(metricProblem('irq.a.irqLatency.p99', ctx)).toBeUndefined();
    expect(metricProblem('records', { ...ctx, simulated: false })).toMatch(/after a simulate step$/);
    expect(metricProblem('irq.a.latency', ctx)).toMatch(/^unknown metric 'irq\.a\.latency'; an IRQ run has/);
    expect(metricProblem('irq.b.packetsPerSecond', ctx)).toBe(
      "unknown IRQ run 'b' in metric 'irq.b.packetsPerSecond': the irq steps before this one define a",
    );
    expect(metricProblem('mappings.5K', ctx)).toMatch(/names no mapping size/);
    expect(metricProblem('tlb.hitrate', ctx)).toMatch(/^unknown metric 'tlb\.hitrate'; expected one of: /);
  });
});
