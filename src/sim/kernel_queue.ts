/**
 * A CPU's queue of kernel jobs: interrupt entries, IPI receipts, exception entries, signal and
 * reply deliveries. Kernel jobs run before any thread and are not preempted (the kernel runs with
 * interrupts disabled), in FIFO order.
 *
 * A job is three numbers: a kind registered with the executor, an argument (an IRQ number, a
 * task index) and its cost in cycles. Kept in parallel typed arrays so that the interrupt path
 * allocates nothing once the queue has grown to its peak.
 */

/** A growable FIFO of (kind, arg, cost) triples. */
export class KernelQueue {
  private kinds = new Int32Array(16);
  private args = new Int32Array(16);
  private costs = new Float64Array(16);
  private mask = 15;
  private head = 0;
  /** Jobs queued. */
  size = 0;

  /** Appends a job, doubling the capacity when full. */
  push(kind: number, arg: number, cost: number): void {
    if (this.size > this.mask) this.grow();
    const j = (this.head + this.size) & this.mask;
    this.kinds[j] = kind;
    this.args[j] = arg;
    this.costs[j] = cost;
    this.size++;
  }

  /** Kind of the head job (the queue must not be empty). */
  get headKind(): number {
    return this.kinds[this.head]!;
  }

  /** Argument of the head job. */
  get headArg(): number {
    return this.args[this.head]!;
  }

  /** Cost of the head job. */
  get headCost(): number {
    return this.costs[this.head]!;
  }

  /** Drops the head job. */
  shift(): void {
    this.head = (this.head + 1) & this.mask;
    this.size--;
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const kinds = new Int32Array(n);
    const args = new Int32Array(n);
    const costs = new Float64Array(n);
    for (let i = 0; i < this.size; i++) {
      const j = (this.head + i) & this.mask;
      kinds[i] = this.kinds[j]!;
      args[i] = this.args[j]!;
      costs[i] = this.costs[j]!;
    }
    this.kinds = kinds;
    this.args = args;
    this.costs = costs;
    this.mask = n - 1;
    this.head = 0;
  }
}
