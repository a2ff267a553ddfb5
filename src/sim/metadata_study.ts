/**
 * What managed dataspaces cost in metadata, per design (`faultline designs --metadata`): "each
 * managed dataspace is a region map that must be paid for". A client attaches n managed
 * dataspaces, each paged on demand by its own manager thread, and touches a few pages of each;
 * then the run's metadata is measured where it is charged:
 *
 * - core: what core charged the sessions' RAM quotas for region maps, regions and signal contexts
 *   (quota used minus the RAM dataspaces themselves), and the capabilities they hold;
 * - kernel: the nodes of the mapping database (local-rm: every mapping a region mapper installs is
 *   recorded, derived from the manager's, derived from core's), in kernel memory;
 * - local-rm's region lists: each task's region mapper keeps one (RAM of the task, a slab entry per
 *   region, at least a page).
 *
 * In this model every design keeps its managed dataspaces as core's region maps (the managers'
 * region lists; local-rm's region mappers look regions up in them), so core's part is the same in
 * every design and the MDB comes on top in local-rm.
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import type { PdSession } from '../core/pd_session.js';
import { unwrap } from '../util/result.js';
import type { DesignOptions } from './designs.js';
import { Machine, PRIORITY } from './machine.js';

/** One point: a design with n managed dataspaces. */
export interface MetadataPoint {
  readonly design: string;
  readonly dataspaces: number;
  /** Pages touched in each. */
  readonly pages: number;
  /** Bytes core charged to the sessions' RAM quotas for metadata, and capabilities held. */
  readonly coreBytes: number;
  readonly caps: number;
  /** Bytes of kernel memory the mapping database holds at the end (local-rm), and at most. */
  readonly kernelBytes: number;
  readonly kernelPeakBytes: number;
  /** local-rm: the region mappers' region lists, RAM of their tasks (charged to their quotas). */
  readonly listBytes: number;
  /** Mappings in the client's page table (the same in every design). */
  readonly mappings: number;
  readonly totalBytes: number;
  /** Growth per managed dataspace against the same design with none. */
  readonly bytesPerDataspace: number;
}

const BASE = 0x1000_0000;
const CHUNK = 64 * 1024;

/** Metadata bytes and capabilities the sessions' quotas carry (RAM dataspaces left out). */
function quotaMetadata(sessions: readonly PdSession[]): { bytes: number; caps: number } {
  let bytes = 0;
  let caps = 0;
  for (const s of sessions) {
    let ram = 0;
    for (const ds of s.dataspaces) if (ds.kind === 'ram' && !ds.destroyed) ram += ds.size;
    bytes += s.quota.ramUsed - ram;
    caps += s.quota.capsUsed;
  }
  // (local-rm's region lists are RAM dataspaces too: counted apart.)
  return { bytes, caps };
}

function* toucher(n: number, pages: number): Program {
  for (let i = 0; i < n; i++)
    for (let p = 0; p < pages; p++) {
      yield* compute(1000);
      yield* touch(BASE + i * CHUNK + p * 4096, 'write');
    }
}

/** Runs n managed dataspaces under `design` and measures; `pages` touched in each (≤ 16). */
function measure(design: DesignOptions, n: number, pages: number) {
  const m = new Machine({ cpus: 2, design });
  const core = m.core;
  const client = unwrap(core.createPd('app', { ram: 2 ** 40, caps: 1e9 }));
  const manager = unwrap(core.createPd('manager', { ram: 2 ** 40, caps: 1e9 }));
  for (let i = 0; i < n; i++) {
    const map = unwrap(core.createRegionMap(manager, CHUNK));
    unwrap(client.addressSpace.attach(map.dataspace, { at: BASE + i * CHUNK, writeable: true }));
    const ctx = unwrap(core.createSignalContext(manager, `ds ${i}`));
    unwrap(core.setFaultHandler(map, ctx));
    m.addHandler(
      manager,
      `manager ${i}`,
      1,
      new OnDemandHandler(core, manager, map, { chunk: CHUNK, cpu: 1 }),
      ctx,
    );
  }
  m.programs.addProgram(client, 'main', 0, toucher(n, pages), PRIORITY.user);
  m.run();
  const rm = m.localRm;
  const listBytes = rm?.counters.listBytes ?? 0;
  const q = quotaMetadata([client, manager]);
  return {
    coreBytes: q.bytes,
    caps: q.caps,
    kernelBytes: rm?.bytes ?? 0,
    kernelPeakBytes: rm?.counters.peakBytes ?? 0,
    listBytes,
    mappings: client.pd.pageTable.size,
  };
}

/** The metadata of `design` at each count of managed dataspaces. */
export function metadataPoints(
  name: string,
  design: DesignOptions,
  counts: readonly number[],
  pages = 4,
): MetadataPoint[] {
  const zero = measure(design, 0, pages);
  const zeroTotal = zero.coreBytes + zero.kernelBytes + zero.listBytes;
  return counts.map((n) => {
    const x = measure(design, n, pages);
    const total = x.coreBytes + x.kernelBytes + x.listBytes;
    return {
      design: name,
      dataspaces: n,
      pages,
      ...x,
      totalBytes: total,
      bytesPerDataspace: n === 0 ? 0 : Math.round((total - zeroTotal) / n),
    };
  });
}
