import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import {
  AccessedBitmap,
  createReplacement,
  parseReplacement,
  type ReplacementName,
  type ReplacementPolicy,
} from './replacement.js';

/** An access to a page, or the unmapping of one (its frame leaves without being a victim). */
type Op = { readonly kind: 'ref'; readonly page: number } | { readonly kind: 'unmap'; readonly page: number };

/**
 * Runs a reference string through a policy the way an owner of RAM does: a hit sets the frame's
 * accessed bit and touches it; a miss takes a free frame (the lowest) or the policy's victim,
 * maps the page and marks it accessed (the retried access translates). Returns the victims' pages.
 */
function runPolicy(name: ReplacementName, frames: number, ops: readonly Op[]): number[] {
  const bits = new AccessedBitmap(frames);
  const r = createReplacement(name, frames, bits);
  if (!r.ok) throw new Error(r.message);
  const p: ReplacementPolicy = r.value;
  const frameOf = new Map<number, number>();
  const pageOf = new Int32Array(frames).fill(-1);
  const victims: number[] = [];
  for (const op of ops) {
    const f = frameOf.get(op.page);
    if (op.kind === 'unmap') {
      if (f === undefined) continue;
      p.remove(f);
      frameOf.delete(op.page);
      pageOf[f] = -1;
      continue;
    }
    if (f !== undefined) {
      bits.set(f);
      p.touch(f);
      continue;
    }
    let free = pageOf.indexOf(-1);
    if (free === -1) {
      free = p.victim();
      victims.push(pageOf[free]!);
      frameOf.delete(pageOf[free]!);
    }
    pageOf[free] = op.page;
    frameOf.set(op.page, free);
    p.insert(free);
    bits.set(free);
    expect(p.size).toBe(frameOf.size);
  }
  return victims;
}

/** Exact LRU by timestamps: the victim is the resident page used longest ago. */
function naiveLru(frames: number, ops: readonly Op[]): number[] {
  const last = new Map<number, number>();
  const victims: number[] = [];
  ops.forEach((op, t) => {
    if (op.kind === 'unmap') {
      last.delete(op.page);
      return;
    }
    if (!last.has(op.page) && last.size === frames) {
      let v = -1;
      let oldest = Number.POSITIVE_INFINITY;
      for (const [page, at] of last) {
        if (at < oldest) {
          oldest = at;
          v = page;
        }
      }
      last.delete(v);
      victims.push(v);
    }
    last.set(op.page, t);
  });
  return victims;
}

/** FIFO by a queue of pages in arrival order. */
function naiveFifo(frames: number, ops: readonly Op[]): number[] {
  const q: number[] = [];
  const victims: number[] = [];
  for (const op of ops) {
    const i = q.indexOf(op.page);
    if (op.kind === 'unmap') {
      if (i >= 0) q.splice(i, 1);
    } else if (i < 0) {
      if (q.length === frames) victims.push(q.shift()!);
      q.push(op.page);
    }
  }
  return victims;
}

/**
 * The textbook clock: `frames` slots in a circle with a reference bit each and a hand. Slots fill
 * in order; on a miss with all slots full the hand clears set bits until it finds a clear one,
 * replaces that page, sets its bit and advances.
 */
function textbookClock(frames: number, pages: readonly number[]): number[] {
  const slot: number[] = [];
  const ref: number[] = [];
  let hand = 0;
  const victims: number[] = [];
  for (const page of pages) {
    const i = slot.indexOf(page);
    if (i >= 0) {
      ref[i] = 1;
      continue;
    }
    if (slot.length < frames) {
      slot.push(page);
      ref.push(1);
      continue;
    }
    while (ref[hand] === 1) {
      ref[hand] = 0;
      hand = (hand + 1) % frames;
    }
    victims.push(slot[hand]!);
    slot[hand] = page;
    ref[hand] = 1;
    hand = (hand + 1) % frames;
  }
  return victims;
}

/**
 * Clock with unmapping, as a plain array ring: unmapping removes the page from the ring (the hand
 * moves to its successor); a new page is inserted just behind the hand.
 */
function arrayClock(frames: number, ops: readonly Op[]): number[] {
  const ring: { page: number; ref: number }[] = [];
  let hand = 0;
  const victims: number[] = [];
  for (const op of ops) {
    const i = ring.findIndex((e) => e.page === op.page);
    if (op.kind === 'unmap') {
      if (i < 0) continue;
      ring.splice(i, 1);
      if (i < hand) hand--;
      if (hand >= ring.length) hand = 0;
      continue;
    }
    if (i >= 0) {
      ring[i]!.ref = 1;
      continue;
    }
    if (ring.length === frames) {
      while (ring[hand]!.ref === 1) {
        ring[hand]!.ref = 0;
        hand = (hand + 1) % ring.length;
      }
      victims.push(ring[hand]!.page);
      ring.splice(hand, 1);
      if (hand >= ring.length) hand = 0;
    }
    // Behind the hand: at the hand's index, pushing the hand one on.
    ring.splice(hand, 0, { page: op.page, ref: 1 });
    hand = ring.length === 1 ? 0 : hand + 1;
  }
  return victims;
}

