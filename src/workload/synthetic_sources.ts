/**
 * Address sources behind the synthetic traces: sequential/strided sweeps, uniform, zipf, phased
 * working sets and the shared/private split of threaded runs, plus the PRNG helpers they share.
 * They only produce data addresses; record kinds, instruction fetches and batching live in synthetic.ts.
 */
import type { RandomGenerator } from 'pure-rand';

/** Produces data addresses. */
export interface AddressSource {
  next(rng: RandomGenerator): number;
}

/** 2^32: scales the PRNG's 32-bit outputs to probabilities and ranges. */
export const TWO32 = 4294967296;

/** Uniform integer in 0..n-1 (n >= 1). Bias is below 2^-32 relative for n <= 2^21; exact to 2^-53 otherwise. */
function randBelow(rng: RandomGenerator, n: number): number {
  if (n <= 0x200000) return Math.floor(((rng.unsafeNext() >>> 0) * n) / TWO32);
  return Math.floor(rand01(rng) * n);
}

/** Uniform double in [0, 1) with 53 random bits. */
function rand01(rng: RandomGenerator): number {
  return ((rng.unsafeNext() >>> 5) * 67108864 + (rng.unsafeNext() >>> 6)) / 9007199254740992;
}

/**
 * Zipf sampler over ranks 1..n with P(k) proportional to k^-s, by rejection-inversion
 * (Hörmann and Derflinger 1996): O(1) time and memory per sample, no table.
 */
export class ZipfSampler {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sc: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.sc = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in 1..n. */
  sample(rng: RandomGenerator): number {
    for (;;) {
      const u = this.hN + rand01(rng) * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sc || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return expm1OverX((1 - this.s) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(log1pOverX(t) * x);
  }

  toString(): string {
    return `ZipfSampler(n=${this.n}, s=${this.s})`;
  }
}

function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

/** Sweeps `footprint` bytes from `base`, `step` bytes at a time, aligned down to `align`, wrapping. */
export class Sequential implements AddressSource {
  private off = 0;
  constructor(
    private readonly base: number,
    private readonly footprint: number,
    private readonly step: number,
    private readonly align: number,
  ) {}
  next(): number {
    const a = this.base + (this.off - (this.off % this.align));
    this.off += this.step;
    if (this.off >= this.footprint) this.off %= this.footprint;
    return a;
  }
}

/** Uniformly random `size`-aligned accesses over `footprint` bytes from `base`. */
export class Uniform implements AddressSource {
  private readonly slots: number;
  constructor(
    private readonly base: number,
    footprint: number,
    private readonly size: number,
  ) {
    this.slots = footprint / size;
  }
  next(rng: RandomGenerator): number {
    return this.base + randBelow(rng, this.slots) * this.size;
  }
}

/** Zipf-ranked `granule`-sized items, a uniform `size`-aligned access inside the chosen item. */
export class Zipf implements AddressSource {
  private readonly sampler: ZipfSampler;
  private readonly items: number;
  private readonly mult: number;
  private readonly slotsPerItem: number;
  constructor(
    private readonly base: number,
    footprint: number,
    private readonly granule: number,
    private readonly size: number,
    skew: number,
    scatter: boolean,
  ) {
    this.items = footprint / granule;
    this.sampler = new ZipfSampler(this.items, skew);
    this.slotsPerItem = granule / size;
    this.mult = scatter ? coprimeNear(this.items) : 1;
  }
  next(rng: RandomGenerator): number {
    const rank = this.sampler.sample(rng) - 1;
    const item = this.mult === 1 ? rank : ((rank + 1) * this.mult) % this.items;
    return this.base + item * this.granule + randBelow(rng, this.slotsPerItem) * this.size;
  }
}

/** A multiplier near n * 0.618 coprime to n with n * m < 2^53, so rank -> (rank + 1) * m mod n is an exact bijection. */
function coprimeNear(n: number): number {
  if (n <= 2) return 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let m = Math.max(1, Math.min(Math.floor(n * 0.6180339887), Math.floor(2 ** 53 / n)));
  while (gcd(n, m) !== 1) m--;
  return m;
}

/** Cycles through `phases` working sets of `ws` bytes, `len` uniform accesses in each before moving on. */
export class Phased implements AddressSource {
  private readonly sets: Uniform[] = [];
  private count = 0;
  private phase = 0;
  constructor(
    base: number,
    footprint: number,
    size: number,
    phases: number,
    ws: number,
    private readonly len: number,
  ) {
    const spread = phases === 1 ? 0 : (footprint - ws) / (phases - 1);
    for (let i = 0; i < phases; i++) {
      const off = Math.min(Math.floor((i * spread) / 4096) * 4096, footprint - ws);
      this.sets.push(new Uniform(base + off - (off % size), ws, size));
    }
  }
  next(rng: RandomGenerator): number {
    if (this.count === this.len) {
      this.count = 0;
      this.phase = (this.phase + 1) % this.sets.length;
    }
    this.count++;
    return this.sets[this.phase]!.next(rng);
  }
}

/** Picks the shared source with probability `shareRatio`, else the thread's own one. */
export class TwoRegions implements AddressSource {
  private readonly threshold: number;
  constructor(
    private readonly shared: AddressSource | null,
    private readonly own: AddressSource | null,
    shareRatio: number,
  ) {
    this.threshold = shareRatio * TWO32;
  }
  next(rng: RandomGenerator): number {
    return rng.unsafeNext() >>> 0 < this.threshold ? this.shared!.next(rng) : this.own!.next(rng);
  }
}
