import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import { DEFAULT_COSTS } from './cost.js';
import { designOptions } from './designs.js';
import { Machine } from './machine.js';
import { buildTracedSystem, summarize, type TracedSystemOptions } from './replay.js';
import type { AccessSource } from './sim_thread.js';
import { Timeline } from './timeline.js';
import { checkTimeline } from './timeline_check.js';

const MB = 2 ** 20;

function uniform(records: number, footprint: number, seed: number, base = 0x10000000): AccessSource {
  return unwrap(createWorkload({ pattern: 'uniform', records, footprint, seed, base }));
}

function run(design: string, opts: TracedSystemOptions = {}, sources = [uniform(50_000, 16 * MB, 7)]) {
  const sys = buildTracedSystem(sources, { cpus: 2, design: unwrap(designOptions(design)), ...opts });
  sys.machine.run();
  return { sys, r: summarize(sys, design) };
}

describe('Machine', () => {
  it('is deterministic: same inputs, byte-identical metrics and timeline', () => {
    const once = () => {
      const timeline = new Timeline(3000);
      const { r } = run('genode', { timeline, cpus: 3 }, [
        uniform(20_000, 8 * MB, 3),
        uniform(20_000, 8 * MB, 4, 0x40000000),
      ]);
      return JSON.stringify(r) + JSON.stringify(timeline.toJSON());
    };
    expect(once()).toBe(once());
  });

  it('runs the fault path end to end with the handler on another CPU', () => {
    const { sys, r } = run('genode');
    expect(r.records).toBe(50_000);
    expect(sys.threads[0]!.done).toBe(true);
    // 16 MiB in 2 MiB chunks: eight reflected faults, each woken by the handler on CPU 1.
    expect(r.faults.reflected).toBe(8);
    expect(r.chunks).toBe(8);
    expect(r.faults.resolved).toBe(8);
    expect(r.mappings['2M']).toBe(8);
    expect(sys.machine.cpus[1]!.handlerCycles).toBeGreaterThan(0);
    expect(sys.machine.cpus[0]!.handlerCycles).toBe(0);
    // Signal to CPU 1 and wake-up back to CPU 0 for each reflected fault.
    expect(r.crossCpu.messages).toBe(16);
    // Every fault waited for a handler that zeroed 2 MiB: latency includes that work.
    expect(r.faults.latency.count).toBe(8);
    expect(r.faults.latency.p50).toBeGreaterThan(2048 * DEFAULT_COSTS.pageZeroPerKiB);
    expect(r.errors).toEqual([]);
  });

  it('shows each design’s difference in the metrics', () => {
    const g = run('genode').r;
    const small = run('4k-only').r;
    expect(small.mappings['4K']).toBe(small.pages.touched);
    expect(small.tlb.misses).toBeGreaterThan(g.tlb.misses * 10);
    expect(small.faults.resolved).toBe(small.pages.touched);
    expect(small.cycles).toBeGreaterThan(g.cycles);

    // Trampoline without PCID flushes the TLB on every kernel entry; with PCID it does not.
    const tlbSpec = { quantum: 20_000 };
    const tr = run('trampoline', tlbSpec).r;
    const pcid = run('trampoline-pcid', tlbSpec).r;
    const shared = run('genode', tlbSpec).r;
    expect(tr.tlb.misses).toBeGreaterThan(pcid.tlb.misses);
    expect(pcid.tlb.misses).toBe(shared.tlb.misses);
    expect(pcid.cyclesBy.kernel).toBeGreaterThan(shared.cyclesBy.kernel);
  });

  it('eager mapping installs each chunk at attach time: the woken faulter needs no second fault', () => {
    const lazy = run('genode').r;
    const sys = buildTracedSystem([uniform(50_000, 16 * MB, 7)], {
      cpus: 2,
      design: unwrap(designOptions('genode', { eagerMapping: 'true' })),
    });
    sys.machine.run();
    const eager = summarize(sys, 'genode+eager');
    expect(eager.faults.reflected).toBe(lazy.faults.reflected);
    expect(eager.eagerMappings).toBe(8);
    expect(eager.faults.resolved).toBe(0);
    expect(lazy.faults.resolved).toBe(8);
    expect(eager.mappings['2M']).toBe(8);
    expect(eager.cyclesBy.pager).toBeLessThan(lazy.cyclesBy.pager);
  });

  it('with a single pager, faults of a thread on CPU 1 cross to CPU 0 and back', () => {
    const sources = [uniform(1000, 4 * MB, 1), uniform(20_000, 4 * MB, 2, 0x50000000)];
    const per = run('genode', { cpus: 2, handlerCpu: 0 }, sources).r;
    const sources2 = [uniform(1000, 4 * MB, 1), uniform(20_000, 4 * MB, 2, 0x50000000)];
    const single = run('genode-single-pager', { cpus: 2, handlerCpu: 0 }, sources2).r;
    // Thread 1 runs on CPU 1: its resolved faults go to CPU 0 and back only with one pager.
    expect(single.crossCpu.messages).toBeGreaterThan(per.crossCpu.messages);
    expect(single.faults.resolved).toBe(per.faults.resolved);
  });

  it('exports a timeline that validates: nesting, flows, metadata', () => {
    const timeline = new Timeline(3000);
    run('genode', { timeline, cpus: 2 }, [uniform(30_000, 8 * MB, 5)]);
    const json = timeline.toJSON();
    expect(checkTimeline(json)).toEqual([]);
    const names = new Set(json.traceEvents.map((e) => e.name));
    for (const n of [
      'page fault (reflected)',
      'page fault (mapped)',
      'blocked: waiting for the handler',
      'free frames',
    ]) {
      expect(names.has(n)).toBe(true);
    }
    expect(json.traceEvents.some((e) => 'bind_id' in e)).toBe(true);
  });
});

