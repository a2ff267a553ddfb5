/**
 * Core's RPC entrypoints on the machine: core threads that serve the RPCs of components (a region
 * map's `fault()`, RAM allocation, attach, detach, free) one at a time, as real IPC. Each request
 * costs core's own work on top of the IPC; RAM allocation holds the allocator's lock (one global
 * lock, or one per partition), taken in virtual-time order, so allocators on several CPUs queue
 * for it. An allocation served from another CPU's partition (its own ran dry) is a steal: an IPI
 * and the other partition's lock.
 *
 * There is one entrypoint per pager entrypoint (per CPU, or one on CPU 0 with a single pager), and
 * they are other threads than the pagers: a pager may wait for a component (the sync-core-rpc
 * design) while that component calls core.
 */
import type { Port, Received } from '../components/program.js';
import type { CostModel } from './cost.js';
import type { CoreRequest } from './program_actions.js';
import type { MachineProgram } from './program_task.js';

/** Counters of the allocator locks and steals. */
export interface LockCounters {
  lockWait: number;
  lockContended: number;
  steals: number;
}

/** The RAM allocator's lock(s): when each becomes free, in virtual time. */
export class AllocatorLocks {
  readonly counters: LockCounters = { lockWait: 0, lockContended: 0, steals: 0 };
  private readonly freeAt: number[];

  constructor(
    count: number,
    private readonly hold: number,
  ) {
    this.freeAt = new Array(count).fill(0);
  }

  /** The lock allocations from `cpu` take: its partition's, or the single global one. */
  homeOf(cpu: number): number {
    return this.freeAt.length === 1 ? 0 : cpu % this.freeAt.length;
  }

  /** Reserves lock `i` for one allocation requested at `now`; returns when the holder's turn begins. */
  reserve(i: number, now: number): number {
    const turn = Math.max(now, this.freeAt[i]!);
    this.freeAt[i] = turn + this.hold;
    if (turn > now) {
      this.counters.lockWait += turn - now;
      this.counters.lockContended++;
    }
    return turn;
  }
}

/** What core's entrypoint needs. */
export interface CoreServiceHost {
  readonly costs: CostModel;
  readonly locks: AllocatorLocks;
  /** Counts a message to another CPU and returns its latency. */
  crossCpu(): number;
}

/** Core's work for a request, on top of the IPC. */
function workOf(r: CoreRequest, c: CostModel): number {
  switch (r.what) {
    case 'fault':
    case 'attach':
    case 'detach':
      return c.pagerLookup;
    case 'alloc':
      return c.lockAcquire + c.ramAlloc;
    case 'free':
      return c.lockAcquire;
    case 'map':
      return c.pagerLookup + c.mapInstall;
  }
}

/** The partition an allocation's result came from, if it is a successful RAM allocation. */
function partitionOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null || !('ok' in result) || !result.ok) return undefined;
  const v = (result as { value?: { partition?: unknown } }).value;
  return typeof v?.partition === 'number' ? v.partition : undefined;
}

/** The program of one of core's RPC entrypoints serving `port`. */
export function* coreEntrypoint(port: Port, host: CoreServiceHost): MachineProgram {
  const { costs, locks } = host;
  for (;;) {
    const req = (yield { op: 'receive', port }) as Received<CoreRequest>;
    const r = req.msg;
    const home = locks.homeOf(r.cpu);
    if (r.what === 'alloc') yield { op: 'lock', index: home };
    const result = yield { op: 'perform', run: r.run, cycles: workOf(r, costs) };
    const from = r.what === 'alloc' ? partitionOf(result) : undefined;
    if (from !== undefined && locks.homeOf(from) !== home) {
      // Its own partition ran dry: the memory came from another CPU's, under that one's lock.
      locks.counters.steals++;
      yield { op: 'lock', index: locks.homeOf(from) };
      yield { op: 'compute', cycles: host.crossCpu() + costs.lockAcquire + costs.ramAlloc };
    }
    yield { op: 'reply', port, msg: result };
  }
}
