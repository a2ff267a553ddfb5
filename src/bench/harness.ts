/**
 * Benchmark harness: tinybench measures batches of operations; each figure is recorded with a
 * name, value and unit so `npm run bench -- --json` can be compared over time.
 */
import { readFileSync } from 'node:fs';
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
