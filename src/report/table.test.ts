import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { formatNumber, formatTable } from './table.js';

describe('formatNumber', () => {
  it.each([
    [0, {}, '0'],
    [-0, {}, '0'],
    [999, {}, '999'],
    [1000, {}, '1,000'],
    [1234567, {}, '1,234,567'],
    [-1234567, {}, '-1,234,567'],
    [1234.5, {}, '1,234.5'],
    [1234.567, {}, '1,234.57'],
    [0.004, {}, '0'],
    [-0.004, { decimals: 2 }, '0.00'],
    [1234567.891, { decimals: 0 }, '1,234,568'],
    [12.3, { decimals: 3 }, '12.300'],
    [1234567, { thousands: false }, '1234567'],
    [Number.NaN, {}, 'NaN'],
    [1 / 0, {}, 'inf'],
    [-1 / 0, {}, '-inf'],
    [1e21, {}, '1e+21'],
  ])('%d with %o is %s', (n, fmt, want) => {
    expect(formatNumber(n, fmt)).toBe(want);
  });

  it('rejects impossible decimals', () => {
    expect(() => formatNumber(1, { decimals: -1 })).toThrow(InvariantError);
    expect(() => formatNumber(1, { decimals: 1.5 })).toThrow(InvariantError);
  });

  it('round-trips integers once the separators are removed', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
        const s = formatNumber(n);
        expect(s).toMatch(/^-?\d{1,3}(,\d{3})*$/);
        expect(Number(s.replaceAll(',', ''))).toBe(n);
      }),
    );
  });
});

describe('formatTable', () => {
  it('aligns text left and numbers right under a header rule (golden)', () => {
    const out = formatTable(
      ['design', 'TLB misses', 'faults/s', 'p99 (µs)', 'note'],
      [
        ['flat', 120345, 1534000.4, 4.2, 'baseline'],
        ['nested-rm', 98000, 980123, 12.25, ''],
        ['managed-ds', 1020000, 75000, 0.5, 'slow <pager>'],
      ],
      { decimals: [undefined, undefined, 0, 2] },
    );
    expect(out).toBe(
      [
        'design      TLB misses   faults/s  p99 (µs)  note',
        '----------  ----------  ---------  --------  ------------',
        'flat           120,345  1,534,000      4.20  baseline',
        'nested-rm       98,000    980,123     12.25',
        'managed-ds   1,020,000     75,000      0.50  slow <pager>',
      ].join('\n'),
    );
  });

  it('honours explicit alignment and per-column thousands', () => {
    const out = formatTable(
      ['n', 'id'],
      [
        [12345, 'x'],
        [7, 'yy'],
      ],
      {
        align: ['left', 'right'],
        thousands: [false, true],
      },
    );
    expect(out).toBe(['n      id', '-----  --', '12345   x', '7      yy'].join('\n'));
  });

  it('prints the header and rule alone when there are no rows', () => {
    expect(formatTable(['cpu', 'faults'], [])).toBe('cpu  faults\n---  ------');
  });

  it('lines up every column whatever the cells', () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 8 }).map((s) => s.replace(/\s/g, '_')),
      fc.integer(),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell, fc.integer()), { maxLength: 6 }), (rows) => {
        const lines = formatTable(['a', 'b', 'count'], rows).split('\n');
        expect(lines).toHaveLength(rows.length + 2);
        const rule = lines[1] as string;
        // the last column is numeric, so right-aligned: every line reaches the rule's full width
        for (const l of lines) expect([...l].length).toBe([...rule].length);
      }),
    );
  });

  it('throws on a row whose width differs from the header', () => {
    expect(() => formatTable(['a', 'b'], [['x']])).toThrow(/row 0 has 1 cells: expected 2/);
    expect(() => formatTable([], [])).toThrow(InvariantError);
  });

  it('is deterministic', () => {
    const rows = [
      ['a', 1.5],
      ['b', 2e6],
    ] as const;
    expect(formatTable(['k', 'v'], rows)).toBe(formatTable(['k', 'v'], rows));
  });
});
