/**
 * Kernel-memory accounting for the mapping database. Fiasco charges every mapping node to the
 * RAM quota of the address space that receives the mapping; here the kernel layer only sees this
 * small interface, so a higher layer (core's quotas, a per-task budget in the simulator) can pay
 * without the kernel importing it. A charge either succeeds completely or changes nothing.
 */
import { sizeName } from '../util/hex.js';
import { err, invariant, type Ok, ok, type Result } from '../util/result.js';

/** The one way a kernel-memory charge fails. */
export type KernelMemoryErrorCode = 'OUT_OF_KERNEL_MEMORY';

/** Something that pays for kernel objects (here: mapping-database nodes). */
export interface KernelMemory {
  /** Takes `bytes` for `what`, or fails with OUT_OF_KERNEL_MEMORY and takes nothing. */
  charge(bytes: number, what: string): Result<void, KernelMemoryErrorCode>;
  /** Gives back bytes an earlier charge took. */
  release(bytes: number): void;
}

/** One shared success value: a charge on the insertion path allocates nothing. */
const CHARGED: Ok<void> = Object.freeze(ok(undefined));

/** A plain budget: a limit and what is used of it. */
export class KernelMemoryPool implements KernelMemory {
  private usedBytes = 0;

  constructor(
    /** Bytes it may hand out; Infinity for no limit. */
    readonly limit: number,
    /** Who pays, for messages, e.g. `pd 'init -> app'`. */
    readonly label = 'kernel memory',
  ) {}

  /** Bytes charged and not yet released. */
  get used(): number {
    return this.usedBytes;
  }

  /** Bytes still available. */
  get available(): number {
    return this.limit - this.usedBytes;
  }

  charge(bytes: number, what: string): Result<void, KernelMemoryErrorCode> {
    if (this.usedBytes + bytes > this.limit)
      return err(
        'OUT_OF_KERNEL_MEMORY',
        `${what} needs ${sizeName(bytes)} of kernel memory but ${this.label} has ${sizeName(this.limit - this.usedBytes)} of ${sizeName(this.limit)} left`,
      );
    this.usedBytes += bytes;
    return CHARGED;
  }

  release(bytes: number): void {
    invariant(
      bytes <= this.usedBytes,
      () => `${this.label}: releasing ${bytes} bytes but only ${this.usedBytes} are charged`,
    );
    this.usedBytes -= bytes;
  }

  toString(): string {
    return `${this.label}: ${sizeName(this.usedBytes)} of ${Number.isFinite(this.limit) ? sizeName(this.limit) : 'unlimited'} used`;
  }
}
