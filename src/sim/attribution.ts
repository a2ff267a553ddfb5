/**
 * Attribution of TLB misses and page faults to pages and instructions, like cachegrind's
 * per-line annotation: which pages and which instruction addresses cost the most. Counted on the
 * slow path only (a miss or a fault), so the hit path pays nothing; counts are exact.
 */
import { hex } from '../util/hex.js';

/** One line of a top list: an address (a page base or an instruction) and its count. */
export interface TopEntry {
  /** Page base or instruction address, as hex (`0x401000`). */
  readonly address: string;
  readonly count: number;
}

/** The top pages and instructions by one event. */
export interface TopPair {
  /** Events counted in all (the top lists' shares are of this). */
  readonly total: number;
  /** Pages of the smallest page size, by the events on them. */
  readonly pages: readonly TopEntry[];
  /** Instruction addresses, by the events their accesses caused. */
  readonly instructions: readonly TopEntry[];
}

/** What `--top N` reports: the N largest of each list, largest first, ties by ascending address. */
export interface TopLists {
  readonly tlbMisses: TopPair;
  readonly faults: TopPair;
}

function bump(m: Map<number, number>, k: number): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** The `n` largest entries of `m`, largest first, ties by ascending address. */
export function topOf(m: ReadonlyMap<number, number>, n: number): TopEntry[] {
  const all = [...m];
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return all.slice(0, n).map(([a, count]) => ({ address: hex(a), count }));
}

/** Counts per page and per instruction of one thread's (or a whole run's) misses and faults. */
export class Attribution {
  private readonly missPages = new Map<number, number>();
  private readonly missInstrs = new Map<number, number>();
  private readonly faultPages = new Map<number, number>();
  private readonly faultInstrs = new Map<number, number>();
  private readonly inv: number;

  /** `pageSize`: the smallest page size, a power of two. */
  constructor(private readonly pageSize: number) {
    this.inv = 1 / pageSize;
  }

  /** A counted translation of `va` missed every TLB level; `instr` is its instruction (NaN: none). */
  miss(va: number, instr: number): void {
    bump(this.missPages, Math.floor(va * this.inv) * this.pageSize);
    if (!Number.isNaN(instr)) bump(this.missInstrs, instr);
  }

  /** An access to `va` raised a page fault; `instr` is its instruction (NaN: none). */
  fault(va: number, instr: number): void {
    bump(this.faultPages, Math.floor(va * this.inv) * this.pageSize);
    if (!Number.isNaN(instr)) bump(this.faultInstrs, instr);
  }

  /** Forgets every count (a statistics reset). */
  clear(): void {
    for (const m of this.maps()) m.clear();
  }

  /** Adds the counts of `other` (another thread of the same run). */
  merge(other: Attribution): void {
    const mine = this.maps();
    other.maps().forEach((m, i) => {
      for (const [k, v] of m) mine[i]!.set(k, (mine[i]!.get(k) ?? 0) + v);
    });
  }

  /** The `n` largest entries of each list. */
  top(n: number): TopLists {
    const total = (m: ReadonlyMap<number, number>) => [...m.values()].reduce((a, v) => a + v, 0);
    return {
      tlbMisses: {
        total: total(this.missPages),
        pages: topOf(this.missPages, n),
        instructions: topOf(this.missInstrs, n),
      },
      faults: {
        total: total(this.faultPages),
        pages: topOf(this.faultPages, n),
        instructions: topOf(this.faultInstrs, n),
      },
    };
  }

  private maps(): Map<number, number>[] {
    return [this.missPages, this.missInstrs, this.faultPages, this.faultInstrs];
  }

  toString(): string {
    return `Attribution(${this.missPages.size} pages with misses, ${this.faultPages.size} with faults)`;
  }
}
