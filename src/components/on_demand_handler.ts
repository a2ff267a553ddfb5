/**
 * The on-demand fault handler: a dataspace manager that backs a managed dataspace with RAM
 * chunks as they are touched (Genode's iso9660 or a growing stack work this way). On each
 * signal it drains `fault()` until NONE, allocating and attaching one chunk per fault.
 *
 * Behaviours are generators: they yield the work they are about to do so the simulator can
 * charge its cost and advance time, then perform it against core when resumed. Core's wake-ups
 * therefore happen at the simulated time the attach completes.
 */
import type { Core } from '../core/core.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { alignDown } from '../util/bits.js';
import { hex } from '../util/hex.js';

/** A unit of work a behaviour performs, for the simulator to charge. */
export type Work =
  /** An RPC to core: the fault query, a RAM allocation of `bytes`, an attach or detach at `address`. */
  | {
      readonly kind: 'rpc';
      readonly what: 'fault' | 'alloc' | 'attach' | 'detach';
      readonly bytes?: number;
      readonly address?: number;
    }
  /** Zero-filling fresh RAM. */
  | { readonly kind: 'zero'; readonly bytes: number }
  /** Plain computation. */
  | { readonly kind: 'compute'; readonly cycles: number }
  /** The allocation came from another CPU's partition (its own ran dry): a steal. */
  | { readonly kind: 'steal'; readonly partition: number }
  /** A failure the behaviour cannot recover from (reported, then the behaviour stops). */
  | { readonly kind: 'error'; readonly text: string }
  /** Waiting off the CPU for an answer (a swap provider's or file server's reply): `waiting-disk`. */
  | { readonly kind: 'wait'; readonly until: IoWait };

/** Something a behaviour waits for; whoever completes it sets `done` and calls `waiter`. */
export interface IoWait {
  done: boolean;
  /** Set by the simulator while the thread waits: makes it ready again. */
  waiter: (() => void) | null;
}

/** A fault handler's behaviour: one signal's worth of work, piece by piece. */
export interface HandlerBehaviour {
  onSignal(): Generator<Work, void, void>;
}

/** Options of the on-demand handler. */
export interface OnDemandOptions {
  /** Bytes of RAM backing each touched chunk (a power of two, at least a page). */
  readonly chunk: number;
  /** CPU whose RAM partition allocations come from (partitioned designs). */
  readonly cpu?: number;
}

/** A dataspace manager paging a managed dataspace on demand. */
export class OnDemandHandler implements HandlerBehaviour {
  /** Chunks attached so far. */
  chunks = 0;

  constructor(
    private readonly core: Core,
    /** The manager's own session: it pays for the RAM. */
    readonly session: PdSession,
    readonly map: RegionMap,
    readonly options: OnDemandOptions,
  ) {}

  /** One signal's worth of work: drain fault() until NONE. */
  *onSignal(): Generator<Work, void, void> {
    for (;;) {
      yield { kind: 'rpc', what: 'fault' };
      const st = this.map.fault();
      if (st.type === 'NONE') return;
      const chunk = Math.min(this.options.chunk, this.map.size);
      const base = alignDown(st.address, chunk);
      const size = Math.min(chunk, this.map.size - base);
      yield { kind: 'rpc', what: 'alloc', bytes: size };
      const ds = this.core.allocRam(this.session, size, { cpu: this.options.cpu });
      if (!ds.ok) {
        yield { kind: 'error', text: `on-demand handler cannot back ${hex(base)}: ${ds.message}` };
        return;
      }
      const home = this.options.cpu ?? 0;
      if (ds.value.partition !== home % this.core.phys.partitions)
        yield { kind: 'steal', partition: ds.value.partition };
      yield { kind: 'zero', bytes: size };
      yield { kind: 'rpc', what: 'attach', address: base };
      const r = this.map.attach(ds.value, { at: base, writeable: true, executable: true });
      if (!r.ok) {
        this.core.free(this.session, ds.value);
        yield { kind: 'error', text: `on-demand handler cannot attach at ${hex(base)}: ${r.message}` };
        return;
      }
      this.chunks++;
    }
  }
}
