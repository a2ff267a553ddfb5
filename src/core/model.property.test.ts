/**
 * Model-based property tests of DESIGN.md §5 invariants 1–7: random operation sequences run on
 * the real model and on the naive reference (reference.testutil.ts), and after every step the
 * two must agree and every invariant must hold. MicroBlaze (1K pages, sizes 1K…16M) keeps
 * brute-force mapping sizes cheap and exercises many page sizes. Genode's semantics are part of
 * the reference: region-map sizes round up to pages, a detach where nothing is attached and a
 * foreign free or seal change nothing and are no error, and a seal makes only later attachments
 * read-only.
 *
 * The operations are in model_ops.testutil.ts, the two worlds and how an operation runs on both
 * in model_world.testutil.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Op, opArb, PAGE } from './model_ops.testutil.js';
import { apply, World } from './model_world.testutil.js';
import { walk } from './reference.testutil.js';

function checkInvariants(w: World): void {
  const page = PAGE;
  // 1. Regions never overlap and lie inside their map.
  w.maps.forEach((m, i) => {
    const rm = w.refMaps[i]!;
    const regions = m.regions();
    expect(regions.map((r) => [r.base, r.size])).toEqual(
      [...rm.regions].sort((a, b) => a.base - b.base).map((r) => [r.base, r.size]),
    );
    for (let k = 0; k < regions.length; k++) {
      const r = regions[k]!;
      expect(r.base >= m.firstAddress && r.end <= m.size).toBe(true);
      if (k > 0) expect(regions[k - 1]!.end <= r.base).toBe(true);
    }
    m.check();
  });
  // 2 and 3. Every installed mapping is justified by the region maps now.
  w.pds.forEach((p, pi) => {
    // Each PD's mappings must be justified by its own address space (refMaps 0 and 1).
    for (const mp of p.pd.pageTable.mappings()) {
      for (const probe of [mp.va, mp.va + mp.size - page, mp.va + Math.floor(mp.size / 2 / page) * page]) {
        const ref = walk(w.refMaps[pi]!, probe, 'read');
        expect(ref.kind).toBe('mapped');
        if (ref.kind !== 'mapped') continue;
        expect(ref.pa).toBe(mp.pa + (probe - mp.va));
        if (mp.writeable) expect(ref.w && ref.chain.at(-1)!.ds!.kind === 'ram').toBe(true);
        if (mp.executable) expect(ref.x).toBe(true);
      }
    }
  });
  // 5. No frame in two dataspaces; free + live = total.
  const live = w.dss.filter((d) => !d.destroyed && d.kind === 'ram').sort((a, b) => a.phys - b.phys);
  for (let k = 1; k < live.length; k++)
    expect(live[k - 1]!.phys + live[k - 1]!.size <= live[k]!.phys).toBe(true);
  expect(w.core.phys.available() + live.reduce((s, d) => s + d.size, 0)).toBe(w.core.phys.totalBytes);
  w.core.phys.check();
  // 6. Quota equals the cost of live objects.
  w.pds.forEach((p, i) => {
    const q = w.expectedQuota(i);
    expect({ ram: p.quota.ramUsed, caps: p.quota.capsUsed }).toEqual(q);
  });
  // 7. Every reflected faulter is woken, destroyed or still queued: queues agree with the reference.
  w.maps.forEach((m, i) => {
    expect(m.faulters().map((f) => [w.threads.indexOf(f.thread), f.address])).toEqual(
      w.refMaps[i]!.faulters.map((f) => [f.thread, f.address]),
    );
  });
  w.threads.forEach((t, i) => {
    const ref = w.refThread[i]!;
    const expected = { ready: 'ready', queued: 'blocked-fault', dead: 'dead-fault', destroyed: 'destroyed' }[
      ref
    ];
    expect(t.state).toBe(expected);
  });
}

/**
 * Every run starts from a nested structure (address space > S1 > S2 > RAM, plus RAM in S1) so
 * that random operations meet managed dataspaces at depth 2 and 3, not only flat attaches.
 */
const NESTED_START: Op[] = [
  { t: 'map', owner: 1, pages: 32, short: 0 },
  { t: 'map', owner: 1, pages: 16, short: 1000 },
  { t: 'ram', owner: 1, pages: 16 },
  { t: 'ram', owner: 0, pages: 4 },
  { t: 'attach', map: 0, ds: 0, at: 64, off: 0, pages: 0, w: true, x: true },
  { t: 'attach', map: 2, ds: 1, at: 8, off: 0, pages: 0, w: true, x: false },
  { t: 'attach', map: 3, ds: 2, at: 0, off: 0, pages: 0, w: true, x: true },
  { t: 'attach', map: 2, ds: 3, at: 0, off: 0, pages: 0, w: false, x: true },
];

describe('region-map model against the naive reference (invariants 1–7)', () => {
  for (const eager of [false, true]) {
    it(`agrees on every operation and keeps every invariant (${eager ? 'eager' : 'on-demand'} mapping)`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), (ops) => {
          const w = new World(eager);
          for (const op of [...NESTED_START, ...ops]) {
            apply(w, op);
            checkInvariants(w);
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});
