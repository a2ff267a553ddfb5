/**
 * What of the icicle to draw: the visible cells with `focus` (or part of it) filling the view,
 * runs of boxes too small to draw merged into bundles; and the installed mappings inside a box.
 */
import { hex, sizeName } from '../../../src/util/hex.js';
import { approxSize } from './format.js';
import type { Icicle, SpaceNode } from './icicle.js';
import type { RegionView } from './types.js';

function rights(r: RegionView): string {
  return `r${r.writeable ? 'w' : '-'}${r.executable ? 'x' : '-'}`;
}

/** Title and second line of a node, made only for what is drawn. */
export function describe(n: SpaceNode): { title: string; sub: string } {
  const r = n.region;
  switch (n.kind) {
    case 'system':
      return { title: 'system', sub: '' };
    case 'space':
      return { title: n.name!, sub: `map #${n.mapId}, ${sizeName(n.hi)}` };
    case 'loose':
      return { title: n.name!, sub: `region map #${n.mapId}, ${sizeName(n.hi)}, not attached` };
    case 'gap':
      return { title: `free ${approxSize(n.hi - n.lo)}`, sub: `[${hex(n.lo)}, ${hex(n.hi)})` };
    case 'phys':
      return {
        title: `phys ${hex(n.lo)}`,
        sub: `${sizeName(n.hi - n.lo)} of ${n.parent?.region?.ds?.kind === 'io_mem' ? 'device memory' : 'frames'}`,
      };
    case 'reserved':
      return { title: 'reserved hole', sub: `[${hex(n.lo)}, ${hex(n.hi)}) ${rights(r!)}` };
    case 'managed':
      return { title: `${r!.ds!.name} (managed)`, sub: `[${hex(n.lo)}, ${hex(n.hi)}) ${rights(r!)}` };
    case 'leaf': {
      const k = r!.ds!.kind;
      return {
        title: `${r!.ds!.name} (${k === 'io_mem' ? 'I/O' : k.toUpperCase()})`,
        sub: `[${hex(n.lo)}, ${hex(n.hi)}) ${rights(r!)}`,
      };
    }
  }
}

/** The dataspace kind a leaf shows, for its colour. */
export function dsKindOf(n: SpaceNode): string | undefined {
  return n.region?.ds?.kind;
}

/** A drawable cell: a node, or a run of siblings too small to draw alone. */
export interface Cell {
  readonly node: SpaceNode | null;
  /** For a bundle: its parent, its first child's index and how many children it stands for. */
  readonly parent?: SpaceNode;
  readonly first?: number;
  readonly count?: number;
  readonly depth: number;
  /** Pixels from the top of the view. */
  readonly y0: number;
  readonly y1: number;
}

/** Bundles are split so that none is taller than this: clicking one zooms into a useful piece. */
const MAX_BUNDLE_PX = 28;

/**
 * The cells to draw with `focus` (or the part `window` of its extent, absolute) filling `height`
 * pixels: nodes at least `minPx` tall, with runs of smaller siblings merged into bundles of at
 * most 28 pixels. Nodes are made only for what is drawn.
 */
export function visibleCells(
  ic: Icicle,
  focus: SpaceNode,
  height: number,
  minPx = 2,
  window: readonly [number, number] = [focus.x0, focus.x1],
): Cell[] {
  const [w0, w1] = window;
  const k = height / (w1 - w0 || 1);
  const y = (x: number) => (x - w0) * k;
  const out: Cell[] = [];
  const visit = (n: SpaceNode) => {
    out.push({ node: n, depth: n.depth, y0: Math.max(y(n.x0), -2), y1: Math.min(y(n.x1), height + 2) });
    const ch = ic.children(n);
    if (!ch) return;
    const cum = ch.cum;
    let runFrom = -1;
    const flush = (end: number) => {
      if (runFrom < 0) return;
      out.push({
        node: null,
        parent: n,
        first: runFrom,
        count: end - runFrom,
        depth: n.depth + 1,
        y0: Math.max(y(cum[runFrom]!), -2),
        y1: Math.min(y(cum[end]!), height + 2),
      });
      runFrom = -1;
    };
    let i = ch.firstAfter(w0);
    for (; i < ch.count; i++) {
      if (y(cum[i]!) > height) break;
      if ((cum[i + 1]! - cum[i]!) * k < minPx) {
        if (runFrom >= 0 && y(cum[i + 1]!) - y(cum[runFrom]!) > MAX_BUNDLE_PX) flush(i);
        if (runFrom < 0) runFrom = i;
        continue;
      }
      flush(i);
      visit(ch.at(i));
    }
    flush(i);
  };
  visit(focus);
  return out;
}

/** The absolute extent of a bundle (children first..first+count of its parent). */
export function bundleExtent(ic: Icicle, c: Cell): [number, number] {
  const cum = ic.children(c.parent!)!.cum;
  return [cum[c.first!]!, cum[c.first! + c.count!]!];
}

/** How many regions and gaps a bundle stands for, and the addresses it spans (its map's). */
export function bundleCounts(
  ic: Icicle,
  c: Cell,
): { regions: number; gaps: number; lo?: number; hi?: number } {
  const ch = ic.children(c.parent!)!;
  const end = c.first! + c.count!;
  const gaps = ch.gapCount(c.first!, end);
  return { regions: c.count! - gaps, gaps, lo: ch.lo?.[c.first!], hi: ch.hi?.[end - 1] };
}

/** The mappings of a PD (sorted by va) that overlap [lo, hi). */
export function mappingsIn<T extends { va: number; sizeLog2: number }>(
  sorted: readonly T[],
  lo: number,
  hi: number,
): T[] {
  // Mappings do not overlap: only the one just before lo can reach into the range from below.
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (sorted[mid]!.va < lo) a = mid + 1;
    else b = mid;
  }
  const out: T[] = [];
  if (a > 0) {
    const prev = sorted[a - 1]!;
    if (prev.va + 2 ** prev.sizeLog2 > lo) out.push(prev);
  }
  for (let i = a; i < sorted.length && sorted[i]!.va < hi; i++) out.push(sorted[i]!);
  return out;
}
