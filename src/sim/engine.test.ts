import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../util/result.js';
import { EventEngine, type EventId } from './engine.js';

describe('EventEngine', () => {
  it('dispatches in time order and FIFO among equal times', () => {
    const e = new EventEngine();
    const log: string[] = [];
    e.at(20, () => log.push('c'));
    e.at(10, () => log.push('a'));
    e.at(20, () => log.push('d'));
    e.at(10, () => log.push('b'));
    expect(e.pending).toBe(4);
    expect(e.run()).toBe(4);
    expect(log).toEqual(['a', 'b', 'c', 'd']);
    expect(e.now).toBe(20);
    expect(e.pending).toBe(0);
  });

  it('passes the event time to the handler and advances now', () => {
    const e = new EventEngine();
    const seen: number[] = [];
    e.after(5, (t) => seen.push(t, e.now));
    e.run();
    expect(seen).toEqual([5, 5]);
  });

  it('runs events scheduled during dispatch at the same time after those already queued', () => {
    const e = new EventEngine();
    const log: string[] = [];
    e.at(1, () => {
      log.push('first');
      e.after(0, () => log.push('nested'));
    });
    e.at(1, () => log.push('second'));
    e.run();
    expect(log).toEqual(['first', 'second', 'nested']);
  });

  it('run(until) stops at the horizon, includes events at it and advances now', () => {
    const e = new EventEngine();
    const log: number[] = [];
    for (const t of [5, 10, 15]) e.at(t, () => log.push(t));
    expect(e.run(10)).toBe(2);
    expect(log).toEqual([5, 10]);
    expect(e.now).toBe(10);
    expect(e.run(12)).toBe(0);
    expect(e.now).toBe(12);
    expect(e.nextTime).toBe(15);
    expect(e.run()).toBe(1);
    expect(e.nextTime).toBe(Number.POSITIVE_INFINITY);
  });

  it('stop() ends run after the current handler without moving now to the horizon', () => {
    const e = new EventEngine();
    const log: number[] = [];
    e.at(1, () => log.push(1));
    e.at(2, () => {
      log.push(2);
      e.stop();
    });
    e.at(3, () => log.push(3));
    expect(e.run(100)).toBe(2);
    expect(e.now).toBe(2);
    expect(e.pending).toBe(1);
    e.run();
    expect(log).toEqual([1, 2, 3]);
  });

  it('step() dispatches one event at a time', () => {
    const e = new EventEngine();
    const log: number[] = [];
    e.at(3, () => log.push(3));
    e.at(1, () => log.push(1));
    expect(e.step()).toBe(true);
    expect(log).toEqual([1]);
    expect(e.now).toBe(1);
    expect(e.step()).toBe(true);
    expect(e.step()).toBe(false);
    expect(e.dispatched).toBe(2);
  });

  it('cancels pending events and rejects stale or foreign ids', () => {
    const e = new EventEngine();
    const log: string[] = [];
    const a = e.at(1, () => log.push('a'));
    const b = e.at(2, () => log.push('b'));
    e.at(3, () => log.push('c'));
    expect(e.isPending(b)).toBe(true);
    expect(e.cancel(b)).toBe(true);
    expect(e.isPending(b)).toBe(false);
    expect(e.cancel(b)).toBe(false);
    expect(e.pending).toBe(2);
    e.run();
    expect(log).toEqual(['a', 'c']);
    expect(e.cancel(a)).toBe(false);
    expect(e.cancel(-1)).toBe(false);
    expect(e.cancel(1.5)).toBe(false);
    expect(e.cancel(Number.NaN)).toBe(false);
  });

  it('does not let a stale id cancel a new event that reuses its slot', () => {
    const e = new EventEngine();
    const old = e.at(1, () => {});
    e.run();
    let fired = false;
    const fresh = e.at(2, () => {
      fired = true;
    });
    expect(fresh).not.toBe(old);
    expect(e.cancel(old)).toBe(false);
    e.run();
    expect(fired).toBe(true);
  });

  it('cancels a scheduled event by its slot and handler, and refuses a fired or foreign one', () => {
    const e = new EventEngine();
    const log: string[] = [];
    const b = () => log.push('b');
    const c = () => log.push('c');
    e.at(1, () => log.push('a'));
    const sb = e.schedule(2, b);
    const sc = e.schedule(2, c);
    e.schedule(3, () => log.push('d'));
    expect(() => e.cancelSlot(sb, c)).toThrow(InvariantError);
    e.cancelSlot(sb, b);
    expect(e.pending).toBe(3);
    expect(() => e.cancelSlot(sb, b)).toThrow(InvariantError);
    e.run();
    expect(log).toEqual(['a', 'c', 'd']);
    expect(() => e.cancelSlot(sc, c)).toThrow(InvariantError);
  });

  it('can cancel from inside a handler', () => {
    const e = new EventEngine();
    const log: number[] = [];
    let later: EventId = -1;
    e.at(1, () => {
      log.push(1);
      e.cancel(later);
    });
    later = e.at(2, () => log.push(2));
    e.run();
    expect(log).toEqual([1]);
  });

  it('rejects scheduling in the past, non-finite times and negative delays', () => {
    const e = new EventEngine();
    e.at(10, () => {});
    e.run();
    expect(() => e.at(9, () => {})).toThrow(InvariantError);
    expect(() => e.at(Number.NaN, () => {})).toThrow(InvariantError);
    expect(() => e.at(Number.POSITIVE_INFINITY, () => {})).toThrow(InvariantError);
    expect(() => e.after(-1, () => {})).toThrow(InvariantError);
    expect(() => e.run(5)).toThrow(InvariantError);
    expect(e.pending).toBe(0);
  });

  it('rejects re-entrant run and step', () => {
    const e = new EventEngine();
    let caught: unknown;
    e.at(1, () => {
      try {
        e.run();
      } catch (x) {
        caught = x;
      }
    });
    e.run();
    expect(caught).toBeInstanceOf(InvariantError);
    expect(e.isRunning).toBe(false);
  });

  it('stays usable after a handler throws', () => {
    const e = new EventEngine();
    e.at(1, () => {
      throw new Error('boom');
    });
    let ran = false;
    e.at(2, () => {
      ran = true;
    });
    expect(() => e.run()).toThrow('boom');
    expect(e.isRunning).toBe(false);
    expect(e.run()).toBe(1);
    expect(ran).toBe(true);
  });

  it('grows past its initial capacity and keeps order', () => {
    const e = new EventEngine();
    const times = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 1000);
    const log: number[] = [];
    for (const [i, t] of times.entries()) e.at(t, () => log.push(i));
    e.run();
    const expected = times.map((t, i) => [t, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(log).toEqual(expected.map(([, i]) => i));
  });

  it('keeps order through mass cancellation (stale entries compacted)', () => {
    const e = new EventEngine();
    const n = 3000;
    const times = Array.from({ length: n }, (_, i) => (i * 7919) % 500);
    const log: number[] = [];
    const ids = times.map((t, i) => e.at(t, () => log.push(i)));
    const keep = (i: number) => i % 7 === 3;
    // Cancel from the back, the front and the middle so some stale entries sit at the top.
    for (const i of [...ids.keys()].sort((a, b) => ((a * 31) % n) - ((b * 31) % n))) {
      if (!keep(i)) expect(e.cancel(ids[i]!)).toBe(true);
    }
    expect(e.pending).toBe(times.filter((_, i) => keep(i)).length);
    const more: number[] = [];
    e.at(250, () => more.push(1));
    e.run();
    const expected = times
      .map((t, i) => [t, i] as const)
      .filter(([, i]) => keep(i))
      .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(log).toEqual(expected.map(([, i]) => i));
    expect(more).toEqual([1]);
    expect(e.pending).toBe(0);
  });

  it('reports the next live time after the earliest event is cancelled', () => {
    const e = new EventEngine();
    const a = e.at(1, () => {});
    e.at(2, () => {});
    const c = e.at(3, () => {});
    e.cancel(a);
    expect(e.nextTime).toBe(2);
    e.step();
    e.cancel(c);
    expect(e.nextTime).toBe(Number.POSITIVE_INFINITY);
    expect(e.step()).toBe(false);
  });

  it('describes itself in hex', () => {
    const e = new EventEngine();
    e.at(255, () => {});
    expect(e.toString()).toBe('EventEngine(now=0x0, pending=1, next=0xff, dispatched=0)');
  });
});

// --- Model-based test against a naive sorted-list reference ---

interface RefEvent {
  readonly time: number;
  readonly seq: number;
  readonly label: number;
}

interface Model {
  now: number;
  seq: number;
  events: RefEvent[];
  ids: { id: EventId; label: number }[];
  log: number[];
}

interface Real {
  engine: EventEngine;
  log: number[];
}

function popRef(m: Model): RefEvent | undefined {
  if (m.events.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < m.events.length; i++) {
    const a = m.events[i]!;
    const b = m.events[best]!;
    if (a.time < b.time || (a.time === b.time && a.seq < b.seq)) best = i;
  }
  return m.events.splice(best, 1)[0];
}

function check(m: Model, r: Real): void {
  expect(r.log).toEqual(m.log);
  expect(r.engine.now).toBe(m.now);
  expect(r.engine.pending).toBe(m.events.length);
}

/** Schedules with `after` (keeping the id), or with `schedule` (no id: it cannot be cancelled). */
class ScheduleCmd implements fc.Command<Model, Real> {
  constructor(
    readonly delay: number,
    readonly withId = true,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const label = m.seq;
    const fn = () => r.log.push(label);
    if (this.withId) m.ids.push({ id: r.engine.after(this.delay, fn), label });
    else r.engine.schedule(r.engine.now + this.delay, fn);
    m.events.push({ time: m.now + this.delay, seq: m.seq++, label });
    check(m, r);
  }
  toString = () => `${this.withId ? 'after' : 'schedule'}(${this.delay})`;
}

class CancelCmd implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  run(m: Model, r: Real): void {
    const { id, label } = m.ids[this.pick % m.ids.length]!;
    const idx = m.events.findIndex((ev) => ev.label === label);
    expect(r.engine.cancel(id)).toBe(idx >= 0);
    if (idx >= 0) m.events.splice(idx, 1);
    check(m, r);
  }
  toString = () => `cancel(pick ${this.pick})`;
}

