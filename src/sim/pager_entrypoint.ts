/**
 * A pager entrypoint (Genode's `Pager_entrypoint`): a core thread that receives page-fault
 * messages and serves them one at a time, in arrival order. Each fault is one step: core's lookup
 * through the region maps it walks and, when it resolves, the mapping's installation and the reply.
 * With nothing queued the thread waits for the next message (`in-ipc`).
 */
import type { Thread } from '../kernel/thread.js';
import type { Cpu, SimTask } from './cpu.js';
import type { FaultingTask, FaultPath } from './machine_faults.js';

/** A pager entrypoint thread; see the module comment. */
export class PagerEntrypoint implements SimTask {
  readonly category = 'pager';
  index = -1;
  left = -1;
  /** Faults received and not yet served, FIFO. */
  readonly queue: FaultingTask[] = [];
  /** Faults served. */
  handled = 0;
  private head = 0;

  constructor(
    readonly kernel: Thread,
    private readonly path: FaultPath,
  ) {}

  /** A fault message arrived: a waiting pager becomes ready. */
  arrived(): void {
    if (this.kernel.state === 'in-ipc') this.path.wakePager(this);
  }

  /** Faults waiting. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  begin(_cpu: Cpu, _now: number): number {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.path.blockPager(this);
      return -1;
    }
    return this.path.serveCost(this.queue[this.head]!);
  }

  end(cpu: Cpu, now: number): void {
    const t = this.queue[this.head++]!;
    this.path.serve(this, t, now, cpu);
  }

  toString(): string {
    return `pager entrypoint on cpu ${this.kernel.cpu} (${this.waiting} waiting, ${this.handled} served)`;
  }
}
