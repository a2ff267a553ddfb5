/**
 * The icicle's tree and layout, against simple references: the segments of a map are its regions
 * and the gaps between them, in address order, covering the map exactly; shares tile their parent;
 * nested maps appear rebased inside their window; visible cells stay few however many regions there
 * are; `mappingsIn` equals a plain filter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Icicle, type SpaceNode } from './icicle.js';
import { mappingsIn, visibleCells } from './icicle_cells.js';
import type { MapView, RegionView, SystemSnapshot } from './types.js';

const PAGE = 4096;

function map(id: number, size: number, regions: RegionView[]): MapView {
  return { ref: { id, name: `m${id}` }, size, owner: 'x', handler: null, regions, faulters: [] };
}

function ram(mapId: number, base: number, size: number, phys = 0x40000000): RegionView {
  return {
    mapId,
    base,
    size,
    offset: 0,
    writeable: true,
    executable: false,
    ds: { id: 100 + base / PAGE, kind: 'ram', name: `ds${base}`, size, phys, managedMapId: null },
  };
}

function snapshot(maps: MapView[], spaceId = maps[0]!.ref.id): SystemSnapshot {
  return {
    position: 0,
    arch: 'x86_64',
    mapSizesLog2: [12, 21, 30],
    pds: [
      {
        id: 1,
        label: 'init -> app',
        name: 'app',
        spaceId,
        threads: [],
        mappings: [],
        quota: { ramUsed: 0, ramLimit: 1, capsUsed: 0, capLimit: 1 },
      },
    ],
    maps: new Map(maps.map((m) => [m.ref.id, m])),
    loose: [],
  };
}

/** Disjoint page-aligned regions inside [0, size). */
const regionSets = fc
  .uniqueArray(fc.integer({ min: 1, max: 255 }), { maxLength: 30 })
  .chain((starts) =>
    fc.tuple(
      fc.constant([...starts].sort((a, b) => a - b)),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: starts.length, maxLength: starts.length }),
    ),
  )
  .map(([starts, lens]) => {
    const out: RegionView[] = [];
    let end = 0;
    starts.forEach((s, i) => {
      const base = Math.max(s, end) * PAGE;
      const size = lens[i]! * PAGE;
      if (base + size <= 256 * PAGE) {
        out.push(ram(1, base, size));
        end = (base + size) / PAGE;
      }
    });
    return out;
  });

describe('buildTree', () => {
  it('splits a map into its regions and the gaps between them, covering it exactly, in address order', () => {
    fc.assert(
      fc.property(regionSets, (regions) => {
        const ic = new Icicle(snapshot([map(1, 256 * PAGE, regions)]));
        const kids = ic.children(ic.children(ic.root)!.at(0))!.all();
        let at = 0;
        for (const k of kids) {
          expect(k.lo).toBe(at);
          at = k.hi;
        }
        expect(at).toBe(256 * PAGE);
        expect(kids.filter((k) => k.kind === 'leaf').map((k) => k.lo)).toEqual(regions.map((r) => r.base));
        // No two gaps in a row: a gap is always followed by a region or the end.
        kids.forEach((k, i) => {
          if (k.kind === 'gap') expect(kids[i + 1]?.kind ?? 'end').not.toBe('gap');
        });
      }),
    );
  });

  it('shows a nested map inside its window, rebased, and the physical frames of each leaf', () => {
    const inner = map(2, 64 * PAGE, [ram(2, 0, 4 * PAGE), ram(2, 16 * PAGE, 4 * PAGE, 0x50000000)]);
    const managed: RegionView = {
      mapId: 1,
      base: 0x100000,
      size: 32 * PAGE,
      offset: 8 * PAGE,
      writeable: true,
      executable: false,
      ds: { id: 9, kind: 'managed', name: 'sub', size: 64 * PAGE, phys: 0, managedMapId: 2 },
    };
    const ic = new Icicle(snapshot([map(1, 2 ** 30, [managed]), inner]));
    const m = ic
      .children(ic.children(ic.root)!.at(0))!
      .all()
      .find((k) => k.kind === 'managed')!;
    // The window shows [8, 40) pages of the inner map: a gap, the region at page 16, a gap.
    const kids = ic.children(m)!.all();
    expect(kids.map((k) => [k.kind, k.lo / PAGE, k.hi / PAGE])).toEqual([
      ['gap', 8, 16],
      ['leaf', 16, 20],
      ['gap', 20, 40],
    ]);
    const leaf = kids[1]!;
    // In the PD's addresses: 0x100000 + (16 - 8) pages.
    expect(leaf.va).toEqual([0x100000 + 8 * PAGE, 0x100000 + 12 * PAGE]);
    expect(ic.children(leaf)!.at(0)).toMatchObject({
      kind: 'phys',
      lo: 0x50000000,
      hi: 0x50000000 + 4 * PAGE,
    });
    expect(ic.maxDepth).toBe(4);
    // Keys find the same node in a fresh icicle (the focus survives a step).
    const again = new Icicle(snapshot([map(1, 2 ** 30, [managed]), inner]));
    expect(again.find(leaf.key)).toMatchObject({ kind: 'leaf', lo: leaf.lo, key: leaf.key });
    expect(again.find(`${leaf.key}/p`).kind).toBe('phys');
    expect(again.find('pd1/r12345000').key).toBe('pd1');
  });
});

