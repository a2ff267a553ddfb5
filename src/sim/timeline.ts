/**
 * Timeline recorder: what a simulation run did, over virtual time, as Chrome trace-event JSON
 * (object form) that ui.perfetto.dev and chrome://tracing open.
 *
 * Tracks. Process {@link CPU_PID} "CPUs" holds one thread track per CPU; every protection domain
 * (and every {@link Timeline.namedTrack} process) gets its own pid, allocated in order of first use,
 * with one thread track per thread. `tid = pid * 1000 + n` keeps tids disjoint from pids: Perfetto
 * files a pid-only event under thread `tid = pid`, and a tid shared with another process would split
 * that track. Names and sort indices are emitted once, as `M` events, when a track is created.
 *
 * Slices are `X` (complete) events. Per track they nest strictly; the recorder enforces it and
 * throws {@link InvariantError} on a broken nesting (a caller bug), leaving its state unchanged.
 *
 * Flows use the v2 encoding: `bind_id` plus `flow_out` / `flow_in` on the `X` events of the slices
 * the arrow joins (start: out, step: in+out, end: in). Perfetto binds a v1 `s`/`t`/`f` point to
 * whichever slice is on top of its track's stack when it is processed, which is a stale slice when
 * no new slice has begun since, and depends on the order of events with equal timestamps; v2 names
 * the slice itself. The cost: one flow per slice, and each hop must go to a slice that starts
 * strictly later (the importer must see the start before the end). Both are enforced here.
 *
 * This file holds the recorder (tracks, nesting and flow checks, the event cap); the JSON shapes
 * and their serialisation are in `timeline_json.ts`.
 */
import { InvariantError, invariant } from '../util/result.js';
import {
  type Flow,
  type InstantScope,
  type Mark,
  type Slice,
  type TraceArgs,
  type TraceEvent,
  type TraceJson,
  type Track,
  toTraceJson,
} from './timeline_json.js';

export type { InstantScope, TraceArgs, TraceEvent, TraceJson } from './timeline_json.js';

/** A numeric handle for a thread track, returned by the `*Track` methods. */
export type TrackHandle = number;
/** A numeric handle for a flow (its `bind_id`); 0 is a flow that was not recorded (event cap). */
export type FlowHandle = number;

/** Construction options. */
export interface TimelineOptions {
  /** Most non-metadata events kept; later ones are dropped and counted (default 1,000,000). */
  readonly maxEvents?: number;
  /** Extra entries for `otherData` (scenario name, seed, ...). */
  readonly otherData?: Readonly<Record<string, string | number | boolean>>;
}

/** pid of the "CPUs" process. */
export const CPU_PID = 1;
const TID_STRIDE = 1000;

interface Proc {
  readonly pid: number;
  threads: number;
}

/** Records slices, flows, instants and counters of one run and exports them as trace JSON. */
export class Timeline {
  private readonly maxEvents: number;
  private readonly extra: Readonly<Record<string, string | number | boolean>>;
  private readonly meta: TraceEvent[] = [];
  private readonly tracks: Track[] = [];
  private readonly trackKeys = new Map<string, TrackHandle>();
  private readonly procs = new Map<string, Proc>();
  private readonly events: (Slice | Mark)[] = [];
  private readonly flows: Flow[] = [];
  private nextPid = CPU_PID + 1;
  private seq = 0;
  private dropped = 0;
  private lastTime = 0;

  /** `cyclesPerUs`: virtual cycles per microsecond (the simulated clock in MHz). */
  constructor(
    readonly cyclesPerUs: number,
    options: TimelineOptions = {},
  ) {
    invariant(Number.isFinite(cyclesPerUs) && cyclesPerUs > 0, `cyclesPerUs must be > 0, got ${cyclesPerUs}`);
    this.maxEvents = options.maxEvents ?? 1_000_000;
    invariant(this.maxEvents >= 0, `maxEvents must be >= 0, got ${this.maxEvents}`);
    this.extra = { ...options.otherData };
  }

