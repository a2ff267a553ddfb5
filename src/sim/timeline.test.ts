import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { CPU_PID, Timeline, type TraceEvent, type TraceJson, type TrackHandle } from './timeline.js';
import { checkTimeline } from './timeline_check.js';

const body = (j: TraceJson): TraceEvent[] => j.traceEvents.filter((e) => e.ph !== 'M');
const named = (j: TraceJson, name: string): TraceEvent => {
  const e = j.traceEvents.find((x) => x.name === name && x.ph !== 'M');
  if (e === undefined) throw new Error(`no event ${name}`);
  return e;
};

describe('Timeline tracks', () => {
  it('gives each CPU and each thread one track and names them once', () => {
    const tl = new Timeline(1000);
    const c0 = tl.cpuTrack(0);
    const c1 = tl.cpuTrack(1);
    const t = tl.threadTrack(5, 'pager', 1, 'ep');
    const u = tl.threadTrack(5, 'pager', 2, 'worker');
    const v = tl.threadTrack(9, 'app', 1, 'main');
    expect(new Set([c0, c1, t, u, v]).size).toBe(5);
    expect(tl.cpuTrack(1)).toBe(c1);
    expect(tl.threadTrack(5, 'renamed', 2, 'renamed')).toBe(u);
    const meta = tl.toJSON().traceEvents;
    expect(meta.every((e) => e.ph === 'M')).toBe(true);
    const names = meta.filter((e) => e.name.endsWith('_name')).map((e) => [e.pid, e.tid, e.args?.name]);
    expect(names).toEqual([
      [CPU_PID, undefined, 'CPUs'],
      [1, 1001, 'CPU 0'],
      [1, 1002, 'CPU 1'],
      [2, undefined, 'pager'],
      [2, 2001, 'ep'],
      [2, 2002, 'worker'],
      [3, undefined, 'app'],
      [3, 3001, 'main'],
    ]);
    expect(meta.filter((e) => e.name.endsWith('_sort_index'))).toHaveLength(8);
  });

  it('keeps named tracks apart from protection domains with the same label', () => {
    const tl = new Timeline(1000);
    const a = tl.threadTrack(1, 'irq', 1, 'x');
    const b = tl.namedTrack('irq', 'x');
    expect(a).not.toBe(b);
    expect(tl.namedTrack('irq', 'x')).toBe(b);
    tl.complete(a, 's', 'c', 0, 1);
    tl.complete(b, 's', 'c', 0, 1);
    const pids = body(tl.toJSON()).map((e) => e.pid);
    expect(pids).toEqual([2, 3]);
  });

  it('rejects unknown handles and bad construction', () => {
    const tl = new Timeline(1000);
    expect(() => tl.begin(42, 'x', 'c', 0)).toThrow(InvariantError);
    expect(() => new Timeline(0)).toThrow(InvariantError);
    expect(() => tl.cpuTrack(-1)).toThrow(InvariantError);
  });
});

