/**
 * Draws a machine's run on a timeline: per CPU the user slices, kernel entries and the pager and
 * handler work it did, per thread its running and blocked spans, per pager entrypoint and handler
 * their work, flow arrows fault → pager → handler → resume, and counters sampled over time (free
 * frames; per thread the TLB hit rate, misses and faults of each sampling period).
 *
 * Slices on a track must be recorded in time order, so a fault is drawn after the CPU slice that
 * took it, and a blocked span when the thread is resumed. Pager and handler work preempts a CPU in
 * the model (it pushes the CPU's next user slice back) while a user slice may already be drawn
 * across it: on the CPU's track such work is drawn from the end of what is already there, marked
 * `clipped`, or as an instant marked `hidden` when it lies wholly under it.
 */

import type { Cpu } from './cpu.js';
import type { IntervalResult } from './replay.js';
import type { SimThread } from './sim_thread.js';
import type { Timeline, TrackHandle } from './timeline.js';

/** Cycles between two counter samples: 100 µs at the nominal 3 GHz. */
export const SAMPLE_CYCLES = 300_000;

/** A fault taken during a CPU slice. */
export interface FaultSketch {
  readonly at: number;
  readonly entry: number;
  readonly pagerTrack: TrackHandle;
  readonly start: number;
  readonly end: number;
  readonly kind: string;
  /** First pager visit of this fault (a retry after a wake-up is not a new arrow). */
  readonly first: boolean;
  /** CPU the pager entrypoint ran on. */
  readonly pagerCpu: number;
  /** When the thread resumes (mapped), or undefined (reflected or error). */
  readonly resume: number | undefined;
}

/** Per-thread drawing state. */
interface ThreadState {
  track: TrackHandle;
  flow: number;
  /** Blocked since (reflected fault waiting for its wake-up), or -1. */
  blockedSince: number;
  /**
   * Where the thread's open arrow goes next: into its handler's slice, then into its own next run
   * slice. The handler's slice is drawn when the handler finishes, possibly after the thread
   * already resumed: then `resumedAt` keeps where to end the arrow.
   */
  phase: 'none' | 'to-handler' | 'to-resume';
  resumedAt: number;
  /** Counters at the last sample: TLB hits, misses, faults. */
  hits: number;
  misses: number;
  faults: number;
}

/** Records one machine's run. */
export class MachineTimeline {
  private readonly threads = new Map<SimThread, ThreadState>();
  private readonly counterTrack: TrackHandle;
  /** Per CPU: where the last slice drawn on its track ends (its work is drawn after it). */
  private readonly cpuEnd: number[] = [];
  private nextSample = SAMPLE_CYCLES;

  constructor(private readonly tl: Timeline) {
    this.counterTrack = tl.namedTrack('machine', 'counters');
  }

  /**
   * A slice on a CPU's track. Work that began under a slice already drawn is drawn from its end
   * (`clipped`); work wholly under it becomes an instant at its start (`hidden`, with its cycles).
   */
  private onCpu(cpu: number, name: string, cat: string, t0: number, t1: number): void {
    const from = Math.max(t0, this.cpuEnd[cpu] ?? 0);
    if (t1 <= from) {
      if (t1 > t0)
        this.tl.instant(this.tl.cpuTrack(cpu), name, cat, t0, 't', { hidden: true, cycles: t1 - t0 });
      return;
    }
    const args = from > t0 ? { clipped: true } : undefined;
    this.tl.complete(this.tl.cpuTrack(cpu), name, cat, from, Math.max(from, t1), args);
    this.cpuEnd[cpu] = Math.max(from, t1);
  }

  private state(t: SimThread): ThreadState {
    let s = this.threads.get(t);
    if (!s) {
      const k = t.kernel;
      s = {
        track: this.tl.threadTrack(k.pd.id, k.pd.label, k.id, k.name),
        flow: 0,
        blockedSince: -1,
        phase: 'none',
        resumedAt: -1,
        hits: 0,
        misses: 0,
        faults: 0,
      };
      this.threads.set(t, s);
    }
    return s;
  }

