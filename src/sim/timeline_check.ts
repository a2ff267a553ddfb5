/**
 * Offline validator for Chrome trace-event JSON, used by tests to prove that what
 * {@link Timeline} writes is something Perfetto and chrome://tracing read the way we mean it.
 *
 * It checks the schema of every event, strict nesting of `X`/`B`/`E` slices per (pid, tid) track,
 * flows (v1 `s`/`t`/`f` keyed by cat and id, each point inside a slice of its track; v2 `bind_id`
 * with `flow_out`/`flow_in`, replayed in timestamp order the way Perfetto's importer pairs them),
 * name metadata for every pid and tid used, and numeric counter values. Timestamps are compared in
 * whole nanoseconds (µs × 1000, rounded), as Perfetto stores them.
 */

const KNOWN_PH = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'M', 's', 't', 'f', 'b', 'e', 'n']);
const THREAD_PH = new Set(['B', 'E', 'X', 's', 't', 'f']);
const META_NAMES = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']);

type Obj = Record<string, unknown>;

interface Ev {
  readonly i: number;
  readonly ph: string;
  readonly name: string;
  readonly cat: string;
  readonly pid: number;
  readonly tid: number | undefined;
  readonly ts: number;
  readonly raw: Obj;
}

interface Interval {
  readonly name: string;
  readonly t0: number;
  readonly t1: number;
  readonly i: number;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function ns(us: number): number {
  return Math.round(us * 1000);
}

function fmt(n: number): string {
  return `${n / 1000}`;
}

/** Validates a trace (object or array form); returns the problems found, empty when valid. */
export function checkTimeline(json: unknown): string[] {
  const problems: string[] = [];
  let list: unknown[];
  if (Array.isArray(json)) list = json;
  else if (isObj(json) && Array.isArray(json.traceEvents)) {
    list = json.traceEvents;
    const unit = json.displayTimeUnit;
    if (unit !== undefined && unit !== 'ms' && unit !== 'ns')
      problems.push(`displayTimeUnit ${String(unit)} is not ms or ns`);
    if (json.otherData !== undefined && !isObj(json.otherData)) problems.push('otherData is not an object');
  } else return ['trace is neither an array of events nor an object with a traceEvents array'];

  const events: Ev[] = [];
  list.forEach((raw, i) => {
    const ev = checkEvent(raw, i, problems);
    if (ev !== undefined) events.push(ev);
  });
  checkMetadata(events, problems);
  const slices = checkNesting(events, problems);
  checkFlowsV1(events, slices, problems);
  checkFlowsV2(events, problems);
  return problems;
}

function checkEvent(raw: unknown, i: number, problems: string[]): Ev | undefined {
  const at = `event #${i}`;
  if (!isObj(raw)) {
    problems.push(`${at}: not an object`);
    return undefined;
  }
  const ph = raw.ph;
  if (typeof ph !== 'string' || !KNOWN_PH.has(ph)) {
    problems.push(`${at}: unknown ph ${JSON.stringify(ph)}`);
    return undefined;
  }
  const where = `${at} (${ph} ${JSON.stringify(raw.name)})`;
  const before = problems.length;
  const bad = (msg: string) => problems.push(`${where}: ${msg}`);
  if (raw.name === undefined ? ph !== 'E' : typeof raw.name !== 'string') bad('name must be a string');
  if (raw.cat !== undefined && typeof raw.cat !== 'string') bad('cat must be a string');
  if (!Number.isInteger(raw.pid)) bad('pid must be an integer');
  const scope = raw.s;
  const threadScoped =
    THREAD_PH.has(ph) ||
    ((ph === 'i' || ph === 'I') && (scope === undefined || scope === 't')) ||
    (ph === 'M' && (raw.name === 'thread_name' || raw.name === 'thread_sort_index'));
  if (threadScoped ? !Number.isInteger(raw.tid) : raw.tid !== undefined && !Number.isInteger(raw.tid)) {
    bad('tid must be an integer');
  }
  if (ph !== 'M' && !isNum(raw.ts)) bad('ts must be a finite number');
  if (ph === 'X' && !(isNum(raw.dur) && raw.dur >= 0)) bad('dur must be a number >= 0');
  const args = raw.args;
  if (args !== undefined && !isObj(args)) bad('args must be an object');
  if ((ph === 'i' || ph === 'I') && scope !== undefined && scope !== 't' && scope !== 'p' && scope !== 'g') {
    bad(`instant scope s must be t, p or g, got ${JSON.stringify(scope)}`);
  }
  if (ph === 'C') {
    const vals = isObj(args) ? Object.entries(args) : [];
    if (vals.length === 0) bad('counter needs args with at least one value');
    for (const [k, v] of vals) if (!isNum(v)) bad(`counter value ${k} is not a number`);
  }
  if (ph === 'M') checkMeta(raw, bad);
  if ((ph === 's' || ph === 't' || ph === 'f') && typeof raw.id !== 'number' && typeof raw.id !== 'string') {
    bad('flow event needs an id');
  }
  if (ph === 'f' && raw.bp !== undefined && raw.bp !== 'e')
    bad(`bp must be "e", got ${JSON.stringify(raw.bp)}`);
  if (raw.flow_in !== undefined && typeof raw.flow_in !== 'boolean') bad('flow_in must be a boolean');
  if (raw.flow_out !== undefined && typeof raw.flow_out !== 'boolean') bad('flow_out must be a boolean');
  if (raw.bind_id !== undefined) {
    if (ph !== 'X' && ph !== 'B') bad('bind_id only binds on X or B slices');
    if (typeof raw.bind_id !== 'number' && typeof raw.bind_id !== 'string')
      bad('bind_id must be a number or string');
    if (raw.flow_in !== true && raw.flow_out !== true) bad('bind_id without flow_in or flow_out');
  }
  if (problems.length > before) return undefined;
  const tid = raw.tid as number | undefined;
  const ts = ph === 'M' ? 0 : ns(raw.ts as number);
  return {
    i,
    ph,
    name: (raw.name as string) ?? '',
    cat: (raw.cat as string) ?? '',
    pid: raw.pid as number,
    tid,
    ts,
    raw,
  };
}

function checkMeta(raw: Obj, bad: (msg: string) => void): void {
  const name = raw.name as string;
  if (!META_NAMES.has(name)) {
    bad(`unknown metadata name (expected one of ${[...META_NAMES].join(', ')})`);
    return;
  }
  const args = isObj(raw.args) ? raw.args : {};
  if (name.endsWith('_name') && typeof args.name !== 'string') bad('metadata needs args.name as a string');
  if (name.endsWith('_sort_index') && !Number.isInteger(args.sort_index))
    bad('metadata needs args.sort_index');
}

function trackKey(e: Ev): string {
  return `${e.pid}/${e.tid}`;
}

function checkMetadata(events: readonly Ev[], problems: string[]): void {
  const procs = new Set<number>();
  const threads = new Set<string>();
  for (const e of events) {
    if (e.name === 'process_name' && e.ph === 'M') procs.add(e.pid);
    if (e.name === 'thread_name' && e.ph === 'M') threads.add(trackKey(e));
  }
  const reported = new Set<string>();
  const report = (key: string, msg: string) => {
    if (!reported.has(key)) problems.push(msg);
    reported.add(key);
  };
  for (const e of events) {
    if (e.ph === 'M') continue;
    if (!procs.has(e.pid)) report(`p${e.pid}`, `pid ${e.pid} has no process_name metadata`);
    if (e.tid !== undefined && !threads.has(trackKey(e))) {
      report(`t${trackKey(e)}`, `pid/tid ${trackKey(e)} has no thread_name metadata`);
    }
  }
}

/** Checks strict nesting per track and returns the slices of every track. */
function checkNesting(events: readonly Ev[], problems: string[]): Map<string, Interval[]> {
  const byTrack = new Map<string, Interval[]>();
  const open = new Map<string, Ev[]>();
  const add = (key: string, iv: Interval) => {
    const l = byTrack.get(key);
    if (l === undefined) byTrack.set(key, [iv]);
    else l.push(iv);
  };
  const sorted = events.filter((e) => e.ph === 'X' || e.ph === 'B' || e.ph === 'E');
  sorted.sort((a, b) => a.ts - b.ts || a.i - b.i);
  for (const e of sorted) {
    const key = trackKey(e);
    if (e.ph === 'X') add(key, { name: e.name, t0: e.ts, t1: e.ts + ns(e.raw.dur as number), i: e.i });
    else if (e.ph === 'B') open.set(key, [...(open.get(key) ?? []), e]);
    else {
      const b = open.get(key)?.pop();
      if (b === undefined) problems.push(`event #${e.i}: E on pid/tid ${key} at ${fmt(e.ts)} has no open B`);
      else add(key, { name: b.name, t0: b.ts, t1: e.ts, i: b.i });
    }
  }
  for (const [key, bs] of open) {
    for (const b of bs) problems.push(`event #${b.i}: B '${b.name}' on pid/tid ${key} never ends`);
  }
  for (const [key, list] of byTrack) {
    list.sort((a, b) => a.t0 - b.t0 || b.t1 - a.t1 || a.i - b.i);
    const stack: Interval[] = [];
    for (const iv of list) {
      let top = stack.at(-1);
      while (top !== undefined && (top.t1 < iv.t0 || (top.t1 === iv.t0 && iv.t1 > iv.t0))) {
        stack.pop();
        top = stack.at(-1);
      }
      if (top !== undefined && iv.t1 > top.t1) {
        problems.push(
          `pid/tid ${key}: slice '${iv.name}' [${fmt(iv.t0)}, ${fmt(iv.t1)}] overlaps ` +
            `'${top.name}' [${fmt(top.t0)}, ${fmt(top.t1)}] without nesting`,
        );
        continue;
      }
      stack.push(iv);
    }
  }
  return byTrack;
}

function checkFlowsV1(events: readonly Ev[], slices: Map<string, Interval[]>, problems: string[]): void {
  const flows = new Map<string, Ev[]>();
  for (const e of events) {
    if (e.ph !== 's' && e.ph !== 't' && e.ph !== 'f') continue;
    const key = `cat ${JSON.stringify(e.cat)} id ${String(e.raw.id)}`;
    flows.set(key, [...(flows.get(key) ?? []), e]);
  }
  for (const [key, pts] of flows) {
    pts.sort((a, b) => a.ts - b.ts || a.i - b.i);
    const starts = pts.filter((p) => p.ph === 's').length;
    const ends = pts.filter((p) => p.ph === 'f').length;
    if (starts > 1 || ends > 1)
      problems.push(`flow ${key}: ${starts} starts and ${ends} ends, expected one of each`);
    else if (starts === 0) problems.push(`flow ${key}: has no start (s)`);
    else if (ends === 0) problems.push(`flow ${key}: starts but never ends (dangling flow)`);
    else if (pts[0]!.ph !== 's' || pts.at(-1)!.ph !== 'f')
      problems.push(`flow ${key}: points are not ordered s, t*, f in time`);
    for (const p of pts) {
      const list = slices.get(trackKey(p)) ?? [];
      const nextSlice = p.ph === 'f' && p.raw.bp !== 'e';
      const bound = nextSlice
        ? list.some((s) => s.t0 >= p.ts)
        : list.some((s) => s.t0 <= p.ts && p.ts <= s.t1);
      if (!bound) {
        const what = nextSlice ? 'no slice starts at or after it' : 'it lies in no slice';
        problems.push(`flow ${key}: ${p.ph} point at ${fmt(p.ts)} on pid/tid ${trackKey(p)}: ${what}`);
      }
    }
  }
}

function checkFlowsV2(events: readonly Ev[], problems: string[]): void {
  const bound = events.filter((e) => e.raw.bind_id !== undefined);
  bound.sort((a, b) => a.ts - b.ts || a.i - b.i);
  const state = new Map<string, { ended: boolean }>();
  for (const e of bound) {
    const id = String(e.raw.bind_id);
    const fin = e.raw.flow_in === true;
    const fout = e.raw.flow_out === true;
    const st = state.get(id);
    const at = `flow bind_id ${id}: slice '${e.name}' at ${fmt(e.ts)} (event #${e.i})`;
    if (!fin) {
      if (st !== undefined) problems.push(`${at} starts it a second time`);
      else state.set(id, { ended: false });
    } else if (st === undefined) {
      problems.push(`${at} ${fout ? 'continues' : 'ends'} it before it starts`);
    } else if (st.ended) {
      problems.push(`${at} continues it after it ended`);
    } else if (!fout) st.ended = true;
  }
  for (const [id, st] of state)
    if (!st.ended) problems.push(`flow bind_id ${id}: starts but never ends (dangling flow)`);
}
