/**
 * The multi-core scaling system: one multi-threaded program, one thread per CPU. Each
 * thread's private memory is its own managed dataspace, nested inside the program's memory map,
 * paged by a handler thread on the same CPU (so, with per-CPU pagers and partitioned RAM, a fault
 * never leaves its CPU); the shared region is paged by one handler on CPU 0.
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { unwrap } from '../util/result.js';
import { NOMINAL_CLOCK_HZ } from './cost.js';
import { Machine, type MachineConfig } from './machine.js';
import type { AccessSource, SimThread } from './sim_thread.js';

/**
 * Where the threads' private regions lie (2 MiB-aligned so superpages stay possible). Everything
 * else, the shared region included, is paged by the program's memory map and its handler.
 */
export interface ScaleLayout {
  /** Thread t's private region starts at privateBase + t * privateStride. */
  readonly privateBase: number;
  readonly privateStride: number;
}

/** Options of the scale system. */
export interface ScaleOptions extends MachineConfig {
  readonly layout: ScaleLayout;
  /** RAM per handler chunk (default 2 MiB). */
  readonly chunk?: number;
}

/** One point of a scaling curve (the `faultline scale --json` schema, docs/OUTPUT.md). */
export interface ScalePoint {
  readonly design: string;
  readonly cpus: number;
  readonly records: number;
  readonly faults: {
    readonly count: number;
    /**
     * Faults per second per CPU while faulting: the nominal clock over the mean fault latency, i.e.
     * how many faults one CPU gets resolved per second of time its thread spends in faults. It does
     * not depend on how many other accesses the run makes (`--records`), and stays flat as CPUs
     * are added exactly when fault handling scales.
     */
    readonly perCpuRate: number;
    readonly latency: { readonly p50: number; readonly p99: number };
  };
  readonly crossCpu: { readonly messages: number };
  readonly lock: { readonly waitCycles: number; readonly contended: number };
  readonly steals: number;
  readonly cycles: number;
  readonly errors: number;
}

/** A built scale system. */
export interface ScaleSystem {
  readonly machine: Machine;
  readonly threads: SimThread[];
}

/** Builds the system with one thread per source, thread t on CPU t mod cpus. */
export function buildScaleSystem(sources: readonly AccessSource[], opts: ScaleOptions): ScaleSystem {
  const machine = new Machine(opts);
  const core = machine.core;
  const cpus = machine.cpus.length;
  const chunk = opts.chunk ?? 2 ** 21;
  const page = core.pageSize;
  const app = unwrap(core.createPd('init -> app', { ram: 2 ** 30, caps: 100_000 }));
  const manager = unwrap(core.createPd('init -> memory manager', { ram: 2 ** 52, caps: 1e9 }));
  const memory = unwrap(core.createRegionMap(manager, app.addressSpace.size));
  unwrap(
    app.addressSpace.attach(memory.dataspace, { at: page, offset: page, writeable: true, executable: true }),
  );
  const addHandler = (map: typeof memory, cpu: number, name: string) => {
    const ctx = unwrap(core.createSignalContext(manager, `${name} fault handler`));
    unwrap(core.setFaultHandler(map, ctx));
    machine.addHandler(manager, name, cpu, new OnDemandHandler(core, manager, map, { chunk, cpu }), ctx);
  };
  addHandler(memory, 0, 'shared handler');
  const { privateBase, privateStride } = opts.layout;
  const threads = sources.map((src, t) => {
    const cpu = t % cpus;
    if (privateStride > 0) {
      const priv = unwrap(core.createRegionMap(manager, privateStride));
      unwrap(
        memory.attach(priv.dataspace, {
          at: privateBase + t * privateStride,
          writeable: true,
          executable: true,
        }),
      );
      addHandler(priv, cpu, `handler ${t}`);
    }
    return machine.addThread(app, `thread ${t}`, cpu, src);
  });
  return { machine, threads };
}

/** Summarizes a finished scale run. */
export function scalePoint(sys: ScaleSystem, design: string): ScalePoint {
  const m = sys.machine;
  const c = m.counters;
  const faults = c.faultsResolved + c.faultsReflected;
  const lat = m.faultLatency;
  const cycles = m.elapsed;
  return {
    design,
    cpus: m.cpus.length,
    records: sys.threads.reduce((a, t) => a + t.records, 0),
    faults: {
      count: faults,
      perCpuRate: lat.count === 0 ? 0 : Math.round(NOMINAL_CLOCK_HZ / lat.mean),
      latency: { p50: lat.count ? lat.percentile(0.5) : 0, p99: lat.count ? lat.percentile(0.99) : 0 },
    },
    crossCpu: { messages: c.crossCpu },
    lock: { waitCycles: c.lockWait, contended: c.lockContended },
    steals: c.steals,
    cycles,
    errors: c.errors,
  };
}
