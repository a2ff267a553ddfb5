/**
 * Benchmark harness: tinybench measures batches of operations; each figure is recorded with a
 * name, value and unit so `npm run bench -- --json` can be compared over time.
 */
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
