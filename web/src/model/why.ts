/**
 * "Why this size": the constraint chain of a fault's mapping size, and the counterfactual: where
 * the attach of the outermost region would have to lie for virtual and physical addresses to agree
 * in more low bits, and what size the same fault would then get.
 */
import { bestSizeLog2 } from '../../../src/core/resolve.js';
import type { StepInfo } from './session.js';
import type { FaultView, ViewEvent } from './types.js';

/** A moved attach and what it would give. */
export interface Counterfactual {
  /** The size the same fault would get (log2). */
  readonly sizeLog2: number;
  /** Where the region is attached now, and where it would be. */
  readonly oldAt: number;
  readonly newAt: number;
  /** The map and dataspace of that attach. */
  readonly map: string;
  readonly dataspace: string;
  /** The step that attached the region (null: not attached by a step, e.g. the setup). */
  readonly step: StepInfo | null;
}

/** The windows of a walk in the faulter's coordinates, intersected. */
function windowOf(f: FaultView): [number, number] {
  let lo = 0;
  let hi = Number.MAX_SAFE_INTEGER;
  for (const w of f.walk) {
    if (!w.region) continue;
    const shift = f.address - w.address;
    lo = Math.max(lo, w.region.base + shift);
    hi = Math.min(hi, w.region.base + w.region.size + shift);
  }
  return [lo, hi];
}

/**
 * Moving the outermost region by s moves every window by s and the fault's physical address by
 * -s (the same virtual address now reaches s bytes earlier into the dataspace). The smallest move
 * that makes both agree in the low n bits gives 2^n when the aligned block then fits the moved
 * windows; the largest such n wins. (Core's `ifAlignedLog2` keeps the windows where they are, so
 * a move can do better: a 64K dataspace attached 4K-aligned gets 64K once its window is aligned.)
 */
export function counterfactual(
  f: FaultView,
  events: readonly ViewEvent[],
  steps: readonly StepInfo[],
  stepOfFault: number,
): Counterfactual | null {
  const d = f.decision;
  if (d.kind !== 'mapped') return null;
  const e = d.explain;
  const top = f.walk[0]?.region;
  if (!top) return null;
  const va = f.address;
  const pa = d.mapping.pa + (va - d.mapping.va);
  const [lo, hi] = windowOf(f);
  let best: { s: number; size: number } | null = null;
  // From the largest size the kernel maps down: the first move that gets more than now.
  for (let n = e.mapSizesLog2.at(-1)!; n > e.chosenLog2 && !best; n--) {
    const m = 2 ** n;
    const s0 = (((pa - va) % m) + m) % m;
    for (const s of [s0, s0 - m].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b)) {
      if (s === 0 || top.base + s < 0) continue;
      if (va < lo + s || va >= hi + s) continue;
      const size = bestSizeLog2(va, pa - s, lo + s, hi + s, e.mapSizesLog2);
      if (size > e.chosenLog2) {
        best = { s, size };
        break;
      }
    }
  }
  if (!best) return null;
  let step: StepInfo | null = null;
  for (let i = events.length - 1; i >= 0; i--) {
    const x = events[i]!;
    if (x.step > stepOfFault || x.type !== 'attach') continue;
    if (x.map.id === f.walk[0]!.map.id && x.region.base === top.base && x.region.size === top.size) {
      step = steps[x.step] ?? null;
      break;
    }
  }
  return {
    sizeLog2: best.size,
    oldAt: top.base,
    newAt: top.base + best.s,
    map: f.walk[0]!.map.name,
    dataspace: top.ds?.name ?? '?',
    step: step?.kind === 'attach' ? step : null,
  };
}
