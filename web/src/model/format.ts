/** Number formatting for the views. */
import { sizeName } from '../../../src/util/hex.js';

const UNITS: ReadonlyArray<[number, string]> = [
  [2 ** 40, 'T'],
  [2 ** 30, 'G'],
  [2 ** 20, 'M'],
  [2 ** 10, 'K'],
];

/** `4K`, `2M` for exact sizes; `~127.9T` for others (free gaps are rarely round). */
export function approxSize(bytes: number): string {
  for (const [unit, suffix] of UNITS) {
    if (bytes < unit) continue;
    if (bytes % unit === 0) return sizeName(bytes);
    return `~${(bytes / unit).toFixed(1).replace(/\.0$/, '')}${suffix}`;
  }
  return sizeName(bytes);
}
