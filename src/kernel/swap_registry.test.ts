import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SWAP_POLICIES, type SwapPolicy, SwapRegistry, type SwapSlot } from './swap_registry.js';

function registry(policy: SwapPolicy = 'priority', budgetBlocks = 1 << 30): SwapRegistry {
  return new SwapRegistry({ budgetBlocks, policy, budgetSource: 'x86_32 not-present PTE' });
}

function slot(r: SwapRegistry): SwapSlot {
  const s = r.allocate();
  if (!s.ok) throw new Error(s.message);
  return s.value;
}

function reg(r: SwapRegistry, name: string, blocks: number, priority = 0, port = 7) {
  const p = r.register({ name, blocks, port, priority });
  if (!p.ok) throw new Error(p.message);
  return p.value;
}

describe('SwapRegistry', () => {
  it('gives providers consecutive ranges of one block-number space', () => {
    const r = registry();
    const a = reg(r, 'a', 100);
    const b = reg(r, 'b', 50, 0, 9);
    expect([a.base, b.base]).toEqual([0, 100]);
    expect(r.locate(120)).toBeUndefined();
    const s1 = slot(r);
    const s2 = slot(r);
    expect(s1).toEqual({ global: 0, provider: a.id, block: 0, port: 7 });
    expect(s2).toEqual({ global: 100, provider: b.id, block: 0, port: 9 });
    expect(r.locate(100)).toEqual(s2);
  });

  it('uses higher priorities first and stripes equal ones round robin, like Linux', () => {
    const r = registry('priority');
    const low = reg(r, 'low', 10, -1);
    const a = reg(r, 'a', 2, 5);
    const b = reg(r, 'b', 3, 5);
    const got = Array.from({ length: 7 }, () => slot(r).provider);
    expect(got).toEqual([a.id, b.id, a.id, b.id, b.id, low.id, low.id]);
  });

  it('round-robin ignores priorities; most-free balances', () => {
    const rr = registry('round-robin');
    const [x, y] = [reg(rr, 'x', 5, 10), reg(rr, 'y', 5, 0)];
    expect(Array.from({ length: 4 }, () => slot(rr).provider)).toEqual([x.id, y.id, x.id, y.id]);
    const mf = registry('most-free');
    const [p, q] = [reg(mf, 'p', 3), reg(mf, 'q', 5)];
    expect(Array.from({ length: 5 }, () => slot(mf).provider)).toEqual([q.id, q.id, p.id, q.id, p.id]);
  });

  it('reports full as a typed error and changes nothing', () => {
    const r = registry();
    reg(r, 'tiny', 2);
    slot(r);
    slot(r);
    const full = r.allocate();
    expect(full.ok || full.code).toBe('SWAP_FULL');
    expect(full.ok ? '' : full.message).toMatch(/every live swap provider is full \(1 provider, 2 blocks\)/);
    expect(r.providers()[0]).toMatchObject({ used: 2, free: 0 });
    expect(r.free(1).ok).toBe(true);
    expect(slot(r).block).toBe(1);
    const none = registry().allocate();
    expect(none.ok ? '' : none.message).toMatch(/no live swap provider/);
  });

  it('refuses a provider larger than the PTE budget, and one that no longer fits', () => {
    const r = registry('priority', 1 << 30);
    const big = r.register({ name: 'huge', blocks: 2 ** 31, port: 1 });
    expect(big.ok || big.code).toBe('SWAP_TOO_LARGE');
    expect(big.ok ? '' : big.message).toMatch(
      /'huge' has 2147483648 blocks, but x86_32 not-present PTE names at most 1073741824/,
    );
    reg(r, 'most', 2 ** 30 - 10);
    const more = r.register({ name: 'more', blocks: 11, port: 1 });
    expect(more.ok ? '' : more.message).toMatch(/only 10 of the 1073741824 blocks/);
    expect(r.providers()).toHaveLength(1);
    expect(reg(r, 'rest', 10).base).toBe(2 ** 30 - 10);
  });

  it('keeps reserved blocks out, skips dead providers, and unregisters only idle ones', () => {
    const r = registry();
    const p = r.register({ name: 'disk', blocks: 4, port: 3, reserved: [0, 2] });
    if (!p.ok) throw new Error(p.message);
    expect(p.value.free).toBe(2);
    const backup = reg(r, 'backup', 4, -5);
    expect([slot(r).block, slot(r).block]).toEqual([1, 3]);
    expect(r.markDead(p.value.id).ok).toBe(true);
    r.free(1);
    expect(slot(r).provider).toBe(backup.id);
    const busy = r.unregister(p.value.id);
    expect(busy.ok || busy.code).toBe('PROVIDER_BUSY');
    r.free(3);
    expect(r.unregister(p.value.id).ok).toBe(true);
    // Its range is free again for the next provider.
    expect(reg(r, 'new', 4).base).toBe(0);
    expect(r.free(999).ok).toBe(false);
  });

  it('validates registrations', () => {
    const r = registry();
    reg(r, 'a', 1);
    const cases = [
      { name: 'a', blocks: 1, port: 1 },
      { name: '', blocks: 1, port: 1 },
      { name: 'b', blocks: 0, port: 1 },
      { name: 'b', blocks: 1, port: -1 },
      { name: 'b', blocks: 2, port: 1, reserved: [2] },
      { name: 'b', blocks: 2, port: 1, priority: 0.5 },
    ];
    expect(cases.map((c) => r.register(c)).map((x) => (x.ok ? 'ok' : x.code))).toEqual([
      'DUPLICATE_PROVIDER',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    ]);
  });
});

