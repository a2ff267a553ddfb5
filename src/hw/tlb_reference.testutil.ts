/**
 * The naive TLB reference the Tlb tests compare against (BigInt arithmetic, one array per set
 * ordered most recently used first), the checks that compare its state with a real Tlb, and the
 * address arbitraries the tests share. Kept apart from the tests so the model-based property test
 * (tlb.property.test.ts) and the unit tests (tlb.test.ts) use one reference.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { TlbLevelSpec } from './arch.js';
import type { Tlb, TlbAccess, TlbMapping } from './tlb.js';

export const K4 = 12;
export const K16 = 14;
export const M2 = 21;
export const G1 = 30;

// ---------------------------------------------------------------------------------------------
// Naive reference: BigInt arithmetic, one array per set ordered most recently used first.

export interface RefEntry {
  asid: number;
  base: bigint;
  sizeLog2: number;
  pa: bigint;
  w: boolean;
  x: boolean;
}

export class RefLevel {
  readonly classes: number[];
  readonly nsets: number;
  readonly sets: RefEntry[][];
  hits = 0;
  misses = 0;
  evictions = 0;
  invalidations = 0;
  readonly classHits = new Map<number, number>();
  /** Misses by log2 of the size of the translation that resolved them (a deeper entry, a walk). */
  readonly classMisses = new Map<number, number>();

  constructor(readonly spec: TlbLevelSpec) {
    this.classes = [...spec.pageSizesLog2].sort((a, b) => a - b);
    this.nsets = spec.entries / spec.ways;
    this.sets = Array.from({ length: this.nsets }, () => []);
    for (const c of this.classes) this.classHits.set(c, 0);
  }

  set(base: bigint, c: number): RefEntry[] {
    return this.sets[Number((base >> BigInt(c)) % BigInt(this.nsets))]!;
  }

  find(asid: number, va: bigint): RefEntry | undefined {
    for (const c of this.classes) {
      const block = (va >> BigInt(c)) << BigInt(c);
      const e = this.set(block, c).find((e) => e.asid === asid && e.sizeLog2 === c && e.base === block);
      if (e) return e;
    }
    return undefined;
  }

  resolved(sizeLog2: number): void {
    this.classMisses.set(sizeLog2, (this.classMisses.get(sizeLog2) ?? 0) + 1);
  }

  touch(e: RefEntry): void {
    const s = this.set(e.base, e.sizeLog2);
    s.splice(s.indexOf(e), 1);
    s.unshift(e);
  }

  /** The class this level would hold a mapping of size 2^eLog2 in (split rule), or undefined. */
  fit(eLog2: number): number | undefined {
    return this.classes.filter((c) => c <= eLog2).at(-1);
  }

  insert(asid: number, va: bigint, eBase: bigint, eLog2: number, ePa: bigint, w: boolean, x: boolean): void {
    const c = this.fit(eLog2);
    if (c === undefined) return;
    const base = (va >> BigInt(c)) << BigInt(c);
    const pa = ePa + (base - eBase);
    const s = this.set(base, c);
    const old = s.find((e) => e.asid === asid && e.sizeLog2 === c && e.base === base);
    if (old) {
      Object.assign(old, { pa, w, x });
      this.touch(old);
      return;
    }
    if (s.length === this.spec.ways) {
      s.pop();
      this.evictions++;
    }
    s.unshift({ asid, base, sizeLog2: c, pa, w, x });
  }

  flush(pred: (e: RefEntry) => boolean): void {
    for (let i = 0; i < this.sets.length; i++) {
      const keep = this.sets[i]!.filter((e) => !pred(e));
      this.invalidations += this.sets[i]!.length - keep.length;
      this.sets[i] = keep;
    }
  }
}

export class RefTlb {
  readonly levels: RefLevel[];
  last: RefEntry | undefined;
  lastPa = 0n;
  /** The last operation was a lookup missing everywhere: a fill of the same translation resolves it. */
  pending: { asid: number; va: bigint; kind: TlbAccess } | undefined;

  constructor(specs: readonly TlbLevelSpec[]) {
    this.levels = specs.map((s) => new RefLevel(s));
  }

  /**
   * The path of `kind` as stages. In the full list, `a|b|c` (b and c marked parallel) is one stage;
   * a path keeps the stage's levels that serve its kind.
   */
  stages(kind: TlbAccess): RefLevel[][] {
    const groups: RefLevel[][] = [];
    for (const l of this.levels) {
      if (l.spec.parallel && groups.length > 0) groups.at(-1)!.push(l);
      else groups.push([l]);
    }
    return groups
      .map((g) => g.filter((l) => l.spec.kind === kind || l.spec.kind === 'unified'))
      .filter((g) => g.length > 0);
  }

