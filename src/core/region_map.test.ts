/**
 * Genode's classic region-map test programs (base/src/test/rm_fault, rm_nested, rm_stress …)
 * rewritten against the model, plus every attach rule and error of DESIGN.md §2.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../util/hex.js';
import { unwrap } from '../util/result.js';
import { TOO_DEEP_TEXT } from './events.js';
import { fixture } from './fixture.testutil.js';
import type { RegionMap } from './region_map.js';

const K4 = 0x1000;
const K64 = 0x10000;

describe('classic region-map test programs', () => {
  it('rm_fault: a handler populates a 64 KiB sub map page by page on write faults (16 faults at sub-map offsets)', () => {
    const { core, app, main } = fixture();
    const handlerPd = unwrap(core.createPd('init -> handler'));
    const sub = unwrap(core.createRegionMap(handlerPd, K64));
    const sig = unwrap(core.createSignalContext(handlerPd, 'rm fault handler'));
    unwrap(core.setFaultHandler(sub, sig));
    const base = 0x30000000;
    unwrap(app.addressSpace.attach(sub.dataspace, { at: base, writeable: true }));

    const reported: number[] = [];
    for (let i = 0; i < 16; i++) {
      const out = unwrap(core.access(main, base + i * K4 + 8, 'write'));
      expect(out.kind).toBe('reflected');
      expect(main.state).toBe('blocked-fault');
      // The handler wakes up on the signal and drains fault() until NONE.
      expect(sig.take()).toBe(1);
      for (let st = sub.fault(); st.type !== 'NONE'; st = sub.fault()) {
        expect(st.type).toBe('WRITE');
        reported.push(st.address);
        const page = unwrap(core.allocRam(handlerPd, K4));
        unwrap(sub.attach(page, { at: st.address - (st.address % K4), writeable: true }));
      }
      expect(main.state).toBe('ready');
      const retry = unwrap(core.access(main, base + i * K4 + 8, 'write'));
      expect(retry.kind).toBe('mapped');
      if (retry.kind === 'mapped') expect(retry.mapping.size).toBe(K4);
    }
    expect(reported).toEqual(Array.from({ length: 16 }, (_, i) => i * K4 + 8));
    expect(sig.submitted).toBe(16);
    expect(main.pd.pageTable.size).toBe(16);
  });

  it('rm_nested: a four-level chain of read-only windows reads without faulting, writes are violations', () => {
    const { core, app, main, events } = fixture();
    const maps: RegionMap[] = [];
    for (let i = 0; i < 3; i++) maps.push(unwrap(core.createRegionMap(app, 0x100000)));
    const ram = unwrap(core.allocRam(app, K64));
    unwrap(maps[2]!.attach(ram, { at: 0x8000 }));
    unwrap(maps[1]!.attach(maps[2]!.dataspace, { at: 0x10000, size: 0x40000 }));
    unwrap(maps[0]!.attach(maps[1]!.dataspace, { at: 0x20000, size: 0x80000 }));
    unwrap(app.addressSpace.attach(maps[0]!.dataspace, { at: 0x10000000 }));
    const va = 0x10000000 + 0x20000 + 0x10000 + 0x8000 + 0x1234;
    const out = unwrap(core.access(main, va, 'read', true));
    expect(out.kind).toBe('mapped');
    if (out.kind !== 'mapped') return;
    expect(out.resolution.kind === 'mapped' && out.resolution.depth).toBe(4);
    expect(out.mapping.pa).toBe(ram.phys + 0x1000);
    expect(out.mapping.writeable).toBe(false);
    expect(events.filter((e) => e.type === 'reflected' || e.type === 'error')).toHaveLength(0);
    const w = unwrap(core.access(main, va, 'write'));
    expect(w.kind === 'error' && w.text).toBe(
      "WRITE violation at address 0x10039234 by pager_object: pd='init -> app' thread='main' ip=0x1000",
    );
  });

  it('a fault inside a nested map reaches only the inner map handler, in its coordinates', () => {
    const { core, app, main } = fixture();
    const outer = unwrap(core.createRegionMap(app, 0x100000));
    const inner = unwrap(core.createRegionMap(app, 0x40000));
    const so = unwrap(core.createSignalContext(app, 'outer'));
    const si = unwrap(core.createSignalContext(app, 'inner'));
    unwrap(core.setFaultHandler(outer, so));
    unwrap(core.setFaultHandler(inner, si));
    unwrap(outer.attach(inner.dataspace, { at: 0x80000 }));
    unwrap(app.addressSpace.attach(outer.dataspace, { at: 0x20000000 }));
    const out = unwrap(core.access(main, 0x20000000 + 0x80000 + 0x3010, 'read'));
    expect(out.kind === 'reflected' && out.map).toBe(inner);
    expect(inner.fault()).toEqual({ type: 'READ', address: 0x3010 });
    expect(outer.fault()).toEqual({ type: 'NONE', address: 0 });
    expect([so.pending, si.pending]).toEqual([0, 1]);
    // A fault in the outer map outside the inner window goes to the outer handler.
    const t2 = unwrap(core.createThread(app, 'second'));
    const o2 = unwrap(core.access(t2, 0x20000000 + 0x10, 'exec'));
    expect(o2.kind === 'reflected' && o2.map).toBe(outer);
    expect(outer.fault()).toEqual({ type: 'EXEC', address: 0x10 });
  });

  it('conflicts at map boundaries and overlaps leave the map unchanged', () => {
    const { core, app } = fixture();
    const m = unwrap(core.createRegionMap(app, 0x10000));
    const ds = unwrap(core.allocRam(app, 0x2000));
    const before = app.quota.ramUsed;
    expect(m.attach(ds, { at: 0xf000 })).toMatchObject({ ok: false, code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { at: 0x10000 })).toMatchObject({ ok: false, code: 'REGION_CONFLICT' });
    unwrap(m.attach(ds, { at: 0x4000 }));
    expect(m.attach(ds, { at: 0x5000 })).toMatchObject({ ok: false, code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { at: 0x3000 })).toMatchObject({ ok: false, code: 'REGION_CONFLICT' });
    unwrap(m.attach(ds, { at: 0x2000 })); // adjacent below
    unwrap(m.attach(ds, { at: 0x6000 })); // adjacent above
    expect(m.regions().map((r) => r.base)).toEqual([0x2000, 0x4000, 0x6000]);
    expect(app.quota.ramUsed - before).toBe(3 * 128);
    m.check();
  });

  it('attach with offset and size maps the chosen window of the dataspace', () => {
    const { core, app, main } = fixture();
    const ds = unwrap(core.allocRam(app, 0x10000));
    const r = unwrap(app.addressSpace.attach(ds, { at: 0x7000000, offset: 0x8000, size: 0x1800 }));
    expect(r.size).toBe(0x2000); // rounded up to pages
    const out = unwrap(core.access(main, 0x7001008, 'read'));
    expect(out.kind === 'mapped' && out.mapping.pa).toBe(ds.phys + 0x9000);
    const t2 = unwrap(core.createThread(app, 't2'));
    expect(unwrap(core.access(t2, 0x7002000, 'read')).kind).toBe('error');
  });

  it('attach rules: offset alignment and bounds, size + offset, size 0 = rest', () => {
    const { core, app } = fixture();
    const m = unwrap(core.createRegionMap(app, 0x100000));
    const ds = unwrap(core.allocRam(app, 0x4000));
    expect(m.attach(ds, { offset: 0x800 })).toMatchObject({ code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { offset: 0x4000 })).toMatchObject({ code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { offset: 0x1000, size: 0x4000 })).toMatchObject({ code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { at: 0x1800 })).toMatchObject({ code: 'REGION_CONFLICT' });
    expect(m.attach(ds, { size: -1 })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(unwrap(m.attach(ds, { offset: 0x1000 })).size).toBe(0x3000);
    expect(m.regionCount).toBe(1);
  });

  it('rm_stress: thousands of attach/read/detach rounds leave no stale mapping', () => {
    const { core, app, main } = fixture();
    const a = unwrap(core.allocRam(app, 0x4000));
    const b = unwrap(core.allocRam(app, 0x4000));
    for (let i = 0; i < 3000; i++) {
      const ds = i % 2 ? a : b;
      const at = 0x50000000 + (i % 3) * 0x1000;
      unwrap(app.addressSpace.attach(ds, { at }));
      const out = unwrap(core.access(main, at + 0x2010, 'read'));
      expect(out.kind === 'mapped' && out.mapping.pa).toBe(ds.phys + 0x2000);
      unwrap(app.addressSpace.detach(at + 0x1000));
      expect(main.pd.pageTable.size).toBe(0);
    }
  });

  it('write and exec violations are reported with Genode-style texts', () => {
    const { core, app, main } = fixture();
    const ds = unwrap(core.allocRam(app, K4));
    unwrap(app.addressSpace.attach(ds, { at: 0x9000000, writeable: false, executable: false }));
    const w = unwrap(core.access(main, 0x9000010, 'write'));
    expect(w.kind === 'error' && w.text).toBe(
      "WRITE violation at address 0x9000010 by pager_object: pd='init -> app' thread='main' ip=0x1000",
    );
    const t2 = unwrap(core.createThread(app, 'worker'));
    t2.ip = 0x2000;
    const x = unwrap(core.access(t2, 0x9000020, 'exec'));
    expect(x.kind === 'error' && x.text).toBe(
      "EXEC violation at address 0x9000020 by pager_object: pd='init -> app' thread='worker' ip=0x2000",
    );
    expect(t2.state).toBe('dead-fault');
    expect(core.access(t2, 0x9000020, 'read')).toMatchObject({ ok: false, code: 'THREAD_BLOCKED' });
  });

  it('an access where nothing is attached and no handler exists is a segmentation fault', () => {
    const { core, main } = fixture();
    const out = unwrap(core.access(main, 0x44, 'read'));
    expect(out.kind === 'error' && out.text).toBe(
      "illegal READ at address 0x44 by pager_object: pd='init -> app' thread='main' ip=0x1000",
    );
    expect(main.state).toBe('dead-fault');
  });

  it('five levels of nesting resolve; the sixth gives up', () => {
    for (const levels of [5, 6]) {
      const { core, app, main } = fixture();
      const ram = unwrap(core.allocRam(app, K4));
      let top = ram;
      for (let i = 0; i < levels - 1; i++) {
        const m = unwrap(core.createRegionMap(app, 0x10000));
        unwrap(m.attach(top, { at: 0 }));
        top = m.dataspace;
      }
      unwrap(app.addressSpace.attach(top, { at: 0x60000000 }));
      const out = unwrap(core.access(main, 0x60000000 + 8, 'read'));
      if (levels === 5) expect(out.kind).toBe('mapped');
      else expect(out.kind === 'error' && out.text).toBe(TOO_DEEP_TEXT);
    }
  });

  it('a dataspace destroyed while attached leaves a reserved hole until detached', () => {
    const { core, app, main } = fixture();
    const ds = unwrap(core.allocRam(app, 0x2000));
    const before = { ram: app.quota.ramUsed, caps: app.quota.capsUsed };
    unwrap(app.addressSpace.attach(ds, { at: 0x70000000 }));
    expect(unwrap(core.access(main, 0x70000010, 'read')).kind).toBe('mapped');
    unwrap(core.free(app, ds));
    expect(main.pd.pageTable.lookup(0x70000010)).toBeUndefined();
    const other = unwrap(core.allocRam(app, 0x1000));
    expect(app.addressSpace.attach(other, { at: 0x70001000 })).toMatchObject({ code: 'REGION_CONFLICT' });
    const out = unwrap(core.access(main, 0x70000010, 'read'));
    expect(out.kind === 'error' && out.text).toMatch(/^illegal READ at address 0x70000010/);
    expect(out.kind === 'error' && out.resolution.kind === 'unresolved' && out.resolution.reason).toBe(
      'RESERVED',
    );
    unwrap(app.addressSpace.detach(0x70001000));
    unwrap(app.addressSpace.attach(other, { at: 0x70001000 }));
    unwrap(app.addressSpace.detach(0x70001000));
    unwrap(core.free(app, other));
    expect({ ram: app.quota.ramUsed, caps: app.quota.capsUsed }).toEqual({
      ram: before.ram - 0x2000,
      caps: before.caps - 1,
    });
  });

  it("ds_ownership: a foreign free silently does nothing, the owner's free returns the quota", () => {
    const { core, app, main } = fixture();
    const other = unwrap(core.createPd('init -> other'));
    const ds = unwrap(core.allocRam(app, K4));
    unwrap(app.addressSpace.attach(ds, { at: 0x1000000 }));
    const used = app.quota.ramUsed;
    expect(unwrap(core.free(other, ds))).toEqual({
      kind: 'ignored',
      why: `'init -> other' does not own ${ds}`,
    });
    expect(ds.destroyed).toBe(false);
    expect(app.quota.ramUsed).toBe(used);
    expect(unwrap(core.access(main, 0x1000000, 'read')).kind).toBe('mapped');
    expect(unwrap(core.free(app, ds))).toEqual({ kind: 'done' });
    expect(app.quota.ramUsed).toBe(used - K4);
  });

  it("detach where no region exists does nothing and is no error (Genode's detach)", () => {
    const { core, app, main, events } = fixture();
    const ds = unwrap(core.allocRam(app, 0x2000));
    unwrap(app.addressSpace.attach(ds, { at: 0x1000000 }));
    unwrap(core.access(main, 0x1000000, 'read'));
    const quota = `${app.quota}`;
    const before = events.length;
    for (const at of [0xfff000, 0x1002000, 0, 0x7fffffff000])
      expect(app.addressSpace.detach(at)).toEqual({ ok: true, value: null });
    expect(core.detachAs(app, app.addressSpace, 0x1002000)).toEqual({ ok: true, value: null });
    expect(events.length).toBe(before);
    expect(app.addressSpace.regions().map((r) => r.base)).toEqual([0x1000000]);
    expect(main.pd.pageTable.size).toBe(1);
    expect(`${app.quota}`).toBe(quota);
    // Anywhere inside a region detaches all of it.
    expect(unwrap(app.addressSpace.detach(0x1001fff))?.base).toBe(0x1000000);
    expect(app.addressSpace.regionCount).toBe(0);
  });

  it("a region map's size is rounded up to the page size (Genode's Region_map_component)", () => {
    const { core, app } = fixture();
    const m = unwrap(core.createRegionMap(app, 5000));
    expect([m.size, m.dataspace.size]).toEqual([0x2000, 0x2000]);
    const ds = unwrap(core.allocRam(app, 0x2000));
    // The whole rounded range is usable: an 8K dataspace fits at 0, a page at 0x1000.
    expect(unwrap(m.attach(ds, {})).base).toBe(0);
    unwrap(m.detach(0));
    expect(unwrap(m.attach(ds, { at: 0x1000, size: K4 })).end).toBe(0x2000);
    expect(m.attach(ds, { at: 0x2000, size: K4 })).toMatchObject({ ok: false, code: 'REGION_CONFLICT' });
    expect(unwrap(core.createRegionMap(app, 1)).size).toBe(K4);
    expect(unwrap(core.createRegionMap(app, K4)).size).toBe(K4);
    for (const bad of [0, -4096, 1.5, Number.NaN])
      expect(core.createRegionMap(app, bad)).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
  });

  it('attaching a map into itself or an ancestor is refused as a cycle', () => {
    const { core, app } = fixture();
    const a = unwrap(core.createRegionMap(app, 0x100000));
    const b = unwrap(core.createRegionMap(app, 0x10000));
    unwrap(a.attach(b.dataspace, { at: 0 }));
    expect(a.attach(a.dataspace)).toMatchObject({ code: 'INVALID_DATASPACE' });
    expect(b.attach(a.dataspace)).toMatchObject({ code: 'INVALID_DATASPACE' });
    expect(b.regionCount).toBe(0);
  });

  it('detaching in a nested map revokes the mappings in every address space that embeds it', () => {
    const { core, app, main } = fixture();
    const other = unwrap(core.createPd('init -> other'));
    const t2 = unwrap(core.createThread(other, 'peer'));
    const shared = unwrap(core.createRegionMap(app, 0x100000));
    const ram = unwrap(core.allocRam(app, 0x10000));
    unwrap(shared.attach(ram, { at: 0x40000 }));
    unwrap(app.addressSpace.attach(shared.dataspace, { at: 0x10000000 }));
    unwrap(other.addressSpace.attach(shared.dataspace, { at: 0x20000000 }));
    unwrap(other.addressSpace.attach(shared.dataspace, { at: 0x30000000, offset: 0x40000, size: 0x10000 }));
    unwrap(core.access(main, 0x10040000, 'read'));
    unwrap(core.access(t2, 0x20040000, 'read'));
    unwrap(core.access(t2, 0x30000000, 'read'));
    expect([main.pd.pageTable.size, t2.pd.pageTable.size]).toEqual([1, 2]);
    unwrap(shared.detach(0x40000));
    expect([main.pd.pageTable.size, t2.pd.pageTable.size]).toEqual([0, 0]);
  });

  it('quota: exhausting RAM or capability quota is an error that changes nothing', () => {
    const { core } = fixture();
    // The address space's region map costs 8 KiB and 2 capabilities.
    const poor = unwrap(core.createPd('init -> poor', { ram: 8192 + 0x1000 + 100, caps: 3 }));
    expect(core.createRegionMap(poor, 0x10000)).toMatchObject({ ok: false, code: 'OUT_OF_RAM' });
    const ds = unwrap(core.allocRam(poor, 0x1000));
    expect(core.allocRam(poor, 0x1000)).toMatchObject({ ok: false, code: 'OUT_OF_RAM' });
    expect(poor.addressSpace.attach(ds, {})).toMatchObject({ ok: false, code: 'OUT_OF_RAM' });
    expect(poor.addressSpace.regionCount).toBe(0);
    expect(poor.quota.ramUsed).toBe(8192 + 0x1000);
    const capless = unwrap(core.createPd('init -> capless', { caps: 2 }));
    expect(core.allocRam(capless, 0x1000)).toMatchObject({ ok: false, code: 'OUT_OF_CAPS' });
    expect(core.createSignalContext(capless, 'x')).toMatchObject({ ok: false, code: 'OUT_OF_CAPS' });
    expect(capless.quota.capsUsed).toBe(2);
    expect(core.phys.available()).toBe(core.phys.totalBytes - 0x1000);
  });
});

describe('memory contents', () => {
  it('RAM reads zero, keeps written bytes, and a reused frame is zero-filled again', () => {
    const { core, app, main } = fixture();
    const ds = unwrap(core.allocRam(app, K4));
    unwrap(app.addressSpace.attach(ds, { at: 0x1000000, writeable: true }));
    expect(unwrap(core.read(main, 0x1000010)).value).toBe(0);
    unwrap(core.write(main, 0x1000010, 0x5a));
    expect(unwrap(core.read(main, 0x1000010)).value).toBe(0x5a);
    expect(core.write(main, 0x1000010, 300)).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    const phys = ds.phys;
    unwrap(app.addressSpace.detach(0x1000000));
    unwrap(core.free(app, ds));
    const again = unwrap(core.allocRam(app, K4));
    expect(again.phys).toBe(phys);
    unwrap(app.addressSpace.attach(again, { at: 0x2000000 }));
    expect(unwrap(core.read(main, 0x2000010)).value).toBe(0);
  });
});

describe('eager mapping (design option)', () => {
  it('maps an attached region at once, with best sizes, through nested maps, and detach revokes it', () => {
    const { core, app, main } = fixture();
    core.eagerMapping = true;
    const ds = unwrap(core.allocRam(app, 0x400000));
    unwrap(app.addressSpace.attach(ds, { at: 0x40000000 }));
    expect(main.pd.pageTable.mappings().map(String)).toEqual([
      `2M 0x40000000 -> ${hex(ds.phys)} r--`,
      `2M 0x40200000 -> ${hex(ds.phys + 0x200000)} r--`,
    ]);
    expect(unwrap(core.access(main, 0x40123456, 'read')).kind).toBe('hit');
    // A managed dataspace attached later: its leaf regions get mapped when it becomes visible.
    const sub = unwrap(core.createRegionMap(app, 0x100000));
    const page = unwrap(core.allocRam(app, K4));
    unwrap(sub.attach(page, { at: 0x3000, writeable: true }));
    unwrap(app.addressSpace.attach(sub.dataspace, { at: 0x50000000, writeable: true }));
    expect(main.pd.pageTable.lookup(0x50003000)?.toString()).toBe(`4K 0x50003000 -> ${hex(page.phys)} rw-`);
    expect(main.pd.pageTable.lookup(0x50004000)).toBeUndefined();
    unwrap(sub.detach(0x3000));
    expect(main.pd.pageTable.lookup(0x50003000)).toBeUndefined();
  });
});
