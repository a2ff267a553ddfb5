/**
 * Draws a machine's run on a timeline: per CPU every piece of work it did (thread steps and kernel
 * jobs), per thread its running and blocked spans, per handler its runs, flow arrows
 * fault → pager → handler → resume, and counter tracks (free frames, TLB hit rate).
 *
 * Pieces are drawn when they end, so slices on a track arrive in time order; a blocked span is
 * drawn when the thread runs again.
 */
import type { Translator } from './access_path.js';
import type { Cpu, SimTask } from './cpu.js';
import type { IntervalResult } from './replay.js';
import type { Timeline, TrackHandle } from './timeline.js';

/** Cycles between two counter samples: 100 µs at the nominal 3 GHz. */
export const SAMPLE_CYCLES = 300_000;

/** Per-thread drawing state. */
interface ThreadState {
  readonly track: TrackHandle;
  flow: number;
  /** Blocked since (a fault), or -1; and whether the fault was reflected to a handler. */
  blockedSince: number;
  reflected: boolean;
  /** The fault being entered is the thread's first try (a retry after a wake-up draws no new arrow). */
  first: boolean;
  /** Start of the slice the thread's arrow passed through last (it may only go on to later ones). */
  lastHop: number;
  /** Where the thread's open arrow goes next. */
  phase: 'none' | 'to-handler' | 'to-resume';
  /** Counters at the last sample: TLB hits, misses, faults. */
  hits: number;
  misses: number;
  faults: number;
}

/** Records one machine's run. */
export class MachineTimeline {
  private readonly threads = new Map<SimTask, ThreadState>();
  private readonly counterTrack: TrackHandle;
  private readonly jobLabels: string[] = [];
  private nextSample = SAMPLE_CYCLES;

  constructor(private readonly tl: Timeline) {
    this.counterTrack = tl.namedTrack('machine', 'counters');
  }

  /** Names kernel job kind `kind` on CPU tracks. */
  labelJob(kind: number, label: string): void {
    this.jobLabels[kind] = label;
  }

  private state(t: SimTask): ThreadState {
    let s = this.threads.get(t);
    if (!s) {
      const k = t.kernel;
      s = {
        track: this.tl.threadTrack(k.pd.id, k.pd.label, k.id, k.name),
        flow: 0,
        blockedSince: -1,
        reflected: false,
        first: false,
        lastHop: 0,
        phase: 'none',
        hits: 0,
        misses: 0,
        faults: 0,
      };
      this.threads.set(t, s);
    }
    return s;
  }

  /** The thread track of a task. */
  trackOf(t: SimTask): TrackHandle {
    return this.state(t).track;
  }

  /** Task t ran on `cpu` over [t0, t1] (a whole step or the part before a preemption). */
  task(cpu: Cpu, t: SimTask, t0: number, t1: number): void {
    const tl = this.tl;
    const st = this.state(t);
    if (st.blockedSince >= 0 && st.blockedSince <= t0) {
      const what = st.reflected ? 'blocked: waiting for the handler' : 'blocked: page fault';
      if (t0 > st.blockedSince) tl.complete(st.track, what, 'kernel', st.blockedSince, t0);
      st.blockedSince = -1;
      st.reflected = false;
    }
    if (t1 <= t0) return;
    tl.complete(tl.cpuTrack(cpu.id), t.kernel.name, t.category, t0, t1);
    // A handler's track shows its runs as a whole (`handler`), a pager's each fault it served
    // (`served`): both are drawn when they end.
    if (t.category !== 'handler' && t.category !== 'pager')
      tl.complete(st.track, 'running', t.category, t0, t1, { cpu: cpu.id });
    if (st.phase === 'to-resume') {
      tl.flowEnd(st.flow, st.track, (t0 + t1) / 2);
      st.phase = 'none';
    }
    if (t.category === 'user' && t1 >= this.nextSample) this.sample(t1);
  }

  /** A kernel job of kind `kind` ran on `cpu` over [t0, t1]. */
  kernel(cpu: Cpu, kind: number, t0: number, t1: number): void {
    if (t1 > t0)
      this.tl.complete(this.tl.cpuTrack(cpu.id), this.jobLabels[kind] ?? 'kernel', 'kernel', t0, t1);
  }

