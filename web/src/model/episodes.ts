/**
 * Fault episodes: everything that happened to one fault of one thread, from the trap to the
 * mapping (or the error), across steps: the walk through the region maps with the address
 * rebased at each level, the reflection to the handler with the faulter parked, the handler's
 * fault() and attach, the wake-up and the retry. Each episode is a list of frames for the
 * sequence diagram: one message (or note) per frame, between lanes.
 */
import { faultTypeName } from '../../../src/core/events.js';
import { hex, sizeName } from '../../../src/util/hex.js';
import type { StepInfo } from './session.js';
import type { FaultView, RegionView, ThreadRef, ViewEvent } from './types.js';

/** A lane of the sequence diagram. */
export interface Lane {
  /** `thread`, `kernel`, `pager`, `map:<id>` or `handler`. */
  readonly id: string;
  readonly title: string;
  readonly sub: string;
}

/** What a frame shows, which sets its colour. */
export type FrameTone = 'trap' | 'call' | 'walk' | 'found' | 'map' | 'signal' | 'park' | 'wake' | 'error';

/** One message (from ≠ to) or note (from = to) of the diagram. */
export interface Frame {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** The caption: what happens, in the seed's vocabulary. */
  readonly detail: string;
  readonly tone: FrameTone;
  /** Index of the step during which it happened. */
  readonly step: number;
}

/** One pass of a fault through the pager, during step `step`. */
export type Attempt = FaultView & { readonly step: number };

/** How an episode ended. */
export type EpisodeOutcome = 'mapped' | 'waiting' | 'error' | 'explained';

/** One fault from trap to mapping. */
export interface Episode {
  readonly id: number;
  readonly thread: ThreadRef;
  /** The faulting virtual address and access. */
  readonly address: number;
  readonly access: FaultView['access'];
  /** Each time the fault reached the pager (the first, then the retries), with its step. */
  readonly attempts: Attempt[];
  readonly frames: Frame[];
  readonly lanes: Lane[];
  outcome: EpisodeOutcome;
  readonly firstStep: number;
  lastStep: number;
}

const ACCESS = (a: FaultView['access']) => faultTypeName(a);

function regionText(r: RegionView): string {
  const what = r.ds
    ? `${r.ds.kind === 'managed' ? 'managed' : r.ds.kind.toUpperCase()} '${r.ds.name}'`
    : 'reserved hole';
  return `[${hex(r.base)}, ${hex(r.base + r.size)}) → ${what}${r.offset ? ` + ${hex(r.offset)}` : ''}`;
}

function rights(m: { writeable: boolean; executable: boolean }): string {
  return `r${m.writeable ? 'w' : '-'}${m.executable ? 'x' : '-'}`;
}

class Builder {
  readonly frames: Frame[] = [];
  private readonly lanes = new Map<string, Lane>();
  /** Set once the handler asked fault() after the last reflection. */
  queried = false;

  constructor(readonly ep: Omit<Episode, 'frames' | 'lanes'>) {
    this.lane({ id: 'thread', title: ep.thread.name, sub: `${ep.thread.pd}, CPU ${ep.thread.cpu}` });
  }

  lane(l: Lane): string {
    if (!this.lanes.has(l.id)) this.lanes.set(l.id, l);
    return l.id;
  }

  add(f: Omit<Frame, 'step'>, step: number): void {
    this.frames.push({ ...f, step });
    this.ep.lastStep = Math.max(this.ep.lastStep, step);
  }

