/**
 * Memory-access trace records shared by every trace reader and generator. Records travel in
 * reusable structure-of-arrays batches so that parsing and replay allocate nothing per access.
 */
import { hex, sizeName } from '../util/hex.js';

/** Instruction fetch (lackey `I`). */
export const INSTR = 0;
/** Data load (lackey ` L`). */
export const LOAD = 1;
/** Data store (lackey ` S`). */
export const STORE = 2;
/** Read-modify-write (lackey ` M`): one translation, treated as a write. */
export const MODIFY = 3;

/** Kind of one access: {@link INSTR}, {@link LOAD}, {@link STORE} or {@link MODIFY}. */
export type AccessKind = typeof INSTR | typeof LOAD | typeof STORE | typeof MODIFY;

/** Number of access kinds (kinds are 0..KIND_COUNT-1). */
export const KIND_COUNT = 4;

/** Lackey letters of the kinds, indexed by kind. */
export const KIND_LETTERS: readonly string[] = ['I', 'L', 'S', 'M'];

/** Largest access size a trace record may carry, in bytes: one 4K page (Valgrind reports far smaller). */
export const MAX_ACCESS_SIZE = 4096;

/**
 * Largest address a trace record may carry (2^53-1): addresses are exact JavaScript numbers. See
 * {@link TraceBatch.addr} for the sign-extended representation of the upper half.
 */
export const MAX_TRACE_ADDRESS = Number.MAX_SAFE_INTEGER;

/**
 * Smallest address a trace record may carry: -2^53, the sign-extended 64-bit address
 * `0xffe0000000000000` (see {@link TraceBatch.addr}).
 */
export const MIN_TRACE_ADDRESS = -(2 ** 53);

/** Default number of records per batch. */
export const DEFAULT_BATCH_CAPACITY = 65536;

/** One access, as a plain object (for tests and diagnostics; hot paths read batches directly). */
export interface TraceRecord {
  readonly kind: AccessKind;
  readonly addr: number;
  readonly size: number;
}

/** Formats one record the way lackey prints it, e.g. ` L 0x4222cac,8`. */
export function recordToString(kind: number, addr: number, size: number): string {
  return `${kind === INSTR ? 'I ' : ` ${KIND_LETTERS[kind]}`} ${hex(addr)},${size}`;
}

/**
 * A reusable batch of trace records in structure-of-arrays form. Producers fill `kind`, `addr`
 * and `size` at indices `0..length-1` and hand the batch to a {@link TraceSink}; the batch is
 * reused after the sink returns, so a sink that keeps records must copy them.
 */
export class TraceBatch {
  /** Access kind per record ({@link AccessKind}). */
  readonly kind: Uint8Array;
  /**
   * Virtual address per record: a 64-bit address, sign-extended into an exact integer in
   * {@link MIN_TRACE_ADDRESS}..{@link MAX_TRACE_ADDRESS} (-2^53..2^53-1). Lower-half addresses
   * are themselves; an upper-half address u (bits 63..53 all set) is the negative number u - 2^64.
   * So a canonical 48-bit kernel-half address 0xffff_8000_0000_0000 + x is x - 2^47, and the
   * vsyscall page 0xffffffffff600000 is -0xa00000. Addresses whose bits 63..53 differ are not
   * canonical on any supported architecture; the readers reject them. Whether an address is in
   * the user half of a given architecture is the replay's business (an access outside kills the
   * thread), not the batch's.
   */
  readonly addr: Float64Array;
  /** Access size in bytes per record (1..{@link MAX_ACCESS_SIZE}). */
  readonly size: Uint32Array;
  /** Number of valid records. */
  length = 0;

  /**
   * Creates an empty batch holding up to `capacity` records, in new arrays or in `storage` (arrays
   * of at least `capacity` elements, e.g. views of shared memory filled by a reader thread).
   */
  constructor(
    readonly capacity: number = DEFAULT_BATCH_CAPACITY,
    storage?: { readonly kind: Uint8Array; readonly addr: Float64Array; readonly size: Uint32Array },
  ) {
    this.kind = storage?.kind ?? new Uint8Array(capacity);
    this.addr = storage?.addr ?? new Float64Array(capacity);
    this.size = storage?.size ?? new Uint32Array(capacity);
  }

  /** True when no more records fit. */
  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Appends one record; the caller checks {@link full} first. */
  push(kind: AccessKind, addr: number, size: number): void {
    const i = this.length++;
    this.kind[i] = kind;
    this.addr[i] = addr;
    this.size[i] = size;
  }

  /** A batch of its own holding exactly these records: what a sink that keeps records stores. */
  copy(): TraceBatch {
    const c = new TraceBatch(this.length);
    c.kind.set(this.kind.subarray(0, this.length));
    c.addr.set(this.addr.subarray(0, this.length));
    c.size.set(this.size.subarray(0, this.length));
    c.length = this.length;
    return c;
  }

  /** Empties the batch (keeps the storage). */
  clear(): void {
    this.length = 0;
  }

