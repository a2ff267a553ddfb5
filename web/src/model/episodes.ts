/**
 * Fault episodes: everything that happened to one fault of one thread, from the trap to the
 * mapping (or the error), across steps: the walk through the region maps with the address
 * rebased at each level, the reflection to the handler with the faulter parked, the handler's
 * fault() and attach, the wake-up and the retry. Each episode is a list of frames for the
 * sequence diagram: one message (or note) per frame, between lanes.
 */
import { hex, sizeName } from '../../../src/util/hex.js';
import { ACCESS, type Attempt, Builder, type Episode } from './episode_frames.js';
import type { StepInfo } from './session.js';
import type { FaultView, ThreadRef, ViewEvent } from './types.js';

export type { Attempt, Episode, EpisodeOutcome, Frame, FrameTone, Lane } from './episode_frames.js';

/** Groups the events of a run into fault episodes, in the order they began. */
export function buildEpisodes(events: readonly ViewEvent[], steps: readonly StepInfo[]): Episode[] {
  const out: Builder[] = [];
  const open = new Map<number, Builder>();
  /** Parked episodes by the map they wait at. */
  const parked = new Map<number, { b: Builder; address: number }[]>();
  const start = (t: ThreadRef, f: FaultView, step: number) => {
    const b = new Builder({
      id: out.length,
      thread: t,
      address: f.address,
      access: f.access,
      attempts: [],
      outcome: 'waiting',
      firstStep: step,
      lastStep: step,
    });
    out.push(b);
    return b;
  };
  const unpark = (b: Builder) => {
    for (const [id, list] of parked) {
      const i = list.findIndex((x) => x.b === b);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) parked.delete(id);
    }
  };
  // expect_fault steps are the scripted handler asking fault(): shown as its query.
  const queries = new Map<number, StepInfo>();
  for (const s of steps) if (s.kind === 'expect_fault') queries.set(s.index, s);
  let lastQueryStep = -1;
  const handleQueries = (upTo: number) => {
    for (let i = lastQueryStep + 1; i <= upTo; i++) {
      const s = queries.get(i);
      if (!s) continue;
      const m = /^expect_fault (\S+) -> (.*)$/.exec(s.text);
      if (!m) continue;
      for (const list of parked.values()) {
        for (const { b } of list) {
          const lane = b.frames.find((f) => f.tone === 'park');
          const mapLane = lane?.from;
          if (!mapLane || b.frames.at(-1)?.label.startsWith('fault()')) continue;
          const title = laneTitle(b, mapLane);
          if (title !== m[1]) continue;
          b.add(
            {
              from: 'handler',
              to: mapLane,
              label: `fault() → ${m[2]}`,
              detail: `The handler asks ${title} for its fault state (Region_map::fault()): ${m[2]}.`,
              tone: 'call',
            },
            i,
          );
          b.queried = true;
        }
      }
    }
    lastQueryStep = Math.max(lastQueryStep, upTo);
  };
  for (const e of events) {
    handleQueries(e.step);
    switch (e.type) {
      case 'explain': {
        const b = start(e.thread, e, e.step);
        b.ep.attempts.push(e);
        b.attempt(e, e.step, false, true);
        b.ep.outcome = 'explained';
        break;
      }
      case 'fault': {
        const existing = open.get(e.thread.id);
        const b = existing ?? start(e.thread, e, e.step);
        b.ep.attempts.push(e);
        b.attempt(e, e.step, existing !== undefined, false);
        const d = e.decision;
        if (d.kind === 'mapped') {
          b.ep.outcome = 'mapped';
          open.delete(e.thread.id);
        } else if (d.kind === 'unresolved' && d.handler) {
          open.set(e.thread.id, b);
          const list = parked.get(d.map.id) ?? [];
          list.push({ b, address: d.address });
          parked.set(d.map.id, list);
        } else {
          // Stays open for the error event that follows with core's text.
          b.ep.outcome = 'error';
          open.set(e.thread.id, b);
        }
        break;
      }
      case 'attach': {
        for (const { b, address } of parked.get(e.map.id) ?? []) {
          const r = e.region;
          if (address < r.base || address >= r.base + r.size) continue;
          const lane = `map:${e.map.id}`;
          if (!b.queried) {
            const acc = ACCESS(b.ep.attempts.at(-1)!.access);
            b.add(
              {
                from: 'handler',
                to: lane,
                label: `fault() → ${acc} at ${hex(address)}`,
                detail: `The handler takes the signal and asks ${e.map.name} for its fault state (Region_map::fault()): ${acc} at ${hex(address)}.`,
                tone: 'call',
              },
              e.step,
            );
          }
          b.add(
            {
              from: 'handler',
              to: lane,
              label: `attach '${r.ds?.name ?? '?'}' at ${hex(r.base)}`,
              detail: `The handler attaches ${r.ds ? `'${r.ds.name}' (${sizeName(r.ds.size)})` : 'a dataspace'} at ${hex(r.base)} of ${e.map.name}, covering the faulter's address. Each attach revisits the map's faulters.`,
              tone: 'call',
            },
            e.step,
          );
          b.queried = true;
        }
        break;
      }
      case 'wakeup': {
        const b = open.get(e.thread.id);
        if (!b) break;
        b.add(
          {
            from: `map:${e.map.id}`,
            to: 'thread',
            label: 'wake-up',
            detail: `The new region covers ${hex(e.address)}: ${e.map.name} wakes its faulter ${e.thread.name}, which becomes ready to retry the access.`,
            tone: 'wake',
          },
          e.step,
        );
        unpark(b);
        break;
      }
      case 'error': {
        if (!e.thread) break;
        const b = open.get(e.thread.id);
        if (!b) break;
        b.add(
          {
            from: 'pager',
            to: 'thread',
            label: 'error: thread stays blocked',
            detail: `Core logs "${e.text}". ${e.thread.name} stays blocked (dead-fault) until it is destroyed.`,
            tone: 'error',
          },
          e.step,
        );
        b.ep.outcome = 'error';
        open.delete(e.thread.id);
        unpark(b);
        break;
      }
      default:
        break;
    }
  }
  handleQueries(steps.length);
  return out.map((b) => b.build());
}

function laneTitle(b: Builder, id: string): string {
  const f = b.ep.attempts.at(-1);
  const w = f?.walk.find((x) => `map:${x.map.id}` === id);
  return w?.map.name ?? id;
}

/** The episode to show at step `k`: the last one that began at or before it. */
export function episodeAt(episodes: readonly Episode[], k: number): Episode | undefined {
  let lo = 0;
  let hi = episodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (episodes[mid]!.firstStep <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? episodes[lo - 1] : undefined;
}

/** The attempt whose size decision "Why this size" explains: the last one that mapped. */
export function mappedAttempt(ep: Episode): Attempt | undefined {
  for (let i = ep.attempts.length - 1; i >= 0; i--)
    if (ep.attempts[i]!.decision.kind === 'mapped') return ep.attempts[i];
  return undefined;
}
