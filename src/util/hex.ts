/** Number formatting shared by every `toString()` in the model. */

const TWO32 = 4294967296;

/**
 * Formats an address or size as lowercase hex with a `0x` prefix. A negative integer is a
 * sign-extended 64-bit address (the upper, kernel half of a canonical address space; see
 * `TraceBatch.addr`) and prints as its 64-bit two's complement: -4096 is `0xfffffffffffff000`.
 */
export function hex(n: number): string {
  if (n >= 0 || !Number.isInteger(n) || n < -(2 ** 63)) return `0x${n.toString(16)}`;
  // Two's complement in two exact 32-bit halves (2^64 + n itself is not exact in a double).
  const lo = ((n % TWO32) + TWO32) % TWO32;
  const hi = (n - lo) / TWO32 + TWO32;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

const UNITS: ReadonlyArray<[number, string]> = [
  [2 ** 40, 'T'],
  [2 ** 30, 'G'],
  [2 ** 20, 'M'],
  [2 ** 10, 'K'],
];

/** Formats a byte size the way kernel people write it: 4K, 2M, 1G; exact multiples only, else hex. */
export function sizeName(bytes: number): string {
  for (const [unit, suffix] of UNITS) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return bytes < 1024 ? `${bytes}B` : hex(bytes);
}
