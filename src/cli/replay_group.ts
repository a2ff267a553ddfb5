/**
 * A group of traced systems (one per design) fed the same batches: the region of interest, the
 * intervals and the TLB samples of each. `replay` runs one group, or two (the second on a partner
 * thread, sim_worker.ts) when a `compare` reads its trace on the reader thread.
 */
import { intervalCounters } from '../sim/machine_timeline.js';
import {
  buildTracedSystem,
  type IntervalResult,
  intervalResult,
  markSystem,
  type RunResult,
  resetStatistics,
  summarize,
  type TracedSystem,
} from '../sim/replay.js';
import { settle } from '../sim/replay_stop.js';
import type { WindowConfig } from '../sim/run_config.js';
import { diffStats, type StatsMark } from '../sim/run_stats.js';
import { RecordWindow, type WindowEvent } from '../sim/run_window.js';
import { PushSource } from '../sim/sim_thread.js';
import { Timeline } from '../sim/timeline.js';
import { sampleTlbs, type TlbSample } from '../sim/tlb_samples.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { invariant } from '../util/result.js';
import type { RunOptions } from './run_options.js';

/** Cycles per microsecond of the nominal 3 GHz clock (docs/COST_MODEL.md). */
export const CYCLES_PER_US = 3000;

/** How a group replays. */
export interface GroupOptions {
  /** Record a timeline for the group's first run. */
  readonly timeline?: boolean;
  readonly window: WindowConfig;
  /** Length of the top lists of misses and faults; 0 turns attribution off. */
  readonly top: number;
  /** Sample every CPU's TLBs after each batch and at the end. */
  readonly tlbSamples?: boolean;
  /** Time each run's simulation ({@link ReplayGroup.costs}), for balancing a comparison's threads. */
  readonly timed?: boolean;
}

/** What a group produced per run, without the run's configuration (the caller adds it). */
export interface GroupOutcome {
  readonly results: RunResult[];
  readonly samples: TlbSample[][];
}

/** One design's system during a replay. */
interface Run {
  readonly sys: TracedSystem;
  readonly src: PushSource;
  readonly timeline: Timeline | null;
  /** The end of the warm-up (undefined: none yet). */
  from: StatsMark | undefined;
  /** Statistics at the last interval boundary, and the measured records before it. */
  last: StatsMark;
  lastRecords: number;
  readonly intervals: IntervalResult[];
  readonly samples: TlbSample[];
  /** Milliseconds spent simulating it (when the group is timed). */
  time: number;
  /** Replayed by another thread from now on: this one skips it and reports nothing for it. */
  dropped: boolean;
}

/** Closes the interval since `r.last` (if it holds records) and draws it on the timeline. */
function closeInterval(r: Run): void {
  const now = markSystem(r.sys);
  const d = diffStats(now, r.last);
  if (d.records === 0 && d.elapsed === 0) return;
  const iv = intervalResult(d, r.lastRecords, now.elapsed - (r.from?.elapsed ?? 0));
  r.intervals.push(iv);
  if (r.timeline) intervalCounters(r.timeline, now.elapsed, iv);
  r.last = now;
  r.lastRecords += d.records;
}

export class ReplayGroup {
  private readonly systems: Run[];
  private readonly window: RecordWindow;

  constructor(
    readonly runs: readonly RunOptions[],
    private readonly opts: GroupOptions,
  ) {
    this.window = new RecordWindow(opts.window);
    this.systems = runs.map((r, i) => {
      const src = new PushSource();
      const timeline =
        opts.timeline && i === 0 ? new Timeline(CYCLES_PER_US, { otherData: { design: r.design } }) : null;
      const sys = buildTracedSystem([src], {
        ...r.system,
        timeline: timeline ?? undefined,
        attribution: opts.top > 0,
      });
      const last = markSystem(sys);
      return {
        sys,
        src,
        timeline,
        from: undefined,
        last,
        lastRecords: 0,
        intervals: [],
        samples: [],
        time: 0,
        dropped: false,
      };
    });
  }

  /** The timeline of each run (null but for the first, when asked for). */
  get timelines(): Array<Timeline | null> {
    return this.systems.map((s) => s.timeline);
  }

  /** Milliseconds each run's simulation took so far (0 unless the group is timed). */
  get costs(): number[] {
    return this.systems.map((s) => s.time);
  }

  /** Starts the timing over. */
  resetCosts(): void {
    for (const s of this.systems) s.time = 0;
  }

  /** True once run j was dropped. */
  isDropped(j: number): boolean {
    return this.systems[j]!.dropped;
  }

  /** Stops replaying run j here (another thread replays it): {@link finish} leaves it out. */
  drop(j: number): void {
    this.systems[j]!.dropped = true;
  }

  private readonly simulate = (batch: TraceBatch): void => {
    const timed = this.opts.timed === true;
    for (const s of this.systems) {
      const t = s.sys.threads[0]!;
      // A stopped thread replays nothing more: the rest of the trace is read and counted, not replayed.
      if (t.fatal || s.dropped) continue;
      const t0 = timed ? performance.now() : 0;
      s.src.push(batch);
      s.sys.machine.kick(t);
      s.sys.machine.run();
      if (settle(t, s.sys.machine.errors, s.sys.machine.faults.lostFaults)) s.src.take();
      else invariant(!s.src.hasPending, 'a replayed batch was not consumed');
      if (this.opts.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
      if (timed) s.time += performance.now() - t0;
    }
  };

  private readonly boundary = (e: WindowEvent): void => {
    for (const s of this.systems) {
      if (s.dropped) continue;
      if (e === 'warmup-end') {
        s.from = resetStatistics(s.sys);
        s.last = s.from;
      } else closeInterval(s);
    }
  };

  /** Replays one batch through every run; false once the region of interest has ended. */
  feed(batch: TraceBatch): boolean {
    return this.window.feed(batch, this.simulate, this.boundary);
  }

  /** Ends every run not dropped (the trace is over) and summarises each, in order. */
  finish(): GroupOutcome {
    const { window, top } = this.opts;
    const kept = this.systems.filter((s) => !s.dropped);
    for (const s of kept) {
      s.src.end();
      s.sys.machine.kick(s.sys.threads[0]!);
      s.sys.machine.run();
      settle(s.sys.threads[0]!, s.sys.machine.errors, s.sys.machine.faults.lostFaults);
      // A trace that ended inside its warm-up was all warm-up: nothing was measured.
      if (window.warmup > 0 && s.from === undefined) {
        s.from = resetStatistics(s.sys);
        s.last = s.from;
      }
      if (window.interval !== null) closeInterval(s);
      if (this.opts.tlbSamples) s.samples.push(sampleTlbs(s.sys.machine));
    }
    const design = (s: Run) => this.runs[this.systems.indexOf(s)]!.design;
    return {
      results: kept.map((s) => ({
        ...summarize(s.sys, design(s), { from: s.from, top }),
        ...(window.interval !== null ? { intervals: s.intervals } : {}),
      })),
      samples: kept.map((s) => s.samples),
    };
  }
}
