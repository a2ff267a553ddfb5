/**
 * Warm-up, region of interest and intervals over a trace (ChampSim's warm-up and simulation
 * instructions, gem5's `resetstats`/`dumpstats`): the trace's records in file order are cut into
 * skipped records (never simulated), warm-up records (simulated, then every statistic is reset),
 * measured records (at most `limit`) and, among those, intervals of `interval` records.
 *
 * A record counts as one wherever it goes: an access that crosses a page (two translations) or
 * faults (retried) belongs wholly to the piece it is in. Pieces are handed over as views of the
 * batch (no copy); a boundary falls between two records, and the caller lets the machine finish
 * every piece before the next (as at every batch boundary), so figures at a boundary are settled.
 */
import { invariant } from '../util/result.js';
import type { WindowConfig } from './run_config.js';
import { TraceBatch } from './trace_batch.js';

/** A boundary the window reached between two pieces. */
export type WindowEvent = 'warmup-end' | 'interval-end';

/** Cuts a stream of batches at the window's boundaries. */
export class RecordWindow {
  /** Records seen so far (skipped ones included). */
  private seen = 0;
  private readonly measureFrom: number;
  private readonly end: number;

  constructor(readonly config: WindowConfig) {
    const { skip, warmup, limit, interval } = config;
    for (const [k, v] of Object.entries({ skip, warmup, limit: limit ?? 0, interval: interval ?? 1 }))
      invariant(Number.isSafeInteger(v) && v >= 0, () => `window ${k} ${v}: expected an integer >= 0`);
    invariant(interval === null || interval > 0, 'window interval: expected a positive integer');
    this.measureFrom = skip + warmup;
    this.end = limit === null ? Number.POSITIVE_INFINITY : this.measureFrom + limit;
  }

  /** Measured records so far. */
  get measured(): number {
    return Math.max(0, Math.min(this.seen, this.end) - this.measureFrom);
  }

  /** True once the limit is reached: nothing more will be simulated. */
  get full(): boolean {
    return this.seen >= this.end;
  }

  /**
   * Feeds one batch: `run` gets each piece to simulate, in order, and `at` each boundary reached
   * (after the piece before it). Returns false once the limit is reached (stop reading).
   */
  feed(batch: TraceBatch, run: (piece: TraceBatch) => void, at: (e: WindowEvent) => void): boolean {
    let pos = 0;
    const n = batch.length;
    while (pos < n && !this.full) {
      const here = this.seen;
      let next = Math.min(this.end, here + (n - pos));
      if (here < this.config.skip) next = Math.min(next, this.config.skip);
      else if (here < this.measureFrom) next = Math.min(next, this.measureFrom);
      else if (this.config.interval !== null) {
        const k = this.config.interval;
        next = Math.min(next, this.measureFrom + (Math.floor((here - this.measureFrom) / k) + 1) * k);
      }
      const take = next - here;
      if (here >= this.config.skip) run(take === n ? batch : slice(batch, pos, pos + take));
      pos += take;
      this.seen = next;
      if (this.config.warmup > 0 && next === this.measureFrom && here < next && here >= this.config.skip)
        at('warmup-end');
      else if (
        this.config.interval !== null &&
        next > this.measureFrom &&
        (next - this.measureFrom) % this.config.interval === 0
      )
        at('interval-end');
    }
    return !this.full;
  }
}

/** Records [from, to) of a batch as a batch sharing its storage. */
function slice(b: TraceBatch, from: number, to: number): TraceBatch {
  const v = new TraceBatch(to - from, {
    kind: b.kind.subarray(from, to),
    addr: b.addr.subarray(from, to),
    size: b.size.subarray(from, to),
  });
  v.length = to - from;
  return v;
}
