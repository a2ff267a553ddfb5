import { describe, expect, it } from 'vitest';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import type { RegionMap } from '../core/region_map.js';
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { Machine, PRIORITY } from './machine.js';

const MB = 2 ** 20;

/** A client whose memory is a chain of `k` managed dataspaces, each level paged by its own manager. */
function chain(design: string, k: number) {
  const m = new Machine({ cpus: 2, design: unwrap(designOptions(design)) });
  const core = m.core;
  const app = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 10_000 }));
  const maps: RegionMap[] = [];
  const mgrs = Array.from({ length: k }, (_, i) =>
    unwrap(core.createPd(`manager ${i + 1}`, { ram: 2 ** 40, caps: 1e6 })),
  );
  for (const mgr of mgrs) maps.push(unwrap(core.createRegionMap(mgr, 4 * MB)));
  unwrap(app.addressSpace.attach(maps[0]!.dataspace, { at: 0x1000_0000, writeable: true }));
  mgrs.forEach((mgr, i) => {
    const ctx = unwrap(core.createSignalContext(mgr, `level ${i + 1}`));
    unwrap(core.setFaultHandler(maps[i]!, ctx));
    const backing = i + 1 < k ? maps[i + 1]!.dataspace : undefined;
    const h = new OnDemandHandler(core, mgr, maps[i]!, { chunk: 64 * 1024, cpu: 1, backing });
    m.addHandler(mgr, 'manager', 1, h, ctx);
  });
  function* program(): Program {
    for (let p = 0; p < 32; p++) {
      yield* compute(1000);
      yield* touch(0x1000_0000 + p * 128 * 1024, 'write');
    }
  }
  const t = m.programs.addProgram(app, 'main', 0, program(), PRIORITY.user);
  m.run();
  return { m, t };
}

describe('pager entrypoint (sync-core-rpc)', () => {
  it('resolves a fault through nested managed dataspaces by calling each level’s manager in turn', () => {
    const { m, t } = chain('sync-core-rpc', 3);
    expect(m.counters.faultsLost).toBe(0);
    expect(m.faults.lostFaults).toEqual([]);
    expect(t.finished).toBe(true);
    // Core called every manager of the chain (and only core did).
    for (let i = 1; i <= 3; i++) expect(m.programs.trust.has('core', `manager ${i}`, 'call')).toBe(true);
    // 32 faults, each needing all three levels the first time: three calls each.
    expect(m.programs.ipc.counters.replies).toBeGreaterThanOrEqual(3 * 32);
  });

  it('loses the fault when a manager answers without resolving its level', () => {
    const wrong = new Machine({ cpus: 2, design: unwrap(designOptions('sync-core-rpc')) });
    const core = wrong.core;
    const app = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 10_000 }));
    const mgr = unwrap(core.createPd('manager', { ram: 2 ** 40, caps: 1e6 }));
    const map = unwrap(core.createRegionMap(mgr, 4 * MB));
    unwrap(app.addressSpace.attach(map.dataspace, { at: 0x1000_0000, writeable: true }));
    const ctx = unwrap(core.createSignalContext(mgr, 'faults'));
    unwrap(core.setFaultHandler(map, ctx));
    const h = new OnDemandHandler(core, mgr, map, {
      chunk: 64 * 1024,
      cpu: 1,
      misbehave: { kind: 'wrong-mapping' },
    });
    wrong.addHandler(mgr, 'manager', 1, h, ctx);
    function* one(): Program {
      yield* touch(0x1000_0000, 'read');
    }
    const u = wrong.programs.addProgram(app, 'main', 0, one(), PRIORITY.user);
    wrong.run();
    expect(u.finished).toBe(false);
    expect(wrong.counters.faultsLost).toBe(1);
    expect(wrong.faults.lostFaults[0]).toMatch(/answered without resolving the fault/);
  });
});
