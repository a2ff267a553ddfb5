import { describe, expect, it } from 'vitest';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { Machine, PRIORITY } from './machine.js';
import { auditMappings } from './mapping_audit.js';

describe('local-rm', () => {
  it('serves many managed maps of one manager: each gets its own stretch of the manager’s space', () => {
    const m = new Machine({ cpus: 2, design: unwrap(designOptions('local-rm')) });
    const core = m.core;
    const app = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 1e6 }));
    const mgr = unwrap(core.createPd('manager', { ram: 2 ** 30, caps: 1e6 }));
    const n = 80; // more than 2^53 / 2^47 stretches of 2^47 bytes
    for (let i = 0; i < n; i++) {
      const map = unwrap(core.createRegionMap(mgr, 64 * 1024));
      unwrap(app.addressSpace.attach(map.dataspace, { at: 0x1000_0000 + i * 0x10000, writeable: true }));
      const ctx = unwrap(core.createSignalContext(mgr, `map ${i}`));
      unwrap(core.setFaultHandler(map, ctx));
      m.addHandler(
        mgr,
        `manager ${i}`,
        1,
        new OnDemandHandler(core, mgr, map, { chunk: 64 * 1024, cpu: 1 }),
        ctx,
      );
    }
    function* program(): Program {
      for (let i = 0; i < n; i++) {
        yield* compute(1000);
        yield* touch(0x1000_0000 + i * 0x10000 + 0x3000, 'write');
      }
    }
    const t = m.programs.addProgram(app, 'main', 0, program(), PRIORITY.user);
    m.run();
    expect(t.finished).toBe(true);
    expect(m.localRm!.counters.mapItems).toBeGreaterThanOrEqual(2 * n);
    // The manager's own mappings lie in distinct stretches, each standing for its map.
    const held = mgr.pd.pageTable.mappings();
    expect(held).toHaveLength(n);
    const maps = new Set(held.map((x) => m.localRm!.managedAt(mgr.pd, x.va)?.map));
    expect(maps.size).toBe(n);
    expect(auditMappings(core, [app, mgr], (pd, va) => m.localRm!.managedAt(pd, va))).toMatchObject({
      wrong: 0,
      stale: 0,
    });
  });
});

describe('local-rm: the region mapper must be paged, by someone else', () => {
  it('sends the region mapper’s own faults (on its region list) to core’s pager, the task’s to the region mapper', () => {
    const m = new Machine({ cpus: 2, design: unwrap(designOptions('local-rm')) });
    const core = m.core;
    const app = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 1e6 }));
    const ram = unwrap(core.allocRam(app, 16 * 4096));
    unwrap(app.addressSpace.attach(ram, { at: 0x1000_0000, writeable: true }));
    function* program(): Program {
      for (let i = 0; i < 16; i++) yield* touch(0x1000_0000 + i * 4096, 'write');
    }
    const t = m.programs.addProgram(app, 'main', 0, program(), PRIORITY.user);
    m.run();
    expect(t.finished).toBe(true);
    const edges = m.programs.trust.list().filter((e) => e.kind === 'page-fault');
    expect(edges).toEqual([
      { from: 'app', to: 'app', kind: 'page-fault', what: 'page faults', uses: 16 },
      { from: 'app', to: 'core', kind: 'page-fault', what: 'page faults of its region mapper', uses: 1 },
    ]);
    // Its region list is the task's RAM, paid from the task's quota.
    expect(m.localRm!.counters.listBytes).toBe(4096);
  });
});
