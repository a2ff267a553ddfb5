/**
 * Dataspaces: memory objects that region maps attach. RAM is backed by contiguous physical
 * memory and zero-filled; ROM is read-only; I/O memory names a physical device range; a managed
 * dataspace is a region map used as memory (the nesting that makes on-demand paging possible).
 */
import { ctz } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import type { PdSession } from './pd_session.js';
import type { Region, RegionMap } from './region_map.js';

/** Kind of a dataspace. */
export type DataspaceKind = 'ram' | 'rom' | 'io_mem' | 'managed';

/** Cache attribute of a dataspace's mappings. */
export type CacheAttr = 'cached' | 'uncached' | 'write-combined';

/** A memory object. */
export class Dataspace {
  /** Regions where this dataspace is attached, in attach order (used for revocation and reserved holes). */
  readonly regions = new Set<Region>();
  destroyed = false;
  /**
   * Sealed RAM (Genode's `Pd_session::seal_ram`): attachments made from now on are read-only.
   * Existing attachments keep their rights and mappings, so the sealer may still write.
   */
  sealed = false;

  constructor(
    readonly id: number,
    readonly kind: DataspaceKind,
    readonly size: number,
    /** Physical base for RAM, ROM and I/O memory; 0 for managed dataspaces. */
    readonly phys: number,
    /** False for ROM (sealing does not change it: it limits later attachments only). */
    readonly writeable: boolean,
    readonly cache: CacheAttr,
    /** The session whose free destroys it. */
    readonly owner: PdSession,
    /** The region map behind a managed dataspace. */
    readonly managed: RegionMap | null,
    /** Physical-memory partition the backing store came from (0 with one global allocator). */
    readonly partition = 0,
  ) {}

  /** log2 of the alignment of the backing store at `offset` (unbounded for managed dataspaces). */
  backingAlignLog2(offset: number): number {
    return this.kind === 'managed' ? 64 : ctz(this.phys + offset);
  }

  toString(): string {
    const where = this.kind === 'managed' ? `region map #${this.managed!.id}` : `phys ${hex(this.phys)}`;
    const flags = `${this.writeable ? 'rw' : 'ro'}${this.sealed ? ', sealed' : ''}${this.destroyed ? ', destroyed' : ''}`;
    return `${this.kind} dataspace #${this.id} (${sizeName(this.size)}, ${where}, ${flags})`;
  }
}