/**
 * Naive reference: providers as boolean arrays; the `priority` and `round-robin` turn order as a
 * rotating queue per group (the chosen provider goes to the back), `most-free` by a full scan.
 */
class NaiveSwap {
  readonly used: boolean[][] = [];
  readonly queues = new Map<number, number[]>();
  constructor(
    readonly policy: SwapPolicy,
    readonly sizes: readonly number[],
    readonly prios: readonly number[],
  ) {
    for (const s of sizes) this.used.push(new Array<boolean>(s).fill(false));
  }
  freeOf(i: number): number {
    return this.used[i]!.filter((u) => !u).length;
  }
  allocate(): [number, number] | null {
    const open = this.sizes.map((_, i) => i).filter((i) => this.freeOf(i) > 0);
    if (open.length === 0) return null;
    let pick: number;
    if (this.policy === 'most-free') {
      pick = open.reduce((b, i) => (this.freeOf(i) > this.freeOf(b) ? i : b));
    } else {
      const key = this.policy === 'priority' ? Math.max(...open.map((i) => this.prios[i]!)) : 0;
      const members = this.sizes
        .map((_, i) => i)
        .filter((i) => this.policy !== 'priority' || this.prios[i] === key);
      const q = this.queues.get(key) ?? members;
      pick = q.find((i) => open.includes(i))!;
      this.queues.set(key, [...q.slice(q.indexOf(pick) + 1), ...q.slice(0, q.indexOf(pick) + 1)]);
    }
    const block = this.used[pick]!.indexOf(false);
    this.used[pick]![block] = true;
    return [pick, block];
  }
}

describe('SwapRegistry against a naive reference', () => {
  it('chooses the same provider and block for every allocation, through frees', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SWAP_POLICIES),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 6 }), prio: fc.integer({ min: 0, max: 2 }) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.oneof(fc.constant(-1), fc.nat(40)), { maxLength: 120 }),
        (policy, provs, ops) => {
          const r = registry(policy);
          const ids = provs.map((p, i) => reg(r, `p${i}`, p.size, p.prio).id);
          const bases = r.providers().map((p) => p.base);
          const ref = new NaiveSwap(
            policy,
            provs.map((p) => p.size),
            provs.map((p) => p.prio),
          );
          const live: number[] = [];
          for (const op of ops) {
            if (op === -1 || live.length === 0) {
              const got = r.allocate();
              const want = ref.allocate();
              if (want === null) {
                expect(got.ok).toBe(false);
                continue;
              }
              expect(got.ok && [ids.indexOf(got.value.provider), got.value.block]).toEqual(want);
              live.push(bases[want[0]]! + want[1]);
            } else {
              const g = live.splice(op % live.length, 1)[0]!;
              const i = bases.findLastIndex((b) => b <= g);
              expect(r.free(g).ok).toBe(true);
              ref.used[i]![g - bases[i]!] = false;
            }
          }
          expect(r.freeBlocks()).toBe(provs.reduce((s, _, i) => s + ref.freeOf(i), 0));
        },
      ),
    );
  });
});
