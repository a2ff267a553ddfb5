/**
 * The on-demand dataspace manager: it backs a managed dataspace with RAM chunks as they are
 * touched (Genode's iso9660 or a growing stack work this way). The same manager serves each
 * fault-handling design in that design's way:
 *
 * - `async` (Genode): wait for the region map's fault signal, then drain `fault()` until NONE,
 *   allocating and attaching one chunk per fault; core wakes the faulters on attach.
 * - `sync-core-rpc`: serve core's `resolve_fault` calls: back the chunk, then reply; core waits.
 * - `local-rm`: serve `map` requests from region mappers: back the chunk if needed, then answer
 *   with the region that holds the address (the kernel installs the mapping).
 *
 * Every RPC to core goes through `coreRpc`: core runs the operation when it serves the call.
 */
import type { Core } from '../core/core.js';
import type { Dataspace } from '../core/dataspace.js';
import type { PdSession } from '../core/pd_session.js';
import type { FaultState, RegionMap } from '../core/region_map.js';
import type { SignalContext } from '../core/signal.js';
import { alignDown } from '../util/bits.js';
import { hex } from '../util/hex.js';
import type { Result } from '../util/result.js';
import type { Misbehaviour } from './misbehaviour.js';
import {
  type Action,
  call,
  coreRpc,
  hang,
  lookup,
  type Port,
  type Program,
  receive,
  reply,
  sleep,
  touch,
  waitSignal,
  zero,
} from './program.js';

/** Options of the on-demand manager. */
export interface OnDemandOptions {
  /** Bytes of RAM backing each touched chunk (a power of two, at least a page). */
  readonly chunk: number;
  /** CPU whose RAM partition allocations come from (partitioned designs). */
  readonly cpu?: number;
  /** How the manager misbehaves, if it does (see `misbehaviour.ts`). */
  readonly misbehave?: Misbehaviour;
  /**
   * Where the manager attached the managed dataspace in its own address space (needed by
   * `faults-itself`: its own access there faults in the map it manages).
   */
  readonly selfAttach?: number;
  /**
   * What backs a touched chunk: fresh RAM (default), or the same window of this dataspace, e.g.
   * the managed dataspace of the next manager in a chain (nested managed dataspaces, each level
   * paged on demand by its own manager).
   */
  readonly backing?: Dataspace;
}

/** A local-rm map answer: whether the memory is there, and whether the item is the wrong one. */
export interface MapAnswer {
  readonly ok: boolean;
  /** The manager sends a map item of other memory than the region holds (`wrong-mapping`). */
  readonly wrong?: boolean;
}

/** A `resolve_fault` request from core (sync-core-rpc): the fault in the managed map's coordinates. */
export interface ResolveRequest {
  readonly address: number;
}

/** A `map` request from a region mapper or an outer manager (local-rm), in the map's coordinates. */
export interface MapRequest {
  readonly address: number;
}

/**
 * Where a manager gets the memory behind `address` of its map from (local-rm): the manager of a
 * nested managed dataspace (a port, the address in its map), or core's RAM service (`core`); null
 * when nothing backs the address.
 */
export type NextHop = (address: number) => { readonly port: Port; readonly address: number } | 'core' | null;

/** A dataspace manager paging a managed dataspace on demand. */
export class OnDemandHandler {
  /** Chunks attached so far. */
  chunks = 0;

  constructor(
    private readonly core: Core,
    /** The manager's own session: it pays for the RAM. */
    readonly session: PdSession,
    readonly map: RegionMap,
    readonly options: OnDemandOptions,
  ) {}

  /** The async design: on each signal, drain `fault()` until NONE. */
  *onSignals(ctx: SignalContext): Program {
    for (;;) {
      yield* waitSignal(ctx);
      if (!(yield* this.misbehaveBefore())) continue;
      yield* this.drain();
    }
  }

  /** One signal's worth of work: drain `fault()` until NONE. */
  *drain(): Generator<Action, void, unknown> {
    for (;;) {
      const st = yield* coreRpc<FaultState>('fault', () => this.map.fault());
      if (st.type === 'NONE') return;
      if (!(yield* this.back(st.address))) return;
    }
  }

