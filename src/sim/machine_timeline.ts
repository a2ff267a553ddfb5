/**
 * Draws a machine's run on a timeline: per CPU the user slices and kernel entries, per thread its
 * running and blocked spans, per pager entrypoint and handler their work, flow arrows
 * fault → pager → handler → resume, and counter tracks (free frames, TLB hit rate).
 *
 * Slices on a track must be recorded in time order, so a fault is drawn after the CPU slice that
 * took it, and a blocked span when the thread is resumed.
 */
import type { Cpu } from './cpu.js';
import type { SimThread } from './sim_thread.js';
import type { Timeline, TrackHandle } from './timeline.js';

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
}

/** Records one machine's run. */
export class MachineTimeline {
  private readonly threads = new Map<SimThread, ThreadState>();
  private readonly counterTrack: TrackHandle;
  private slices = 0;

  constructor(private readonly tl: Timeline) {
    this.counterTrack = tl.namedTrack('machine', 'counters');
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
      tl.complete(ct, t.kernel.name, 'user', t0, userEnd);
      tl.complete(st.track, 'running', 'user', t0, userEnd, { cpu: cpu.id });
      if (st.phase === 'to-resume') {
        tl.flowEnd(st.flow, st.track, t0);
        st.phase = 'none';
      } else if (st.phase === 'to-handler' && st.resumedAt < 0 && !f?.first) st.resumedAt = t0;
    }
    if (++this.slices % 64 === 0) this.hitRate(t, t1);
    if (!f) return;
    tl.complete(f.pagerTrack, `page fault (${f.kind})`, 'pager', f.start, f.end, { thread: t.kernel.name });
    const entryEnd = Math.min(f.at + f.entry / 2, f.start);
    if (entryEnd > f.at) tl.complete(ct, 'page-fault entry', 'kernel', f.at, entryEnd);
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

  /** A handler ran over [start, end] for faults of `faulters`; the first one's arrow passes through. */
  handler(
    track: TrackHandle,
    start: number,
    end: number,
    count: number,
    faulters: readonly SimThread[],
  ): void {
    this.tl.complete(track, `handle ${count} signal(s)`, 'handler', start, end);
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

  private hitRate(t: SimThread, at: number): void {
    const n = t.tlbHits + t.tlbMisses;
    if (n > 0) this.tl.counter(this.counterTrack, 'TLB hit rate', at, { [t.kernel.name]: t.tlbHits / n });
  }
}
