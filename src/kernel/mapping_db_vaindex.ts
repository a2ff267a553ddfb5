/**
 * One space's nodes of one page size, by virtual page number. Consecutive pages share a chunk of
 * 16 entries under one hash-map key, so faults, maps and revocations that walk an address range
 * touch one small map entry per 16 pages instead of scattering over a large hash table (the
 * mapping database's hot path was hash-table cache misses). A chunk costs about 100 bytes, so a
 * space of isolated single pages pays at most that per mapping.
 */
import { NONE } from './mapping_db_table.js';

const SHIFT = 16; // entries per chunk
const COUNT = SHIFT; // index of a chunk's live-entry count

/** Virtual page number -> node slot, for one space and page size. */
export class VaIndex {
  private readonly chunks = new Map<number, number[]>();
  private n = 0;

  /** Entries held. */
  get size(): number {
    return this.n;
  }

  /** The slot at `vpn`, or NONE. */
  get(vpn: number): number {
    const c = this.chunks.get(Math.floor(vpn / SHIFT));
    return c === undefined ? NONE : c[vpn % SHIFT]!;
  }

  set(vpn: number, slot: number): void {
    const k = Math.floor(vpn / SHIFT);
    let c = this.chunks.get(k);
    if (c === undefined) {
      c = [NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, 0];
      this.chunks.set(k, c);
    }
    const i = vpn % SHIFT;
    if (c[i] === NONE) {
      c[COUNT]!++;
      this.n++;
    }
    c[i] = slot;
  }

  delete(vpn: number): void {
    const k = Math.floor(vpn / SHIFT);
    const c = this.chunks.get(k);
    const i = vpn % SHIFT;
    if (c === undefined || c[i] === NONE) return;
    c[i] = NONE;
    this.n--;
    if (--c[COUNT]! === 0) this.chunks.delete(k);
  }

  /** Appends the slots at pages [first, last) to `out`: probes chunk by chunk, or scans all chunks when fewer. */
  collect(first: number, last: number, out: number[]): void {
    const k0 = Math.floor(first / SHIFT);
    const k1 = Math.ceil(last / SHIFT);
    if (k1 - k0 <= this.chunks.size) {
      for (let k = k0; k < k1; k++) {
        const c = this.chunks.get(k);
        if (c !== undefined) this.pick(c, k, first, last, out);
      }
    } else for (const [k, c] of this.chunks) if (k >= k0 && k < k1) this.pick(c, k, first, last, out);
  }

  /** Every slot held. */
  values(): number[] {
    const out: number[] = [];
    for (const c of this.chunks.values()) for (let i = 0; i < SHIFT; i++) if (c[i] !== NONE) out.push(c[i]!);
    return out;
  }

  private pick(c: number[], k: number, first: number, last: number, out: number[]): void {
    const base = k * SHIFT;
    const lo = Math.max(first - base, 0);
    const hi = Math.min(last - base, SHIFT);
    for (let i = lo; i < hi; i++) if (c[i] !== NONE) out.push(c[i]!);
  }
}