  /** A CPU ran thread t over [t0, t1]; `f` is the fault that ended the slice, if any. */
  slice(cpu: Cpu, t: SimThread, t0: number, t1: number, f: FaultSketch | null): void {
    const tl = this.tl;
    const ct = tl.cpuTrack(cpu.id);
    const st = this.state(t);
    const userEnd = f ? Math.max(t0, f.at) : t1;
    if (userEnd > t0) {
      this.onCpu(cpu.id, t.kernel.name, 'user', t0, userEnd);
      tl.complete(st.track, 'running', 'user', t0, userEnd, { cpu: cpu.id });
      if (st.phase === 'to-resume') {
        tl.flowEnd(st.flow, st.track, t0);
        st.phase = 'none';
      } else if (st.phase === 'to-handler' && st.resumedAt < 0 && !f?.first) st.resumedAt = t0;
    }
    if (t1 >= this.nextSample || t.done) this.sample(t1);
    if (!f) return;
    tl.complete(f.pagerTrack, `page fault (${f.kind})`, 'pager', f.start, f.end, { thread: t.kernel.name });
    const entryEnd = Math.min(f.at + f.entry / 2, f.start);
    if (entryEnd > f.at) this.onCpu(cpu.id, 'page-fault entry', 'kernel', f.at, entryEnd);
    if (f.end > f.start) this.onCpu(f.pagerCpu, 'pager', 'pager', f.start, f.end);
    if (f.first && entryEnd > f.at && st.phase === 'none') {
      st.flow = tl.flowStart(ct, f.at);
      if (st.flow > 0) {
        tl.flowStep(st.flow, f.pagerTrack, f.start);
        st.phase = f.kind === 'reflected' ? 'to-handler' : f.kind === 'mapped' ? 'to-resume' : 'none';
        st.resumedAt = -1;
      }
    }
    if (f.resume !== undefined) tl.complete(st.track, 'blocked: page fault', 'kernel', f.at, f.resume);
    else if (f.kind === 'reflected') st.blockedSince = f.at;
  }

  /** A faulter was woken at `at` by a handler's attach. */
  woken(t: SimThread, at: number): void {
    const st = this.state(t);
    if (st.blockedSince < 0) return;
    this.tl.complete(st.track, 'blocked: waiting for the handler', 'kernel', st.blockedSince, at);
    st.blockedSince = -1;
  }

  /**
   * A handler ran on `cpu` over [start, end] for faults of `faulters`; the first one's arrow passes
   * through.
   */
  handler(
    track: TrackHandle,
    cpu: number,
    start: number,
    end: number,
    count: number,
    faulters: readonly SimThread[],
  ): void {
    this.tl.complete(track, `handle ${count} signal(s)`, 'handler', start, end);
    if (end > start) this.onCpu(cpu, 'handler', 'handler', start, end);
    let hopped = false;
    for (const t of faulters) {
      const st = this.threads.get(t);
      if (!st || st.phase !== 'to-handler') continue;
      // One arrow per slice: the first faulter's passes through the handler, the others skip it.
      if (!hopped) {
        this.tl.flowStep(st.flow, track, start);
        hopped = true;
      }
      if (st.resumedAt >= 0) {
        this.tl.flowEnd(st.flow, st.track, st.resumedAt);
        st.phase = 'none';
      } else st.phase = 'to-resume';
    }
  }

  /** Free frames after memory changed hands. */
  freeFrames(at: number, frames: number): void {
    this.tl.counter(this.counterTrack, 'free frames', at, { frames });
  }

  /**
   * Samples every thread's counters at `at`: the TLB hit rate, misses and faults since the last
   * sample (threads without translations since then are left out).
   */
  private sample(at: number): void {
    this.nextSample = (Math.floor(at / SAMPLE_CYCLES) + 1) * SAMPLE_CYCLES;
    const rate: Record<string, number> = {};
    const misses: Record<string, number> = {};
    const faults: Record<string, number> = {};
    for (const [t, st] of this.threads) {
      const h = t.tlbHits - st.hits;
      const m = t.tlbMisses - st.misses;
      if (h + m === 0 && t.faults === st.faults) continue;
      const name = t.kernel.name;
      if (h + m > 0) rate[name] = h / (h + m);
      misses[name] = m;
      faults[name] = t.faults - st.faults;
      st.hits = t.tlbHits;
      st.misses = t.tlbMisses;
      st.faults = t.faults;
    }
    if (Object.keys(misses).length === 0) return;
    if (Object.keys(rate).length > 0) this.tl.counter(this.counterTrack, 'TLB hit rate', at, rate);
    this.tl.counter(this.counterTrack, 'TLB misses', at, misses);
    this.tl.counter(this.counterTrack, 'page faults', at, faults);
  }
}

/** Draws one `--interval` on the timeline's machine counters, at the cycle it ended. */
export function intervalCounters(tl: Timeline, at: number, iv: IntervalResult): void {
  const track = tl.namedTrack('machine', 'counters');
  tl.counter(track, 'interval: TLB hit rate', at, { rate: iv.tlb.hitRate });
  tl.counter(track, 'interval: TLB misses', at, { misses: iv.tlb.misses });
  tl.counter(track, 'interval: faults', at, { faults: iv.faults.resolved + iv.faults.reflected });
  tl.counter(track, 'interval: cycles per record', at, {
    cycles: iv.records === 0 ? 0 : iv.cycles / iv.records,
  });
}
