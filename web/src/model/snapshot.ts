/**
 * The system between two steps, copied into plain data: every live protection domain with its
 * threads and page table, every live region map with its regions and queued faulters.
 */
import type { Core } from '../../../src/core/core.js';
import type { RegionMap } from '../../../src/core/region_map.js';
import type { Labels } from './capture.js';
import { mappingView } from './capture.js';
import type { MapView, PdView, SystemSnapshot } from './types.js';

/** Copies what the views draw out of core. */
export function snapshot(core: Core, labels: Labels, position: number): SystemSnapshot {
  const maps = new Map<number, MapView>();
  const pds: PdView[] = [];
  const embedded = new Set<number>();
  const addMap = (m: RegionMap) => {
    if (maps.has(m.id) || m.destroyed) return;
    const regions = m.regions().map((r) => {
      const inner = r.dataspace?.managed;
      if (inner) embedded.add(inner.id);
      return labels.region(r);
    });
    const handler = m.faultHandler && !m.faultHandler.destroyed ? m.faultHandler.label : null;
    maps.set(m.id, {
      ref: labels.map(m),
      size: m.size,
      owner: m.owner.label,
      handler,
      regions,
      faulters: m.faulters().map((f) => ({
        thread: labels.thread(f.thread).name,
        access: f.access,
        address: f.address,
      })),
    });
  };
  for (const s of core.sessions()) {
    if (s.destroyed) continue;
    addMap(s.addressSpace);
    for (const m of s.regionMaps) addMap(m);
    const mappings = s.pd.pageTable
      .mappings()
      .map(mappingView)
      .sort((a, b) => a.va - b.va);
    pds.push({
      id: s.pd.id,
      label: s.label,
      name: labels.map(s.addressSpace).name,
      spaceId: s.addressSpace.id,
      threads: s.pd.threads.map((t) => ({
        ...labels.thread(t),
        state: t.state,
        waitingAt: t.state === 'destroyed' ? null : (core.waitingAt(t)?.id ?? null),
      })),
      mappings,
      quota: {
        ramUsed: s.quota.ramUsed,
        ramLimit: s.quota.ramLimit,
        capsUsed: s.quota.capsUsed,
        capLimit: s.quota.capLimit,
      },
    });
  }
  const spaces = new Set(pds.map((p) => p.spaceId));
  const loose = [...maps.keys()].filter((id) => !spaces.has(id) && !embedded.has(id));
  return {
    position,
    arch: core.arch.name,
    mapSizesLog2: core.policy.mapSizesLog2,
    pds,
    maps,
    loose,
  };
}
