/**
 * One lookup stage of a TLB path: the levels an access probes at the same time, such as an L1
 * DTLB's separate arrays for 4K and 2M pages. A stage of one level is the classic hierarchy step.
 * Internal to hw/: {@link Tlb} applies the policy, this file answers stage-wide questions.
 */
import { NONE, type TlbLevel } from './tlb_level.js';

export class TlbStage {
  /** The level that held the translation in the last successful {@link TlbStage.find}. */
  found: TlbLevel;

  constructor(readonly levels: readonly TlbLevel[]) {
    this.found = levels[0]!;
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

  /**
   * Inserts a translation (entry base, size 2^eLog2, physical base, rights) for an access to va into
   * the one level that holds it best: the largest class <= eLog2, the earlier level on a tie.
   */
  insert(asid: number, va: number, eBase: number, eLog2: number, ePa: number, rights: number): void {
    let best: TlbLevel | null = null;
    let bestLog2 = -1;
    for (const l of this.levels) {
      const k = l.classFor[eLog2]!;
      if (k >= 0 && l.classes[k]! > bestLog2) {
        best = l;
        bestLog2 = l.classes[k]!;
      }
    }
    best?.insert(asid, va, eBase, eLog2, ePa, rights);
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

  private smallest(): number {
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
