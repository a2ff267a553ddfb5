/**
 * Draws swapping on a machine's timeline: a track per block device (more lanes when requests
 * overlap in its queue), one slice per request from its start in a service slot to its completion,
 * and a flow arrow per page transfer: from the fault's kernel piece (or the manager's step) to the
 * provider's step that submits the request, through the device, the provider's reply step, and back
 * to the piece that finishes the fault.
 */
import type { BlockServer, ServerCompletion } from '../components/block_server.js';
import type { Timeline, TrackHandle } from './timeline.js';

/** Timeline drawing of swap I/O. */
export class SwapTimeline {
  private readonly lanes = new Map<BlockServer, { track: TrackHandle; frontier: number }[]>();
  private readonly counters: TrackHandle;

  constructor(private readonly tl: Timeline) {
    this.counters = tl.namedTrack('machine', 'counters');
  }

  /** Starts an arrow in the piece [t0, t1] on CPU `cpu` (0 when none could be drawn). */
  start(cpu: number, t0: number, t1: number): number {
    if (t1 <= t0) return 0;
    return this.tl.flowStart(this.tl.cpuTrack(cpu), (t0 + t1) / 2);
  }

  /** The arrow passes through the piece [t0, t1] on CPU `cpu`. */
  step(flow: number, cpu: number, t0: number, t1: number): void {
    if (flow !== 0 && t1 > t0) this.tl.flowStep(flow, this.tl.cpuTrack(cpu), (t0 + t1) / 2);
  }

  /** The arrow ends in the piece [t0, t1] on CPU `cpu`. */
  end(flow: number, cpu: number, t0: number, t1: number): void {
    if (flow !== 0 && t1 > t0) this.tl.flowEnd(flow, this.tl.cpuTrack(cpu), (t0 + t1) / 2);
  }

  /** A request the device served: a slice on a free lane of its track, the arrow through it. */
  device(server: BlockServer, c: ServerCompletion, flow: number): void {
    if (!(c.completeAt > c.startAt)) return;
    let lanes = this.lanes.get(server);
    if (!lanes) {
      lanes = [];
      this.lanes.set(server, lanes);
    }
    let lane = lanes.find((l) => l.frontier <= c.startAt);
    if (!lane) {
      const name = `${server.name} (${server.device.spec.name})${lanes.length > 0 ? ` #${lanes.length + 1}` : ''}`;
      lane = { track: this.tl.namedTrack('block devices', name), frontier: 0 };
      lanes.push(lane);
    }
    const what = `${c.op} block ${c.block}${c.status === 'ok' ? '' : ' (I/O error)'}`;
    this.tl.complete(lane.track, what, 'disk', c.startAt, c.completeAt, {
      queued: c.startAt - c.submittedAt,
    });
    lane.frontier = c.completeAt;
    if (flow !== 0) this.tl.flowStep(flow, lane.track, (c.startAt + c.completeAt) / 2);
  }

  /** Resident units and free frames after a change. */
  frames(at: number, resident: number, free: number): void {
    this.tl.counter(this.counters, 'paged memory', at, { resident, free });
  }

  /** A thread was terminated by the paging path (an I/O error, a timeout, a dead provider). */
  terminated(cpu: number, at: number, text: string): void {
    this.tl.instant(this.tl.cpuTrack(cpu), 'thread terminated', 'swap', at, 't', { error: text });
  }
}
