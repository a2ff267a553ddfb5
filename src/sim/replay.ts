/**
 * The traced program's system (DESIGN.md §3): the program's memory is one managed dataspace
 * covering its address space, paged on demand by a user-level handler that backs each touched
 * chunk with a RAM dataspace. `summarize` turns a finished run into the versioned result that
 * `faultline replay --json` prints (documented in docs/OUTPUT.md).
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import type { PdSession } from '../core/pd_session.js';
import type { RegionMap } from '../core/region_map.js';
import { sizeName } from '../util/hex.js';
import { unwrap } from '../util/result.js';
import { Machine, type MachineConfig } from './machine.js';
import { type ReplayStop, threadStop } from './replay_stop.js';
import type { AccessSource, SimThread } from './sim_thread.js';

/** Options of the traced system. */
export interface TracedSystemOptions extends MachineConfig {
  /** Bytes of RAM the handler attaches per touched chunk (default 2 MiB). */
  readonly chunk?: number;
  /** CPU of the handler thread (default: the last CPU). */
  readonly handlerCpu?: number;
}

/** A built traced system. */
export interface TracedSystem {
  readonly machine: Machine;
  readonly app: PdSession;
  readonly manager: PdSession;
  /** The managed dataspace holding the traced program's memory. */
  readonly memory: RegionMap;
  readonly handler: OnDemandHandler;
  readonly threads: SimThread[];
}

/**
 * Builds the system and adds one traced thread per source (thread i on CPU i mod cpus).
 * The managed dataspace spans the user address space with identity coordinates, so that
 * virtual and physical alignment can agree and superpages remain possible.
 */
export function buildTracedSystem(
  sources: readonly AccessSource[],
  opts: TracedSystemOptions = {},
): TracedSystem {
  const machine = new Machine(opts);
  const core = machine.core;
  const page = core.pageSize;
  const app = unwrap(core.createPd('init -> traced', { ram: 2 ** 30, caps: 10_000 }));
  const manager = unwrap(core.createPd('init -> memory manager', { ram: 2 ** 52, caps: 1e9 }));
  const span = app.addressSpace.size;
  const memory = unwrap(core.createRegionMap(manager, span));
  unwrap(
    app.addressSpace.attach(memory.dataspace, { at: page, offset: page, writeable: true, executable: true }),
  );
  const ctx = unwrap(core.createSignalContext(manager, 'memory fault handler'));
  unwrap(core.setFaultHandler(memory, ctx));
  const chunk = opts.chunk ?? 2 ** 21;
  const handlerCpu = opts.handlerCpu ?? machine.cpus.length - 1;
  const handler = new OnDemandHandler(core, manager, memory, { chunk, cpu: handlerCpu });
  machine.addHandler(manager, 'handler', handlerCpu, handler, ctx);
  const threads = sources.map((src, i) =>
    machine.addThread(app, sources.length === 1 ? 'main' : `thread ${i}`, i % machine.cpus.length, src),
  );
  return { machine, app, manager, memory, handler, threads };
}

/** Version of the result object; bump on incompatible changes (docs/OUTPUT.md). */
export const RESULT_SCHEMA_VERSION = 1;

/** The result of a run, as `--json` prints it. */
export interface RunResult {
  readonly schemaVersion: number;
  readonly design: string;
  readonly arch: string;
  readonly cpus: number;
  readonly records: number;
  readonly translations: number;
  readonly tlb: { readonly hits: number; readonly misses: number; readonly hitRate: number };
  readonly walks: number;
  readonly faults: {
    readonly resolved: number;
    readonly reflected: number;
    readonly errors: number;
    readonly latency: {
      readonly p50: number;
      readonly p99: number;
      readonly max: number;
      readonly count: number;
    };
  };
  /** Mappings installed and still present at the end, per size name. */
  readonly mappings: Readonly<Record<string, number>>;
  readonly pages: { readonly touched: number };
  readonly cycles: number;
  readonly cyclesBy: {
    readonly user: number;
    readonly kernel: number;
    readonly pager: number;
    readonly handler: number;
  };
  readonly shootdowns: number;
  readonly crossCpu: { readonly messages: number };
  readonly lock: { readonly waitCycles: number; readonly contended: number };
  /** Allocations served from another CPU's partition (partitioned memory ran dry). */
  readonly steals: number;
  /** Mappings installed at attach time (design option eagerMapping). */
  readonly eagerMappings: number;
  readonly signals: number;
  readonly chunks: number;
  readonly errors: readonly string[];
  /** Why the run stopped before the end of its trace (a traced thread died), or null. */
  readonly stopped: ReplayStop | null;
}

/** Summarizes a finished run. */
export function summarize(sys: TracedSystem, design: string): RunResult {
  const m = sys.machine;
  const sum = (f: (t: SimThread) => number) => sys.threads.reduce((a, t) => a + f(t), 0);
  const cpuSum = (f: (c: Machine['cpus'][number]) => number) => m.cpus.reduce((a, c) => a + f(c), 0);
  const hits = sum((t) => t.tlbHits);
  const misses = sum((t) => t.tlbMisses);
  const mappings: Record<string, number> = {};
  for (const [size, n] of sys.app.pd.pageTable.countBySize()) mappings[sizeName(size)] = n;
  const lat = m.faultLatency;
  const c = m.counters;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    design,
    arch: m.arch.name,
    cpus: m.cpus.length,
    records: sum((t) => t.records),
    translations: sum((t) => t.translations),
    tlb: { hits, misses, hitRate: hits + misses === 0 ? 0 : Number((hits / (hits + misses)).toFixed(6)) },
    walks: sum((t) => t.walks),
    faults: {
      resolved: c.faultsResolved,
      reflected: c.faultsReflected,
      errors: c.errors,
      latency: {
        p50: lat.count ? lat.percentile(0.5) : 0,
        p99: lat.count ? lat.percentile(0.99) : 0,
        max: lat.count ? lat.max : 0,
        count: lat.count,
      },
    },
    mappings,
    pages: { touched: sys.threads.length === 1 ? sys.threads[0]!.pages.size : sum((t) => t.pages.size) },
    cycles: m.elapsed,
    cyclesBy: {
      user: cpuSum((x) => x.userCycles),
      kernel: cpuSum((x) => x.kernelCycles),
      pager: cpuSum((x) => x.pagerCycles),
      handler: cpuSum((x) => x.handlerCycles),
    },
    shootdowns: c.shootdowns,
    crossCpu: { messages: c.crossCpu },
    lock: { waitCycles: c.lockWait, contended: c.lockContended },
    steals: c.steals,
    eagerMappings: c.eagerMappings,
    signals: c.signals,
    chunks: sys.handler.chunks,
    errors: m.errors.slice(0, 20),
    stopped: threadStop(sys.threads, m.arch, sys.app.addressSpace.size, m.core.pageSize),
  };
}
