/**
 * Simulator figures: event engine throughput, the TLB-hit access path against a bare loop over the
 * same addresses, and wall time of one fixed amount of work spread over 1..64 simulated CPUs.
 */
import { performance } from 'node:perf_hooks';
import { arch } from '../hw/arch.js';
import { Tlb } from '../hw/tlb.js';
import { EventEngine } from '../sim/engine.js';
import { buildTracedSystem, summarize } from '../sim/replay.js';
import { PushSource } from '../sim/sim_thread.js';
import { TraceBatch } from '../sim/trace_batch.js';
import { unwrap } from '../util/result.js';
import { createThreadedWorkload, createWorkload } from '../workload/synthetic.js';
import { lcg, type Recorder } from './harness.js';

const K4 = 4096;
const BATCH = 65536;

/** Hold model: `pending` events stay queued; each dispatched event schedules one more. */
async function engineRate(r: Recorder, pending: number): Promise<number> {
  const engine = new EventEngine();
  const rnd = lcg(7);
  const delays = new Float64Array(4096);
  for (let i = 0; i < delays.length; i++) delays[i] = 1 + Math.floor(rnd() * 20_000);
  let j = 0;
  let left = 0;
  const handler = (now: number): void => {
    engine.at(now + delays[j++ & 4095]!, handler);
    if (--left === 0) engine.stop();
  };
  for (let i = 0; i < pending; i++) engine.at(Math.floor(rnd() * 20_000), handler);
  const n = 100_000;
  const rate = await r.opsPerSecond(n, () => {
    left = n;
    engine.run();
  });
  if (engine.pending !== pending) throw new Error(`engine bench: ${engine.pending} pending, not ${pending}`);
  return rate;
}

/** A bare loop over the addresses: the baseline every access-path figure is divided by. */
function bareSum(addrs: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += addrs[i]!;
  return s;
}

async function tlbFigures(r: Recorder): Promise<void> {
  const addrs = new Float64Array(BATCH);
  let sink = 0;
  const lookupRate = async (pages: number): Promise<{ rate: number; l1: number }> => {
    const tlb = new Tlb(arch('x86_64').tlb);
    const base = 0x10000000;
    for (let p = 0; p < pages; p++) {
      const va = base + p * K4;
      tlb.fill(1, va, 'data', {
        vaBase: va,
        sizeLog2: 12,
        paBase: 2 ** 30 + va,
        writeable: true,
        executable: false,
      });
    }
    const rnd = lcg(pages);
    for (let i = 0; i < BATCH; i++)
      addrs[i] = base + Math.floor(rnd() * pages) * K4 + Math.floor(rnd() * 512) * 8;
    let l1 = 0;
    for (let i = 0; i < BATCH; i++) if (tlb.inFirstStage('data', tlb.lookup(1, addrs[i]!, 'data'))) l1++;
    const rate = await r.opsPerSecond(BATCH, () => {
      let s = 0;
      for (let i = 0; i < BATCH; i++) s += tlb.lookup(1, addrs[i]!, 'data');
      sink += s;
    });
    return { rate, l1: l1 / BATCH };
  };
  const l1 = await lookupRate(48);
  const base = await r.opsPerSecond(BATCH, () => {
    sink += bareSum(addrs, BATCH);
  });
  r.record('access.bare_loop', base, 'accesses/s', 'baseline: sum of the same Float64Array');
  r.record(
    'access.tlb.lookup.l1_hit',
    l1.rate,
    'accesses/s',
    `48 pages, ${(l1.l1 * 100).toFixed(0)}% L1 hits; target >= 20,000,000`,
  );
  r.record('access.tlb.lookup.l1_hit.vs_bare', base / l1.rate, 'x slower');
  const l2 = await lookupRate(1024);
  r.record(
    'access.tlb.lookup.l2_hit',
    l2.rate,
    'accesses/s',
    `1024 pages, ${(l2.l1 * 100).toFixed(0)}% L1 hits`,
  );

  // The machine's access loop: one traced thread replaying a pushed batch whose footprint fits the TLB.
  const batch = new TraceBatch(BATCH);
  unwrap(
    createWorkload({ pattern: 'uniform', records: BATCH, footprint: 128 * 1024, seed: 3, writeRatio: 0.3 }),
  ).fill(batch);
  const src = new PushSource();
  const sys = buildTracedSystem([src]);
  const thread = sys.threads[0]!;
  const step = (): void => {
    src.push(batch);
    sys.machine.kick(thread);
    sys.machine.run();
  };
  step(); // faults the footprint in
  thread.tlbHits = thread.tlbMisses = 0;
  const machine = await r.opsPerSecond(BATCH, step);
  const res = summarize(sys, 'genode');
  const bareM = await r.opsPerSecond(BATCH, () => {
    sink += bareSum(batch.addr, BATCH);
  });
  r.record('access.machine.bare_loop', bareM, 'accesses/s', 'baseline: sum of the pushed batch addresses');
  r.record(
    'access.machine.tlb_hit',
    machine,
    'accesses/s',
    `traced system, 1 CPU, 128K uniform, TLB hit rate ${(res.tlb.hitRate * 100).toFixed(3)}%; target >= 20,000,000`,
  );
  r.record('access.machine.vs_bare', bareM / machine, 'x slower');
  if (sink === 42) process.stderr.write('');
}

async function scaling(r: Recorder): Promise<void> {
  const total = 4 * 2 ** 20;
  const times = new Map<number, number>();
  for (const cpus of [1, 2, 4, 8, 16, 32, 64]) {
    let best = Number.POSITIVE_INFINITY;
    let faults = 0;
    for (let rep = 0; rep < 2; rep++) {
      const traces = unwrap(
        createThreadedWorkload({
          threads: cpus,
          recordsPerThread: total / cpus,
          sharedFootprint: 4 * 2 ** 20,
          privateFootprint: 2 ** 20,
          shareRatio: 0.2,
          skew: 0.8,
          instrPerAccess: 2,
          seed: 11,
        }),
      );
      const sys = buildTracedSystem(traces, { cpus });
      const t0 = performance.now();
      sys.machine.run();
      const ms = performance.now() - t0;
      const res = summarize(sys, 'genode');
      if (res.records !== total) throw new Error(`scaling: ${res.records} records replayed, not ${total}`);
      faults = res.faults.resolved + res.faults.reflected;
      best = Math.min(best, ms);
    }
    times.set(cpus, best);
    r.record(`scaling.cpus.${cpus}`, best, 'ms', `${total} accesses, ${faults} faults, best of 2`);
  }
  r.record('scaling.64_vs_1', times.get(64)! / times.get(1)!, 'x', 'wall time ratio; target <= 4');
}

export async function simBenchmarks(r: Recorder): Promise<void> {
  for (const pending of [1_000, 100_000]) {
    const rate = await engineRate(r, pending);
    r.record(`engine.pending.${pending}`, rate, 'events/s', 'schedule + dispatch; target >= 2,000,000');
  }
  await tlbFigures(r);
  await scaling(r);
}
