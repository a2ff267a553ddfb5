import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { CPU_PID, Timeline, type TrackHandle } from './timeline.js';
import { body, named } from './timeline.testutil.js';
import { checkTimeline } from './timeline_check.js';

// Flows are tested in timeline_flows.test.ts, the property over random call sequences in
// timeline.property.test.ts.

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