describe('Timeline slices', () => {
  it('writes a tiny fixed recording exactly (golden)', () => {
    const tl = new Timeline(1000);
    const cpu = tl.cpuTrack(0);
    const th = tl.threadTrack(7, 'app', 1, 'main');
    tl.begin(th, 'fault', 'mm', 100, { addr: '0x1000' });
    tl.complete(cpu, 'trap', 'irq', 150, 250);
    tl.flow(th, 120, cpu, 200);
    tl.end(th, 300);
    tl.instant(cpu, 'shootdown', 'tlb', 260, 'g');
    tl.counter(cpu, 'frames', 300, { free: 12 });
    const expected = {
      traceEvents: [
        { name: 'process_name', ph: 'M', pid: 1, args: { name: 'CPUs' } },
        { name: 'process_sort_index', ph: 'M', pid: 1, args: { sort_index: 1 } },
        { name: 'thread_name', ph: 'M', pid: 1, tid: 1001, args: { name: 'CPU 0' } },
        { name: 'thread_sort_index', ph: 'M', pid: 1, tid: 1001, args: { sort_index: 1 } },
        { name: 'process_name', ph: 'M', pid: 2, args: { name: 'app' } },
        { name: 'process_sort_index', ph: 'M', pid: 2, args: { sort_index: 2 } },
        { name: 'thread_name', ph: 'M', pid: 2, tid: 2001, args: { name: 'main' } },
        { name: 'thread_sort_index', ph: 'M', pid: 2, tid: 2001, args: { sort_index: 1 } },
        {
          name: 'fault',
          cat: 'mm',
          ph: 'X',
          ts: 0.1,
          dur: 0.2,
          pid: 2,
          tid: 2001,
          bind_id: 1,
          flow_out: true,
          args: { addr: '0x1000' },
        },
        {
          name: 'trap',
          cat: 'irq',
          ph: 'X',
          ts: 0.15,
          dur: 0.1,
          pid: 1,
          tid: 1001,
          bind_id: 1,
          flow_in: true,
        },
        { name: 'shootdown', cat: 'tlb', ph: 'i', ts: 0.26, pid: 1, tid: 1001, s: 'g' },
        { name: 'frames', cat: 'counter', ph: 'C', ts: 0.3, pid: 1, tid: 1001, args: { free: 12 } },
      ],
      displayTimeUnit: 'ns',
      otherData: {
        cyclesPerUs: 1000,
        droppedEvents: 0,
        unfinishedSlices: 0,
        flowEncoding: 'v2 bind_id/flow_in/flow_out on X events',
      },
    };
    expect(JSON.stringify(tl.toJSON())).toBe(JSON.stringify(expected));
    expect(checkTimeline(tl.toJSON())).toEqual([]);
  });

  it('nests begin/complete as children and sorts parents first', () => {
    const tl = new Timeline(1);
    const t = tl.cpuTrack(0);
    tl.begin(t, 'outer', 'c', 10);
    tl.begin(t, 'inner', 'c', 10);
    expect(tl.depth(t)).toBe(2);
    tl.complete(t, 'leaf', 'c', 11, 12);
    tl.end(t, 13);
    tl.end(t, 20);
    expect(tl.depth(t)).toBe(0);
    const j = tl.toJSON();
    expect(body(j).map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['outer', 10, 10],
      ['inner', 10, 3],
      ['leaf', 11, 1],
    ]);
    expect(checkTimeline(j)).toEqual([]);
  });

  it('orders events by start time across tracks, whatever the order they were recorded in', () => {
    const tl = new Timeline(1);
    const a = tl.cpuTrack(0);
    const b = tl.cpuTrack(1);
    tl.complete(b, 'late', 'c', 7, 9);
    tl.counter(b, 'n', 8, { v: 1 });
    tl.begin(a, 'early', 'c', 1);
    tl.instant(a, 'mid', 'c', 4);
    tl.complete(a, 'early-kid', 'c', 4, 5);
    tl.end(a, 6);
    expect(body(tl.toJSON()).map((e) => e.name)).toEqual(['early', 'mid', 'early-kid', 'late', 'n']);
  });

  it('writes fractional microseconds without float noise', () => {
    const tl = new Timeline(10);
    const t = tl.cpuTrack(0);
    tl.complete(t, 'a', 'c', 1, 3); // 0.1 µs .. 0.3 µs: 0.3 - 0.1 is 0.19999999999999998 in floats
    const third = new Timeline(3);
    const u = third.cpuTrack(0);
    third.complete(u, 'b', 'c', 1, 2);
    const [a] = body(tl.toJSON());
    const [b] = body(third.toJSON());
    expect([a?.ts, a?.dur]).toEqual([0.1, 0.2]);
    expect([b?.ts, b?.dur]).toEqual([0.333, 0.334]);
    expect(JSON.stringify(b)).toContain('"ts":0.333,"dur":0.334');
  });

  type Act = (tl: Timeline, t: TrackHandle) => void;
  const broken: Array<[string, Act, Act, RegExp]> = [
    [
      'an end before the start',
      (tl, t) => tl.begin(t, 'a', 'c', 10),
      (tl, t) => tl.end(t, 5),
      /ends at 5, before it begins/,
    ],
    [
      'a child outliving its parent',
      (tl, t) => {
        tl.begin(t, 'p', 'c', 0);
        tl.complete(t, 'kid', 'c', 1, 9);
      },
      (tl, t) => tl.end(t, 5),
      /children may not outlive/,
    ],
    [
      'overlapping siblings',
      (tl, t) => tl.complete(t, 'a', 'c', 0, 10),
      (tl, t) => tl.begin(t, 'b', 'c', 5),
      /begins at 5, before the previous slice ends \(10\)/,
    ],
    [
      'overlapping children',
      (tl, t) => {
        tl.begin(t, 'p', 'c', 0);
        tl.complete(t, 'a', 'c', 1, 4);
      },
      (tl, t) => tl.complete(t, 'b', 'c', 3, 5),
      /previous child of 'p' ends \(4\)/,
    ],
    ['an end with nothing open', () => {}, (tl, t) => tl.end(t, 1), /no open slice/],
    [
      'complete backwards',
      () => {},
      (tl, t) => tl.complete(t, 'a', 'c', 5, 4),
      /ends at 4, before it begins \(5\)/,
    ],
    ['a negative time', () => {}, (tl, t) => tl.begin(t, 'a', 'c', -1), /not a cycle count/],
    ['a NaN counter', () => {}, (tl, t) => tl.counter(t, 'n', 0, { v: Number.NaN }), /value v is NaN/],
  ];
  for (const [what, setup, fail, msg] of broken) {
    it(`throws InvariantError on ${what} and keeps its state`, () => {
      const tl = new Timeline(1);
      const t = tl.cpuTrack(0);
      setup(tl, t);
      const before = JSON.stringify(tl.toJSON());
      expect(() => fail(tl, t)).toThrow(InvariantError);
      expect(() => fail(tl, t)).toThrow(msg);
      expect(JSON.stringify(tl.toJSON())).toBe(before);
    });
  }

  it('writes still-open slices as unfinished up to the latest time, without changing state', () => {
    const tl = new Timeline(1);
    const t = tl.cpuTrack(0);
    const u = tl.cpuTrack(1);
    tl.begin(t, 'open', 'c', 2);
    tl.complete(u, 'later', 'c', 3, 8);
    const j = tl.toJSON();
    expect(named(j, 'open')).toMatchObject({ ts: 2, dur: 6, args: { unfinished: true } });
    expect(j.otherData.unfinishedSlices).toBe(1);
    expect(checkTimeline(j)).toEqual([]);
    tl.end(t, 10);
    const k = tl.toJSON();
    expect(named(k, 'open')).toMatchObject({ ts: 2, dur: 8 });
    expect(named(k, 'open').args).toBeUndefined();
  });
});

