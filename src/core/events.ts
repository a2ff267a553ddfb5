/**
 * What core tells the world while it works. The model is pure: it performs no I/O and only
 * emits these events; the demo prints them, the simulator turns them into costs, TLB shootdowns
 * and timeline slices.
 */
import type { Mapping } from '../hw/page_table.js';
import type { ProtectionDomain } from '../kernel/protection_domain.js';
import type { Thread } from '../kernel/thread.js';
import { hex } from '../util/hex.js';
import type { Dataspace } from './dataspace.js';
import type { Region, RegionMap } from './region_map.js';
import type { Resolution } from './resolve.js';
import type { SignalContext } from './signal.js';

/** Kind of memory access. */
export type AccessType = 'read' | 'write' | 'exec';

/** An event emitted by core. */
export type CoreEvent =
  | { readonly type: 'attach'; readonly map: RegionMap; readonly region: Region }
  | { readonly type: 'detach'; readonly map: RegionMap; readonly region: Region }
  | { readonly type: 'fault'; readonly thread: Thread; readonly address: number; readonly access: AccessType }
  | {
      readonly type: 'resolved';
      readonly thread: Thread;
      readonly mapping: Mapping;
      readonly resolution: Resolution;
    }
  | {
      readonly type: 'reflected';
      readonly thread: Thread;
      readonly map: RegionMap;
      readonly address: number;
      readonly access: AccessType;
      readonly resolution: Resolution;
    }
  | { readonly type: 'signal'; readonly context: SignalContext }
  | { readonly type: 'wakeup'; readonly thread: Thread; readonly map: RegionMap; readonly address: number }
  | { readonly type: 'error'; readonly thread: Thread | null; readonly text: string }
  | {
      readonly type: 'revoke';
      readonly pd: ProtectionDomain;
      readonly va: number;
      readonly size: number;
      readonly mappings: readonly Mapping[];
    }
  | {
      readonly type: 'reserved';
      readonly map: RegionMap;
      readonly region: Region;
      readonly dataspace: Dataspace;
    }
  | { readonly type: 'eager'; readonly region: Region; readonly mappings: readonly Mapping[] };

/** Receives core's events. */
export type CoreEventListener = (e: CoreEvent) => void;

/** Genode's spelling of an access type in core's log messages. */
export function faultTypeName(a: AccessType): 'READ' | 'WRITE' | 'EXEC' {
  return a === 'read' ? 'READ' : a === 'write' ? 'WRITE' : 'EXEC';
}

/** `pd='init -> app' thread='main' ip=0x1000`, the tail of core's fault messages. */
function blame(t: Thread): string {
  return `by pager_object: pd='${t.pd.label}' thread='${t.name}' ip=${hex(t.ip)}`;
}

/** Core's message for an access where nothing (or only a reserved hole) is attached. */
export function illegalAccessText(t: Thread, access: AccessType, address: number): string {
  return `illegal ${faultTypeName(access)} at address ${hex(address)} ${blame(t)}`;
}

/** Core's message for an access the region's rights forbid. */
export function violationText(t: Thread, access: AccessType, address: number): string {
  return `${faultTypeName(access)} violation at address ${hex(address)} ${blame(t)}`;
}

/** Core's message when nesting exceeds the supported depth. */
export const TOO_DEEP_TEXT = 'giving up on unexpectedly deep memory-mapping structure';

/** Renders an event as one log line (used by the demo and tests). */
export function describeEvent(e: CoreEvent): string {
  switch (e.type) {
    case 'attach':
      return `attach ${e.region}`;
    case 'detach':
      return `detach ${e.region}`;
    case 'fault':
      return `fault: ${e.thread.name} ${e.access} at ${hex(e.address)}`;
    case 'resolved':
      return `resolved: ${e.thread.name} gets ${e.mapping}`;
    case 'reflected':
      return `reflected: ${e.thread.name} queued as faulter at region map #${e.map.id} (${faultTypeName(e.access)} at ${hex(e.address)} in its coordinates)`;
    case 'signal':
      return `signal submitted to ${e.context.label} (${e.context.pending} pending)`;
    case 'wakeup':
      return `wake-up: ${e.thread.name} (faulted at ${hex(e.address)} of region map #${e.map.id})`;
    case 'error':
      return `error: ${e.text}`;
    case 'revoke':
      return `revoke: ${e.mappings.length} mapping(s) in [${hex(e.va)}, ${hex(e.va + e.size)}) of pd '${e.pd.label}'`;
    case 'reserved':
      return `reserved hole: ${e.region} (its dataspace was destroyed)`;
    case 'eager':
      return `eager mapping: ${e.mappings.length} mapping(s) installed for ${e.region}`;
  }
}
