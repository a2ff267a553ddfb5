/**
 * Seeded synthetic access traces: sequential, strided, uniform, zipf and phased working sets,
 * plus a multi-threaded variant with private and shared regions. Same spec and seed, same trace,
 * on every platform: randomness comes from pure-rand's xoroshiro128+ (unsafe, in-place API).
 */
import { type RandomGenerator, xoroshiro128plus } from 'pure-rand';
import {
  INSTR,
  LOAD,
  MAX_TRACE_ADDRESS,
  MODIFY,
  STORE,
  TraceBatch,
  type TraceSink,
} from '../sim/trace_batch.js';
import { alignUp, isPow2 } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { type Err, err, ok, type Result } from '../util/result.js';

/** Parameters shared by every single-stream generator. */
export interface WorkloadCommon {
  /** Records to generate, instruction fetches included (integer >= 1). */
  readonly records: number;
  /** Bytes of the data region (a multiple of `accessSize`). */
  readonly footprint: number;
  /** PRNG seed (integer 0..2^32-1). */
  readonly seed: number;
  /** First address of the data region (default 0x10000000). */
  readonly base?: number;
  /** Bytes per data access, a power of two 1..4096 (default 8). Accesses are aligned to it. */
  readonly accessSize?: number;
  /** Fraction of data accesses that are stores `S` (0..1, default 0.3). */
  readonly writeRatio?: number;
  /** Fraction of data accesses that are read-modify-writes `M` (0..1, default 0; with writeRatio <= 1). */
  readonly modifyRatio?: number;
  /** Instruction fetches emitted before each data access (integer 0..64, default 0). */
  readonly instrPerAccess?: number;
  /** First address of the code region walked by instruction fetches (default 0x400000). */
  readonly codeBase?: number;
  /** Bytes of the code region, a multiple of 4; fetches are 4 bytes, sequential, wrapping (default 16K). */
  readonly codeFootprint?: number;
}

/** Sweeps the data region in order, `accessSize` at a time, wrapping at the end. */
export interface SequentialWorkload extends WorkloadCommon {
  readonly pattern: 'sequential';
}

/** Walks the region `stride` bytes at a time (modulo the footprint), aligned down to `accessSize`. */
export interface StridedWorkload extends WorkloadCommon {
  readonly pattern: 'strided';
  /** Bytes between consecutive accesses (integer 1..footprint). */
  readonly stride: number;
}

/** Uniformly random aligned accesses over the whole region. */
export interface UniformWorkload extends WorkloadCommon {
  readonly pattern: 'uniform';
}

/** Zipf-distributed accesses over `granule`-sized items: item of rank k has weight k^-skew. */
export interface ZipfWorkload extends WorkloadCommon {
  readonly pattern: 'zipf';
  /** Zipf exponent (0..10); 0 is uniform, about 1 is typical, larger is more skewed. */
  readonly skew: number;
  /** Item size in bytes: a multiple of `accessSize` dividing the footprint (default 4096). */
  readonly granule?: number;
  /** Spread hot items over the region instead of putting the hottest at the lowest address (default false). */
  readonly scatter?: boolean;
}

/** Phases cycling through `phases` working sets, uniform random accesses inside the current set. */
export interface PhasedWorkload extends WorkloadCommon {
  readonly pattern: 'phased';
  /** Number of distinct working sets (integer 1..4096). Set i starts at a 4K-aligned offset spread evenly over the footprint. */
  readonly phases: number;
  /** Bytes of each working set (multiple of `accessSize`, at most the footprint). */
  readonly workingSet: number;
  /** Data accesses per phase before moving to the next set (default: the data accesses split evenly). */
  readonly phaseLength?: number;
}

/** Any single-stream workload. */
export type WorkloadSpec =
  | SequentialWorkload
  | StridedWorkload
  | UniformWorkload
  | ZipfWorkload
  | PhasedWorkload;

