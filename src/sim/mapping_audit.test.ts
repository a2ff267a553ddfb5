import { describe, expect, it } from 'vitest';
import { Core } from '../core/core.js';
import { Mapping } from '../hw/page_table.js';
import { unwrap } from '../util/result.js';
import { auditMappings } from './mapping_audit.js';

function system() {
  const core = new Core();
  const app = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 100 }));
  const t = unwrap(core.createThread(app, 'main'));
  const ds = unwrap(core.allocRam(app, 2 ** 20));
  const region = unwrap(app.addressSpace.attach(ds, { at: 0x10_0000, writeable: true }));
  for (let a = 0; a < 16; a++) unwrap(core.access(t, 0x10_0000 + a * 4096, 'read'));
  return { core, app, region, ds };
}

describe('auditMappings', () => {
  it('finds nothing wrong in page tables core filled from its own resolution', () => {
    const { core, app } = system();
    const a = auditMappings(core, [app]);
    expect(a.checked).toBe(app.pd.pageTable.size);
    expect(a.checked).toBeGreaterThan(0);
    expect(a).toMatchObject({ wrong: 0, stale: 0, examples: [] });
  });

  it('reports a mapping of other frames than core resolves as wrong', () => {
    const { core, app, ds } = system();
    app.pd.pageTable.install(new Mapping(0x10_0000 + 20 * 4096, ds.phys + 3 * 4096, 12, true, false));
    const a = auditMappings(core, [app]);
    expect(a.wrong).toBe(1);
    expect(a.stale).toBe(0);
    expect(a.examples[0]).toMatch(/app: wrong mapping 0x114000/);
  });

  it('reports a mapping core no longer resolves as stale', () => {
    const { core, app, region } = system();
    const before = app.pd.pageTable.size;
    core.revokesMappings = false; // the revocation is left to someone else, who forgets it
    unwrap(app.addressSpace.detach(region.base));
    const a = auditMappings(core, [app]);
    expect(a.stale).toBe(before);
    expect(a.wrong).toBe(0);
  });
});