  /** The frames of one pass through the pager. */
  attempt(f: FaultView, step: number, retry: boolean, explainOnly: boolean): void {
    const kernel = explainOnly
      ? ''
      : this.lane({ id: 'kernel', title: 'kernel', sub: `CPU ${f.thread.cpu}` });
    const pager = this.lane({ id: 'pager', title: 'pager entrypoint', sub: `core, CPU ${f.pagerCpu}` });
    const acc = ACCESS(f.access);
    if (explainOnly) {
      this.add(
        {
          from: 'thread',
          to: pager,
          label: `explain ${acc} ${hex(f.address)}`,
          detail: `faultline resolves a ${acc} at ${hex(f.address)} for ${f.thread.name} without faulting: nothing changes, only the decision is shown.`,
          tone: 'call',
        },
        step,
      );
    } else {
      this.add(
        {
          from: 'thread',
          to: kernel,
          label: `${retry ? 'retry: ' : ''}page fault ${acc} ${hex(f.address)}`,
          detail: `${f.thread.name} ${retry ? 'retries its access and faults again' : `touches ${hex(f.address)} and misses in its page table`}: the CPU traps into the kernel on CPU ${f.thread.cpu}.`,
          tone: 'trap',
        },
        step,
      );
      const ipi =
        f.pagerCpu !== f.thread.cpu ? ` (an IPI from CPU ${f.thread.cpu} to CPU ${f.pagerCpu})` : '';
      this.add(
        {
          from: kernel,
          to: pager,
          label: `fault message → CPU ${f.pagerCpu}`,
          detail: `The kernel sends the fault to the pager entrypoint on CPU ${f.pagerCpu}${ipi}; core finds the thread's Pager_object and calls Rm_client::pager.`,
          tone: 'call',
        },
        step,
      );
    }
    let from = pager;
    f.walk.forEach((w, i) => {
      const lane = this.lane({
        id: `map:${w.map.id}`,
        title: w.map.name,
        sub: i === 0 ? `address space, #${w.map.id}` : `region map #${w.map.id}`,
      });
      this.add(
        {
          from,
          to: lane,
          label: `lookup ${hex(w.address)}`,
          detail:
            i === 0
              ? `reverse_lookup in the faulter's address space ${w.map.name}: which region holds ${hex(w.address)}?`
              : `The region is a managed dataspace: the walk descends into region map ${w.map.name} with the address rebased to ${hex(w.address)}.`,
          tone: 'walk',
        },
        step,
      );
      const r = w.region;
      const next = f.walk[i + 1];
      const rebase =
        r?.ds?.kind === 'managed' && next
          ? `; rebased: ${hex(w.address)} − ${hex(r.base)}${r.offset ? ` + ${hex(r.offset)}` : ''} = ${hex(next.address)}`
          : '';
      this.add(
        {
          from: lane,
          to: lane,
          label: r ? regionText(r) : 'nothing attached',
          detail: r
            ? r.ds
              ? `Found the region ${regionText(r)} (${rights(r)})${rebase}.`
              : `A reserved hole: the dataspace attached here was destroyed; the range faults as if empty.`
            : `No region of ${w.map.name} covers ${hex(w.address)}.`,
          tone: r?.ds ? 'found' : 'error',
        },
        step,
      );
      from = lane;
    });
    const d = f.decision;
    if (d.kind === 'mapped') {
      const m = d.mapping;
      const size = sizeName(2 ** m.sizeLog2);
      const pa = d.ds.kind === 'managed' ? '' : ` at physical ${hex(m.pa)}`;
      this.add(
        {
          from,
          to: pager,
          label: `leaf: ${d.ds.kind.toUpperCase()} '${d.ds.name}'`,
          detail: `The leaf dataspace '${d.ds.name}' backs the fault${pa}. The best mapping is the largest supported page size whose aligned block lies inside every window and at which virtual and physical addresses agree: ${size} (see "Why this size").`,
          tone: 'found',
        },
        step,
      );
      if (explainOnly) return;
      this.add(
        {
          from: pager,
          to: kernel,
          label: `map ${size} ${hex(m.va)} → ${hex(m.pa)} ${rights(m)}`,
          detail: `Core answers the fault with a ${size} mapping of ${hex(m.va)} to ${hex(m.pa)} (${rights(m)}); the kernel installs it in the page table of ${f.thread.pd}.`,
          tone: 'map',
        },
        step,
      );
      this.add(
        {
          from: kernel,
          to: 'thread',
          label: 'resume',
          detail: `${f.thread.name} resumes; its access now translates through the new ${size} mapping.`,
          tone: 'map',
        },
        step,
      );
      return;
    }
    if (d.kind === 'unresolved' && d.handler) {
      const handler = this.lane({ id: 'handler', title: 'fault handler', sub: `signal '${d.handler}'` });
      if (explainOnly) {
        this.add(
          {
            from,
            to: handler,
            label: `would reflect to '${d.handler}'`,
            detail: `A real fault here would be reflected to the handler of ${d.map.name} at ${hex(d.address)}.`,
            tone: 'signal',
          },
          step,
        );
        return;
      }
      this.add(
        {
          from,
          to: 'thread',
          label: `park: faulter at ${d.map.name}`,
          detail: `Nothing can resolve the fault yet: core halts ${f.thread.name} and queues it as an Rm_faulter at ${d.map.name} (${acc} at ${hex(d.address)} in that map's coordinates). The thread is blocked-fault.`,
          tone: 'park',
        },
        step,
      );
      this.add(
        {
          from,
          to: handler,
          label: `signal '${d.handler}'`,
          detail: `Core reflects the fault: it submits one signal to the fault handler of ${d.map.name} and does not wait for it (fire and forget).`,
          tone: 'signal',
        },
        step,
      );
      this.queried = false;
      return;
    }
    const why =
      d.kind === 'too-deep'
        ? 'giving up on unexpectedly deep memory-mapping structure'
        : d.reason === 'WRITE_VIOLATION' || d.reason === 'EXEC_VIOLATION'
          ? `${acc} violation: the region's rights forbid the access, and no handler is installed`
          : `nothing is attached at ${hex(d.address)} of ${d.map.name} and it has no fault handler`;
    this.add(
      {
        from,
        to: explainOnly ? from : pager,
        label: explainOnly ? `would fail: ${d.kind === 'too-deep' ? 'too deep' : d.reason}` : 'no mapping',
        detail: `The walk ends without a mapping: ${why}.`,
        tone: 'error',
      },
      step,
    );
  }

  build(): Episode {
    return { ...this.ep, frames: this.frames, lanes: [...this.lanes.values()] } as Episode;
  }
}

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
