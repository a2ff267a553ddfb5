/**
 * Core's pager (Genode's `Rm_client::pager` with the pager entrypoint's faulter bookkeeping): the
 * code a thread's page fault reaches. It installs the mapping the resolution found, reflects the
 * fault to the innermost map's handler, or reports Genode's error text, and it remembers where
 * each blocked faulter waits. Apart from object management because it is the fault path: it
 * touches only the faulting thread, its page table and the map it waits at.
 */
import { Mapping } from '../hw/page_table.js';
import type { Thread } from '../kernel/thread.js';
import { type AccessType, illegalAccessText, TOO_DEEP_TEXT, violationText } from './events.js';
import type { Faulter, RegionMap, RegionMapEnv } from './region_map.js';
import { type Resolution, resolve, type SizePolicy } from './resolve.js';

/** What an access by a thread led to. */
export type AccessOutcome =
  | { readonly kind: 'hit'; readonly mapping: Mapping }
  | { readonly kind: 'mapped'; readonly mapping: Mapping; readonly resolution: Resolution }
  | {
      readonly kind: 'reflected';
      readonly map: RegionMap;
      readonly address: number;
      readonly resolution: Resolution;
    }
  | { readonly kind: 'error'; readonly text: string; readonly resolution: Resolution };

/** What the pager made of a fault (an access outcome other than a hit). */
export type FaultOutcome = Exclude<AccessOutcome, { readonly kind: 'hit' }>;

/** The pager: resolves faults and keeps track of the faulters blocked at region maps. */
export class Pager {
  /** Where each queued faulter waits. */
  private readonly faulterAt = new Map<Thread, RegionMap>();

  constructor(
    private readonly policy: SizePolicy,
    /** Core's event channel, shared with the region maps. */
    private readonly env: Pick<RegionMapEnv, 'listening' | 'emit'>,
    /** Sessions belong to object management; asked only after the fault event went out. */
    private readonly addressSpaceOf: (t: Thread) => RegionMap,
  ) {}

  /** Resolves the fault and installs the mapping, or reflects it, or reports an error. */
  pageFault(t: Thread, va: number, access: AccessType, detail: boolean): FaultOutcome {
    const listening = this.env.listening;
    if (listening) this.env.emit({ type: 'fault', thread: t, address: va, access });
    const res = resolve(this.addressSpaceOf(t), va, access, this.policy, detail);
    if (res.kind === 'mapped') {
      const mapping = new Mapping(res.va, res.pa, res.sizeLog2, res.writeable, res.executable);
      t.pd.pageTable.install(mapping);
      t.state = 'ready';
      if (listening) this.env.emit({ type: 'resolved', thread: t, mapping, resolution: res });
      return { kind: 'mapped', mapping, resolution: res };
    }
    if (res.kind === 'too-deep') return this.fail(t, TOO_DEEP_TEXT, res);
    const handler = res.map.faultHandler;
    if (!handler) {
      const text =
        res.reason === 'NO_REGION' || res.reason === 'RESERVED'
          ? illegalAccessText(t, access, va)
          : violationText(t, access, va);
      return this.fail(t, text, res);
    }
    t.state = 'blocked-fault';
    this.faulterAt.set(t, res.map);
    this.env.emit({
      type: 'reflected',
      thread: t,
      map: res.map,
      address: res.address,
      access,
      resolution: res,
    });
    res.map.enqueueFaulter({ thread: t, access, address: res.address });
    return { kind: 'reflected', map: res.map, address: res.address, resolution: res };
  }

  /** The region map a blocked faulter waits at, if any. */
  waitingAt(t: Thread): RegionMap | undefined {
    return this.faulterAt.get(t);
  }

  /** An attach covered a faulter: it becomes ready to retry. */
  wake(f: Faulter, map: RegionMap): void {
    this.faulterAt.delete(f.thread);
    if (f.thread.state === 'blocked-fault') f.thread.state = 'ready';
    this.env.emit({ type: 'wakeup', thread: f.thread, map, address: f.address });
  }

  /** A thread is being destroyed: take it out of the queue it waits in. */
  dequeue(t: Thread): void {
    this.faulterAt.get(t)?.removeFaulter(t);
    this.faulterAt.delete(t);
  }

  /** A region map was destroyed with faulters queued: nothing will ever wake them. */
  abandon(map: RegionMap, faulters: readonly Faulter[]): void {
    for (const f of faulters) {
      this.faulterAt.delete(f.thread);
      f.thread.state = 'dead-fault';
      this.env.emit({
        type: 'error',
        thread: f.thread,
        text: `region map #${map.id} destroyed while '${f.thread.name}' waited for it`,
      });
    }
  }

  private fail(t: Thread, text: string, resolution: Resolution): FaultOutcome {
    t.state = 'dead-fault';
    this.env.emit({ type: 'error', thread: t, text });
    return { kind: 'error', text, resolution };
  }
}
