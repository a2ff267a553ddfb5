/**
 * Benchmark harness: tinybench measures batches of operations; each figure is recorded with a
 * name, value and unit so `npm run bench -- --json` can be compared over time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';

/** One recorded figure. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Target or baseline, for the table. */
  note?: string;
}

export class Recorder {
  readonly figures: Figure[] = [];

  record(name: string, value: number, unit: string, note?: string): void {
    this.figures.push({ name, value: Number(value.toPrecision(4)), unit, note });
    if (!process.argv.includes('--json')) {
      process.stderr.write(`  ${name}: ${this.figures.at(-1)!.value} ${unit}${note ? `  (${note})` : ''}\n`);
    }
  }

  /** Runs `fn` (which performs `batch` operations) repeatedly and returns operations per second. */
  async opsPerSecond(batch: number, fn: () => void, timeMs = 400): Promise<number> {
    // Collect the set-up's garbage first, so the timed runs do not pay for it.
    (globalThis as { gc?: () => void }).gc?.();
    const b = new Bench({ time: timeMs, warmupTime: 100 });
    b.add('task', fn);
    await b.run();
    const r = b.tasks[0]!.result as unknown as { latency?: { mean: number } };
    if (!r.latency) throw new Error('benchmark task failed');
    return batch / (r.latency.mean / 1000);
  }
}

/** A small deterministic generator for benchmark inputs (not the simulator's PRNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function heapUsedMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** CPU time consumed so far by each thread of this process, in ns (Linux), else the process total. */
export function threadCpuNs(): Map<string, number> {
  const times = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8');
      times.set(tid, Number(stat.split(' ')[0]));
    }
  } catch {
    const u = process.cpuUsage();
    times.set('process', (u.user + u.system) * 1000);
  }
  return times;
}

/** CPU time spent since `before` ({@link threadCpuNs}): in all threads, and in the busiest one. */
export function cpuSince(before: Map<string, number>): { totalMs: number; maxThreadMs: number } {
  let total = 0;
  let max = 0;
  for (const [tid, ns] of threadCpuNs()) {
    const d = ns - (before.get(tid) ?? 0);
    total += d;
    max = Math.max(max, d);
  }
  return { totalMs: total / 1e6, maxThreadMs: max / 1e6 };
}

/** One timed pass: wall time, and the time the pass needs on an otherwise idle machine. */
export interface Timed {
  readonly wallMs: number;
  /**
   * CPU-time bound on the wall time: the busiest thread's CPU time, or all threads' CPU time spread
   * over the machine's cores, whichever is larger. Unlike wall time it does not grow when other
   * processes take the cores (the machine is shared), so ratios of these are stable.
   */
  readonly cpuMs: number;
  /** What the pass returned (records, lines, ...). */
  readonly count: number;
}

/** Runs `pass` `times` times; returns the fastest wall time and, separately, the lowest CPU bound. */
export async function timed(times: number, pass: () => Promise<number>): Promise<Timed> {
  let wallMs = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  let count = 0;
  const cores = availableParallelism();
  // No gc() between passes: a forced full collection leaves V8's helper threads sweeping during the
  // next pass (10-15 ns a record measured here) and shrinks the young generation, which a real run
  // never pays.
  for (let i = 0; i < times; i++) {
    const before = threadCpuNs();
    const t0 = performance.now();
    count = await pass();
    wallMs = Math.min(wallMs, performance.now() - t0);
    const cpu = cpuSince(before);
    cpuMs = Math.min(cpuMs, Math.max(cpu.maxThreadMs, cpu.totalMs / cores));
  }
  return { wallMs, cpuMs, count };
}

/** CPU time of the calling thread in ns (Linux), else of the process. */
export function thisThreadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  }
}

/**
 * Operations per second of this thread's CPU time: runs `fn` (which performs `batch` operations)
 * for about `cpuMs` of CPU after a short warm-up, best of three such rounds. Unlike wall time it
 * does not count the time other processes hold the core.
 */
export function cpuOpsPerSecond(batch: number, fn: () => void, cpuMs = 300): number {
  for (let i = 0; i < 3; i++) fn();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = thisThreadCpuNs();
    let ops = 0;
    while (thisThreadCpuNs() - t0 < (cpuMs * 1e6) / 3) {
      fn();
      ops += batch;
    }
    best = Math.max(best, ops / ((thisThreadCpuNs() - t0) / 1e9));
  }
  return best;
}

/**
 * CPU time of the calling thread in ms: user + system time from `/proc/thread-self/stat` (Linux,
 * 10 ms ticks), else the whole process's (`process.cpuUsage`, which also counts V8's compiler and
 * GC threads). On a machine shared with other processes this is steadier than wall time: time the
 * thread waits for a CPU does not count.
 */
export function threadCpuMs(): number {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

/** What {@link cpuRate} measured. */
export interface CpuRate {
  /** Operations per second of the main thread's CPU time, and of wall time. */
  readonly perCpuSecond: number;
  readonly perWallSecond: number;
  readonly runs: number;
}

/**
 * Runs `fn` (`ops` operations per call) for `warmMs` of wall time, then until the thread has used
 * `cpuMs` of CPU time; returns the rates. Long enough for 10 ms CPU ticks to matter below 1 %.
 */
export function cpuRate(ops: number, fn: () => void, warmMs = 1000, cpuMs = 2500): CpuRate {
  (globalThis as { gc?: () => void }).gc?.();
  const w = performance.now();
  while (performance.now() - w < warmMs) fn();
  const c0 = threadCpuMs();
  const w0 = performance.now();
  let runs = 0;
  while (threadCpuMs() - c0 < cpuMs) {
    fn();
    runs++;
  }
  const cpu = threadCpuMs() - c0;
  const wall = performance.now() - w0;
  return { perCpuSecond: (runs * ops * 1000) / cpu, perWallSecond: (runs * ops * 1000) / wall, runs };
}
