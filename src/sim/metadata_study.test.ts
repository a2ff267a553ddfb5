import { describe, expect, it } from 'vitest';
import { COSTS } from '../core/quota.js';
import { MDB_NODE_BYTES } from '../kernel/mapping_db.js';
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { metadataPoints } from './metadata_study.js';
import { trustOfDesign } from './trust_run.js';

const points = (d: string) => metadataPoints(d, unwrap(designOptions(d)), [1, 8, 24], 2);

describe('metadata of managed dataspaces', () => {
  it('each managed dataspace is a region map that must be paid for: core charges it in every design', () => {
    // A region map, its region in the client, the chunk's region inside it, a signal context.
    const each = COSTS.regionMap.ram + 2 * COSTS.region.ram + COSTS.signalContext.ram;
    for (const d of ['genode', 'sync-core-rpc', 'local-rm']) {
      const [a, b, c] = points(d);
      expect(b!.coreBytes - a!.coreBytes, d).toBe(7 * each);
      expect(c!.coreBytes - b!.coreBytes, d).toBe(16 * each);
    }
  });

  it('local-rm pays kernel memory for the mapping database on top, growing with the mappings', () => {
    for (const d of ['genode', 'sync-core-rpc']) for (const p of points(d)) expect(p.kernelBytes).toBe(0);
    const [a, b, c] = points('local-rm');
    for (const p of [a!, b!, c!]) {
      // Two pages of each, and the page of the region mapper's list (mapped by core's pager).
      expect(p.mappings).toBe(2 * p.dataspaces + 1);
      expect(p.kernelBytes % MDB_NODE_BYTES).toBe(0);
      // Each page's mapping in the client derives from the manager's: two nodes at least.
      expect(p.kernelBytes).toBeGreaterThanOrEqual(2 * 2 * p.dataspaces * MDB_NODE_BYTES);
    }
    expect((c!.kernelBytes - b!.kernelBytes) / 16).toBe((b!.kernelBytes - a!.kernelBytes) / 7);
    expect(c!.listBytes).toBeGreaterThan(0);
    expect(c!.totalBytes).toBe(c!.coreBytes + c!.kernelBytes + c!.listBytes);
  });
});

describe('trust of each design, from a run', () => {
  it('genode and sync-core-rpc need no right between components; local-rm needs both directions', () => {
    const direct = (d: string) =>
      trustOfDesign(unwrap(designOptions(d)))
        .filter((e) => e.from !== 'core' && e.to !== 'core' && e.from !== e.to)
        .map((e) => `${e.from} ${e.kind} ${e.to}`);
    expect(direct('genode')).toEqual([]);
    expect(direct('sync-core-rpc')).toEqual([]);
    expect(direct('local-rm')).toEqual(['app call manager', 'manager map app']);
  });
});