/** Per-thread streams over a shared region and one private region per thread (for multi-CPU runs). */
export interface ThreadedWorkloadSpec
  extends Pick<
    WorkloadCommon,
    'base' | 'accessSize' | 'writeRatio' | 'modifyRatio' | 'instrPerAccess' | 'codeBase' | 'codeFootprint'
  > {
  /** Number of threads (integer 1..1024). */
  readonly threads: number;
  /** Records per thread, instruction fetches included (integer >= 1). */
  readonly recordsPerThread: number;
  /** Bytes of the shared region at `base` (multiple of `accessSize`; may be 0 when shareRatio is 0). */
  readonly sharedFootprint: number;
  /** Bytes of each private region (multiple of `accessSize`; may be 0 when shareRatio is 1). Regions start 4K-aligned after the shared one. */
  readonly privateFootprint: number;
  /** Fraction of data accesses that go to the shared region (0..1). */
  readonly shareRatio: number;
  /** Zipf exponent inside each region over 4K items (0..10, default 0 = uniform; regions not a multiple of 4K stay uniform). */
  readonly skew?: number;
  /** PRNG seed (integer 0..2^32-1); thread t uses the stream jumped t times (2^64 steps each). */
  readonly seed: number;
  // base, accessSize, writeRatio, modifyRatio, instrPerAccess, codeBase, codeFootprint: as in WorkloadCommon.
}

/** Produces data addresses. */
interface AddressSource {
  next(rng: RandomGenerator): number;
}

const TWO32 = 4294967296;

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

class Sequential implements AddressSource {
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

class Uniform implements AddressSource {
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

class Zipf implements AddressSource {
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

class Phased implements AddressSource {
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

class TwoRegions implements AddressSource {
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

/** A deterministic generated trace; fills batches on demand. */
export class SyntheticTrace {
  private emitted = 0;
  private fetchesLeft: number;
  private codeOff = 0;
  private readonly storeAt: number;
  private readonly modifyAt: number;

  constructor(
    /** Short description, e.g. `zipf(s=1) 64M`. */
    readonly name: string,
    /** Total records this trace produces. */
    readonly total: number,
    private readonly rng: RandomGenerator,
    private readonly source: AddressSource,
    private readonly size: number,
    writeRatio: number,
    modifyRatio: number,
    private readonly fetches: number,
    private readonly codeBase: number,
    private readonly codeFootprint: number,
  ) {
    this.fetchesLeft = fetches;
    this.storeAt = writeRatio * TWO32;
    this.modifyAt = (writeRatio + modifyRatio) * TWO32;
  }

  /** Records not produced yet. */
  get remaining(): number {
    return this.total - this.emitted;
  }

  /** Appends records to `batch` until it is full or the trace is done; returns how many were added. */
  fill(batch: TraceBatch): number {
    const n = Math.min(batch.capacity - batch.length, this.total - this.emitted);
    const { kind, addr, size } = batch;
    const rng = this.rng;
    let len = batch.length;
    for (let i = 0; i < n; i++, len++) {
      if (this.fetchesLeft > 0) {
        this.fetchesLeft--;
        kind[len] = INSTR;
        addr[len] = this.codeBase + this.codeOff;
        size[len] = 4;
        this.codeOff += 4;
        if (this.codeOff === this.codeFootprint) this.codeOff = 0;
      } else {
        this.fetchesLeft = this.fetches;
        const u = rng.unsafeNext() >>> 0;
        kind[len] = u < this.storeAt ? STORE : u < this.modifyAt ? MODIFY : LOAD;
        addr[len] = this.source.next(rng);
        size[len] = this.size;
      }
    }
    batch.length = len;
    this.emitted += n;
    return n;
  }

  /** Delivers the remaining records to `sink` in batches; stops early when the sink returns `false`. */
  run(sink: TraceSink, batch: TraceBatch = new TraceBatch()): void {
    while (this.remaining > 0) {
      batch.length = 0;
      this.fill(batch);
      if (sink(batch) === false) return;
    }
  }

