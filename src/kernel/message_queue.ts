/**
 * A thread's message queue (seed 003, Brendan's kernel): asynchronous messages wait here in
 * arrival order until the thread takes them. A thread that waits for a particular answer (its
 * page-fault handler asked a swap provider or the VFS for a page) stores the sender and the
 * function ID it expects; the first message that matches both is put at the *head* of the queue
 * instead of the tail ("jumps the queue") and the expectation is cleared, so the next message the
 * thread takes is the one it waits for, whatever else arrived before.
 *
 * A timeless kernel object: the simulator charges the costs and wakes the thread when `deliver`
 * says the awaited message arrived.
 */
import { err, ok, type Result } from '../util/result.js';

/** A message: who sent it (a port / endpoint id), what it answers (a function ID), and its payload. */
export interface QueuedMessage<P = unknown> {
  readonly sender: number;
  readonly fn: number;
  readonly payload: P;
}

/** What `deliver` did with a message. */
export type Delivery = 'queued' | 'matched';

/** Error codes of the queue. */
export type MessageQueueErrorCode = 'ALREADY_WAITING' | 'QUEUE_FULL';

/** Counters of a queue. */
export interface MessageQueueStats {
  delivered: number;
  /** Messages that matched an expectation and went to the head. */
  matched: number;
  /** Messages a matched one overtook, summed (how far replies jumped). */
  overtaken: number;
  taken: number;
  /** Messages refused because the queue was full. */
  refused: number;
}

/** A FIFO of messages with one optional expectation (sender, function ID) that jumps the queue. */
export class MessageQueue<P = unknown> {
  readonly stats: MessageQueueStats = { delivered: 0, matched: 0, overtaken: 0, taken: 0, refused: 0 };
  private items: QueuedMessage<P>[] = [];
  private head = 0;
  private expectSender = -1;
  private expectFn = -1;

  /** @param capacity most messages held at once (further ones are refused). */
  constructor(readonly capacity = 1024) {}

  /** Messages waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** True while an expectation is set. */
  get waiting(): boolean {
    return this.expectSender >= 0;
  }

  /** The expected (sender, function ID), or null. */
  get expectation(): { readonly sender: number; readonly fn: number } | null {
    return this.expectSender < 0 ? null : { sender: this.expectSender, fn: this.expectFn };
  }

  /** Stores the sender and function ID the thread waits for (one at a time). */
  expect(sender: number, fn: number): Result<void, 'ALREADY_WAITING'> {
    if (this.expectSender >= 0)
      return err(
        'ALREADY_WAITING',
        `the thread already waits for function ${this.expectFn} from port ${this.expectSender}`,
      );
    this.expectSender = sender;
    this.expectFn = fn;
    return ok(undefined);
  }

  /** Forgets the expectation (a timeout, the thread died). */
  cancel(): void {
    this.expectSender = -1;
    this.expectFn = -1;
  }

  /**
   * A message arrives: the awaited one goes to the head (`matched`, the expectation is cleared),
   * any other to the tail (`queued`). A full queue refuses it (changing nothing).
   */
  deliver(msg: QueuedMessage<P>): Result<Delivery, 'QUEUE_FULL'> {
    const matches = msg.sender === this.expectSender && msg.fn === this.expectFn;
    if (this.length >= this.capacity && !matches) {
      this.stats.refused++;
      return err('QUEUE_FULL', `message queue full (${this.capacity} messages)`);
    }
    this.stats.delivered++;
    if (!matches) {
      this.items.push(msg);
      return ok('queued');
    }
    this.stats.matched++;
    this.stats.overtaken += this.length;
    if (this.head > 0) this.items[--this.head] = msg;
    else this.items.unshift(msg);
    this.cancel();
    return ok('matched');
  }

  /** Takes the first message, or undefined when the queue is empty. */
  take(): QueuedMessage<P> | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as QueuedMessage<P>;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.stats.taken++;
    return m;
  }

  /** The first message without taking it. */
  peek(): QueuedMessage<P> | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  toString(): string {
    const e =
      this.expectSender < 0 ? 'not waiting' : `waiting for fn ${this.expectFn} from ${this.expectSender}`;
    return `MessageQueue(${this.length} messages, ${e})`;
  }
}
