/**
 * Copies the live model into the views' plain data: names for maps, dataspaces and threads (the
 * scenario's, where it gave one), core's events as they happen, and the walk of every fault,
 * resolved again in detail the moment the fault reaches the pager (resolution is pure, so this
 * changes nothing).
 */
import type { Core } from '../../../src/core/core.js';
import type { Dataspace } from '../../../src/core/dataspace.js';
import type { AccessType, CoreEvent } from '../../../src/core/events.js';
import type { Region, RegionMap } from '../../../src/core/region_map.js';
import type { Resolution } from '../../../src/core/resolve.js';
import type { Mapping } from '../../../src/hw/page_table.js';
import type { Thread } from '../../../src/kernel/thread.js';
import type { Names } from '../../../src/scenario/names.js';
import type { DsView, FaultView, MappingView, MapRef, RegionView, ThreadRef, ViewEvent } from './types.js';

/** Names of the live objects, as the scenario spells them. */
export class Labels {
  private maps = new Map<RegionMap, string>();
  private dataspaces = new Map<Dataspace, string>();
  private threads = new Map<Thread, string>();
  private seen = '';

  constructor(private readonly names: Names) {}

  /** Rebuilds the reverse maps when a step added names. */
  private refresh(): void {
    const n = this.names;
    const key = `${n.components.size}/${n.maps.size}/${n.dataspaces.size}/${n.threads.size}`;
    if (key === this.seen) return;
    this.seen = key;
    this.maps = new Map();
    this.dataspaces = new Map();
    this.threads = new Map();
    for (const [name, s] of n.components) this.maps.set(s.addressSpace, name);
    for (const [name, m] of n.maps) {
      this.maps.set(m, name);
      this.dataspaces.set(m.dataspace, name);
    }
    for (const [name, d] of n.dataspaces) this.dataspaces.set(d, name);
    for (const [name, t] of n.threads) this.threads.set(t, name);
  }

  map(m: RegionMap): MapRef {
    this.refresh();
    return { id: m.id, name: this.maps.get(m) ?? `#${m.id}` };
  }

  ds(d: Dataspace): DsView {
    this.refresh();
    return {
      id: d.id,
      kind: d.kind,
      name: this.dataspaces.get(d) ?? `${d.kind} #${d.id}`,
      size: d.size,
      phys: d.phys,
      managedMapId: d.managed ? d.managed.id : null,
    };
  }

  thread(t: Thread): ThreadRef {
    this.refresh();
    return { id: t.id, name: this.threads.get(t) ?? t.name, pd: t.pd.label, cpu: t.cpu };
  }

  region(r: Region): RegionView {
    return {
      mapId: r.map.id,
      base: r.base,
      size: r.size,
      offset: r.offset,
      writeable: r.writeable,
      executable: r.executable,
      ds: r.dataspace ? this.ds(r.dataspace) : null,
    };
  }
}

/** A mapping, copied. */
export function mappingView(m: Mapping): MappingView {
  return { va: m.va, pa: m.pa, sizeLog2: m.sizeLog2, writeable: m.writeable, executable: m.executable };
}

/** The fault's walk and decision, resolved in detail now (before the pager acts on it). */
export function faultView(
  core: Core,
  labels: Labels,
  t: Thread,
  address: number,
  access: AccessType,
  pagerCpu: number,
): FaultView {
  const r = core.resolve(t, address, access, true);
  return {
    thread: labels.thread(t),
    address,
    access,
    pagerCpu,
    walk: walkOf(r, labels),
    decision: decisionOf(core, r, labels),
  };
}

function walkOf(r: Resolution, labels: Labels): FaultView['walk'] {
  return (r.walk ?? []).map((w) => ({
    map: labels.map(w.map),
    address: w.address,
    region: w.region ? labels.region(w.region) : null,
  }));
}

function decisionOf(core: Core, r: Resolution, labels: Labels): FaultView['decision'] {
  if (r.kind === 'mapped') {
    const e = r.explain!;
    return {
      kind: 'mapped',
      mapping: { va: r.va, pa: r.pa, sizeLog2: r.sizeLog2, writeable: r.writeable, executable: r.executable },
      ds: labels.ds(r.dataspace),
      explain: {
        constraints: e.constraints,
        chosenLog2: e.chosenLog2,
        ifAlignedLog2: e.ifAlignedLog2,
        archSizesLog2: core.policy.archSizesLog2,
        mapSizesLog2: core.policy.mapSizesLog2,
      },
    };
  }
  if (r.kind === 'too-deep') return { kind: 'too-deep', map: labels.map(r.map), address: r.address };
  const h = r.map.faultHandler;
  return {
    kind: 'unresolved',
    reason: r.reason,
    map: labels.map(r.map),
    address: r.address,
    handler: h && !h.destroyed ? h.label : null,
  };
}

/** Converts core's events into view events as they happen. */
export class EventCapture {
  readonly events: ViewEvent[] = [];
  /** The step the next events belong to. */
  step = 0;
  /** Events beyond this many are counted, not kept (a long simulation). */
  dropped = 0;

  constructor(
    private readonly core: Core,
    readonly labels: Labels,
    /** CPU of the pager entrypoint for a thread's faults. */
    private readonly pagerCpu: (t: Thread) => number,
    private readonly limit = 200_000,
  ) {}

  /** The listener to hand to the stepper. */
  readonly listener = (e: CoreEvent): void => {
    if (this.events.length >= this.limit) {
      this.dropped++;
      return;
    }
    const v = this.convert(e);
    if (v) this.events.push(v);
  };

  private convert(e: CoreEvent): ViewEvent | null {
    const step = this.step;
    const L = this.labels;
    switch (e.type) {
      case 'fault':
        return {
          type: 'fault',
          step,
          ...faultView(this.core, L, e.thread, e.address, e.access, this.pagerCpu(e.thread)),
        };
      case 'resolved':
        return { type: 'resolved', step, thread: L.thread(e.thread), mapping: mappingView(e.mapping) };
      case 'reflected':
        return {
          type: 'reflected',
          step,
          thread: L.thread(e.thread),
          map: L.map(e.map),
          address: e.address,
          access: e.access,
        };
      case 'signal':
        return {
          type: 'signal',
          step,
          context: e.context.label,
          owner: e.context.owner.label,
          pending: e.context.pending,
        };
      case 'wakeup':
        return { type: 'wakeup', step, thread: L.thread(e.thread), map: L.map(e.map), address: e.address };
      case 'error':
        return { type: 'error', step, thread: e.thread ? L.thread(e.thread) : null, text: e.text };
      case 'attach':
      case 'detach':
      case 'reserved':
        return { type: e.type, step, map: L.map(e.map), region: L.region(e.region) };
      case 'revoke':
        return { type: 'revoke', step, pd: e.pd.label, va: e.va, size: e.size, count: e.mappings.length };
      case 'eager':
        return { type: 'eager', step, region: L.region(e.region), count: e.mappings.length };
    }
  }
}