  /** The track of one CPU, in the "CPUs" process (tid 1001 + cpu). */
  cpuTrack(cpu: number): TrackHandle {
    invariant(Number.isInteger(cpu) && cpu >= 0 && cpu < TID_STRIDE - 1, `bad cpu number ${cpu}`);
    return this.trackFor(`cpu:${cpu}`, 'cpus', 'CPUs', `CPU ${cpu}`, cpu + 1, CPU_PID);
  }

  /** The track of thread `threadId` of protection domain `pdId`; names are taken from the first call. */
  threadTrack(pdId: number, pdLabel: string, threadId: number, threadName: string): TrackHandle {
    return this.trackFor(`pd:${pdId}:${threadId}`, `pd:${pdId}`, pdLabel, threadName);
  }

  /** A track for anything else (an IRQ controller, a device), keyed by both names. */
  namedTrack(processName: string, threadName: string): TrackHandle {
    return this.trackFor(`n:${processName}\u0000${threadName}`, `n:${processName}`, processName, threadName);
  }

  /** Opens a slice at cycle `t`; it is a child of the innermost open slice on the track. */
  begin(track: TrackHandle, name: string, cat: string, t: number, args?: TraceArgs): void {
    const tr = this.track(track);
    this.checkBegin(tr, name, t);
    this.push(tr, name, cat, t, args);
  }

  /** Closes the innermost open slice of the track at cycle `t`. */
  end(track: TrackHandle, t: number): void {
    const tr = this.track(track);
    const s = tr.open.at(-1);
    if (s === undefined) throw new InvariantError(`end at ${t} on ${tr.label}: no open slice`);
    this.checkEnd(s, t);
    this.pop(tr, t);
  }

  /** Records a closed slice [t0, t1] (a child of the innermost open slice, if any). */
  complete(track: TrackHandle, name: string, cat: string, t0: number, t1: number, args?: TraceArgs): void {
    const tr = this.track(track);
    this.checkBegin(tr, name, t0);
    if (!(t1 >= t0))
      throw new InvariantError(`slice '${name}' on ${tr.label} ends at ${t1}, before it begins (${t0})`);
    this.push(tr, name, cat, t0, args);
    this.pop(tr, t1);
  }

  /** Number of open slices on a track. */
  depth(track: TrackHandle): number {
    return this.track(track).open.length;
  }

  /** Starts a flow at the innermost slice enclosing cycle `t` on the track (open or closed). */
  flowStart(track: TrackHandle, t: number): FlowHandle {
    if (this.capped) return 0;
    const s = this.bindable(this.track(track), t);
    this.flows.push({ points: [s], ended: false });
    s.flow = this.flows.length;
    return s.flow;
  }

  /** Continues a flow into the innermost slice enclosing `t` on the track. */
  flowStep(flow: FlowHandle, track: TrackHandle, t: number): void {
    this.flowTo(flow, track, t, false);
  }

  /** Ends a flow in the innermost slice enclosing `t` on the track. */
  flowEnd(flow: FlowHandle, track: TrackHandle, t: number): void {
    this.flowTo(flow, track, t, true);
  }

  /** A one-hop flow: `flowStart(from, t0)` then `flowEnd(to, t1)`, all or nothing. */
  flow(fromTrack: TrackHandle, t0: number, toTrack: TrackHandle, t1: number): FlowHandle {
    if (this.capped) return 0;
    const a = this.bindable(this.track(fromTrack), t0);
    const b = this.bindable(this.track(toTrack), t1);
    this.checkHop(a, b, this.flows.length + 1);
    this.flows.push({ points: [a, b], ended: true });
    a.flow = this.flows.length;
    b.flow = this.flows.length;
    return a.flow;
  }

