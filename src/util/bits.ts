/**
 * Bit arithmetic on addresses up to 2^53. JavaScript's bitwise operators are 32-bit, so
 * alignment on 48-bit virtual and physical addresses is done with arithmetic here, once.
 */

const TWO32 = 4294967296;

/** Number of trailing zero bits of a non-negative integer; 64 for zero (agrees at every bit). */
export function ctz(n: number): number {
  if (n === 0) return 64;
  const lo = n % TWO32;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(n / TWO32);
  return 32 + (31 - Math.clz32(hi & -hi));
}

/** log2 of the largest power of two that is <= n (n >= 1). */
export function log2Floor(n: number): number {
  if (n < TWO32) return 31 - Math.clz32(n);
  return 32 + (31 - Math.clz32(Math.floor(n / TWO32)));
}

/** True when n is a positive power of two. */
export function isPow2(n: number): boolean {
  return n > 0 && Number.isInteger(n) && 2 ** log2Floor(n) === n;
}

/** Rounds addr down to a multiple of the power of two `align`. */
export function alignDown(addr: number, align: number): number {
  return addr - (addr % align);
}

/** Rounds addr up to a multiple of the power of two `align`. */
export function alignUp(addr: number, align: number): number {
  const r = addr % align;
  return r === 0 ? addr : addr + (align - r);
}

/** True when addr is a multiple of `align`. */
export function isAligned(addr: number, align: number): boolean {
  return addr % align === 0;
}

/** Number of low bits in which two addresses agree (64 when equal). */
export function agreeingLowBits(a: number, b: number): number {
  return ctz(Math.abs(a - b));
}
