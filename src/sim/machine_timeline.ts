/**
 * Draws a machine's run on a timeline: per CPU every piece of work it did (thread steps and kernel
 * jobs), per thread its running and blocked spans, per handler its runs, flow arrows
 * fault → pager → handler → resume, and counter tracks (free frames, TLB hit rate).
 *
 * Interrupts: a sample of them (per IRQ, the first delivered in each 100 µs of modelled time) gets
 * a slice on its device's track, from the raise to the start of the driver's run for it, and an
 * arrow raise → interrupt entry → (IPI to core, core's IRQ thread) → (IPI to the driver's CPU) →
 * the driver's run. An arrow only goes to a slice that starts later than the one before: when the
 * entry starts at the raise (the CPU took it at once) the arrow starts at the entry.
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

/** A sampled IRQ on its way to its driver: where it was raised and the work done for it since. */
interface IrqSample {
  readonly irq: number;
  readonly device: string;
  readonly raised: number;
  /** Per hop: the CPU track, then the start and end of the slice there. */
  readonly hops: number[];
  started: number;
}

/** Records one machine's run. */
export class MachineTimeline {
  private readonly threads = new Map<SimTask, ThreadState>();
  /** Per CPU: a piece cut short by the end of a batch, drawn with the next one if that continues it. */
  private readonly held = new Map<number, { cpu: Cpu; task: SimTask; t0: number; t1: number }>();
  /** Per IRQ: when the next delivery is sampled; the samples on their way; the ones whose driver started. */
  private readonly irqNext = new Map<number, number>();
  private readonly irqSamples = new Map<number, IrqSample>();
  private readonly irqStarted = new Map<SimTask, IrqSample>();
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

  /**
   * Task t ran on `cpu` over [t0, t1] (a whole step or the part before a preemption). A step cut
   * short by the end of a batch ({@link SimTask.continues}) waits: when the task's next piece
   * starts where it ended on the same CPU, the two are drawn as one.
   */
  task(cpu: Cpu, t: SimTask, t0: number, t1: number): void {
    const held = this.held.get(cpu.id);
    if (held !== undefined) {
      this.held.delete(cpu.id);
      if (held.task === t && held.t1 === t0) t0 = held.t0;
      else this.piece(cpu, held.task, held.t0, held.t1);
    }
    if (t.continues === true) this.held.set(cpu.id, { cpu, task: t, t0, t1 });
    else this.piece(cpu, t, t0, t1);
  }

  /** Draws the piece a CPU held back (before anything else is drawn on that CPU). */
  private release(cpu: Cpu): void {
    const held = this.held.get(cpu.id);
    if (held === undefined) return;
    this.held.delete(cpu.id);
    this.piece(cpu, held.task, held.t0, held.t1);
  }

  private piece(cpu: Cpu, t: SimTask, t0: number, t1: number): void {
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
    if (this.irqStarted.size > 0) {
      const irq = this.irqStarted.get(t);
      this.irqStarted.delete(t);
      // A slice carries one arrow: a fault's arrow ending here wins.
      if (irq !== undefined && st.phase !== 'to-resume') this.irqFlow(irq, st.track, t0, t1);
    }
    if (st.phase === 'to-resume') {
      tl.flowEnd(st.flow, st.track, (t0 + t1) / 2);
      st.phase = 'none';
    }
    if (t.category === 'user' && t1 >= this.nextSample) this.sample(t1);
  }

  /** A kernel job of kind `kind` ran on `cpu` over [t0, t1]. */
  kernel(cpu: Cpu, kind: number, t0: number, t1: number): void {
    this.release(cpu);
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

  /** IRQ `irq` of `device`, raised (or unmasked) at `raised`, was delivered: sample it now and then. */
  irqDelivered(irq: number, device: string, raised: number): void {
    if (raised < (this.irqNext.get(irq) ?? 0)) return;
    this.irqNext.set(irq, (Math.floor(raised / SAMPLE_CYCLES) + 1) * SAMPLE_CYCLES);
    this.irqSamples.set(irq, { irq, device, raised, hops: [], started: -1 });
  }

  /** Work for `irq` (an entry, an IPI, core's IRQ thread) ran on `cpu` over [t0, t1], already drawn. */
  irqHop(irq: number, cpu: number, t0: number, t1: number): void {
    const s = this.irqSamples.get(irq);
    if (s !== undefined && t1 > t0) s.hops.push(this.tl.cpuTrack(cpu), t0, t1);
  }

  /** The driver `driver` of `irq` starts its first run for it at `at`: the arrow ends at that run. */
  irqDriverStarts(irq: number, driver: SimTask, at: number): void {
    const s = this.irqSamples.get(irq);
    if (s === undefined) return;
    this.irqSamples.delete(irq);
    s.started = at;
    this.irqStarted.set(driver, s);
  }

  /** Draws a sampled IRQ: its slice on the device's track and its arrow, ending in [t0, t1] on `track`. */
  private irqFlow(s: IrqSample, track: TrackHandle, t0: number, t1: number): void {
    const tl = this.tl;
    const device = tl.namedTrack('devices', s.device);
    tl.complete(device, `IRQ ${s.irq}`, 'irq', s.raised, s.started, {
      latencyCycles: s.started - s.raised,
    });
    // The points, each slice starting later than the one before (the device's slice may give way
    // to an entry that started at the raise).
    const points: number[] = [device, s.raised, (s.raised + s.started) / 2];
    const add = (tr: number, a: number, b: number) => {
      const last = points[points.length - 2]!;
      if (a > last) points.push(tr, a, (a + b) / 2);
      else if (a === last && points.length === 3 && tr !== device) points.splice(0, 3, tr, a, (a + b) / 2);
    };
    for (let i = 0; i < s.hops.length; i += 3) add(s.hops[i]!, s.hops[i + 1]!, s.hops[i + 2]!);
    add(track, t0, t1);
    if (points.length < 6 || points[points.length - 3] !== track) return;
    const flow = tl.flowStart(points[0]!, points[2]!);
    for (let i = 3; i < points.length - 3; i += 3) tl.flowStep(flow, points[i]!, points[i + 2]!);
    tl.flowEnd(flow, track, points[points.length - 1]!);
  }

  /** Free frames after memory changed hands. */
  freeFrames(at: number, frames: number): void {
    this.tl.counter(this.counterTrack, 'free frames', at, { frames });
  }

  /** A traced thread finished at `at`: its last counters are sampled. */
  finished(at: number): void {
    for (const held of [...this.held.values()]) this.release(held.cpu);
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
