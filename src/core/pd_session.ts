/**
 * Core's side of a protection domain (Genode's `Pd_session_component`): the kernel PD, the
 * session's quota, and the region map that describes its address space.
 */
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Dataspace } from './dataspace.js';
import type { Quota } from './quota.js';
import type { RegionMap } from './region_map.js';

/** A PD session. */
export class PdSession {
  /** Region maps this session created (its address space and any managed dataspaces). */
  readonly regionMaps = new Set<RegionMap>();
  /** Dataspaces this session allocated. */
  readonly dataspaces = new Set<Dataspace>();
  /** Stack and linker areas, managed dataspaces attached into the address space (when created). */
  stackArea: RegionMap | null = null;
  linkerArea: RegionMap | null = null;
  destroyed = false;

  constructor(
    readonly id: number,
    readonly pd: ProtectionDomain,
    readonly quota: Quota,
  ) {}

  /** The address-space region map (set right after construction by core). */
  addressSpace!: RegionMap;

  /** The session label, e.g. `init -> app`. */
  get label(): string {
    return this.pd.label;
  }

  toString(): string {
    return `pd session '${this.label}' (${this.quota})`;
  }
}
