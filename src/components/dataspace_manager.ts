/**
 * What the machine needs of a dataspace manager thread: the managed map it pages and its program
 * for each fault-handling design it supports. Every manager serves Genode's asynchronous design
 * (fault signals); the synchronous rivals need the matching server loop.
 */
import type { RegionMap } from '../core/region_map.js';
import type { SignalContext } from '../core/signal.js';
import type { NextHop } from './on_demand_handler.js';
import type { Port, Program } from './program.js';

/** A dataspace manager the machine can run as a handler thread. */
export interface DataspaceManager {
  /** The managed dataspace's region map. */
  readonly map: RegionMap;
  /** `async`: wait for fault signals on `ctx` and resolve the faults. */
  onSignals(ctx: SignalContext): Program;
  /** `sync-core-rpc`: serve core's `resolve_fault` calls on `port` (absent: not supported). */
  resolveFaults?(port: Port): Program;
  /** `local-rm`: serve map requests on `port` (absent: not supported). */
  serveMaps?(port: Port, next: NextHop, timeout?: number): Program;
}
