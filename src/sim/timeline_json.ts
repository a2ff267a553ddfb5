/**
 * The trace-event JSON side of the timeline recorder: the shapes written to the file, the records
 * the recorder keeps, and {@link toTraceJson}, which turns those records into the file. Kept apart
 * from `Timeline` so the output format (field order, time rounding, flow encoding, sort order) lives
 * in one place and the recorder only checks and stores calls.
 *
 * Times are virtual cycles; the JSON carries microseconds rounded to whole nanoseconds (three
 * decimals), computed from integer nanoseconds so no float noise reaches the output. Events are
 * sorted by (start, record order): parents precede children, and output is a pure function of the
 * calls made.
 */

/** Slice and instant arguments, shown in the viewer's details panel. */
export type TraceArgs = Readonly<Record<string, string | number | boolean>>;
/** Instant-event scope: thread, process or global. */
export type InstantScope = 't' | 'p' | 'g';

/** One trace event as written to JSON (fields in this order). */
export interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: InstantScope;
  bind_id?: number;
  flow_in?: boolean;
  flow_out?: boolean;
  args?: Record<string, string | number | boolean>;
}

/** The object form of a Chrome trace. */
export interface TraceJson {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number | boolean>;
}

/** @internal A thread track as the recorder keeps it. */
export interface Track {
  readonly pid: number;
  readonly tid: number;
  readonly label: string;
  /** Open slices, outermost first. */
  readonly open: Slice[];
  /** Kept closed slices in the order they ended (so by non-decreasing end time). */
  readonly closed: Slice[];
  /** End of the last closed top-level slice: the next one may not begin earlier. */
  frontier: number;
}

/** @internal A slice (`X` event), open or closed. */
export interface Slice {
  readonly ph: 'X';
  readonly track: Track;
  readonly name: string;
  readonly cat: string;
  readonly t0: number;
  readonly seq: number;
  readonly args: TraceArgs | undefined;
  t1: number;
  /** End of the last closed child: the next child and this slice's end may not be earlier. */
  childEnd: number;
  /** The flow bound to this slice, 0 for none. */
  flow: number;
  kept: boolean;
}

/** @internal An instant (`i`) or counter (`C`) event. */
export interface Mark {
  readonly ph: 'i' | 'C';
  readonly track: Track;
  readonly name: string;
  readonly cat: string;
  readonly t0: number;
  readonly seq: number;
  readonly args: TraceArgs;
  readonly scope: InstantScope;
}

/** @internal A flow: the slices it joins, in hop order. */
export interface Flow {
  readonly points: Slice[];
  ended: boolean;
}

/** @internal Everything the recorder holds that {@link toTraceJson} writes out. */
export interface Recording {
  readonly cyclesPerUs: number;
  readonly maxEvents: number;
  readonly extra: Readonly<Record<string, string | number | boolean>>;
  /** `M` events naming processes and threads, in track-creation order. */
  readonly meta: readonly TraceEvent[];
  readonly tracks: readonly Track[];
  /** Kept non-metadata events, in record order. */
  readonly events: readonly (Slice | Mark)[];
  readonly flows: readonly Flow[];
  readonly dropped: number;
  readonly lastTime: number;
}

interface FlowRole {
  readonly id: number;
  readonly in: boolean;
  readonly out: boolean;
}

function ns(t: number, cyclesPerUs: number): number {
  return Math.round((t * 1000) / cyclesPerUs);
}

/**
 * @internal The trace as a JSON object. Slices still open are written as ending at the latest time
 * seen, with `args.unfinished`. Reads the recording without changing it.
 */
export function toTraceJson(r: Recording): TraceJson {
  const body: (Slice | Mark)[] = r.events.slice();
  let dropped = r.dropped;
  let unfinished = 0;
  for (const tr of r.tracks) {
    for (const s of tr.open) {
      if (body.length < r.maxEvents) {
        body.push(s);
        unfinished++;
      } else dropped++;
    }
  }
  const inBody = new Set<Slice>();
  for (const e of body) if (e.ph === 'X') inBody.add(e);
  const roles = new Map<Slice, FlowRole>();
  r.flows.forEach((f, i) => {
    const pts = f.points.filter((p) => inBody.has(p));
    if (pts.length < 2) return;
    pts.forEach((p, j) => {
      roles.set(p, { id: i + 1, in: j > 0, out: j < pts.length - 1 });
    });
  });
  const end = r.lastTime;
  // A parent always begins before its children, so record order breaks ties parent-first.
  body.sort((a, b) => a.t0 - b.t0 || a.seq - b.seq);
  const traceEvents = r.meta.slice();
  for (const e of body) {
    const { pid, tid } = e.track;
    const ts = ns(e.t0, r.cyclesPerUs) / 1000;
    const ev: TraceEvent =
      e.ph === 'X'
        ? {
            name: e.name,
            cat: e.cat,
            ph: e.ph,
            ts,
            dur: (ns(e.kept ? e.t1 : end, r.cyclesPerUs) - ns(e.t0, r.cyclesPerUs)) / 1000,
            pid,
            tid,
          }
        : { name: e.name, cat: e.cat, ph: e.ph, ts, pid, tid };
    if (e.ph === 'i') ev.s = e.scope;
    const role = e.ph === 'X' ? roles.get(e) : undefined;
    if (role !== undefined) {
      ev.bind_id = role.id;
      if (role.in) ev.flow_in = true;
      if (role.out) ev.flow_out = true;
    }
    const args = e.ph === 'X' && !e.kept ? { ...e.args, unfinished: true } : e.args;
    if (args !== undefined && (e.ph === 'C' || Object.keys(args).length > 0)) ev.args = { ...args };
    traceEvents.push(ev);
  }
  return {
    traceEvents,
    displayTimeUnit: 'ns',
    otherData: {
      ...r.extra,
      cyclesPerUs: r.cyclesPerUs,
      droppedEvents: dropped,
      unfinishedSlices: unfinished,
      flowEncoding: 'v2 bind_id/flow_in/flow_out on X events',
    },
  };
}