const refs = (pages: number) =>
  fc.array(
    fc.nat(pages - 1).map((page): Op => ({ kind: 'ref', page })),
    { maxLength: 400 },
  );
const refsAndUnmaps = (pages: number) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.nat(pages - 1).map((page): Op => ({ kind: 'ref', page })) },
      { weight: 1, arbitrary: fc.nat(pages - 1).map((page): Op => ({ kind: 'unmap', page })) },
    ),
    { maxLength: 400 },
  );

/**
 * Frames and a string over a few pages more than frames (where policies differ most), or over
 * many more (where they thrash).
 */
function setup(ops: (pages: number) => fc.Arbitrary<Op[]>): fc.Arbitrary<[number, Op[]]> {
  return fc
    .tuple(
      fc.integer({ min: 1, max: 10 }),
      fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 20 })),
    )
    .chain(([k, extra]) => fc.tuple(fc.constant(k), ops(k + extra)));
}

describe('replacement policies against naive references', () => {
  it('lru evicts the same pages in the same order as LRU by timestamps', () => {
    fc.assert(
      fc.property(setup(refsAndUnmaps), ([k, ops]) => {
        expect(runPolicy('lru', k, ops)).toEqual(naiveLru(k, ops));
      }),
      { numRuns: 300 },
    );
  });

  it('fifo evicts the same pages in the same order as a queue', () => {
    fc.assert(
      fc.property(setup(refsAndUnmaps), ([k, ops]) => {
        expect(runPolicy('fifo', k, ops)).toEqual(naiveFifo(k, ops));
      }),
      { numRuns: 300 },
    );
  });

  it('clock evicts the same pages in the same order as the textbook algorithm', () => {
    fc.assert(
      fc.property(setup(refs), ([k, ops]) => {
        expect(runPolicy('clock', k, ops)).toEqual(
          textbookClock(
            k,
            ops.map((o) => o.page),
          ),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('clock with unmapping agrees with an array ring', () => {
    fc.assert(
      fc.property(setup(refsAndUnmaps), ([k, ops]) => {
        expect(runPolicy('clock', k, ops)).toEqual(arrayClock(k, ops));
      }),
      { numRuns: 300 },
    );
  });
});

describe('replacement policies', () => {
  it('differ on a hand-checked string: 3 frames, 1 2 3 4 2 5 6', () => {
    const ops = [1, 2, 3, 4, 2, 5, 6].map((page): Op => ({ kind: 'ref', page }));
    expect(runPolicy('lru', 3, ops)).toEqual([1, 3, 4]);
    expect(runPolicy('fifo', 3, ops)).toEqual([1, 2, 3]);
    // Clock: 4 finds every bit set, clears 1, 2, 3 and evicts 1; the hit on 2 sets its bit again,
    // so 5 clears 2 and evicts 3; 6 clears 4 and evicts 2.
    expect(runPolicy('clock', 3, ops)).toEqual([1, 3, 2]);
  });

  it('clock puts a new page just behind the hand, not at the end of the ring', () => {
    // 3 frames, 0 1 2 3 1 0 1 2 3: the page replacing 2 must come after 3 and 0 in the sweep, or
    // the last miss evicts 0 instead of 1.
    const ops = [0, 1, 2, 3, 1, 0, 1, 2, 3].map((page): Op => ({ kind: 'ref', page }));
    expect(runPolicy('clock', 3, ops)).toEqual([0, 2, 3, 1]);
  });

  it('reads and clears the accessed bits it skips, and reports empty as -1', () => {
    const bits = new AccessedBitmap(4);
    const r = createReplacement('clock', 4, bits);
    if (!r.ok) throw new Error(r.message);
    const c = r.value;
    expect(c.victim()).toBe(-1);
    for (const f of [2, 0, 3]) c.insert(f);
    bits.set(2);
    bits.set(0);
    expect(c.victim()).toBe(3);
    expect([...bits.bits]).toEqual([0, 0, 0, 0]);
    expect(c.victim()).toBe(2);
    expect(c.victim()).toBe(0);
    expect(c.size).toBe(0);
  });

  it('parses names, needs accessed bits for clock and refuses misuse', () => {
    expect(parseReplacement('lru')).toEqual({ ok: true, value: 'lru' });
    const bad = parseReplacement('random');
    expect(bad.ok ? '' : bad.message).toMatch(/expected one of clock, lru, fifo/);
    expect(createReplacement('clock', 4).ok).toBe(false);
    expect(createReplacement('lru', 0).ok).toBe(false);
    const p = createReplacement('lru', 2);
    if (!p.ok) throw new Error(p.message);
    p.value.insert(1);
    expect(() => p.value.insert(1)).toThrow(InvariantError);
    expect(() => p.value.remove(0)).toThrow(InvariantError);
    expect(() => p.value.insert(2)).toThrow(InvariantError);
  });
});
