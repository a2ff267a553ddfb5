/**
 * What the views draw: plain data copied out of the live model, so a view never reads an object
 * that a later step changes. Addresses are numbers (53-bit safe, like the model's).
 */
import type { DataspaceKind } from '../../../src/core/dataspace.js';
import type { AccessType } from '../../../src/core/events.js';
import type { SizeConstraint } from '../../../src/core/resolve.js';
import type { ThreadState } from '../../../src/kernel/thread.js';

/** A thread as the views name it. */
export interface ThreadRef {
  readonly id: number;
  /** The scenario's name (`app.main`), or the kernel thread's name for the simulator's own. */
  readonly name: string;
  /** Label of its protection domain (`init -> app`). */
  readonly pd: string;
  readonly cpu: number;
}

/** A region map as the views name it. */
export interface MapRef {
  readonly id: number;
  /** The scenario's name (`sub`, or the component for an address space), else `#id`. */
  readonly name: string;
}

/** A dataspace. */
export interface DsView {
  readonly id: number;
  readonly kind: DataspaceKind;
  readonly name: string;
  readonly size: number;
  /** Physical base (RAM, ROM, I/O memory); 0 for a managed dataspace. */
  readonly phys: number;
  /** The region map behind a managed dataspace. */
  readonly managedMapId: number | null;
}

/** A region: a window of a dataspace, or a reserved hole (ds null). */
export interface RegionView {
  readonly mapId: number;
  readonly base: number;
  readonly size: number;
  readonly offset: number;
  readonly writeable: boolean;
  readonly executable: boolean;
  readonly ds: DsView | null;
}

/** An installed mapping of a page table. */
export interface MappingView {
  readonly va: number;
  readonly pa: number;
  readonly sizeLog2: number;
  readonly writeable: boolean;
  readonly executable: boolean;
}

/** A thread queued at a region map after a fault nobody could resolve yet. */
export interface FaulterView {
  readonly thread: string;
  readonly access: AccessType;
  /** In the map's coordinates. */
  readonly address: number;
}

/** A region map with its regions in address order. */
export interface MapView {
  readonly ref: MapRef;
  readonly size: number;
  readonly owner: string;
  /** Label of the fault handler's signal context, if one is installed. */
  readonly handler: string | null;
  readonly regions: readonly RegionView[];
  readonly faulters: readonly FaulterView[];
}

/** A thread and its state. */
export interface ThreadView extends ThreadRef {
  readonly state: ThreadState;
  /** Where it waits as a faulter. */
  readonly waitingAt: number | null;
}

/** A protection domain: its address space, threads and page table. */
export interface PdView {
  readonly id: number;
  readonly label: string;
  /** The component's name in the scenario. */
  readonly name: string;
  readonly spaceId: number;
  readonly threads: readonly ThreadView[];
  /** Installed mappings, by virtual address. */
  readonly mappings: readonly MappingView[];
  /** Quota use and limits. */
  readonly quota: {
    readonly ramUsed: number;
    readonly ramLimit: number;
    readonly capsUsed: number;
    readonly capLimit: number;
  };
}

/** The whole system between two steps. */
export interface SystemSnapshot {
  /** Steps executed before this state. */
  readonly position: number;
  readonly arch: string;
  /** Sizes the kernel maps (log2, ascending). */
  readonly mapSizesLog2: readonly number[];
  readonly pds: readonly PdView[];
  readonly maps: ReadonlyMap<number, MapView>;
  /** Live region maps that no region attaches and no PD uses (created, not yet attached). */
  readonly loose: readonly number[];
}

/** One level of a fault's walk. */
export interface WalkLevel {
  readonly map: MapRef;
  /** The fault address in this map's coordinates. */
  readonly address: number;
  readonly region: RegionView | null;
}

/** The size decision and its reasons. */
export interface ExplainView {
  readonly constraints: readonly SizeConstraint[];
  readonly chosenLog2: number;
  readonly ifAlignedLog2: number;
  readonly archSizesLog2: readonly number[];
  readonly mapSizesLog2: readonly number[];
}

/** What the pager decided for one fault (computed when the fault reached it). */
export type Decision =
  | {
      readonly kind: 'mapped';
      readonly mapping: MappingView;
      readonly ds: DsView;
      readonly explain: ExplainView;
    }
  | {
      readonly kind: 'unresolved';
      readonly reason: 'NO_REGION' | 'RESERVED' | 'WRITE_VIOLATION' | 'EXEC_VIOLATION';
      readonly map: MapRef;
      readonly address: number;
      /** Label of the signal context the fault goes to, or null: an error. */
      readonly handler: string | null;
    }
  | { readonly kind: 'too-deep'; readonly map: MapRef; readonly address: number };

/** One page fault as it reached the pager, with the walk it took. */
export interface FaultView {
  readonly thread: ThreadRef;
  readonly address: number;
  readonly access: AccessType;
  /** The CPU of the pager entrypoint that handles it. */
  readonly pagerCpu: number;
  readonly walk: readonly WalkLevel[];
  readonly decision: Decision;
}

/** Core's events, copied; `step` is the index of the step during which it happened. */
export type ViewEvent = { readonly step: number } & (
  | ({ readonly type: 'fault' } & FaultView)
  | { readonly type: 'resolved'; readonly thread: ThreadRef; readonly mapping: MappingView }
  | {
      readonly type: 'reflected';
      readonly thread: ThreadRef;
      readonly map: MapRef;
      readonly address: number;
      readonly access: AccessType;
    }
  | { readonly type: 'signal'; readonly context: string; readonly owner: string; readonly pending: number }
  | { readonly type: 'wakeup'; readonly thread: ThreadRef; readonly map: MapRef; readonly address: number }
  | { readonly type: 'error'; readonly thread: ThreadRef | null; readonly text: string }
  | { readonly type: 'attach' | 'detach' | 'reserved'; readonly map: MapRef; readonly region: RegionView }
  | {
      readonly type: 'revoke';
      readonly pd: string;
      readonly va: number;
      readonly size: number;
      readonly count: number;
    }
  | { readonly type: 'eager'; readonly region: RegionView; readonly count: number }
  | ({ readonly type: 'explain' } & FaultView)
);