  /** The sync-core-rpc design: serve core's `resolve_fault` calls on `port`. */
  *resolveFaults(port: Port): Program {
    for (;;) {
      const req = yield* receive<ResolveRequest>(port);
      if (!(yield* this.misbehaveBefore(req.msg.address))) continue;
      const ok = this.map.lookup(req.msg.address) !== null || (yield* this.back(req.msg.address));
      yield* reply(port, ok);
    }
  }

  /**
   * What a misbehaving manager does when a request (or signal) arrives, before serving it. Returns
   * false when it does not serve it (it never will).
   */
  private *misbehaveBefore(address?: number): Generator<Action, boolean, unknown> {
    const m = this.options.misbehave;
    if (!m) return true;
    switch (m.kind) {
      case 'never-replies':
        yield* hang();
        return false;
      case 'replies-late':
        yield* sleep(m.cycles);
        return true;
      case 'dies':
        yield { op: 'exit' };
        return false;
      case 'faults-itself': {
        // Its own access to memory it manages, not yet backed: it needs itself to resolve it.
        const at = address ?? this.map.fault().address;
        if (this.options.selfAttach !== undefined) yield* touch(this.options.selfAttach + at, 'read');
        return true;
      }
      case 'wrong-mapping':
        return true;
    }
  }

  /**
   * The local-rm design: serve `map` requests on `port`. Back the chunk if nothing is attached
   * there (the map is the manager's own: attaching is a local lookup, not an RPC), then obtain the
   * memory from the next level (a nested manager, or core's RAM service) and answer: the kernel
   * installs the map item in the requester's address space.
   */
  *serveMaps(port: Port, next: NextHop, timeout?: number): Program {
    for (;;) {
      const req = yield* receive<MapRequest>(port);
      const address = req.msg.address;
      if (!(yield* this.misbehaveBefore(address))) continue;
      yield* lookup();
      let ok = this.map.lookup(address) !== null || (yield* this.back(address, true));
      const hop = ok ? next(address) : null;
      if (hop === 'core') yield* coreRpc('map', () => true);
      else if (hop !== null) ok = (yield* call<MapAnswer>(hop.port, { address: hop.address }, timeout)).ok;
      else ok = false;
      const answer: MapAnswer =
        this.options.misbehave?.kind === 'wrong-mapping' ? { ok, wrong: true } : { ok };
      yield* reply(port, answer);
    }
  }

  /**
   * Backs the chunk around `address` (map coordinates): allocate RAM, zero it, attach it (by an
   * RPC to core, or as a local lookup when the map is the manager's own, `local`).
   * Returns false (after reporting) when RAM or the attach failed.
   */
  *back(address: number, local = false): Generator<Action, boolean, unknown> {
    const chunk = Math.min(this.options.chunk, this.map.size);
    const base = alignDown(address, chunk);
    const size = Math.min(chunk, this.map.size - base);
    const backing = this.options.backing;
    let ds: Dataspace;
    if (backing) ds = backing;
    else {
      const r = yield* coreRpc<Result<Dataspace>>(
        'alloc',
        () => this.core.allocRam(this.session, size, { cpu: this.options.cpu }),
        size,
      );
      if (!r.ok) {
        yield { op: 'error', text: `on-demand handler cannot back ${hex(base)}: ${r.message}` };
        return false;
      }
      ds = r.value;
      yield* zero(size);
    }
    // wrong-mapping: the chunk goes one chunk too far (over another region, or where nobody
    // faulted). Under local-rm the wrongness is in the map item instead (see serveMaps).
    const at = this.options.misbehave?.kind === 'wrong-mapping' && !local ? base + chunk : base;
    // A chain's window of the next level sits at the same offset; fresh RAM is attached whole.
    const window = backing ? { offset: base, size } : {};
    const attach = () => this.map.attach(ds, { at, ...window, writeable: true, executable: true });
    let r: Result<unknown>;
    if (local) {
      yield* lookup();
      r = attach();
    } else r = yield* coreRpc<Result<unknown>>('attach', attach);
    if (!r.ok) {
      if (!backing) yield* coreRpc('free', () => this.core.free(this.session, ds));
      yield { op: 'error', text: `on-demand handler cannot attach at ${hex(at)}: ${r.message}` };
      return false;
    }
    this.chunks++;
    return true;
  }
}
