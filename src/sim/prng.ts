/**
 * Seeded pseudo-random numbers for the model. Every stream is xoroshiro128+ from `pure-rand`,
 * driven through its mutable (`unsafe*`) API so drawing allocates nothing.
 *
 * Streams are identified by a seed and a path of labels. {@link Prng.fork} derives a child stream
 * from the parent's *identity* (seed and labels), not from its current position, so
 * `prng.fork('cpu0')` yields the same numbers no matter how much the parent has drawn, and adding
 * a device to a scenario does not perturb the numbers any other device sees.
 */
import { type RandomGenerator, unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import { fmix32 } from '../util/hash.js';
import { InvariantError, invariant } from '../util/result.js';

const TWO32 = 4294967296;
const TWO_NEG53 = 2 ** -53;
/** Ranges up to this many values are drawn by {@link Prng.int} itself (exactly as pure-rand does). */
const SMALL_RANGE = 2 ** 31;

/** Two independent 32-bit hashes of a string's UTF-16 code units (cyrb53-style). */
function hashLabel(label: string): [number, number] {
  let h1 = 0xdeadbeef ^ label.length;
  let h2 = 0x41c6ce57 ^ label.length;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return [fmix32(h1 ^ Math.imul(h2, 0x27d4eb2f)), fmix32(h2 ^ Math.imul(h1, 0x165667b1))];
}

/** Builds a non-zero xoroshiro128+ state from a 64-bit stream key. */
function stateFromKey(k0: number, k1: number): number[] {
  const s: number[] = [];
  for (let i = 0; i < 4; i++) {
    s.push(
      fmix32((k0 + Math.imul(i + 1, 0x9e3779b9)) >>> 0) ^ fmix32((k1 ^ Math.imul(i + 1, 0x7f4a7c15)) >>> 0),
    );
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  return s.map((w) => w | 0);
}

/** A deterministic random stream. */
export class Prng {
  /** The root seed this stream descends from. */
  readonly seed: number;
  /** Fork labels from the root to this stream, joined by `/`; empty for the root. */
  readonly path: string;
  private readonly k0: number;
  private readonly k1: number;
  private readonly rng: RandomGenerator;

  /**
   * Creates the root stream for `seed` (a safe integer; all 53 bits count). The second parameter
   * is internal to {@link fork}.
   */
  constructor(seed: number, derived?: { readonly path: string; readonly k0: number; readonly k1: number }) {
    invariant(Number.isSafeInteger(seed), `PRNG seed ${seed} is not a safe integer`);
    this.seed = seed;
    if (derived) {
      this.path = derived.path;
      this.k0 = derived.k0;
      this.k1 = derived.k1;
    } else {
      const lo = (seed % TWO32) >>> 0;
      const hi = Math.floor(seed / TWO32) >>> 0;
      this.path = '';
      this.k0 = fmix32((lo ^ 0x243f6a88) >>> 0);
      this.k1 = fmix32((hi ^ 0x85a308d3 ^ Math.imul(this.k0, 0x13198a2e)) >>> 0);
    }
    this.rng = xoroshiro128plus.fromState(stateFromKey(this.k0, this.k1));
  }

  /**
   * Derives an independent stream for `label` (e.g. `cpu0`, `nic`). The result depends only on
   * this stream's seed and path and on the label, never on how much has been drawn.
   */
  fork(label: string): Prng {
    const [h1, h2] = hashLabel(label);
    const k0 = fmix32((this.k0 ^ h1) >>> 0);
    const k1 = fmix32((this.k1 ^ h2 ^ Math.imul(k0, 0x9e3779b9)) >>> 0);
    return new Prng(this.seed, { path: this.path === '' ? label : `${this.path}/${label}`, k0, k1 });
  }

  /** Next unsigned 32-bit integer, uniform on [0, 2^32). */
  nextU32(): number {
    return this.rng.unsafeNext() >>> 0;
  }

  /** Uniform float on [0, 1) with 53 random bits (uses the high bits of two draws). */
  nextFloat(): number {
    const a = this.rng.unsafeNext() >>> 5; // 27 bits
    const b = this.rng.unsafeNext() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_NEG53;
  }

  /** Uniform integer on [lo, hi], both inclusive (safe integers, lo <= hi). */
  int(lo: number, hi: number): number {
    // Checked without building the message: a NIC draws one per packet.
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo <= hi)) badInt(lo, hi);
    const size = hi - lo + 1;
    if (size > SMALL_RANGE) return unsafeUniformIntDistribution(lo, hi, this.rng);
    // pure-rand's draw for a range of up to 2^32 values (rejection sampling over one 32-bit draw),
    // step for step, with the operands typed as unsigned 32-bit integers: the remainder is then an
    // integer division, not a floating-point fmod call.
    const n = size >>> 0;
    const maxAllowed = n > 2 ? ~~(TWO32 / n) * n : TWO32;
    let v = (this.rng.unsafeNext() + 0x80000000) >>> 0;
    while (v >= maxAllowed) v = (this.rng.unsafeNext() + 0x80000000) >>> 0;
    return (v % n) + lo;
  }

  /** True with probability `p` (0 <= p <= 1). */
  chance(p: number): boolean {
    invariant(p >= 0 && p <= 1, `Prng.chance(${p}): expected a probability in [0, 1]`);
    return this.nextFloat() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    invariant(items.length > 0, 'Prng.pick: expected a non-empty array');
    return items[this.int(0, items.length - 1)]!;
  }

  /**
   * Exponentially distributed value with the given mean (> 0, finite): inter-arrival times of a
   * Poisson process. Uses inversion, `-mean * ln(1 - u)`, so the result is finite and >= 0.
   */
  exponential(mean: number): number {
    if (!(mean > 0 && mean < Number.POSITIVE_INFINITY)) badMean(mean);
    return -mean * Math.log(1 - this.nextFloat());
  }

  /** Describes the stream's identity (not its position). */
  toString(): string {
    return `Prng(seed=0x${this.seed.toString(16)}${this.path === '' ? '' : `, stream=${this.path}`})`;
  }
}

// Broken preconditions, kept out of line so the draws build no message.
function badInt(lo: number, hi: number): never {
  throw new InvariantError(`Prng.int(${lo}, ${hi}): expected safe integers with lo <= hi`);
}

function badMean(mean: number): never {
  throw new InvariantError(`Prng.exponential(${mean}): expected a finite mean > 0`);
}
