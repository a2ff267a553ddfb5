import { describe, expect, it } from 'vitest';
import { checkTimeline } from './timeline_check.js';

type Ev = Record<string, unknown>;

/** A small valid trace: nested slices, a v2 flow, a v1 flow, a counter and a global instant. */
function good(): { traceEvents: Ev[]; displayTimeUnit: string } {
  return {
    traceEvents: [
      { name: 'process_name', ph: 'M', pid: 1, args: { name: 'CPUs' } }, // #0
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1001, args: { name: 'CPU 0' } }, // #1
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1002, args: { name: 'CPU 1' } }, // #2
      { name: 'fault', cat: 'mm', ph: 'X', ts: 1, dur: 4, pid: 1, tid: 1001, bind_id: 1, flow_out: true }, // #3
      { name: 'walk', cat: 'mm', ph: 'X', ts: 2, dur: 1, pid: 1, tid: 1001 }, // #4
      { name: 'pager', cat: 'mm', ph: 'X', ts: 3, dur: 2, pid: 1, tid: 1002, bind_id: 1, flow_in: true }, // #5
      { name: 'ipi', cat: 'tlb', ph: 's', id: 7, ts: 2.5, pid: 1, tid: 1001 }, // #6
      { name: 'ipi', cat: 'tlb', ph: 'f', bp: 'e', id: 7, ts: 4, pid: 1, tid: 1002 }, // #7
      { name: 'free', ph: 'C', ts: 5, pid: 1, tid: 1001, args: { frames: 3 } }, // #8
      { name: 'shootdown', ph: 'i', s: 'g', ts: 5, pid: 1, tid: 1001 }, // #9
    ],
    displayTimeUnit: 'ns',
  };
}

function broken(edit: (evs: Ev[]) => void): unknown {
  const t = good();
  edit(t.traceEvents);
  return t;
}

describe('checkTimeline accepts', () => {
  it('a valid trace in object and array form', () => {
    expect(checkTimeline(good())).toEqual([]);
    expect(checkTimeline(good().traceEvents)).toEqual([]);
  });

  it('touching siblings, zero-length slices at a parent end, and parents listed after children', () => {
    const t = broken((e) => {
      e.push({ name: 'a', ph: 'X', ts: 10, dur: 0.5, pid: 1, tid: 1001 });
      e.push({ name: 'z', ph: 'X', ts: 10.5, dur: 0, pid: 1, tid: 1001 });
      e.push({ name: 'b', ph: 'X', ts: 10.5, dur: 1, pid: 1, tid: 1001 });
      e.push({ name: 'kid', ph: 'X', ts: 20, dur: 1, pid: 1, tid: 1001 });
      e.push({ name: 'parent', ph: 'X', ts: 20, dur: 3, pid: 1, tid: 1001 });
      e.push({ name: 'be', ph: 'B', ts: 21, pid: 1, tid: 1001 }, { ph: 'E', ts: 22, pid: 1, tid: 1001 });
    });
    expect(checkTimeline(t)).toEqual([]);
  });
});

