/**
 * RAM and capability quotas. Region maps, regions, signal contexts and dataspaces are paid from
 * the session that creates them (DESIGN.md §2 "Accounting"); running out is a typed error that
 * changes nothing, and destroying an object returns exactly what it cost.
 */
import { sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';

/** What one kind of object costs its session. */
export interface Cost {
  readonly ram: number;
  readonly caps: number;
}

/**
 * Metadata costs. Genode pays region-map sessions and their `Rm_region` slab entries from the
 * client's quota; these figures are of that order (a session object plus AVL allocator, one
 * slab entry per region) and are kept small so quota tests stay readable.
 */
export const COSTS = {
  /** A region map: session object, its AVL tree root and the capability of its dataspace. */
  regionMap: { ram: 8192, caps: 2 },
  /** One attached region (a slab entry). */
  region: { ram: 128, caps: 0 },
  /** A signal context (its capability). */
  signalContext: { ram: 64, caps: 1 },
  /** The capability of a RAM, ROM or I/O dataspace; RAM dataspaces also pay their size. */
  dataspace: { ram: 0, caps: 1 },
  /** A thread (its capability). */
  thread: { ram: 0, caps: 1 },
} as const satisfies Record<string, Cost>;

/** Quota error codes. */
export type QuotaErrorCode = 'OUT_OF_RAM' | 'OUT_OF_CAPS';

/** The RAM and capability quota of one session. */
export class Quota {
  ramUsed = 0;
  capsUsed = 0;

  constructor(
    readonly ramLimit: number,
    readonly capLimit: number,
  ) {}

  /** Checks that `ram` bytes and `caps` capabilities can be withdrawn, without withdrawing. */
  check(ram: number, caps: number, what: string): Result<void, QuotaErrorCode> {
    if (this.ramUsed + ram > this.ramLimit) {
      return err(
        'OUT_OF_RAM',
        `${what} needs ${sizeName(ram)} of RAM quota but only ${sizeName(this.ramLimit - this.ramUsed)} of ${sizeName(this.ramLimit)} is left`,
      );
    }
    if (this.capsUsed + caps > this.capLimit) {
      return err(
        'OUT_OF_CAPS',
        `${what} needs ${caps} capabilities but only ${this.capLimit - this.capsUsed} of ${this.capLimit} are left`,
      );
    }
    return ok(undefined);
  }

  /** Withdraws after a successful check; all or nothing. */
  withdraw(ram: number, caps: number, what: string): Result<void, QuotaErrorCode> {
    const c = this.check(ram, caps, what);
    if (!c.ok) return c;
    this.ramUsed += ram;
    this.capsUsed += caps;
    return c;
  }

  /** Returns what an object cost. */
  replenish(ram: number, caps: number): void {
    this.ramUsed -= ram;
    this.capsUsed -= caps;
  }

  toString(): string {
    return `quota ram ${sizeName(this.ramUsed)}/${sizeName(this.ramLimit)} caps ${this.capsUsed}/${this.capLimit}`;
  }
}
