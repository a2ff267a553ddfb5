import { describe, expect, it } from 'vitest';
import { sizeName } from '../util/hex.js';
import { unwrap } from '../util/result.js';
import { fixture } from './fixture.testutil.js';

const K4 = 0x1000;
const K64 = 0x10000;
const M1 = 0x100000;
const M2 = 0x200000;
const M16 = 0x1000000;

/** Attaches a fresh RAM dataspace and returns the size of the mapping a read at `probe` gets. */
function mappedSize(
  arch: Parameters<typeof fixture>[0],
  dsSize: number,
  attr: { at: number; offset?: number },
  probe: number,
  kernel?: Parameters<typeof fixture>[1],
): string {
  const { core, app, main } = fixture(arch, kernel);
  const ds = unwrap(core.allocRam(app, dsSize));
  unwrap(app.addressSpace.attach(ds, { ...attr, writeable: true }));
  const out = unwrap(core.access(main, probe, 'read'));
  if (out.kind !== 'mapped') throw new Error(`expected a mapping, got ${out.kind}`);
  return sizeName(out.mapping.size);
}

describe('mapping size (DESIGN.md §2 worked examples)', () => {
  it('a 2 MiB RAM dataspace at a 2 MiB-aligned physical address, attached 2 MiB-aligned, is one 2 MiB mapping on x86_64', () => {
    const { core, app, main } = fixture('x86_64');
    const ds = unwrap(core.allocRam(app, M2));
    expect(ds.phys % M2).toBe(0);
    unwrap(app.addressSpace.attach(ds, { at: 0x40000000 - M2 * 4 }));
    const out = unwrap(core.access(main, 0x40000000 - M2 * 4 + 0x1234, 'read'));
    expect(out.kind).toBe('mapped');
    if (out.kind !== 'mapped') return;
    expect(out.mapping.size).toBe(M2);
    expect(out.mapping.va).toBe(0x40000000 - M2 * 4);
    expect(out.mapping.pa).toBe(ds.phys);
    expect(main.pd.pageTable.size).toBe(1);
    // The whole 2 MiB now translates without further faults.
    expect(unwrap(core.access(main, 0x40000000 - M2 * 3 - 8, 'read')).kind).toBe('hit');
  });

  it('attached 4 KiB off alignment, the same dataspace gets 4 KiB mappings', () => {
    expect(mappedSize('x86_64', M2, { at: 0x10000000 + K4 }, 0x10000000 + K4 + 0x10)).toBe('4K');
  });

  it('attached with an offset of 4 KiB, 4 KiB mappings', () => {
    expect(mappedSize('x86_64', M2, { at: 0x10000000, offset: K4 }, 0x10000000 + 0x20)).toBe('4K');
  });

  it('a 64 KiB dataspace maps as 64 KiB on ARMv7 and as 4 KiB on x86_64', () => {
    expect(mappedSize('armv7', K64, { at: 0x100000 }, 0x100000 + 0x3000)).toBe('64K');
    expect(mappedSize('x86_64', K64, { at: 0x100000 }, 0x100000 + 0x3000)).toBe('4K');
  });

  it('a kernel clamped to 4K/1M maps 2 MiB as 1 MiB, and 16 MiB (16M unclamped) as 1 MiB', () => {
    const clamp = { name: '4k-1m', mapSizesLog2: [12, 20] };
    expect(mappedSize('armv7', M2, { at: M16 }, M16 + M1 + 5, clamp)).toBe('1M');
    expect(mappedSize('armv7', M16, { at: M16 }, M16 + 5)).toBe('16M');
    expect(mappedSize('armv7', M16, { at: M16 }, M16 + 5, clamp)).toBe('1M');
    expect(mappedSize('armv7', K64, { at: M16 }, M16 + 5, clamp)).toBe('4K');
  });

  it('a 1 GiB dataspace aligned on both sides maps as 1 GiB on x86_64', () => {
    expect(mappedSize('x86_64', 2 ** 30, { at: 2 ** 32 }, 2 ** 32 + 123)).toBe('1G');
  });

  it('a window ending inside a superpage limits the size near its end only', () => {
    const { core, app, main } = fixture('x86_64');
    const ds = unwrap(core.allocRam(app, M2 * 2));
    unwrap(app.addressSpace.attach(ds, { at: 0x20000000, size: M2 + K4 * 3 }));
    const first = unwrap(core.access(main, 0x20000000 + 8, 'read'));
    const tail = unwrap(core.access(main, 0x20000000 + M2 + K4, 'read'));
    expect(first.kind === 'mapped' && first.mapping.size).toBe(M2);
    expect(tail.kind === 'mapped' && tail.mapping.size).toBe(K4);
  });

  it('placement without an address aligns naturally so superpages stay possible', () => {
    const { core, app, main } = fixture('x86_64');
    const small = unwrap(core.allocRam(app, K4 * 3));
    unwrap(app.addressSpace.attach(small));
    const ds = unwrap(core.allocRam(app, M2));
    const r = unwrap(app.addressSpace.attach(ds));
    expect(r.base % M2).toBe(0);
    const out = unwrap(core.access(main, r.base + 77, 'read'));
    expect(out.kind === 'mapped' && out.mapping.size).toBe(M2);
  });

  it('explains why: each constraint with the size it allows', () => {
    const { core, app, main } = fixture('x86_64');
    const ds = unwrap(core.allocRam(app, M2));
    unwrap(app.addressSpace.attach(ds, { at: 0x10000000 + K4 }));
    const res = core.resolve(main, 0x10000000 + K4 + 0x10, 'read');
    expect(res.kind).toBe('mapped');
    if (res.kind !== 'mapped') return;
    const e = res.explain!;
    const byKind = Object.fromEntries(e.constraints.map((c) => [c.kind, c.maxLog2]));
    expect(byKind.alignment).toBe(12);
    expect(byKind.architecture).toBe(30);
    expect(e.chosenLog2).toBe(12);
    expect(e.ifAlignedLog2).toBe(12); // the window itself straddles the 2M boundary
    expect(res.walk).toHaveLength(1);
  });
});
