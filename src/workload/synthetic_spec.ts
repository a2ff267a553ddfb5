/**
 * Workload descriptions and their validation: the spec types callers write (scenario files, CLI,
 * benches) and the checks that turn them into INVALID_WORKLOAD errors naming the bad parameter.
 * Kept apart from the generators so the accepted input can be read without the sampling code.
 */
import { MAX_TRACE_ADDRESS } from '../sim/trace_batch.js';
import { isPow2 } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { type Err, err } from '../util/result.js';
import { TWO32 } from './synthetic_sources.js';

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

/** The error every workload check returns. */
export type Invalid = Err<'INVALID_WORKLOAD'>;
/** An INVALID_WORKLOAD error; `what` names the parameter, its value and the valid range. */
export const invalid = (what: string): Invalid => err('INVALID_WORKLOAD', what);
/** `v` is an integer in lo..hi. */
export const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
/** `v` is a number in 0..1. */
export const isRatio = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/** The `WorkloadCommon` parameters with defaults applied, as `checkCommon` returns them. */
export interface Common {
  base: number;
  size: number;
  write: number;
  modify: number;
  fetches: number;
  codeBase: number;
  code: number;
}

/** Validates the parameters every generator shares; `span` is the data bytes from `base`. */
export function checkCommon(s: Partial<WorkloadCommon>, span: number): Invalid | Common {
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

/** Checks a region size: a (positive, or with `allowZero` non-negative) multiple of `size`, or an error. */
export function checkRegion(name: string, bytes: unknown, size: number, allowZero: boolean): Invalid | null {
  if (!isInt(bytes, allowZero ? 0 : size, MAX_TRACE_ADDRESS) || bytes % size !== 0) {
    return invalid(
      `${name} ${bytes} must be a ${allowZero ? 'non-negative' : 'positive'} multiple of accessSize ${size}`,
    );
  }
  return null;
}

/** Tells a check's error from its value. */
export function isErr(v: unknown): v is Invalid {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}
