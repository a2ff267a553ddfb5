/**
 * The fields of indexed regions that fault resolution reads, kept in flat arrays by record
 * number (region_index.ts). At a million regions a Region object is a cache and TLB miss of its
 * own, the most expensive step of a fault (V8 spreads the objects over the whole heap); typed
 * arrays are not, so the resolver reads these and touches the Region only to report it.
 */
import type { Dataspace } from './dataspace.js';
import type { Region } from './region_map.js';

/** Rights bits of a record. */
export const WRITEABLE = 1;
export const EXECUTABLE = 2;

/** Region fields by record number; a record lives while its region is in the index. */
export class RegionRecords {
  /** The region of each live record (undefined for free records). */
  readonly regions: Array<Region | undefined> = [];
  /** Its dataspace; null for a reserved hole. */
  readonly dataspaces: Array<Dataspace | null> = [];
  bases = new Float64Array(16);
  ends = new Float64Array(16);
  offsets = new Float64Array(16);
  /** WRITEABLE | EXECUTABLE. */
  rights = new Uint8Array(16);
  private readonly free: number[] = [];

  /** A record holding r's fields. */
  alloc(r: Region): number {
    let rec = this.free.pop();
    if (rec === undefined) {
      rec = this.regions.length;
      this.regions.push(undefined);
      this.dataspaces.push(null);
      if (rec === this.bases.length) this.grow();
    }
    this.regions[rec] = r;
    this.dataspaces[rec] = r.dataspace ?? null;
    this.bases[rec] = r.base;
    this.ends[rec] = r.base + r.size;
    this.offsets[rec] = r.offset;
    this.rights[rec] = (r.writeable ? WRITEABLE : 0) | (r.executable ? EXECUTABLE : 0);
    return rec;
  }

  release(rec: number): void {
    this.regions[rec] = undefined;
    this.dataspaces[rec] = null;
    this.free.push(rec);
  }

  private grow(): void {
    const n = this.bases.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.bases = f64(this.bases);
    this.ends = f64(this.ends);
    this.offsets = f64(this.offsets);
    const rights = new Uint8Array(n);
    rights.set(this.rights);
    this.rights = rights;
  }
}
