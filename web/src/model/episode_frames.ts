/**
 * The frames of a fault episode: the sequence diagram's lanes and messages for one pass of a fault
 * through the pager (trap, pager entrypoint, each map walked, then the mapping, the reflection or
 * the error), with captions in the seed's vocabulary. `episodes.ts` strings passes together.
 */
import { faultTypeName } from '../../../src/core/events.js';
import { hex, sizeName } from '../../../src/util/hex.js';
import type { FaultView, RegionView, ThreadRef } from './types.js';

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

export const ACCESS = (a: FaultView['access']) => faultTypeName(a);

function regionText(r: RegionView): string {
  const what = r.ds
    ? `${r.ds.kind === 'managed' ? 'managed' : r.ds.kind.toUpperCase()} '${r.ds.name}'`
    : 'reserved hole';
  return `[${hex(r.base)}, ${hex(r.base + r.size)}) → ${what}${r.offset ? ` + ${hex(r.offset)}` : ''}`;
}

function rights(m: { writeable: boolean; executable: boolean }): string {
  return `r${m.writeable ? 'w' : '-'}${m.executable ? 'x' : '-'}`;
}

/** Collects an episode's frames and lanes. */
export class Builder {
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