  toString(): string {
    return `SyntheticTrace(${this.name}, ${this.emitted}/${this.total} records)`;
  }
}

type Invalid = Err<'INVALID_WORKLOAD'>;
const invalid = (what: string): Invalid => err('INVALID_WORKLOAD', what);
const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isRatio = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

interface Common {
  base: number;
  size: number;
  write: number;
  modify: number;
  fetches: number;
  codeBase: number;
  code: number;
}

/** Validates the parameters every generator shares; `span` is the data bytes from `base`. */
function checkCommon(s: Partial<WorkloadCommon>, span: number): Invalid | Common {
  const c: Common = {
    base: s.base ?? 0x10000000,
    size: s.accessSize ?? 8,
    write: s.writeRatio ?? 0.3,
    modify: s.modifyRatio ?? 0,
    fetches: s.instrPerAccess ?? 0,
    codeBase: s.codeBase ?? 0x400000,
    code: s.codeFootprint ?? 16384,
  };
  if (!isInt(s.seed, 0, TWO32 - 1)) return invalid(`seed ${s.seed} must be an integer 0..2^32-1`);
  if (!isInt(c.size, 1, 4096) || !isPow2(c.size)) {
    return invalid(`accessSize ${c.size} must be a power of two 1..4096`);
  }
  if (!isRatio(c.write) || !isRatio(c.modify) || c.write + c.modify > 1) {
    return invalid(
      `writeRatio ${c.write} and modifyRatio ${c.modify} must be in 0..1 with a sum of at most 1`,
    );
  }
  if (!isInt(c.fetches, 0, 64)) return invalid(`instrPerAccess ${c.fetches} must be an integer 0..64`);
  if (!isInt(c.base, 0, MAX_TRACE_ADDRESS) || c.base + span > MAX_TRACE_ADDRESS + 1) {
    return invalid(`data region ${hex(c.base)} + ${sizeName(span)} must lie below 2^53`);
  }
  if (c.fetches > 0) {
    if (!isInt(c.code, 4, 2 ** 40) || c.code % 4 !== 0) {
      return invalid(`codeFootprint ${c.code} must be a positive multiple of 4`);
    }
    if (!isInt(c.codeBase, 0, MAX_TRACE_ADDRESS - c.code))
      return invalid(`codeBase ${c.codeBase} out of range`);
    if (c.codeBase < c.base + span && c.base < c.codeBase + c.code) {
      return invalid(
        `code region ${hex(c.codeBase)}+${sizeName(c.code)} overlaps the data region ${hex(c.base)}+${sizeName(span)}`,
      );
    }
  }
  return c;
}

function checkRegion(name: string, bytes: unknown, size: number, allowZero: boolean): Invalid | null {
  if (!isInt(bytes, allowZero ? 0 : size, MAX_TRACE_ADDRESS) || bytes % size !== 0) {
    return invalid(
      `${name} ${bytes} must be a ${allowZero ? 'non-negative' : 'positive'} multiple of accessSize ${size}`,
    );
  }
  return null;
}

function isErr(v: unknown): v is Invalid {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

/** Builds a single-stream generator, or INVALID_WORKLOAD naming the bad parameter and the valid range. */
export function createWorkload(spec: WorkloadSpec): Result<SyntheticTrace, 'INVALID_WORKLOAD'> {
  if (!isInt(spec.records, 1, MAX_TRACE_ADDRESS))
    return invalid(`records ${spec.records} must be an integer >= 1`);
  const c = checkCommon(spec, typeof spec.footprint === 'number' ? spec.footprint : 0);
  if (isErr(c)) return c;
  const bad = checkRegion('footprint', spec.footprint, c.size, false);
  if (bad) return bad;
  const fp = spec.footprint;
  const dataAccesses = Math.ceil(spec.records / (c.fetches + 1));
  let source: AddressSource;
  let name: string;
  switch (spec.pattern) {
    case 'sequential':
      source = new Sequential(c.base, fp, c.size, c.size);
      name = `sequential ${sizeName(fp)}`;
      break;
    case 'strided':
      if (!isInt(spec.stride, 1, fp))
        return invalid(`stride ${spec.stride} must be an integer 1..footprint (${fp})`);
      source = new Sequential(c.base, fp, spec.stride, c.size);
      name = `strided(${spec.stride}) ${sizeName(fp)}`;
      break;
    case 'uniform':
      source = new Uniform(c.base, fp, c.size);
      name = `uniform ${sizeName(fp)}`;
      break;
    case 'zipf': {
      const g = spec.granule ?? 4096;
      if (typeof spec.skew !== 'number' || !(spec.skew >= 0 && spec.skew <= 10)) {
        return invalid(`skew ${spec.skew} must be a number 0..10`);
      }
      if (!isInt(g, c.size, fp) || g % c.size !== 0 || fp % g !== 0) {
        return invalid(
          `granule ${g} must be a multiple of accessSize ${c.size} that divides the footprint ${fp}`,
        );
      }
      source = new Zipf(c.base, fp, g, c.size, spec.skew, spec.scatter === true);
      name = `zipf(s=${spec.skew}) ${sizeName(fp)}`;
      break;
    }
    case 'phased': {
      if (!isInt(spec.phases, 1, 4096)) return invalid(`phases ${spec.phases} must be an integer 1..4096`);
      const ws = checkRegion('workingSet', spec.workingSet, c.size, false);
      if (ws) return ws;
      if (spec.workingSet > fp) return invalid(`workingSet ${spec.workingSet} exceeds the footprint ${fp}`);
      const len = spec.phaseLength ?? Math.max(1, Math.ceil(dataAccesses / spec.phases));
      if (!isInt(len, 1, MAX_TRACE_ADDRESS)) return invalid(`phaseLength ${len} must be an integer >= 1`);
      source = new Phased(c.base, fp, c.size, spec.phases, spec.workingSet, len);
      name = `phased(${spec.phases} x ${sizeName(spec.workingSet)}) ${sizeName(fp)}`;
      break;
    }
    default:
      return invalid(
        `unknown pattern '${(spec as { pattern: unknown }).pattern}' (expected sequential, strided, uniform, zipf or phased)`,
      );
  }
  const rng = xoroshiro128plus(spec.seed);
  return ok(
    new SyntheticTrace(
      name,
      spec.records,
      rng,
      source,
      c.size,
      c.write,
      c.modify,
      c.fetches,
      c.codeBase,
      c.code,
    ),
  );
}

/**
 * Builds one generator per thread. Layout: the shared region at `base`, then thread t's private
 * region at the next 4K boundary after the shared region plus t private regions (each 4K-aligned).
 */
export function createThreadedWorkload(
  spec: ThreadedWorkloadSpec,
): Result<SyntheticTrace[], 'INVALID_WORKLOAD'> {
  if (!isInt(spec.threads, 1, 1024)) return invalid(`threads ${spec.threads} must be an integer 1..1024`);
  if (!isInt(spec.recordsPerThread, 1, MAX_TRACE_ADDRESS)) {
    return invalid(`recordsPerThread ${spec.recordsPerThread} must be an integer >= 1`);
  }
  if (!isRatio(spec.shareRatio)) return invalid(`shareRatio ${spec.shareRatio} must be in 0..1`);
  const size = spec.accessSize ?? 8;
  const shared = spec.sharedFootprint;
  const priv = spec.privateFootprint;
  const numeric = typeof shared === 'number' && typeof priv === 'number';
  const stride = numeric ? alignUp(priv, 4096) : 0;
  const span = numeric ? alignUp(shared, 4096) + spec.threads * stride : 0;
  const c = checkCommon(spec, span);
  if (isErr(c)) return c;
  const bad =
    checkRegion('sharedFootprint', shared, size, true) ?? checkRegion('privateFootprint', priv, size, true);
  if (bad) return bad;
  if (spec.shareRatio > 0 && shared === 0)
    return invalid('sharedFootprint must be positive when shareRatio > 0');
  if (spec.shareRatio < 1 && priv === 0)
    return invalid('privateFootprint must be positive when shareRatio < 1');
  const skew = spec.skew ?? 0;
  if (typeof skew !== 'number' || !(skew >= 0 && skew <= 10))
    return invalid(`skew ${skew} must be a number 0..10`);
  const region = (base: number, bytes: number): AddressSource | null => {
    if (bytes === 0) return null;
    if (skew === 0 || bytes % 4096 !== 0) return new Uniform(base, bytes, c.size);
    return new Zipf(base, bytes, 4096, c.size, skew, false);
  };
  const privBase = c.base + alignUp(shared, 4096);
  const out: SyntheticTrace[] = [];
  const rng = xoroshiro128plus(spec.seed);
  for (let t = 0; t < spec.threads; t++) {
    const source = new TwoRegions(
      region(c.base, shared),
      region(privBase + t * stride, priv),
      spec.shareRatio,
    );
    const name = `thread ${t}: ${sizeName(priv)} private + ${sizeName(shared)} shared (share ${spec.shareRatio})`;
    out.push(
      new SyntheticTrace(
        name,
        spec.recordsPerThread,
        rng.clone(),
        source,
        c.size,
        c.write,
        c.modify,
        c.fetches,
        c.codeBase,
        c.code,
      ),
    );
    rng.unsafeJump!();
  }
  return ok(out);
}