describe('Timeline flows', () => {
  it('chains start, steps and end through the innermost slices', () => {
    const tl = new Timeline(1);
    const th = tl.threadTrack(1, 'app', 1, 'main');
    const pager = tl.threadTrack(2, 'pager', 1, 'ep');
    const cpu = tl.cpuTrack(0);
    tl.begin(th, 'blocked', 'c', 0);
    tl.complete(th, 'fault', 'c', 0, 5);
    const f = tl.flowStart(th, 3);
    tl.begin(pager, 'handle', 'c', 10);
    tl.flowStep(f, pager, 10);
    tl.complete(pager, 'attach', 'c', 12, 15);
    tl.flowStep(f, pager, 14);
    tl.end(pager, 20);
    tl.end(th, 30);
    tl.complete(th, 'resume', 'c', 30, 31);
    tl.flowEnd(f, th, 30);
    tl.complete(cpu, 'idle', 'c', 0, 40);
    const j = tl.toJSON();
    const role = (n: string) => {
      const e = named(j, n);
      return [e.bind_id, e.flow_in ?? false, e.flow_out ?? false];
    };
    expect(role('fault')).toEqual([f, false, true]);
    expect(role('handle')).toEqual([f, true, true]);
    expect(role('attach')).toEqual([f, true, true]);
    expect(role('resume')).toEqual([f, true, false]);
    expect(named(j, 'blocked').bind_id).toBeUndefined();
    expect(named(j, 'idle').bind_id).toBeUndefined();
    expect(checkTimeline(j)).toEqual([]);
  });

  it('gives every one-hop flow its own id and pairs them up', () => {
    const tl = new Timeline(1);
    const a = tl.cpuTrack(0);
    const b = tl.cpuTrack(1);
    tl.complete(a, 'a1', 'c', 0, 2);
    tl.complete(a, 'a2', 'c', 2, 4);
    tl.complete(b, 'b1', 'c', 1, 3);
    tl.complete(b, 'b2', 'c', 3, 9);
    const f1 = tl.flow(a, 1, b, 2);
    const f2 = tl.flow(a, 2, b, 5);
    expect(f1).not.toBe(f2);
    const j = tl.toJSON();
    expect([
      named(j, 'a1').bind_id,
      named(j, 'a1').flow_out,
      named(j, 'b1').bind_id,
      named(j, 'b1').flow_in,
    ]).toEqual([f1, true, f1, true]);
    // t = 2 is the boundary of a1 and a2: the later slice wins.
    expect([named(j, 'a2').bind_id, named(j, 'b2').bind_id]).toEqual([f2, f2]);
    expect(checkTimeline(j)).toEqual([]);
  });

  it('ends an unfinished flow at its last point and drops a lone start', () => {
    const tl = new Timeline(1);
    const a = tl.cpuTrack(0);
    tl.complete(a, 'x', 'c', 0, 1);
    tl.complete(a, 'y', 'c', 2, 3);
    tl.complete(a, 'z', 'c', 4, 5);
    const f = tl.flowStart(a, 0);
    tl.flowStep(f, a, 2);
    tl.flowStart(a, 4);
    const j = tl.toJSON();
    expect([named(j, 'y').flow_in, named(j, 'y').flow_out]).toEqual([true, undefined]);
    expect(named(j, 'z').bind_id).toBeUndefined();
    expect(checkTimeline(j)).toEqual([]);
  });

  type FlowAct = (tl: Timeline, a: TrackHandle, b: TrackHandle) => unknown;
  const bad: Array<[string, FlowAct, FlowAct, RegExp]> = [
    ['a point outside every slice', () => {}, (tl, a, b) => tl.flow(a, 5, b, 60), /no slice encloses it/],
    [
      'a target that starts earlier',
      () => {},
      (tl, a, b) => tl.flow(b, 15, a, 5),
      /must start strictly later/,
    ],
    [
      'a second flow on one slice',
      (tl, a, b) => tl.flow(a, 1, b, 11),
      (tl, a, b) => tl.flow(a, 2, b, 12),
      /slice 'a' already carries flow 1/,
    ],
    [
      'a step after the end',
      (tl, a, b) => tl.flow(a, 1, b, 11),
      (tl, _a, b) => tl.flowStep(1, b, 12),
      /has already ended/,
    ],
    ['an unknown flow', () => {}, (tl, a) => tl.flowEnd(7, a, 1), /unknown flow 7/],
  ];
  for (const [what, setup, fail, msg] of bad) {
    it(`rejects ${what} and binds nothing`, () => {
      const tl = new Timeline(1);
      const a = tl.cpuTrack(0);
      const b = tl.cpuTrack(1);
      tl.complete(a, 'a', 'c', 0, 20);
      tl.complete(b, 'b', 'c', 10, 20);
      setup(tl, a, b);
      const before = JSON.stringify(tl.toJSON());
      expect(() => fail(tl, a, b)).toThrow(InvariantError);
      expect(() => fail(tl, a, b)).toThrow(msg);
      expect(JSON.stringify(tl.toJSON())).toBe(before);
    });
  }

  it('refuses a hop into a slice starting at the same cycle', () => {
    const tl = new Timeline(1);
    const a = tl.cpuTrack(0);
    const b = tl.cpuTrack(1);
    tl.complete(a, 'a', 'c', 5, 9);
    tl.complete(b, 'b', 'c', 5, 9);
    expect(() => tl.flow(a, 6, b, 6)).toThrow(/must start strictly later/);
    expect(body(tl.toJSON()).some((e) => e.bind_id !== undefined)).toBe(false);
  });
});

