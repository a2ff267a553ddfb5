/**
 * The objects a scenario run has created, by the names the scenario gives them. Looking up a
 * name whose object does not exist (its creating step failed) throws {@link CannotProceed}: the
 * run stops there.
 */
import type { Dataspace } from '../core/dataspace.js';
import type { PdSession } from '../core/pd_session.js';
import type { Region, RegionMap } from '../core/region_map.js';
import type { SignalContext } from '../core/signal.js';
import type { Thread } from '../kernel/thread.js';

/** Thrown when a step refers to an object that does not exist at run time: the run stops. */
export class CannotProceed extends Error {}

/** The objects a run has created, by scenario name. */
export class Names {
  readonly components = new Map<string, PdSession>();
  readonly threads = new Map<string, Thread>();
  readonly maps = new Map<string, RegionMap>();
  readonly dataspaces = new Map<string, Dataspace>();
  readonly signals = new Map<string, SignalContext>();
  readonly regions = new Map<string, Region>();
  /** Variables bound by attach steps (`var`): the address each attach chose. */
  readonly vars = new Map<string, number>();
  /** Names whose creating step failed, with that step's label. */
  readonly failed = new Map<string, string>();

  private missing(what: string, name: string): never {
    const by = this.failed.get(name);
    throw new CannotProceed(
      `${what} '${name}' does not exist${by ? `: step ${by}, which creates it, failed` : ''}`,
    );
  }

  /** A component's PD session. */
  component(name: string): PdSession {
    return this.components.get(name) ?? this.missing('component', name);
  }

  /** A thread by `component.thread`. */
  thread(ref: string): Thread {
    return this.threads.get(ref) ?? this.missing('thread', ref);
  }

  /** A component's address space or a created region map. */
  map(name: string): RegionMap {
    return this.components.get(name)?.addressSpace ?? this.maps.get(name) ?? this.missing('region map', name);
  }

  /** A dataspace, or a created region map's managed dataspace. */
  dataspace(name: string): Dataspace {
    return this.dataspaces.get(name) ?? this.maps.get(name)?.dataspace ?? this.missing('dataspace', name);
  }

  /** A signal context created by fault_handler. */
  signal(name: string): SignalContext {
    return this.signals.get(name) ?? this.missing('signal', name);
  }

  /** A region named by attach. */
  region(name: string): Region {
    return this.regions.get(name) ?? this.missing('region', name);
  }

  /** `sub (region map #7)`: the scenario name of a map, when it has one. */
  mapName(map: RegionMap): string {
    for (const [n, s] of this.components) if (s.addressSpace === map) return `${n} (region map #${map.id})`;
    for (const [n, m] of this.maps) if (m === map) return `${n} (region map #${map.id})`;
    return `region map #${map.id}`;
  }
}