  /** Task t faulted at `at` (its step ended there). */
  faulted(t: SimTask, at: number, first: boolean): void {
    const st = this.state(t);
    if (st.blockedSince < 0) st.blockedSince = at;
    st.first = first;
  }

  /** The kernel took t's first fault in the entry job [t0, t1] on `cpu`: the arrow starts there. */
  entered(t: SimTask, cpu: number, t0: number, t1: number): void {
    const st = this.state(t);
    if (!st.first || st.phase !== 'none' || t1 <= t0) return;
    st.flow = this.tl.flowStart(this.tl.cpuTrack(cpu), (t0 + t1) / 2);
    st.phase = st.flow > 0 ? 'to-handler' : 'none';
  }

  /** Pager `pager` served t's fault in a step over [t0, at], with outcome `kind`. */
  served(t: SimTask, pager: SimTask, t0: number, at: number, kind: string): void {
    const track = this.state(pager).track;
    if (at > t0) this.tl.complete(track, `page fault (${kind})`, 'pager', t0, at, { thread: t.kernel.name });
    const st = this.state(t);
    if (kind === 'reflected') st.reflected = true;
    if (st.phase !== 'to-handler' || st.flow === 0 || at <= t0) return;
    const mid = (t0 + at) / 2;
    if (kind === 'error') {
      this.tl.flowEnd(st.flow, track, mid);
      st.phase = 'none';
      return;
    }
    this.tl.flowStep(st.flow, track, mid);
    st.lastHop = t0;
    if (kind === 'mapped') st.phase = 'to-resume';
  }

  /** A handler's run over [start, end] served `count` signals for `faulters`; the first one's arrow passes through it. */
  handler(h: SimTask, start: number, end: number, count: number, faulters: readonly SimTask[]): void {
    const track = this.state(h).track;
    this.tl.complete(track, `handled ${count} signal(s)`, 'handler', start, end);
    let hopped = false;
    for (const t of faulters) {
      const st = this.threads.get(t);
      if (st?.phase !== 'to-handler' || !st.reflected) continue;
      // One arrow per slice: the first faulter's passes through the handler, the others go on directly.
      if (!hopped && end > start && start > st.lastHop) {
        this.tl.flowStep(st.flow, track, (start + end) / 2);
        hopped = true;
      }
      st.phase = 'to-resume';
    }
  }

  /** Free frames after memory changed hands. */
  freeFrames(at: number, frames: number): void {
    this.tl.counter(this.counterTrack, 'free frames', at, { frames });
  }

  /** A traced thread finished at `at`: its last counters are sampled. */
  finished(at: number): void {
    this.sample(at);
  }

  /**
   * Samples every traced thread's counters at `at`: the TLB hit rate, misses and faults since the
   * last sample (threads without translations since then are left out).
   */
  private sample(at: number): void {
    this.nextSample = (Math.floor(at / SAMPLE_CYCLES) + 1) * SAMPLE_CYCLES;
    const rate: Record<string, number> = {};
    const misses: Record<string, number> = {};
    const faults: Record<string, number> = {};
    for (const [t, st] of this.threads) {
      if (t.category !== 'user' || !isTranslator(t)) continue;
      const f = 'faults' in t && typeof t.faults === 'number' ? t.faults : 0;
      const h = t.tlbHits - st.hits;
      const m = t.tlbMisses - st.misses;
      if (h + m === 0 && f === st.faults) continue;
      const name = t.kernel.name;
      if (h + m > 0) rate[name] = h / (h + m);
      misses[name] = m;
      faults[name] = f - st.faults;
      st.hits = t.tlbHits;
      st.misses = t.tlbMisses;
      st.faults = f;
    }
    if (Object.keys(misses).length === 0) return;
    if (Object.keys(rate).length > 0) this.tl.counter(this.counterTrack, 'TLB hit rate', at, rate);
    this.tl.counter(this.counterTrack, 'TLB misses', at, misses);
    this.tl.counter(this.counterTrack, 'page faults', at, faults);
  }
}

function isTranslator(t: SimTask): t is SimTask & Translator {
  return 'tlbHits' in t;
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
