import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageQueue, type QueuedMessage } from './message_queue.js';

describe('MessageQueue', () => {
  it('puts the awaited reply at the head, ahead of messages that arrived before it', () => {
    const q = new MessageQueue<string>();
    q.deliver({ sender: 7, fn: 1, payload: 'other' });
    q.deliver({ sender: 3, fn: 2, payload: 'wrong function' });
    expect(q.expect(3, 9).ok).toBe(true);
    expect(q.deliver({ sender: 3, fn: 9, payload: 'page' })).toEqual({ ok: true, value: 'matched' });
    expect(q.waiting).toBe(false);
    expect(q.take()?.payload).toBe('page');
    expect(q.take()?.payload).toBe('other');
    expect(q.take()?.payload).toBe('wrong function');
    expect(q.stats.overtaken).toBe(2);
  });

  it('matches once: a second message from the same sender and function queues at the tail', () => {
    const q = new MessageQueue<number>();
    q.expect(1, 1);
    q.deliver({ sender: 1, fn: 1, payload: 1 });
    expect(q.deliver({ sender: 1, fn: 1, payload: 2 }).ok && q.length).toBe(2);
    expect([q.take()?.payload, q.take()?.payload]).toEqual([1, 2]);
  });

  it('refuses a second expectation and, when full, unexpected messages (the awaited one still gets in)', () => {
    const q = new MessageQueue<number>(1);
    q.expect(5, 5);
    expect(q.expect(6, 6).ok).toBe(false);
    q.deliver({ sender: 0, fn: 0, payload: 0 });
    const refused = q.deliver({ sender: 0, fn: 0, payload: 1 });
    expect(refused.ok ? refused.value : refused.code).toBe('QUEUE_FULL');
    expect(q.deliver({ sender: 5, fn: 5, payload: 9 }).ok).toBe(true);
    expect(q.peek()?.payload).toBe(9);
  });

  it('behaves like a naive list with head insertion on random operations', () => {
    type Op =
      | { op: 'deliver'; sender: number; fn: number }
      | { op: 'expect'; sender: number; fn: number }
      | { op: 'take' }
      | { op: 'cancel' };
    const small = fc.integer({ min: 0, max: 2 });
    const ops = fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('deliver' as const), sender: small, fn: small }),
        fc.record({ op: fc.constant('expect' as const), sender: small, fn: small }),
        fc.constant({ op: 'take' as const }),
        fc.constant({ op: 'cancel' as const }),
      ),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const q = new MessageQueue<number>(4);
        const ref: QueuedMessage<number>[] = [];
        let want: [number, number] | null = null;
        let id = 0;
        for (const o of list) {
          if (o.op === 'deliver') {
            const msg = { sender: o.sender, fn: o.fn, payload: id++ };
            const hit = want !== null && want[0] === o.sender && want[1] === o.fn;
            const r = q.deliver(msg);
            if (hit) {
              ref.unshift(msg);
              want = null;
              expect(r).toEqual({ ok: true, value: 'matched' });
            } else if (ref.length >= 4) expect(r.ok).toBe(false);
            else {
              ref.push(msg);
              expect(r).toEqual({ ok: true, value: 'queued' });
            }
          } else if (o.op === 'expect') {
            const r = q.expect(o.sender, o.fn);
            expect(r.ok).toBe(want === null);
            if (want === null) want = [o.sender, o.fn];
          } else if (o.op === 'take') expect(q.take()?.payload).toBe(ref.shift()?.payload);
          else {
            q.cancel();
            want = null;
          }
          expect(q.length).toBe(ref.length);
        }
      }),
    );
  });
});
