/**
 * Seeded synthetic access traces: sequential, strided, uniform, zipf and phased working sets,
 * plus a multi-threaded variant with private and shared regions. Same spec and seed, same trace,
 * on every platform: randomness comes from pure-rand's xoroshiro128+ (unsafe, in-place API).
 * This file holds the trace driver and the factories; the spec types and their checks are in
 * synthetic_spec.ts, the address patterns in synthetic_sources.ts (both re-exported here).
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
import { alignUp } from '../util/bits.js';
import { sizeName } from '../util/hex.js';
import { ok, type Result } from '../util/result.js';
import {
  type AddressSource,
  Phased,
  Sequential,
  TWO32,
  TwoRegions,
  Uniform,
  Zipf,
} from './synthetic_sources.js';
import {
  type Common,
  checkCommon,
  checkRegion,
  invalid,
  isErr,
  isInt,
  isRatio,
  type ThreadedWorkloadSpec,
  type WorkloadSpec,
} from './synthetic_spec.js';

export { ZipfSampler } from './synthetic_sources.js';
export type {
  PhasedWorkload,
  SequentialWorkload,
  StridedWorkload,
  ThreadedWorkloadSpec,
  UniformWorkload,
  WorkloadCommon,
  WorkloadSpec,
  ZipfWorkload,
} from './synthetic_spec.js';

/** A deterministic generated trace; fills batches on demand. */
export class SyntheticTrace {
  private emitted = 0;
  private fetchesLeft: number;
  private codeOff = 0;
  private readonly storeAt: number;
  private readonly modifyAt: number;
  private readonly size: number;
  private readonly fetches: number;
  private readonly codeBase: number;
  private readonly codeFootprint: number;

  constructor(
    /** Short description, e.g. `zipf(s=1) 64M`. */
    readonly name: string,
    /** Total records this trace produces. */
    readonly total: number,
    private readonly rng: RandomGenerator,
    private readonly source: AddressSource,
    /** Access size, write/modify ratios, fetches per data access and the code range (checked). */
    common: Common,
  ) {
    this.size = common.size;
    this.fetches = common.fetches;
    this.codeBase = common.codeBase;
    this.codeFootprint = common.code;
    this.fetchesLeft = common.fetches;
    this.storeAt = common.write * TWO32;
    this.modifyAt = (common.write + common.modify) * TWO32;
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
  return ok(new SyntheticTrace(name, spec.records, rng, source, c));
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
    out.push(new SyntheticTrace(name, spec.recordsPerThread, rng.clone(), source, c));
    rng.unsafeJump!();
  }
  return ok(out);
}
