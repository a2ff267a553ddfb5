/**
 * `ram:` in scenarios (issue 16): an on_demand handler with a RAM limit is a swapping dataspace
 * manager (`components/swap_manager.ts`) over the paged memory of the component whose address
 * space the map is (or is attached in), with the scenario's swap providers. Its figures become
 * metrics under the names `faultline replay --json` uses (`swap.ins`, `faults.major`, ...).
 */
import { SwapManager } from '../components/swap_manager.js';
import type { Core } from '../core/core.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import type { ReplacementName } from '../kernel/replacement.js';
import type { Machine } from '../sim/machine.js';
import type { SwapProviderOptions } from '../sim/swap_options.js';
import { SwapSystem } from '../sim/swap_system.js';
import { sizeName } from '../util/hex.js';
import { err, ok, type Result } from '../util/result.js';
import { PAGING_METRICS } from './metrics.js';

/** The paging arguments of an on_demand behaviour (numbers resolved). */
export interface ScenarioPaging {
  readonly ram: number;
  readonly replacement?: ReplacementName;
  readonly swap?: readonly {
    readonly device: SwapProviderOptions['device'];
    readonly size: number;
    readonly priority?: number;
  }[];
}

/** The session whose address space is `map` or has it attached, if any. */
function ownerOf(core: Core, map: RegionMap): PdSession | undefined {
  return core
    .sessions()
    .find(
      (s) => s.addressSpace === map || s.addressSpace.regions().some((r) => r.dataspace === map.dataspace),
    );
}

/** Builds the swapping manager of `map` (its handler thread is added by the caller). */
export function startPaging(
  machine: Machine,
  session: PdSession,
  map: RegionMap,
  chunk: number,
  cpu: number,
  p: ScenarioPaging,
): Result<{ handler: SwapManager; swap: SwapSystem; line: string }> {
  const app = ownerOf(machine.core, map);
  if (!app) return err('INVALID_SWAP', `no component has ${map} in its address space: nothing to page`);
  const providers = p.swap?.map((x) => ({
    device: x.device,
    blocks: x.size / 4096,
    ...(x.priority === undefined ? {} : { priority: x.priority }),
  }));
  const swap = SwapSystem.create(
    { machine, app, manager: session, memory: map, chunk },
    { ram: p.ram, replacement: p.replacement ?? 'clock', ...(providers ? { providers } : {}) },
  );
  if (!swap.ok) return swap;
  const handler = new SwapManager(machine.core, session, map, swap.value.managerEnv(cpu), { chunk, cpu });
  swap.value.framePhys = (f) => handler.framePhys(f);
  const devices = swap.value.servers.map((s) => `${s.server.name} ${s.server.device.spec.name}`).join(', ');
  const line = `RAM limit ${sizeName(p.ram)} for ${app.label}, ${p.replacement ?? 'clock'} replacement, swap ${devices}`;
  return ok({ handler, swap: swap.value, line });
}

/** The paging metrics of a swap system (zeros without one). */
export function pagingMetrics(swap: SwapSystem | null): Record<(typeof PAGING_METRICS)[number], number> {
  if (!swap)
    return Object.fromEntries(PAGING_METRICS.map((k) => [k, 0])) as Record<
      (typeof PAGING_METRICS)[number],
      number
    >;
  const r = swap.result();
  return {
    'faults.major': swap.counters.major,
    'faults.minor': swap.counters.minor,
    'swap.ins': r.ins,
    'swap.outs': r.outs,
    'swap.evictions': r.evictions,
    'swap.diskWaitCycles': r.diskWaitCycles,
    'swap.terminated': r.terminated,
  };
}
