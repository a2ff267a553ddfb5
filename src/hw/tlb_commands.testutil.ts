/**
 * The operations of the TLB's model-based property tests (tlb.property.test.ts,
 * tlb_run.property.test.ts): each runs on the real Tlb and on the naive reference
 * (tlb_reference.testutil.ts) and checks that both agree on results, counters and contents.
 */
import type fc from 'fast-check';
import { expect } from 'vitest';
import type { Tlb, TlbAccess, TlbMapping } from './tlb.js';
import { expectSameLastHit, expectSameState, type RefEntry, RefTlb } from './tlb_reference.testutil.js';

export type Cmd = fc.Command<RefTlb, Tlb>;

export class LookupCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const held = m.levels.some((l) => l.find(this.asid, BigInt(this.va)) !== undefined);
    expect(r.translates(this.asid, this.va)).toBe(held);
    const want = m.lookup(this.asid, BigInt(this.va), this.kind);
    expect(r.lookup(this.asid, this.va, this.kind)).toBe(want);
    if (want >= 0) expectSameLastHit(m, r);
    expectSameState(m, r);
  }
  toString = () => `lookup(${this.asid}, 0x${this.va.toString(16)}, ${this.kind})`;
}

export class FillCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
    readonly m: TlbMapping,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    m.fill(this.asid, BigInt(this.va), this.kind, this.m);
    r.fill(this.asid, this.va, this.kind, this.m);
    expectSameState(m, r);
  }
  toString = () => `fill(${this.asid}, 0x${this.va.toString(16)}, ${this.kind}, ${JSON.stringify(this.m)})`;
}

/**
 * What the machine does per slow-path record: a lookup and, when every stage missed, a walk that
 * fills the mapping (of size 2^sizeLog2 around va) at once, which resolves the lookup's misses.
 */
export class TranslateCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly va: number,
    readonly kind: TlbAccess,
    readonly sizeLog2: number,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const want = m.lookup(this.asid, BigInt(this.va), this.kind);
    expect(r.lookup(this.asid, this.va, this.kind)).toBe(want);
    if (want < 0) {
      const size = 2 ** this.sizeLog2;
      const vaBase = this.va - (this.va % size);
      const mapping = { vaBase, sizeLog2: this.sizeLog2, paBase: 2 ** 44, writeable: true, executable: true };
      m.fill(this.asid, BigInt(this.va), this.kind, mapping);
      r.fill(this.asid, this.va, this.kind, mapping);
    }
    expectSameState(m, r);
  }
  toString = () => `translate(${this.asid}, 0x${this.va.toString(16)}, ${this.kind}, 2^${this.sizeLog2})`;
}

/** One record of a hit run: trace kind (0 fetch, 1 load, 2 store, 3 modify), address, size. */
export type RunRecord = readonly [kind: number, va: number, size: number];

/** Per TLB under test: the page sink its hit runs share, and the pages runs touched since it was new. */
const sinks = new WeakMap<Tlb, { got: Set<number>; want: Set<number> }>();
/**
 * Pages reported written (`asid:page`) and pages a replayed store or modify wrote, per TLB, both
 * forgetting what a flush removed: the dirty-bit contract (reported again after a flush).
 */
const writeSinks = new WeakMap<Tlb, { got: Set<string>; want: Set<string> }>();

/**
 * A hit run against the reference: the model looks records up one by one while each would hit
 * some level of its path with the rights it needs, stays inside one 4K page and the cycles spent
 * (`access` each, plus `deeper` for a hit after the path's first stage) stay below the budget.
 * Runs share one page sink (a run may skip pages it handed to that sink before) unless `fresh`.
 */