describe('checkTimeline reports', () => {
  it('input that is not a trace', () => {
    expect(checkTimeline(42)).toEqual([
      'trace is neither an array of events nor an object with a traceEvents array',
    ]);
    expect(checkTimeline({ traceEvents: [], displayTimeUnit: 's' })).toEqual([
      'displayTimeUnit s is not ms or ns',
    ]);
  });

  it('schema problems of single events', () => {
    const t = broken((e) => {
      (e as unknown[]).push(7);
      e.push({ name: 'q', ph: 'Q', ts: 1, pid: 1, tid: 1001 });
      e.push({ name: 5, ph: 'X', ts: 1, dur: 1, pid: 1, tid: 1001 });
      e.push({ name: 'neg', ph: 'X', ts: 30, dur: -1, pid: 1, tid: 1001 });
      e.push({ name: 'nopid', ph: 'i', ts: 30, tid: 1001 });
      e.push({ name: 'nots', ph: 'X', dur: 1, pid: 1, tid: 1001 });
      e.push({ name: 'notid', ph: 'X', ts: 40, dur: 1, pid: 1 });
      e.push({ name: 'scope', ph: 'i', ts: 40, pid: 1, tid: 1001, s: 'x' });
      e.push({ name: 'bogus', ph: 'M', pid: 1, args: {} });
    });
    expect(checkTimeline(t)).toEqual([
      'event #10: not an object',
      'event #11: unknown ph "Q"',
      'event #12 (X 5): name must be a string',
      'event #13 (X "neg"): dur must be a number >= 0',
      'event #14 (i "nopid"): pid must be an integer',
      'event #15 (X "nots"): ts must be a finite number',
      'event #16 (X "notid"): tid must be an integer',
      'event #17 (i "scope"): instant scope s must be t, p or g, got "x"',
      'event #18 (M "bogus"): unknown metadata name (expected one of process_name, thread_name, process_sort_index, thread_sort_index)',
    ]);
  });

  it('counters with non-numeric or no values', () => {
    const t = broken((e) => {
      e.push({ name: 'c1', ph: 'C', ts: 6, pid: 1, tid: 1001, args: { free: '3' } });
      e.push({ name: 'c2', ph: 'C', ts: 6, pid: 1, tid: 1001 });
    });
    expect(checkTimeline(t)).toEqual([
      'event #10 (C "c1"): counter value free is not a number',
      'event #11 (C "c2"): counter needs args with at least one value',
    ]);
  });

  it('overlapping slices on one track, but not across tracks', () => {
    const t = broken((e) => {
      e.push({ name: 'a', ph: 'X', ts: 10, dur: 2, pid: 1, tid: 1001 });
      e.push({ name: 'b', ph: 'X', ts: 11, dur: 2, pid: 1, tid: 1001 });
      e.push({ name: 'other', ph: 'X', ts: 11, dur: 2, pid: 1, tid: 1002 });
    });
    expect(checkTimeline(t)).toEqual([
      "pid/tid 1/1001: slice 'b' [11, 13] overlaps 'a' [10, 12] without nesting",
    ]);
  });

  it('a child that outlives its parent at nanosecond resolution', () => {
    const t = broken((e) => {
      e.push({ name: 'p', ph: 'X', ts: 10, dur: 0.003, pid: 1, tid: 1001 });
      e.push({ name: 'c', ph: 'X', ts: 10.001, dur: 0.003, pid: 1, tid: 1001 });
    });
    expect(checkTimeline(t)).toEqual([
      "pid/tid 1/1001: slice 'c' [10.001, 10.004] overlaps 'p' [10, 10.003] without nesting",
    ]);
  });

  it('unbalanced and crossing B/E slices', () => {
    const t = broken((e) => {
      e.push({ ph: 'E', ts: 6, pid: 1, tid: 1002 });
      e.push({ name: 'open', ph: 'B', ts: 7, pid: 1, tid: 1002 });
      e.push({ name: 'x', ph: 'B', ts: 8, pid: 1, tid: 1001 }, { ph: 'E', ts: 10, pid: 1, tid: 1001 });
      e.push({ name: 'y', ph: 'X', ts: 9, dur: 3, pid: 1, tid: 1001 });
    });
    expect(checkTimeline(t)).toEqual([
      'event #10: E on pid/tid 1/1002 at 6 has no open B',
      "event #11: B 'open' on pid/tid 1/1002 never ends",
      "pid/tid 1/1001: slice 'y' [9, 12] overlaps 'x' [8, 10] without nesting",
    ]);
  });

  it('missing process and thread names', () => {
    expect(checkTimeline(broken((e) => e.splice(1, 1)))).toEqual([
      'pid/tid 1/1001 has no thread_name metadata',
    ]);
    expect(checkTimeline(broken((e) => e.splice(0, 1)))).toEqual(['pid 1 has no process_name metadata']);
    const t = broken((e) => e.push({ name: 'late', ph: 'X', ts: 9, dur: 1, pid: 2, tid: 2001 }));
    expect(checkTimeline(t)).toEqual([
      'pid 2 has no process_name metadata',
      'pid/tid 2/2001 has no thread_name metadata',
    ]);
  });

  it('a dangling v2 flow, and one that ends before it starts', () => {
    const dangling = broken((e) => {
      delete e[5]!.bind_id;
      delete e[5]!.flow_in;
    });
    expect(checkTimeline(dangling)).toEqual(['flow bind_id 1: starts but never ends (dangling flow)']);
    const backwards = broken((e) => {
      e[5]!.ts = 0.5;
      e[5]!.dur = 4;
    });
    expect(checkTimeline(backwards)).toEqual([
      "flow bind_id 1: slice 'pager' at 0.5 (event #5) ends it before it starts",
      'flow bind_id 1: starts but never ends (dangling flow)',
    ]);
  });

  it('a v2 flow started twice or continued after its end', () => {
    const t = broken((e) => {
      e.push({ name: 'again', ph: 'X', ts: 6, dur: 1, pid: 1, tid: 1001, bind_id: 1, flow_out: true });
      e.push({ name: 'more', ph: 'X', ts: 7, dur: 1, pid: 1, tid: 1002, bind_id: 1, flow_in: true });
    });
    expect(checkTimeline(t)).toEqual([
      "flow bind_id 1: slice 'again' at 6 (event #10) starts it a second time",
      "flow bind_id 1: slice 'more' at 7 (event #11) continues it after it ended",
    ]);
  });

  it('bind_id misuse', () => {
    const t = broken((e) => {
      e.push({ name: 'nodir', ph: 'X', ts: 6, dur: 1, pid: 1, tid: 1001, bind_id: 2 });
      e.push({ name: 'inst', ph: 'i', ts: 6, pid: 1, tid: 1001, bind_id: 3, flow_out: true });
    });
    expect(checkTimeline(t)).toEqual([
      'event #10 (X "nodir"): bind_id without flow_in or flow_out',
      'event #11 (i "inst"): bind_id only binds on X or B slices',
    ]);
  });

  it('a dangling v1 flow and v1 points outside slices', () => {
    expect(checkTimeline(broken((e) => e.splice(7, 1)))).toEqual([
      'flow cat "tlb" id 7: starts but never ends (dangling flow)',
    ]);
    expect(checkTimeline(broken((e) => e.splice(6, 1)))).toEqual(['flow cat "tlb" id 7: has no start (s)']);
    const outside = broken((e) => {
      e[6]!.ts = 0.5;
      e[7]!.ts = 5.5;
      delete e[7]!.bp;
    });
    expect(checkTimeline(outside)).toEqual([
      'flow cat "tlb" id 7: s point at 0.5 on pid/tid 1/1001: it lies in no slice',
      'flow cat "tlb" id 7: f point at 5.5 on pid/tid 1/1002: no slice starts at or after it',
    ]);
  });

  it('v1 flows keyed by category, out of order, or with a bad bp', () => {
    const t = broken((e) => {
      e[7]!.cat = 'other';
      e.push({ name: 'x', cat: 'q', ph: 'f', bp: 'e', id: 9, ts: 2, pid: 1, tid: 1001 });
      e.push({ name: 'x', cat: 'q', ph: 's', id: 9, ts: 3, pid: 1, tid: 1002 });
      e.push({ name: 'x', cat: 'r', ph: 'f', bp: 'z', id: 9, ts: 3, pid: 1, tid: 1002 });
    });
    expect(checkTimeline(t)).toEqual([
      'event #12 (f "x"): bp must be "e", got "z"',
      'flow cat "tlb" id 7: starts but never ends (dangling flow)',
      'flow cat "other" id 7: has no start (s)',
      'flow cat "q" id 9: points are not ordered s, t*, f in time',
    ]);
  });
});
