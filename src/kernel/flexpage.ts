/**
 * Flexpages and map items: how an L4 kernel names memory in IPC (issue 15, `local-rm`).
 *
 * A flexpage is a naturally aligned, power-of-two block of an address space with rights. A map
 * item is what a dataspace manager puts into its reply: a send flexpage in its own space, a hot
 * spot (L4's "send base") and whether the mapping is granted (moved) instead of mapped (copied).
 * The receiver opened a receive window, itself a flexpage. The kernel reconciles the two the way
 * L4 and Fiasco do: the smaller of the two sizes is transferred, and the hot spot picks which
 * aligned block of the larger one takes part (see {@link reconcile}).
 */
import { hex, sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';

/** Memory rights as bits, in L4's order: read 4, write 2, execute 1. */
export const MemRights = {
  NONE: 0,
  X: 1,
  W: 2,
  R: 4,
  RX: 5,
  RW: 6,
  RWX: 7,
} as const;

/** A set of memory rights: an integer 0..7 over {@link MemRights}. */
export type MemRightsMask = number;

/** `rwx`-style name of a rights mask (`r-x`, `rw-`, `---`). */
export function memRightsName(r: MemRightsMask): string {
  return `${r & MemRights.R ? 'r' : '-'}${r & MemRights.W ? 'w' : '-'}${r & MemRights.X ? 'x' : '-'}`;
}

/** The smallest flexpage L4 accepts for memory: one 4 KiB page. */
export const MIN_FPAGE_LOG2 = 12;
/** The largest flexpage: the whole modelled address range (addresses are exact up to 2^53). */
export const MAX_FPAGE_LOG2 = 53;

/** Why a flexpage or map item is malformed. */
export type FlexpageErrorCode = 'FPAGE_SIZE' | 'FPAGE_ADDRESS' | 'FPAGE_MISALIGNED' | 'FPAGE_RIGHTS';

/** A naturally aligned power-of-two block of an address space, with rights. */
export class Flexpage {
  /** Size in bytes. */
  readonly size: number;

  private constructor(
    /** First address, a multiple of the size. */
    readonly base: number,
    /** log2 of the size. */
    readonly sizeLog2: number,
    /** Rights it conveys ({@link MemRights}); a receive window ignores them. */
    readonly rights: MemRightsMask,
  ) {
    this.size = 2 ** sizeLog2;
  }

  /**
   * Checks and builds a flexpage: `sizeLog2` an integer in [`minLog2`, 53], `base` an integer
   * multiple of the size with base + size <= 2^53, rights an integer 0..7.
   */
  static of(
    base: number,
    sizeLog2: number,
    rights: MemRightsMask = MemRights.RWX,
    minLog2 = MIN_FPAGE_LOG2,
  ): Result<Flexpage, FlexpageErrorCode> {
    if (!Number.isInteger(sizeLog2) || sizeLog2 < minLog2 || sizeLog2 > MAX_FPAGE_LOG2)
      return err(
        'FPAGE_SIZE',
        `flexpage size 2^${sizeLog2} must be a power of two from ${sizeName(2 ** minLog2)} (2^${minLog2}) to 2^${MAX_FPAGE_LOG2}`,
      );
    const size = 2 ** sizeLog2;
    if (!Number.isInteger(base) || base < 0 || base + size > 2 ** MAX_FPAGE_LOG2)
      return err(
        'FPAGE_ADDRESS',
        `flexpage base ${Number.isInteger(base) && base >= 0 ? hex(base) : String(base)} + ${sizeName(size)} must lie in [0, 2^${MAX_FPAGE_LOG2})`,
      );
    if (base % size !== 0)
      return err(
        'FPAGE_MISALIGNED',
        `flexpage base ${hex(base)} must be a multiple of its size ${sizeName(size)}`,
      );
    if (!Number.isInteger(rights) || rights < 0 || rights > MemRights.RWX)
      return err('FPAGE_RIGHTS', `flexpage rights ${rights} must be an integer 0..7 (r=4, w=2, x=1)`);
    return ok(new Flexpage(base, sizeLog2, rights));
  }

  /** One past the last address. */
  get end(): number {
    return this.base + this.size;
  }

  /** True when `addr` lies inside. */
  contains(addr: number): boolean {
    return addr >= this.base && addr < this.base + this.size;
  }

  toString(): string {
    return `fpage ${hex(this.base)}+${sizeName(this.size)} ${memRightsName(this.rights)}`;
  }
}

/** A map item as carried in an IPC reply: a send flexpage, its hot spot, map or grant. */
export class MapItem {
  private constructor(
    /** The sender's flexpage, in the sender's address space; its rights cap the mapping's. */
    readonly fpage: Flexpage,
    /**
     * L4's send base: selects, modulo the larger of the two flexpages, which aligned block takes
     * part when the send flexpage and the receive window differ in size. A pager replying to a
     * page fault puts the fault address here.
     */
    readonly hotSpot: number,
    /** Grant (move the sender's mapping) instead of map (derive a child mapping). */
    readonly grant: boolean,
  ) {}

  /** Checks and builds a map item; the hot spot must be an integer in [0, 2^53). */
  static of(
    fpage: Flexpage,
    hotSpot: number,
    opts: { grant?: boolean } = {},
  ): Result<MapItem, 'FPAGE_ADDRESS'> {
    if (!Number.isInteger(hotSpot) || hotSpot < 0 || hotSpot >= 2 ** MAX_FPAGE_LOG2)
      return err(
        'FPAGE_ADDRESS',
        `map item hot spot ${hotSpot} must be an integer in [0, 2^${MAX_FPAGE_LOG2})`,
      );
    return ok(new MapItem(fpage, hotSpot, opts.grant ?? false));
  }

  toString(): string {
    return `${this.grant ? 'grant' : 'map'} item ${this.fpage} hot spot ${hex(this.hotSpot)}`;
  }
}

/** What a map item transfers once reconciled with a receive window. */
export interface Transfer {
  /** First sender address taking part. */
  readonly sendBase: number;
  /** Where it lands in the receiver's space. */
  readonly receiveBase: number;
  /** log2 of the transferred size: the smaller of the send flexpage and the window. */
  readonly sizeLog2: number;
  /** The send flexpage's rights (the sender's mappings cap them further). */
  readonly rights: MemRightsMask;
  /** Grant instead of map. */
  readonly grant: boolean;
}

/**
 * Reconciles a map item with a receive window, as L4 does. With n the smaller size, the block of
 * n bytes taking part is, on each side, the n-aligned block whose offset in its flexpage is the
 * hot spot modulo that flexpage's size, rounded down to n. So a send flexpage smaller than the
 * window lands where the hot spot points inside the window, and a window smaller than the send
 * flexpage receives the part of it the hot spot points at. Never fails: both flexpages are
 * already valid, and the result lies inside both.
 */
export function reconcile(item: MapItem, window: Flexpage): Transfer {
  const snd = item.fpage;
  const sizeLog2 = Math.min(snd.sizeLog2, window.sizeLog2);
  const n = 2 ** sizeLog2;
  const pick = (f: Flexpage): number => {
    const off = item.hotSpot % f.size;
    return f.base + (off - (off % n));
  };
  return { sendBase: pick(snd), receiveBase: pick(window), sizeLog2, rights: snd.rights, grant: item.grant };
}