class CancelAllCmd implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.ids.length > 0;
  run(m: Model, r: Real): void {
    for (const { id, label } of m.ids) {
      const idx = m.events.findIndex((ev) => ev.label === label);
      expect(r.engine.cancel(id)).toBe(idx >= 0);
      if (idx >= 0) m.events.splice(idx, 1);
    }
    check(m, r);
  }
  toString = () => 'cancelAll()';
}

class BurstCmd implements fc.Command<Model, Real> {
  constructor(readonly delays: readonly number[]) {}
  check = () => true;
  run(m: Model, r: Real): void {
    for (const d of this.delays) new ScheduleCmd(d, d % 3 !== 0).run(m, r);
  }
  toString = () => `burst(${this.delays.length})`;
}

class StepCmd implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    const ev = popRef(m);
    expect(r.engine.step()).toBe(ev !== undefined);
    if (ev) {
      m.now = ev.time;
      m.log.push(ev.label);
    }
    check(m, r);
  }
  toString = () => 'step()';
}

class RunUntilCmd implements fc.Command<Model, Real> {
  constructor(readonly span: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const until = m.now + this.span;
    for (;;) {
      const next = m.events.reduce((x, ev) => Math.min(x, ev.time), Number.POSITIVE_INFINITY);
      if (next > until) break;
      const ev = popRef(m)!;
      m.now = ev.time;
      m.log.push(ev.label);
    }
    m.now = until;
    r.engine.run(until);
    check(m, r);
  }
  toString = () => `run(+${this.span})`;
}

describe('EventEngine model', () => {
  it('matches a naive sorted-list scheduler under random schedule/cancel/step/run', () => {
    const commands = [
      fc
        .tuple(fc.integer({ min: 0, max: 20 }), fc.boolean())
        .map(([d, withId]) => new ScheduleCmd(d, withId)),
      fc.nat().map((p) => new CancelCmd(p)),
      fc.constant(new CancelAllCmd()),
      fc
        .array(fc.integer({ min: 0, max: 50 }), { minLength: 50, maxLength: 150 })
        .map((ds) => new BurstCmd(ds)),
      fc.constant(new StepCmd()),
      fc.integer({ min: 0, max: 15 }).map((s) => new RunUntilCmd(s)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 100 }), (cmds) => {
        const model: Model = { now: 0, seq: 0, events: [], ids: [], log: [] };
        const real: Real = { engine: new EventEngine(), log: [] };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 150 },
    );
  });
});