describe('scheduling on a CPU (the kernel scheduler)', () => {
  function twoThreads(prioA: number, prioB: number) {
    const m = new Machine({ cpus: 1, quantum: 200_000 });
    const pd = unwrap(m.core.createPd('init -> app'));
    const ds = unwrap(m.core.allocRam(pd, 4 * MB));
    unwrap(pd.addressSpace.attach(ds, { at: 0x10000000, writeable: true }));
    const a = m.addThread(pd, 'a', 0, uniform(200_000, 4 * MB, 1), prioA);
    const b = m.addThread(pd, 'b', 0, uniform(200_000, 4 * MB, 2), prioB);
    m.run();
    return { a, b, m };
  }

  it('a higher-priority thread runs to completion before a lower one gets the CPU', () => {
    const { a, b } = twoThreads(0, 5);
    expect(a.done && b.done).toBe(true);
    expect(b.finishedAt).toBeLessThan(a.finishedAt);
    // b ran alone first: it finished within its own run time, before a ran at all.
    expect(a.finishedAt - b.finishedAt).toBeGreaterThan(b.finishedAt * 0.8);
  });

  it('equal priorities share the CPU round robin, quantum by quantum', () => {
    const { a, b, m } = twoThreads(3, 3);
    expect(Math.abs(a.finishedAt - b.finishedAt)).toBeLessThan(250_000);
    expect(m.scheduler.stats(0).contextSwitches).toBeGreaterThan(4);
  });
});

describe('no stale translation (DESIGN.md §5 invariant 3)', () => {
  it('after a detach or destroy, no CPU’s TLB or page table translates the removed range (every design)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('genode', 'sync-core-rpc', 'local-rm'),
        fc.integer({ min: 2, max: 4 }),
        fc.array(
          fc.record({ until: fc.integer({ min: 1, max: 400_000 }), chunk: fc.nat(7), destroy: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.integer({ min: 1, max: 1000 }),
        (design, cpus, steps, seed) => {
          const sources = Array.from({ length: cpus }, (_, i) =>
            uniform(30_000, 16 * MB, seed + i, 0x10000000),
          );
          const sys = buildTracedSystem(sources, {
            cpus,
            chunk: 2 * MB,
            design: unwrap(designOptions(design)),
          });
          const m = sys.machine;
          let t = 0;
          for (const s of steps) {
            t += s.until;
            m.run(t);
            const base = 0x10000000 + s.chunk * 2 * MB;
            const region = sys.memory.lookup(base);
            if (!region) continue;
            const ds = region.dataspace;
            if (s.destroy && ds) unwrap(m.core.free(sys.manager, ds));
            else unwrap(sys.memory.detach(base));
            for (const cpu of m.cpus) {
              for (let a = base; a < base + 2 * MB; a += 64 * 1024) {
                expect(cpu.tlb.translates(sys.app.pd.asid, a)).toBe(false);
              }
            }
            expect(sys.app.pd.pageTable.lookup(base)).toBeUndefined();
            expect(sys.app.pd.pageTable.lookup(base + 2 * MB - 1)).toBeUndefined();
            // local-rm: nothing derived from the removed region survives in the MDB, in any space.
            const mdb = m.localRm?.mdb;
            if (mdb) {
              expect(mdb.overlapping(sys.app.pd.id, base, 2 * MB)).toEqual([]);
              for (const x of mdb.mappingsOf(sys.app.pd.id)) expect(mdb.parentOf(x)).not.toBeNull();
            }
          }
          m.run();
          // Every page table entry left is justified by the region maps as they are now.
          for (const mapping of sys.app.pd.pageTable.mappings()) {
            const res = m.core.resolve(sys.threads[0]!.kernel, mapping.va, 'read', false);
            expect(res.kind).toBe('mapped');
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('local-rm: a map item whose region was detached on the way maps nothing; the thread faults again', () => {
    // Found by the property above: CPU 1 detached the chunk while CPU 0's region mapper installed it.
    const sources = Array.from({ length: 3 }, (_, i) => uniform(30_000, 16 * MB, 883 + i, 0x10000000));
    const sys = buildTracedSystem(sources, {
      cpus: 3,
      chunk: 2 * MB,
      design: unwrap(designOptions('local-rm')),
    });
    const m = sys.machine;
    let t = 0;
    for (const [until, chunk] of [
      [46_505, 0],
      [142_309, 0],
      [387_883, 0],
      [9_830, 2],
    ] as const) {
      t += until;
      m.run(t);
      if (sys.memory.lookup(0x10000000 + chunk * 2 * MB))
        unwrap(sys.memory.detach(0x10000000 + chunk * 2 * MB));
    }
    m.run();
    expect(m.localRm!.counters.emptyItems).toBeGreaterThan(0);
    for (const mapping of sys.app.pd.pageTable.mappings())
      expect(m.core.resolve(sys.threads[0]!.kernel, mapping.va, 'read', false).kind).toBe('mapped');
    expect(sys.threads.every((th) => th.fatal === null)).toBe(true);
  });
});