  /** A point event on a track; scope `g` draws it across the whole timeline (TLB shootdowns). */
  instant(
    track: TrackHandle,
    name: string,
    cat: string,
    t: number,
    scope: InstantScope = 't',
    args?: TraceArgs,
  ): void {
    const tr = this.track(track);
    this.checkTime(t);
    this.keep({ ph: 'i', track: tr, name, cat, t0: t, seq: this.seq++, args: { ...args }, scope });
  }

  /** Counter samples (one series per key) in the track's process, e.g. free frames. */
  counter(track: TrackHandle, name: string, t: number, values: Readonly<Record<string, number>>): void {
    const tr = this.track(track);
    this.checkTime(t);
    const args: Record<string, number> = {};
    for (const [k, v] of Object.entries(values)) {
      if (!Number.isFinite(v))
        throw new InvariantError(`counter '${name}' value ${k} is ${v}, expected a number`);
      args[k] = Number(v.toFixed(6));
    }
    this.keep({ ph: 'C', track: tr, name, cat: 'counter', t0: t, seq: this.seq++, args, scope: 't' });
  }

  /** Events dropped because of `maxEvents` so far. */
  get droppedEvents(): number {
    return this.dropped;
  }

  /** Non-metadata events kept so far (open slices not counted). */
  get eventCount(): number {
    return this.events.length;
  }

  /**
   * The trace as a JSON object. Slices still open are written as ending at the latest time seen,
   * with `args.unfinished`. Calling it changes nothing: recording can go on.
   */
  toJSON(): TraceJson {
    return toTraceJson({
      cyclesPerUs: this.cyclesPerUs,
      maxEvents: this.maxEvents,
      extra: this.extra,
      meta: this.meta,
      tracks: this.tracks,
      events: this.events,
      flows: this.flows,
      dropped: this.dropped,
      lastTime: this.lastTime,
    });
  }

  /** Summary for logs. */
  toString(): string {
    return `Timeline(${this.tracks.length} tracks, ${this.events.length} events, ${this.dropped} dropped)`;
  }

  private get capped(): boolean {
    return this.events.length >= this.maxEvents;
  }

  private track(h: TrackHandle): Track {
    const tr = this.tracks[h];
    if (tr === undefined) throw new InvariantError(`unknown track handle ${h}`);
    return tr;
  }

  private trackFor(
    key: string,
    procKey: string,
    procName: string,
    threadName: string,
    n?: number,
    pid?: number,
  ) {
    const known = this.trackKeys.get(key);
    if (known !== undefined) return known;
    let proc = this.procs.get(procKey);
    if (proc === undefined) {
      proc = { pid: pid ?? this.nextPid++, threads: 0 };
      invariant(proc.pid < TID_STRIDE, `more than ${TID_STRIDE - 2} processes on one timeline`);
      this.procs.set(procKey, proc);
      this.meta.push({ name: 'process_name', ph: 'M', pid: proc.pid, args: { name: procName } });
      this.meta.push({ name: 'process_sort_index', ph: 'M', pid: proc.pid, args: { sort_index: proc.pid } });
    }
    const local = n ?? proc.threads + 1;
    invariant(local < TID_STRIDE, `more than ${TID_STRIDE - 1} threads in process ${procName}`);
    proc.threads = Math.max(proc.threads, local);
    const tid = proc.pid * TID_STRIDE + local;
    const label = `${procName}/${threadName}`;
    this.tracks.push({ pid: proc.pid, tid, label, open: [], closed: [], frontier: 0 });
    this.meta.push({ name: 'thread_name', ph: 'M', pid: proc.pid, tid, args: { name: threadName } });
    this.meta.push({ name: 'thread_sort_index', ph: 'M', pid: proc.pid, tid, args: { sort_index: local } });
    this.trackKeys.set(key, this.tracks.length - 1);
    return this.tracks.length - 1;
  }

  private checkTime(t: number): void {
    if (!(Number.isFinite(t) && t >= 0)) throw new InvariantError(`time ${t} is not a cycle count >= 0`);
  }