function check(ic: Icicle, n: SpaceNode, leaves: SpaceNode[]): void {
  const ch = ic.children(n);
  if (!ch) return;
  const kids = ch.all();
  expect(kids[0]!.x0).toBeCloseTo(n.x0, 9);
  expect(kids.at(-1)!.x1).toBeCloseTo(n.x1, 9);
  for (let i = 1; i < kids.length; i++) expect(kids[i]!.x0).toBeCloseTo(kids[i - 1]!.x1, 9);
  for (const c of kids) {
    expect(c.x1).toBeGreaterThan(c.x0);
    expect(c.depth).toBe(n.depth + 1);
    if (c.kind === 'leaf') leaves.push(c);
    check(ic, c, leaves);
  }
}

describe('layout and visible cells', () => {
  it('children tile their parent in order, with shares that grow with size', () => {
    fc.assert(
      fc.property(regionSets, (regions) => {
        const ic = new Icicle(snapshot([map(1, 256 * PAGE, regions)]));
        const leaves: SpaceNode[] = [];
        check(ic, ic.root, leaves);
        expect(leaves).toHaveLength(regions.length);
        for (const a of leaves)
          for (const b of leaves) {
            const sa = a.hi - a.lo;
            const sb = b.hi - b.lo;
            if (sa > sb) expect(a.x1 - a.x0).toBeGreaterThan(b.x1 - b.x0);
          }
      }),
    );
  });

  it('draws a bounded number of cells for 100k regions, bundling what is too small', () => {
    const regions = Array.from({ length: 100_000 }, (_, i) => ram(1, 0x10000000 + i * 2 * PAGE, PAGE));
    const ic = new Icicle(snapshot([map(1, 2 ** 47, regions)]));
    const cells = visibleCells(ic, ic.root, 800, 2.5);
    expect(cells.length).toBeLessThan(2000);
    const bundled = cells.filter((c) => !c.node).reduce((n, c) => n + c.count!, 0);
    expect(bundled).toBeGreaterThan(99_000);
    for (const c of cells) if (c.node && c.node.depth > 0) expect(c.y1 - c.y0).toBeGreaterThanOrEqual(2.5);
    // Zoomed into one region, its own cells are drawn in full.
    const one = ic.find('pd1/r10004000');
    const zoomed = visibleCells(ic, one, 800, 2.5);
    expect(zoomed.map((c) => c.node?.kind)).toEqual(['leaf', 'phys']);
    // Zoomed into the space, the cells near the top are regions again, drawn alone.
    const top = visibleCells(ic, ic.find('pd1'), 800, 2.5);
    expect(top.length).toBeLessThan(2000);
  });
});

describe('mappingsIn', () => {
  it('returns exactly the mappings overlapping a range', () => {
    const mappings = fc
      .uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 40 })
      .map((xs) => xs.sort((a, b) => a - b).map((p) => ({ va: p * 2 ** 21, sizeLog2: 21 })));
    fc.assert(
      fc.property(
        mappings,
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.integer({ min: 1, max: 2 ** 28 }),
        (ms, lo, len) => {
          const want = ms.filter((m) => m.va < lo + len && m.va + 2 ** m.sizeLog2 > lo);
          expect(mappingsIn(ms, lo, lo + len)).toEqual(want);
        },
      ),
    );
  });
});