  /** Record `i` as a plain object (allocates; not for hot paths). */
  get(i: number): TraceRecord {
    return { kind: this.kind[i] as AccessKind, addr: this.addr[i]!, size: this.size[i]! };
  }

  /** All records as plain objects (allocates; for tests). */
  toRecords(): TraceRecord[] {
    const out: TraceRecord[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.get(i));
    return out;
  }

  toString(): string {
    const shown = Math.min(this.length, 4);
    const parts: string[] = [];
    for (let i = 0; i < shown; i++)
      parts.push(recordToString(this.kind[i]!, this.addr[i]!, this.size[i]!).trim());
    const more = this.length > shown ? `, ... ${this.length - shown} more` : '';
    return `TraceBatch(${this.length}/${this.capacity}: ${parts.join('; ')}${more})`;
  }
}

/**
 * Receives filled batches. Returning `false` asks the producer to stop early (the rest of the
 * input is not read); any other return value continues.
 */
export type TraceSink = (batch: TraceBatch) => unknown;

/**
 * Hands a producer the batch to fill next, after it delivered the last one to its sink (which may
 * keep it). Without one a producer refills a single batch; the reader thread supplies slots of its
 * shared ring, so records are parsed into shared memory and never copied.
 */
export type BatchSupply = () => TraceBatch;

/**
 * The arrays a producer's hot loop writes records into, rebound with {@link BatchTarget.use} when
 * a {@link BatchSupply} hands it the next batch (the loops take typed arrays, not the batch object).
 */
export class BatchTarget {
  kinds: Uint8Array;
  addrs: Float64Array;
  sizes: Uint32Array;

  constructor(batch: TraceBatch) {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }

  /** Writes into `batch` from now on. */
  use(batch: TraceBatch): void {
    this.kinds = batch.kind;
    this.addrs = batch.addr;
    this.sizes = batch.size;
  }
}

/** Summary of a trace: what `faultline trace info` prints. */
export class TraceInfo {
  constructor(
    /** Total number of records. */
    readonly records: number,
    /** Records per kind, indexed by {@link AccessKind}. */
    readonly perKind: readonly number[],
    /** Distinct 4K pages touched (an access crossing a page boundary touches both pages). */
    readonly pages: number,
    /** Lowest address accessed, sign-extended (upper-half addresses are negative; 0 when there are no records). */
    readonly lowest: number,
    /** Highest byte address accessed, sign-extended (inclusive; -1 when there are no records). */
    readonly highest: number,
  ) {}

  /** Bytes of distinct 4K pages touched. */
  get footprint(): number {
    return this.pages * 4096;
  }

  toString(): string {
    const kinds = this.perKind.map((n, k) => `${KIND_LETTERS[k]} ${n}`).join(', ');
    const range = this.records === 0 ? 'no addresses' : `addresses ${hex(this.lowest)}..${hex(this.highest)}`;
    return `${this.records} records (${kinds}), ${this.pages} distinct 4K pages (${sizeName(this.footprint)} footprint), ${range}`;
  }
}

const PAGE = 4096;

/** Accumulates a {@link TraceInfo} from batches; use `collector.sink` as a {@link TraceSink}. */
export class TraceInfoCollector {
  private records = 0;
  private readonly perKind = [0, 0, 0, 0];
  private readonly pageSet = new Set<number>();
  private lowest = Number.POSITIVE_INFINITY;
  // Not -1: upper-half addresses are negative, and page -1 is the top page of the address space.
  private highest = Number.NEGATIVE_INFINITY;
  private lastPage = Number.NaN;

  /** Adds every record of a batch. */
  add(batch: TraceBatch): void {
    const { kind, addr, size } = batch;
    const n = batch.length;
    const perKind = this.perKind;
    let lo = this.lowest;
    let hi = this.highest;
    let last = this.lastPage;
    for (let i = 0; i < n; i++) {
      const a = addr[i]!;
      const end = a + size[i]! - 1;
      perKind[kind[i]!]!++;
      if (a < lo) lo = a;
      if (end > hi) hi = end;
      const p = Math.floor(a / PAGE);
      if (p !== last) {
        this.pageSet.add(p);
        last = p;
      }
      const q = Math.floor(end / PAGE);
      if (q !== p) {
        this.pageSet.add(q);
        last = q;
      }
    }
    this.records += n;
    this.lowest = lo;
    this.highest = hi;
    this.lastPage = last;
  }

  /** A sink that adds each batch and never stops the producer. */
  readonly sink: TraceSink = (batch) => {
    this.add(batch);
  };

  /** The summary of everything added so far. */
  result(): TraceInfo {
    const empty = this.records === 0;
    return new TraceInfo(
      this.records,
      [...this.perKind],
      this.pageSet.size,
      empty ? 0 : this.lowest,
      empty ? -1 : this.highest,
    );
  }
}

/**
 * Views a chunk as a plain `Uint8Array` (no copy). Node's `Buffer` is a subclass with another
 * hidden class; mixing it with plain arrays in one hot loop makes V8's element access polymorphic.
 */
export function plainBytes(chunk: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(chunk) === Uint8Array.prototype
    ? chunk
    : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