export class HitRunCmd implements Cmd {
  constructor(
    readonly asid: number,
    readonly records: readonly RunRecord[],
    readonly access: number,
    readonly deeper: number,
    readonly budget: number,
    readonly fresh = false,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    m.pending = undefined;
    const page = 4096;
    let sink = sinks.get(r);
    if (!sink || this.fresh) {
      sink = { got: new Set(), want: new Set() };
      sinks.set(r, sink);
    }
    const { got, want } = sink;
    let ws = writeSinks.get(r);
    if (!ws) {
      ws = { got: new Set(), want: new Set() };
      writeSinks.set(r, ws);
    }
    let n = 0;
    let used = 0;
    for (const [kind, va, size] of this.records) {
      if (used >= this.budget || (va % page) + size > page) break;
      const access: TlbAccess = kind === 0 ? 'instruction' : 'data';
      const stages = m.stages(access);
      const p = stages.findIndex((st) => RefTlb.probe(st, this.asid, BigInt(va)) !== undefined);
      const [l, e] = (p >= 0 && RefTlb.probe(stages[p]!, this.asid, BigInt(va))) || [];
      if (!e || (kind === 0 && !e.x) || (kind >= 2 && !e.w)) break;
      expect(m.lookup(this.asid, BigInt(va), access)).toBe(m.levels.indexOf(l!));
      used += this.access + (p > 0 ? this.deeper : 0);
      want.add(va - (va % page));
      if (kind >= 2) ws.want.add(`${this.asid}:${va - (va % page)}`);
      n++;
    }
    const kinds = Uint8Array.from(this.records, (x) => x[0]);
    const addrs = Float64Array.from(this.records, (x) => x[1]);
    const sizes = Uint32Array.from(this.records, (x) => x[2]);
    const add = { add: (va: number) => got.add(va - (va % page)) };
    const { access, deeper, budget } = this;
    const wgot = ws.got;
    const written = { add: (va: number) => wgot.add(`${this.asid}:${va - (va % page)}`) };
    expect(
      r.hitRun(this.asid, kinds, addrs, sizes, 0, kinds.length, page, add, access, deeper, budget, written),
    ).toBe(n);
    expect(r.runCycles).toBe(used);
    expect([...got].sort()).toEqual([...want].sort());
    for (const w of ws.want) expect(ws.got).toContain(w);
    if (n > 0) expectSameLastHit(m, r);
    expectSameState(m, r);
  }
  toString = () =>
    `hitRun(${this.asid}, [${this.records.map(([k, va, s]) => `${k}:0x${va.toString(16)},${s}`).join(' ')}], ${this.access}, ${this.deeper}, ${this.budget}${this.fresh ? ', fresh sink' : ''})`;
}

export class FlushCmd implements Cmd {
  constructor(
    readonly what: 'all' | 'asid' | 'range',
    readonly asid: number,
    readonly start: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(m: RefTlb, r: Tlb): void {
    const s = BigInt(this.start);
    const e = s + BigInt(this.size);
    const pred =
      this.what === 'all'
        ? () => true
        : this.what === 'asid'
          ? (x: RefEntry) => x.asid === this.asid
          : (x: RefEntry) => x.asid === this.asid && x.base < e && x.base + (1n << BigInt(x.sizeLog2)) > s;
    m.pending = undefined;
    const before = m.levels.reduce((n, l) => n + l.invalidations, 0);
    for (const l of m.levels) l.flush(pred);
    const removed = m.levels.reduce((n, l) => n + l.invalidations, 0) - before;
    const got =
      this.what === 'all'
        ? r.flushAll()
        : this.what === 'asid'
          ? r.flushAsid(this.asid)
          : r.flushRange(this.asid, this.start, this.size);
    expect(got).toBe(removed);
    if (this.what === 'range') expect(r.translates(this.asid, this.start)).toBe(false);
    const ws = writeSinks.get(r);
    for (const set of ws ? [ws.got, ws.want] : []) {
      for (const key of [...set]) {
        const [asid, page] = key.split(':').map(Number) as [number, number];
        const hit =
          this.what === 'all' ||
          (asid === this.asid &&
            (this.what === 'asid' || (page < this.start + this.size && page + 4096 > this.start)));
        if (hit) set.delete(key);
      }
    }
    expectSameState(m, r);
  }
  toString = () =>
    `flush(${this.what}, ${this.asid}, 0x${this.start.toString(16)}, 0x${this.size.toString(16)})`;
}