describe('Timeline instants, counters and the event cap', () => {
  it('writes instants with their scope and counters rounded to 6 decimals', () => {
    const tl = new Timeline(1);
    const t = tl.cpuTrack(0);
    tl.instant(t, 'ipi', 'tlb', 4);
    tl.instant(t, 'shootdown', 'tlb', 5, 'g', { pages: 3 });
    tl.counter(t, 'tlb', 6, { hitRate: 0.1 + 0.2, misses: 7 });
    const j = tl.toJSON();
    expect(named(j, 'ipi')).toMatchObject({ ph: 'i', s: 't', ts: 4 });
    expect(named(j, 'ipi').args).toBeUndefined();
    expect(named(j, 'shootdown')).toMatchObject({ ph: 'i', s: 'g', args: { pages: 3 } });
    expect(JSON.stringify(named(j, 'tlb').args)).toBe('{"hitRate":0.3,"misses":7}');
    expect(checkTimeline(j)).toEqual([]);
  });

  it('drops events beyond maxEvents, counts them and stays valid', () => {
    const tl = new Timeline(1, { maxEvents: 2, otherData: { scenario: 'cap' } });
    const t = tl.cpuTrack(0);
    tl.complete(t, 'a', 'c', 0, 1);
    tl.instant(t, 'i', 'c', 1);
    tl.complete(t, 'b', 'c', 2, 3);
    tl.counter(t, 'n', 3, { v: 1 });
    tl.begin(t, 'open', 'c', 4);
    expect(tl.flowStart(t, 4)).toBe(0);
    tl.flowEnd(0, t, 4);
    const j = tl.toJSON();
    expect(body(j).map((e) => e.name)).toEqual(['a', 'i']);
    expect(j.otherData).toMatchObject({ scenario: 'cap', droppedEvents: 3 });
    expect(tl.droppedEvents).toBe(2);
    expect(j.traceEvents.filter((e) => e.ph === 'M')).toHaveLength(4);
    expect(checkTimeline(j)).toEqual([]);
  });

  it('unbinds a flow whose slice the cap dropped', () => {
    const tl = new Timeline(1, { maxEvents: 2 });
    const t = tl.cpuTrack(0);
    const u = tl.cpuTrack(1);
    tl.begin(t, 'long', 'c', 0);
    tl.complete(u, 'kept', 'c', 3, 4);
    expect(tl.flow(t, 1, u, 3)).toBe(1);
    tl.complete(u, 'kept2', 'c', 5, 6);
    tl.end(t, 10);
    const j = tl.toJSON();
    expect(body(j).map((e) => e.name)).toEqual(['kept', 'kept2']);
    expect(named(j, 'kept').bind_id).toBeUndefined();
    expect(checkTimeline(j)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any well-formed sequence of calls yields JSON the checker accepts.

interface SliceM {
  readonly t0: number;
  t1: number | undefined;
  readonly seq: number;
  flow: boolean;
}
interface Model {
  now: number;
  seq: number;
  produced: number;
  readonly max: number;
  readonly tracks: { open: SliceM[]; all: SliceM[] }[];
  readonly flows: { handle: number; points: SliceM[]; ended: boolean }[];
}
interface Real {
  readonly tl: Timeline;
  readonly handles: TrackHandle[];
}

const capped = (m: Model) => m.produced >= m.max;
/** Naive reference: the slice with the highest begin order whose closed interval holds `now`. */
function innermost(m: Model, track: number): SliceM | undefined {
  let best: SliceM | undefined;
  for (const s of m.tracks[track]!.all) {
    if (s.t0 <= m.now && (s.t1 === undefined || m.now <= s.t1) && (best === undefined || s.seq > best.seq))
      best = s;
  }
  return best;
}

/** A recent flow: `fi` counts back from the newest. */
const pick = (m: Model, fi: number) => m.flows[m.flows.length - 1 - (fi % Math.max(1, m.flows.length))];

type Cmd = fc.Command<Model, Real>;
const cmd = (label: string, check: (m: Model) => boolean, run: (m: Model, r: Real) => void): Cmd => ({
  check,
  run,
  toString: () => label,
});

const NAMES = ['fault', 'pager', 'attach', 'resume', 'irq'];
const TRACKS = 3;
const trackArb = fc.integer({ min: 0, max: TRACKS - 1 });

const commandArbs = [
  fc.nat(5).map((dt) =>
    cmd(
      `advance ${dt}`,
      () => true,
      (m) => {
        m.now += dt;
      },
    ),
  ),
  fc.tuple(trackArb, fc.constantFrom(...NAMES)).map(([k, n]) =>
    cmd(
      `begin ${k} ${n}`,
      () => true,
      (m, r) => {
        r.tl.begin(r.handles[k]!, n, 'c', m.now, { k });
        const s = { t0: m.now, t1: undefined, seq: m.seq++, flow: false };
        m.tracks[k]!.open.push(s);
        m.tracks[k]!.all.push(s);
      },
    ),
  ),
  trackArb.map((k) =>
    cmd(
      `end ${k}`,
      (m) => m.tracks[k]!.open.length > 0,
      (m, r) => {
        r.tl.end(r.handles[k]!, m.now);
        m.tracks[k]!.open.pop()!.t1 = m.now;
        m.produced++;
      },
    ),
  ),
  fc.tuple(trackArb, fc.nat(4)).map(([k, d]) =>
    cmd(
      `complete ${k} +${d}`,
      () => true,
      (m, r) => {
        r.tl.complete(r.handles[k]!, 'leaf', 'c', m.now, m.now + d);
        m.tracks[k]!.all.push({ t0: m.now, t1: m.now + d, seq: m.seq++, flow: false });
        m.now += d;
        m.produced++;
      },
    ),
  ),
  fc.tuple(trackArb, fc.constantFrom('t' as const, 'p' as const, 'g' as const)).map(([k, s]) =>
    cmd(
      `instant ${k} ${s}`,
      () => true,
      (m, r) => {
        r.tl.instant(r.handles[k]!, 'tick', 'c', m.now, s);
        m.produced++;
      },
    ),
  ),
  fc.tuple(trackArb, fc.double({ min: -1e6, max: 1e6, noNaN: true })).map(([k, v]) =>
    cmd(
      `counter ${k} ${v}`,
      () => true,
      (m, r) => {
        r.tl.counter(r.handles[k]!, 'frames', m.now, { free: v });
        m.produced++;
      },
    ),
  ),
  trackArb.map((k) =>
    cmd(
      `flowStart ${k}`,
      (m) => capped(m) || innermost(m, k)?.flow === false,
      (m, r) => {
        const handle = r.tl.flowStart(r.handles[k]!, m.now);
        if (capped(m)) return void expect(handle).toBe(0);
        const s = innermost(m, k)!;
        s.flow = true;
        m.flows.push({ handle, points: [s], ended: false });
      },
    ),
  ),
  fc.tuple(fc.nat(3), trackArb, fc.boolean()).map(([fi, k, last]) =>
    cmd(
      `flow${last ? 'End' : 'Step'} #${fi} ${k}`,
      (m) => {
        if (capped(m)) return true;
        const f = pick(m, fi);
        const s = innermost(m, k);
        return f !== undefined && !f.ended && s !== undefined && !s.flow && s.t0 > f.points.at(-1)!.t0;
      },
      (m, r) => {
        const f = pick(m, fi);
        const h = f?.handle ?? 0;
        if (last) r.tl.flowEnd(h, r.handles[k]!, m.now);
        else r.tl.flowStep(h, r.handles[k]!, m.now);
        if (capped(m) || f === undefined) return;
        const s = innermost(m, k)!;
        s.flow = true;
        f.points.push(s);
        f.ended = last;
      },
    ),
  ),
];

describe('Timeline property', () => {
  it('well-formed call sequences always produce JSON the checker accepts', () => {
    fc.assert(
      fc.property(
        fc.commands(commandArbs, { maxCommands: 150, size: 'medium' }),
        fc.option(fc.nat(40), { nil: undefined, freq: 2 }),
        fc.constantFrom(1, 3, 1000, 2400),
        (cmds, max, cpu) => {
          const tl = new Timeline(cpu, max === undefined ? {} : { maxEvents: max });
          const handles = [tl.cpuTrack(0), tl.cpuTrack(1), tl.threadTrack(4, 'pager', 1, 'ep')];
          const model: Model = {
            now: 0,
            seq: 0,
            produced: 0,
            max: max ?? Number.POSITIVE_INFINITY,
            tracks: Array.from({ length: TRACKS }, () => ({ open: [], all: [] })),
            flows: [],
          };
          fc.modelRun(() => ({ model, real: { tl, handles } }), cmds);
          const j = tl.toJSON();
          expect(checkTimeline(j)).toEqual([]);
          const open = model.tracks.reduce((n, t) => n + t.open.length, 0);
          const total = Math.min(model.produced + open, model.max);
          expect(body(j)).toHaveLength(total);
          expect(j.otherData.droppedEvents).toBe(model.produced + open - total);
          if (max === undefined) {
            const ids = new Set(body(j).flatMap((e) => (e.bind_id === undefined ? [] : [e.bind_id])));
            expect(ids.size).toBe(model.flows.filter((f) => f.points.length >= 2).length);
          }
          expect(JSON.stringify(tl.toJSON())).toBe(JSON.stringify(j));
        },
      ),
      { numRuns: 300 },
    );
  });
});
