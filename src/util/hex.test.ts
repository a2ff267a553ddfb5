import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, sizeName } from './hex.js';

describe('hex', () => {
  it('prints non-negative numbers in plain hex', () => {
    expect(hex(0)).toBe('0x0');
    expect(hex(0x7ff000398)).toBe('0x7ff000398');
    expect(hex(2 ** 53 - 1)).toBe('0x1fffffffffffff');
  });

  it('prints sign-extended upper-half addresses as 64-bit two complement', () => {
    expect(hex(-1)).toBe('0xffffffffffffffff');
    expect(hex(-0xa00000)).toBe('0xffffffffff600000');
    expect(hex(-(2 ** 47))).toBe('0xffff800000000000');
    expect(hex(-(2 ** 53))).toBe('0xffe0000000000000');
  });

  it('agrees with BigInt arithmetic on every exact negative integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53), max: -1 }), (n) => {
        expect(hex(n)).toBe(`0x${(2n ** 64n + BigInt(n)).toString(16)}`);
      }),
    );
  });

  it('names sizes in units', () => {
    expect(sizeName(4096)).toBe('4K');
    expect(sizeName(3 * 2 ** 20)).toBe('3M');
    expect(sizeName(100)).toBe('100B');
    expect(sizeName(4097)).toBe('0x1001');
  });
});
