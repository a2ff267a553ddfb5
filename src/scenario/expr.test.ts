import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, interpolate, parseNumber } from './expr.js';

const value = (expr: string, vars = {}) => {
  const r = evaluate(expr, vars);
  return r.ok ? r.value : r.message;
};

describe('parseNumber', () => {
  it('reads decimal, hex and sizes', () => {
    expect(parseNumber('4096')).toEqual({ ok: true, value: 4096 });
    expect(parseNumber('0x1000')).toEqual({ ok: true, value: 4096 });
    expect(parseNumber('4K')).toEqual({ ok: true, value: 4096 });
    expect(parseNumber('2M')).toEqual({ ok: true, value: 2 ** 21 });
    expect(parseNumber('1G')).toEqual({ ok: true, value: 2 ** 30 });
    expect(parseNumber('3T')).toEqual({ ok: true, value: 3 * 2 ** 40 });
  });

  it('rejects anything else and values beyond 2^53', () => {
    expect(parseNumber('4k')).toMatchObject({ ok: false, code: 'INVALID_NUMBER' });
    expect(parseNumber('-1')).toMatchObject({ ok: false });
    expect(parseNumber('1.5M')).toMatchObject({ ok: false });
    expect(parseNumber('0x20000000000000')).toMatchObject({
      ok: false,
      message: "'0x20000000000000' is too large (above 2^53)",
    });
  });
});

describe('evaluate', () => {
  it('honours precedence, parentheses, unary minus and floor division', () => {
    expect(value('0x50000000 + (i % 3) * 4K', { i: 5 })).toBe(0x50002000);
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('-7 / 2')).toBe(-4);
    expect(value('-7 % 3')).toBe(2);
    expect(value('  i*j ', { i: 3, j: 4 })).toBe(12);
  });

  it('reports unknown variables, syntax errors and division by zero', () => {
    expect(value('i + k', { i: 1 })).toBe(
      `in \${i + k}: unknown variable 'k' (variables here: i) at column 6`,
    );
    expect(value('toString')).toBe(
      `in \${toString}: unknown variable 'toString' (no enclosing repeat or earlier attach var defines it) at column 9`,
    );
    expect(value('1 +')).toBe(`in \${1 +}: unexpected end at column 4`);
    expect(value('(1')).toBe(`in \${(1}: expected ')' at column 3`);
    expect(value('1 2')).toBe(`in \${1 2}: unexpected '2' at column 3`);
    expect(value('4 % 0')).toBe(`in \${4 % 0}: division by zero at column 6`);
    expect(value('1G * 1G')).toBe(
      `in \${1G * 1G}: value 1152921504606847000 is not a safe integer at column 8`,
    );
  });

  it('agrees with integer arithmetic (property)', () => {
    const n = fc.integer({ min: -1e6, max: 1e6 });
    fc.assert(
      fc.property(n, n, fc.integer({ min: 1, max: 1000 }), (a, b, c) => {
        expect(value(`a + b * c - (a % c)`, { a, b, c })).toBe(a + b * c - (a - c * Math.floor(a / c)));
        expect(value('a / c', { a, c })).toBe(Math.floor(a / c));
      }),
    );
  });
});

describe('interpolate', () => {
  it('replaces every placeholder by its decimal value', () => {
    expect(interpolate(`page\${i}_\${i * 2}`, { i: 3 })).toEqual({ ok: true, value: 'page3_6' });
    expect(interpolate('plain', {})).toEqual({ ok: true, value: 'plain' });
  });

  it('reports an unclosed placeholder', () => {
    expect(interpolate(`a\${i`, { i: 1 })).toMatchObject({
      ok: false,
      message: `'a\${i' has '\${' without a closing '}'`,
    });
  });
});