  /** The first level of a stage holding va, with its entry. */
  static probe(stage: RefLevel[], asid: number, va: bigint): [RefLevel, RefEntry] | undefined {
    for (const l of stage) {
      const e = l.find(asid, va);
      if (e) return [l, e];
    }
    return undefined;
  }

  /** A stage takes a mapping in its one level with the largest fitting class (the first on a tie). */
  static insert(stage: RefLevel[], asid: number, va: bigint, e: Omit<RefEntry, 'asid'>): void {
    let best: RefLevel | undefined;
    for (const l of stage) if ((l.fit(e.sizeLog2) ?? -1) > (best?.fit(e.sizeLog2) ?? -1)) best = l;
    best?.insert(asid, va, e.base, e.sizeLog2, e.pa, e.w, e.x);
  }

  lookup(asid: number, va: bigint, kind: TlbAccess): number {
    this.pending = undefined;
    const stages = this.stages(kind);
    for (let p = 0; p < stages.length; p++) {
      const hit = RefTlb.probe(stages[p]!, asid, va);
      if (!hit) {
        for (const l of stages[p]!) l.misses++;
        continue;
      }
      const [l, e] = hit;
      l.hits++;
      l.classHits.set(e.sizeLog2, l.classHits.get(e.sizeLog2)! + 1);
      l.touch(e);
      this.last = e;
      this.lastPa = e.pa + (va - e.base);
      for (const up of stages.slice(0, p)) {
        for (const x of up) x.resolved(e.sizeLog2);
        RefTlb.insert(up, asid, va, { ...e });
      }
      return this.levels.indexOf(l);
    }
    this.pending = { asid, va, kind };
    return -1;
  }

  fill(asid: number, va: bigint, kind: TlbAccess, m: TlbMapping): void {
    const e = {
      base: BigInt(m.vaBase),
      sizeLog2: m.sizeLog2,
      pa: BigInt(m.paBase),
      w: m.writeable,
      x: m.executable,
    };
    const p = this.pending;
    const walked = p !== undefined && p.asid === asid && p.va === va && p.kind === kind;
    this.pending = undefined;
    for (const stage of this.stages(kind)) {
      if (walked) for (const l of stage) l.resolved(m.sizeLog2);
      RefTlb.insert(stage, asid, va, e);
    }
  }
}

/** Compares every counter and every entry (set by set, MRU first) of the two models. */
export function expectSameState(model: RefTlb, real: Tlb): void {
  const stats = real.stats();
  model.levels.forEach((l, i) => {
    const s = stats[i]!;
    expect([s.hits, s.misses, s.evictions, s.invalidations]).toEqual([
      l.hits,
      l.misses,
      l.evictions,
      l.invalidations,
    ]);
    expect(s.hitsBySizeLog2).toEqual(Object.fromEntries(l.classHits));
    expect(s.missesBySizeLog2).toEqual(Object.fromEntries(l.classMisses));
    const want = l.sets.flatMap((set, si) =>
      set.map((e) => [si, e.asid, e.base, e.sizeLog2, e.pa, e.w, e.x].join(' ')),
    );
    const got = real
      .entries(i)
      .map((e) =>
        [e.set, e.asid, BigInt(e.vaBase), e.sizeLog2, BigInt(e.paBase), e.writeable, e.executable].join(' '),
      );
    expect(got).toEqual(want);
    expect(s.valid).toBe(want.length);
    // Every entry must be reachable through the index, not only present in the recency lists.
    for (const set of l.sets)
      for (const e of set) expect(real.translates(e.asid, Number(e.base), i)).toBe(true);
  });
}

/** The `last*` fields describe the same translation as the model's last hit. */
export function expectSameLastHit(model: RefTlb, real: Tlb): void {
  expect(BigInt(real.lastPa)).toBe(model.lastPa);
  expect([real.lastWriteable, real.lastExecutable, real.lastSizeLog2]).toEqual([
    model.last!.w,
    model.last!.x,
    model.last!.sizeLog2,
  ]);
}

/** Virtual addresses around 0, the 4 GiB boundary and 2^47, so 32-bit truncation bugs show. */
export const vaIn = (blocks2M: number, pages4K: number) =>
  fc
    .tuple(
      fc.constantFrom(0, 2 ** 32 - 2 ** 22, 2 ** 47 - 2 ** 22),
      fc.integer({ min: 0, max: blocks2M - 1 }),
      fc.integer({ min: 0, max: pages4K - 1 }),
      fc.constantFrom(0, 8, 4095),
    )
    .map(([r, hi, lo, off]) => r + hi * 2 ** M2 + lo * 2 ** K4 + off);
/** A small universe of addresses (many hits). */
export const vaArb = vaIn(4, 8);
