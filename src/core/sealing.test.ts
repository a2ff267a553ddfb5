/**
 * Sealing a RAM dataspace (Genode's `Pd_session::seal_ram`, test-sealed_ram): only attachments
 * made afterwards are read-only; existing ones keep their rights and mappings; all of them alias
 * the same memory. A seal by another session or of anything but RAM changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { fixture } from './fixture.testutil.js';

const K4 = 0x1000;

describe('sealing', () => {
  it('test-sealed_ram: the existing writeable attachment stays writeable and mapped; a later one is read-only and aliases it', () => {
    const { core, app, main, events } = fixture();
    const ram = unwrap(core.allocRam(app, K4));
    const rw = unwrap(app.addressSpace.attach(ram, { writeable: true }));
    expect(unwrap(core.write(main, rw.base, 0x6f)).kind).toBe('mapped');
    const mapped = main.pd.pageTable.lookup(rw.base);
    expect(mapped?.writeable).toBe(true);

    const before = events.length;
    expect(unwrap(core.seal(app, ram))).toEqual({ kind: 'done' });
    expect(ram.sealed).toBe(true);
    // Nothing revoked, nothing downgraded: the same mapping, the same region rights.
    expect(events.slice(before)).toEqual([]);
    expect(main.pd.pageTable.lookup(rw.base)).toBe(mapped);
    expect(rw.writeable).toBe(true);
    expect(unwrap(core.read(main, rw.base)).value).toBe(0x6f);

    // Attached after the seal, asked to be writeable: read-only, and the same memory.
    const ro = unwrap(app.addressSpace.attach(ram, { writeable: true }));
    expect(ro.writeable).toBe(false);
    expect(unwrap(core.read(main, ro.base)).value).toBe(0x6f);
    expect(main.pd.pageTable.lookup(ro.base)?.writeable).toBe(false);

    // The original mapping still writes (a hit, no fault), and the read-only one sees it.
    expect(unwrap(core.write(main, rw.base, 0x4d)).kind).toBe('hit');
    expect(unwrap(core.read(main, ro.base)).value).toBe(0x4d);

    // A write through the read-only attachment is a WRITE violation and changes nothing.
    const w = unwrap(core.write(main, ro.base, 0x21));
    expect(w.kind === 'error' && w.text).toBe(
      `WRITE violation at address 0x${ro.base.toString(16)} by pager_object: pd='init -> app' thread='main' ip=0x1000`,
    );
    expect(main.state).toBe('dead-fault');
    expect(core.phys.read(ram.phys)).toBe(0x4d);
  });

  it('the existing attachment stays writeable after its mapping goes: a new fault maps it writeable again', () => {
    const { core, app, main } = fixture();
    const ram = unwrap(core.allocRam(app, K4));
    unwrap(app.addressSpace.attach(ram, { at: 0x1000000, writeable: true }));
    unwrap(core.seal(app, ram));
    main.pd.pageTable.clear();
    const w = unwrap(core.write(main, 0x1000000, 1));
    expect(w.kind === 'mapped' && w.mapping.writeable).toBe(true);
  });

  it('applies to attachments through managed dataspaces made after the seal', () => {
    const { core, app, main } = fixture();
    const ram = unwrap(core.allocRam(app, K4));
    const sub = unwrap(core.createRegionMap(app, 0x10000));
    unwrap(app.addressSpace.attach(sub.dataspace, { at: 0x2000000, writeable: true }));
    unwrap(sub.attach(ram, { at: 0, writeable: true }));
    unwrap(core.seal(app, ram));
    unwrap(sub.attach(ram, { at: K4, writeable: true }));
    expect(unwrap(core.write(main, 0x2000000, 1)).kind).toBe('mapped');
    const w = unwrap(core.write(main, 0x2000000 + K4, 1));
    expect(w.kind === 'error' && w.text).toMatch(/^WRITE violation at address 0x2001000 /);
  });

  it('a seal by another session, or of ROM, I/O memory or a managed dataspace, is ignored', () => {
    const { core, app } = fixture();
    const other = unwrap(core.createPd('init -> other'));
    const ram = unwrap(core.allocRam(app, K4));
    expect(unwrap(core.seal(other, ram))).toEqual({
      kind: 'ignored',
      why: `'init -> other' does not own ${ram}`,
    });
    expect(ram.sealed).toBe(false);
    expect(unwrap(app.addressSpace.attach(ram, { writeable: true })).writeable).toBe(true);
    const rom = unwrap(core.allocRom(app, K4));
    const io = unwrap(core.allocIoMem(app, 0x1000000, K4));
    const managed = unwrap(core.createRegionMap(app, 0x10000)).dataspace;
    for (const ds of [rom, io, managed]) {
      const r = unwrap(core.seal(app, ds));
      expect(r.kind === 'ignored' && r.why).toBe(`${ds} is not RAM: only RAM is sealed`);
      expect(ds.sealed).toBe(false);
    }
    expect(unwrap(app.addressSpace.attach(io, { writeable: true })).writeable).toBe(true);
    unwrap(core.free(app, ram));
    expect(core.seal(app, ram)).toMatchObject({ ok: false, code: 'DESTROYED' });
  });
});
