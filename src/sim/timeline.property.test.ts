/**
 * Model-based property test of the Timeline: any well-formed sequence of calls (slices, flows,
 * instants, counters, under an event cap) yields JSON the checker accepts. Apart from the unit
 * tests (timeline.test.ts, timeline_flows.test.ts) because of its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Timeline, type TrackHandle } from './timeline.js';
import { body } from './timeline.testutil.js';
import { checkTimeline } from './timeline_check.js';

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
