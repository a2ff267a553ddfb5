/**
 * Integer mixing shared by the seeded generators (sim/prng.ts) and the hardware models that stand
 * in for a hash (hw/devices.ts, the NIC's RSS hash): one definition, so both stay bit-identical.
 */

/** MurmurHash3 32-bit finaliser: a bijective avalanche mix on 32-bit words. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
