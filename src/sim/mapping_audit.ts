/**
 * Checks page tables against core's resolution: every installed mapping must translate to the
 * memory core's region maps say is there now. A mapping whose addresses core resolves to other
 * frames is *wrong* (a manager's bad map item, installed behind core's back); one where core
 * resolves nothing any more is *stale* (a revocation missed it). In the genode design core installs
 * every mapping from its own resolution and revokes exactly, so both stay zero; in local-rm the
 * kernel installs whatever map items the managers send.
 */
import type { Core } from '../core/core.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { resolve } from '../core/resolve.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import { hex } from '../util/hex.js';

/** What the audit found. */
export interface MappingAudit {
  /** Mappings checked (at their first and last page). */
  readonly checked: number;
  readonly wrong: number;
  readonly stale: number;
  /** Up to five examples, as text. */
  readonly examples: readonly string[];
}

/**
 * Where a mapping at `va` of `pd` comes from when it is not `pd`'s address space: local-rm's
 * managers hold the frames of each managed map they serve in a stretch of their own (the MDB's
 * level between core and the client). Null: look it up in the address space.
 */
export type ManagedPlace = (pd: ProtectionDomain, va: number) => { map: RegionMap; address: number } | null;

/** Audits the page tables of `sessions`; see the module comment. */
export function auditMappings(
  core: Core,
  sessions: Iterable<PdSession>,
  managedAt: ManagedPlace = () => null,
): MappingAudit {
  let checked = 0;
  let wrong = 0;
  let stale = 0;
  const examples: string[] = [];
  const page = core.pageSize;
  for (const s of sessions) {
    if (s.destroyed) continue;
    for (const m of s.pd.pageTable.mappings()) {
      checked++;
      let bad: 'wrong' | 'stale' | null = null;
      for (const va of [m.va, m.va + m.size - page]) {
        const held = managedAt(s.pd, va);
        const [space, at] = held ? [held.map, held.address] : [s.addressSpace, va];
        const r = resolve(space, at, 'read', core.policy);
        if (r.kind !== 'mapped') bad ??= 'stale';
        else if (r.pa + (at - r.va) !== m.pa + (va - m.va)) bad = 'wrong';
      }
      if (bad === null) continue;
      if (bad === 'wrong') wrong++;
      else stale++;
      if (examples.length < 5)
        examples.push(`${s.label}: ${bad} mapping ${hex(m.va)} -> ${hex(m.pa)} (${m.size} bytes)`);
    }
  }
  return { checked, wrong, stale, examples };
}
