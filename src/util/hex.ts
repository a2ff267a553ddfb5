/** Number formatting shared by every `toString()` in the model. */

/** Formats an address or size as lowercase hex with a `0x` prefix. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
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
