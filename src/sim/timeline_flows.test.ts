/**
 * Unit tests of the Timeline's flows (arrows chained through slices, their ids, unfinished and
 * refused hops): split from timeline.test.ts, which holds tracks, slices, instants and the cap.
 */
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { Timeline, type TrackHandle } from './timeline.js';
import { body, named } from './timeline.testutil.js';
import { checkTimeline } from './timeline_check.js';

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
