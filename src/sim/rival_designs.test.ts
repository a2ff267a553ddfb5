import { describe, expect, it } from 'vitest';
import { replay } from '../cli/replay_run.js';
import { runOptions } from '../cli/run_options.js';
import { unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import { designOptions } from './designs.js';
import { buildTracedSystem, summarize } from './replay.js';

const MB = 2 ** 20;
const TRACE = new URL('../../traces/sort.lackey.gz', import.meta.url).pathname;

function system(design: string, records = 20_000) {
  const src = unwrap(
    createWorkload({ pattern: 'uniform', records, footprint: 8 * MB, seed: 11, base: 0x10000000 }),
  );
  const sys = buildTracedSystem([src], { cpus: 2, chunk: 2 * MB, design: unwrap(designOptions(design)) });
  return sys;
}

describe('fault handling designs: async (genode), sync-core-rpc, local-rm', () => {
  it('install the same mappings on the bundled trace: the TLB figures agree exactly', async () => {
    const designs = ['genode', 'sync-core-rpc', 'local-rm'];
    const out = await replay(TRACE, runOptions(designs, {}), { reader: 'inline' });
    // Per-stage lookups also count the lookups repeated after a fault, and genode's reflected
    // faults are retried once more than local-rm's: the translations themselves must agree.
    const tlbFigures = out.results.map((r) => ({
      records: r.records,
      translations: r.translations,
      tlb: { hits: r.tlb.hits, misses: r.tlb.misses, hitRate: r.tlb.hitRate },
      pages: r.pages,
      mappings: r.mappings,
      errors: r.errors,
    }));
    expect(tlbFigures[1]).toEqual(tlbFigures[0]);
    expect(tlbFigures[2]).toEqual(tlbFigures[0]);
    expect(out.results[0]!.records).toBeGreaterThan(1_000_000);
    // ... while messages and latency differ: local-rm's faults travel through more hops.
    const [g, , l] = out.results;
    expect(l!.faults.latency.p50).toBeGreaterThan(g!.faults.latency.p50);
  });

  it('need different communication rights, read off the capability checks of the run', () => {
    const trust = (design: string) => {
      const sys = system(design);
      sys.machine.run();
      expect(summarize(sys, design).errors).toEqual([]);
      return sys.machine.programs.trust;
    };
    const app = 'init -> traced';
    const mgr = 'init -> memory manager';
    const g = trust('genode');
    // Genode: core only signals the manager (fire and forget); the manager calls core.
    expect(g.has('core', mgr, 'signal')).toBe(true);
    expect(g.has('core', mgr, 'call')).toBe(false);
    expect(g.has(mgr, 'core', 'call')).toBe(true);
    expect(g.has(app, mgr, 'call')).toBe(false);
    expect(g.has(mgr, app, 'map')).toBe(false);
    expect(g.has(app, 'core', 'page-fault')).toBe(true);
    // sync-core-rpc: core depends on the manager answering its call.
    const s = trust('sync-core-rpc');
    expect(s.has('core', mgr, 'call')).toBe(true);
    expect(s.has('core', mgr, 'signal')).toBe(false);
    // local-rm: the task's own region mapper calls the manager, which maps into the task directly.
    const l = trust('local-rm');
    expect(l.has(app, app, 'page-fault')).toBe(true);
    expect(l.has(app, 'core', 'page-fault')).toBe(false);
    expect(l.has(app, mgr, 'call')).toBe(true);
    expect(l.has(mgr, app, 'map')).toBe(true);
    expect(l.has('core', mgr, 'map')).toBe(true);
    expect(l.has('core', mgr, 'signal')).toBe(false);
  });

  it('every RPC is real IPC: a handler calling core is blocked in-ipc until core answers', () => {
    const sys = system('genode', 5000);
    const m = sys.machine;
    const handler = m.handlers.list[0]!.task.kernel;
    const seen = new Set<string>();
    while (m.engine.step()) seen.add(handler.state);
    expect(seen).toContain('in-ipc');
    expect(seen).toContain('waiting-signal');
    expect(m.programs.ipc.counters.calls).toBeGreaterThan(0);
    expect(m.programs.ipc.counters.replies).toBe(m.programs.ipc.counters.calls);
  });

  it('sync-core-rpc: the pager entrypoint waits in IPC while the manager resolves', () => {
    const sys = system('sync-core-rpc', 5000);
    const m = sys.machine;
    const pager = m.faults.pagers[0]!.task.kernel;
    let waited = false;
    while (m.engine.step())
      if (pager.state === 'in-ipc' && m.handlers.list[0]!.task.kernel.state !== 'waiting-signal')
        waited = true;
    expect(waited).toBe(true);
    expect(summarize(sys, 'sync-core-rpc').errors).toEqual([]);
  });

  it('local-rm records every mapping in the MDB, derived from core through the manager, and revokes through it', () => {
    const sys = system('local-rm');
    const m = sys.machine;
    m.run();
    const mdb = m.localRm!.mdb;
    const app = sys.app.pd;
    const mine = mdb.mappingsOf(app.id);
    expect(mine.length).toBe(app.pageTable.size);
    for (const x of mine) {
      const parent = mdb.parentOf(x)!;
      expect(parent).not.toBeNull();
      expect(mdb.parentOf(parent)).not.toBeNull(); // the manager's own, derived from core's root
    }
    const before = m.localRm!.bytes;
    // Detaching the whole managed memory revokes everything the task got through it.
    const region = sys.memory.lookup(0x10000000)!;
    unwrap(sys.memory.detach(region.base));
    expect(mdb.overlapping(app.id, region.base, region.size)).toEqual([]);
    expect(m.localRm!.bytes).toBeLessThan(before);
    expect(m.localRm!.counters.revoked).toBeGreaterThan(0);
  });
});