  private checkBegin(tr: Track, name: string, t: number): void {
    this.checkTime(t);
    const parent = tr.open.at(-1);
    const floor = parent === undefined ? tr.frontier : parent.childEnd;
    if (t < floor) {
      const what = parent === undefined ? 'the previous slice' : `the previous child of '${parent.name}'`;
      throw new InvariantError(
        `slice '${name}' on ${tr.label} begins at ${t}, before ${what} ends (${floor})`,
      );
    }
  }

  private checkEnd(s: Slice, t: number): void {
    this.checkTime(t);
    if (t < s.t0)
      throw new InvariantError(
        `slice '${s.name}' on ${s.track.label} ends at ${t}, before it begins (${s.t0})`,
      );
    if (t < s.childEnd) {
      throw new InvariantError(
        `slice '${s.name}' on ${s.track.label} ends at ${t}, but a child runs until ${s.childEnd}: children may not outlive it`,
      );
    }
  }

  private push(tr: Track, name: string, cat: string, t: number, args: TraceArgs | undefined): void {
    const a = args === undefined ? undefined : { ...args };
    tr.open.push({
      ph: 'X',
      track: tr,
      name,
      cat,
      t0: t,
      seq: this.seq++,
      args: a,
      t1: t,
      childEnd: t,
      flow: 0,
      kept: false,
    });
    this.lastTime = Math.max(this.lastTime, t);
  }

  private pop(tr: Track, t: number): void {
    const s = tr.open.pop()!;
    s.t1 = t;
    const parent = tr.open.at(-1);
    if (parent === undefined) tr.frontier = t;
    else parent.childEnd = t;
    if (this.keep(s)) {
      s.kept = true;
      tr.closed.push(s);
    }
  }

  private keep(e: Slice | Mark): boolean {
    this.lastTime = Math.max(this.lastTime, e.ph === 'X' ? e.t1 : e.t0);
    if (this.capped) {
      this.dropped++;
      return false;
    }
    this.events.push(e);
    return true;
  }

  /** The innermost slice enclosing `t` (closed interval), which must not carry a flow yet. */
  private bindable(tr: Track, t: number): Slice {
    this.checkTime(t);
    let best: Slice | undefined;
    for (let i = tr.open.length - 1; i >= 0; i--) {
      if (tr.open[i]!.t0 <= t) {
        best = tr.open[i];
        break;
      }
    }
    for (let i = tr.closed.length - 1; i >= 0; i--) {
      const c = tr.closed[i]!;
      if (c.t1 < t) break;
      if (c.t0 <= t && (best === undefined || c.seq > best.seq)) best = c;
    }
    if (best === undefined)
      throw new InvariantError(`flow point at ${t} on ${tr.label}: no slice encloses it`);
    if (best.flow !== 0) {
      throw new InvariantError(
        `flow point at ${t} on ${tr.label}: slice '${best.name}' already carries flow ${best.flow} (one flow per slice)`,
      );
    }
    return best;
  }

  private checkHop(from: Slice, to: Slice, id: number): void {
    if (to.t0 <= from.t0) {
      throw new InvariantError(
        `flow ${id} goes from '${from.name}' (starts ${from.t0}) to '${to.name}' (starts ${to.t0}): ` +
          'the target slice must start strictly later',
      );
    }
  }

  private flowTo(flow: FlowHandle, track: TrackHandle, t: number, last: boolean): void {
    if (flow === 0 || this.capped) return;
    const f = this.flows[flow - 1];
    if (f === undefined) throw new InvariantError(`unknown flow ${flow}`);
    if (f.ended) throw new InvariantError(`flow ${flow} has already ended`);
    const s = this.bindable(this.track(track), t);
    this.checkHop(f.points.at(-1)!, s, flow);
    s.flow = flow;
    f.points.push(s);
    f.ended = last;
  }
}
