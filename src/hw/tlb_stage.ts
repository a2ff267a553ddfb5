/**
 * One lookup stage of a TLB path: the levels an access probes at the same time, such as an L1
 * DTLB's separate arrays for 4K and 2M pages. A stage of one level is the classic hierarchy step.
 * Internal to hw/: {@link Tlb} applies the policy, this file answers stage-wide questions.
 */
import { NONE, type TlbLevel } from './tlb_level.js';

export class TlbStage {
  /** The level that held the translation in the last successful {@link TlbStage.find}. */
  found: TlbLevel;

  /** Per log2 size of a translation: the level {@link TlbStage.insert} puts it in (levels are fixed). */
  private readonly targets: (TlbLevel | null)[] = [];

  constructor(readonly levels: readonly TlbLevel[]) {
    this.found = levels[0]!;
    for (let eLog2 = 0; eLog2 < 64; eLog2++) {
      let best: TlbLevel | null = null;
      let bestLog2 = -1;
      for (const l of levels) {
        const k = l.classFor[eLog2]!;
        if (k >= 0 && l.classes[k]! > bestLog2) {
          best = l;
          bestLog2 = l.classes[k]!;
        }
      }
      this.targets.push(best);
    }
  }

  /**
   * Slot translating va for asid in the first level of the stage that holds it (that level is then
   * {@link TlbStage.found}), or -1; no side effects.
   */
  find(asid: number, va: number): number {
    const ls = this.levels;
    for (let j = 0; j < ls.length; j++) {
      const l = ls[j]!;
      const i = l.find(asid, va);
      if (i >= 0) {
        this.found = l;
        return i;
      }
    }
    return NONE;
  }

  /** Counts a miss in every level: none of them held the translation. */
  miss(): void {
    for (const l of this.levels) l.misses++;
  }

  /** The stage's last miss was resolved by a translation of size 2^sizeLog2 (statistics only). */
  resolved(sizeLog2: number): void {
    for (const l of this.levels) l.missLog2[sizeLog2]!++;
  }

  /**
   * Inserts a translation (entry base, size 2^eLog2, physical base, rights) for an access to va into
   * its {@link TlbStage.target} level; returns that level, or null when no level holds the size.
   * `missed`: a lookup of va in this stage just missed (nothing changed since), so no level needs
   * to search for an entry to update in place.
   */
  insert(
    asid: number,
    va: number,
    eBase: number,
    eLog2: number,
    ePa: number,
    rights: number,
    missed: boolean,
  ): TlbLevel | null {
    const l = this.targets[eLog2]!;
    l?.insert(asid, va, eBase, eLog2, ePa, rights, missed);
    return l;
  }

  /**
   * The one level an insert of a translation of size 2^eLog2 goes to: the one that holds it best, with
   * the largest class <= eLog2, the earlier level on a tie; null when none holds it.
   */
  target(eLog2: number): TlbLevel | null {
    return this.targets[eLog2]!;
  }

  /** Changes whenever any level of the stage has an insert or invalidation (epochs only grow). */
  get epoch(): number {
    let e = 0;
    for (const l of this.levels) e += l.epoch;
    return e;
  }

  /**
   * Size of the block around an access that slot i of level l (just found for it) serves alone while
   * the stage is unchanged: the entry's whole page unless a smaller valid entry of the same address
   * space in l, or any in an earlier level of the stage, lies inside it and would shadow part of it;
   * then the stage's smallest class (aligned blocks of that size lie wholly inside or outside any
   * entry).
   */
  blockSize(l: TlbLevel, i: number): number {
    const k = l.cls[i]!;
    const size = l.pow[k]!;
    for (const x of this.levels) {
      if (x.holdsInside(l.asid[i]!, l.base[i]!, size)) return this.smallest();
      if (x === l) break;
    }
    return size;
  }

  /** Size of the stage's smallest class: aligned blocks of it lie wholly inside or outside any entry. */
  smallest(): number {
    let s = Number.POSITIVE_INFINITY;
    for (const l of this.levels) s = Math.min(s, l.pow[0]!);
    return s;
  }
}

/**
 * The stages of the path of accesses of `kind` ('instruction' or 'data'): its levels in list order,
 * consecutive ones joined while a level is marked parallel to the one before it in the full list.
 */
export function pathStages(levels: readonly TlbLevel[], kind: 'instruction' | 'data'): TlbStage[] {
  const other = kind === 'instruction' ? 'data' : 'instruction';
  const out: TlbLevel[][] = [];
  let stage = NONE; // list index of the level that opened the current stage
  let last = NONE; // stage of the last level taken into the path
  levels.forEach((l, i) => {
    if (i === 0 || l.spec.parallel !== true) stage = i;
    if (l.spec.kind === other) return;
    if (stage === last) out[out.length - 1]!.push(l);
    else out.push([l]);
    last = stage;
  });
  return out.map((ls) => new TlbStage(ls));
}

/**
 * Records slot i of level l, hit by an access to va, as the last hit in `hit`: physical address,
 * rights, log2 size.
 */
export function recordHit(hit: Float64Array, l: TlbLevel, i: number, va: number): void {
  hit[0] = l.pa[i]! + (va - l.base[i]!);
  hit[1] = l.rights[i]!;
  hit[2] = l.classes[l.cls[i]!]!;
}

/**
 * One lookup along a path of stages: the first stage holding va hits (LRU touch, statistics, the
 * last hit in `hit`) and refills every earlier stage from the hit entry; each stage before it counts a
 * miss, resolved by the hit entry's size. Returns the index of the level that hit, or -1.
 */
export function searchPath(stages: readonly TlbStage[], asid: number, va: number, hit: Float64Array): number {
  for (let p = 0; p < stages.length; p++) {
    const st = stages[p]!;
    const i = st.find(asid, va);
    if (i < 0) {
      st.miss();
      continue;
    }
    const l = st.found;
    const k = l.cls[i]!;
    l.hits++;
    l.classHits[k]!++;
    l.touch(i);
    recordHit(hit, l, i, va);
    if (p > 0) {
      const eLog2 = l.classes[k]!;
      for (let q = 0; q < p; q++) {
        const st = stages[q]!;
        st.resolved(eLog2);
        st.insert(asid, va, l.base[i]!, eLog2, l.pa[i]!, l.rights[i]!, true);
      }
    }
    return l.index;
  }
  return NONE;
}
