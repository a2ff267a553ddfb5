import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Right } from '../kernel/capability.js';
import { unwrap } from '../util/result.js';
import { Core } from './core.js';

/** Everything observable about the objects a test touches. */
function fingerprint(core: Core): string {
  return core
    .sessions()
    .flatMap((s) => [
      String(s.quota),
      ...[...s.regionMaps].map(
        (m) => `${m}:${m.regions().join(';')}:${m.faultHandler?.id ?? '-'}:${m.destroyed}`,
      ),
    ])
    .join('\n');
}

function world() {
  const core = new Core();
  const owner = unwrap(core.createPd('init -> owner'));
  const mallory = unwrap(core.createPd('init -> mallory'));
  const map = unwrap(core.createRegionMap(owner, 0x100000));
  const ds = unwrap(core.allocRam(owner, 0x1000));
  const ctx = unwrap(core.createSignalContext(owner, 'owner handler'));
  const own = unwrap(core.allocRam(mallory, 0x1000));
  const ownCtx = unwrap(core.createSignalContext(mallory, 'mallory handler'));
  return { core, owner, mallory, map, ds, ctx, own, ownCtx };
}

type W = ReturnType<typeof world>;
const OPS: Array<[string, Right[], (w: W) => { ok: boolean; code?: string }]> = [
  ['attach into a foreign map', ['attach'], (w) => w.core.attachAs(w.mallory, w.map, w.own, { at: 0x1000 })],
  [
    'attach a foreign dataspace',
    ['use'],
    (w) => w.core.attachAs(w.mallory, w.mallory.addressSpace, w.ds, { at: 0x1000 }),
  ],
  [
    'register a handler on a foreign map',
    ['register-handler'],
    (w) => w.core.setFaultHandlerAs(w.mallory, w.map, w.ownCtx),
  ],
  [
    'register a foreign signal context',
    ['use'],
    (w) => w.core.setFaultHandlerAs(w.mallory, w.mallory.addressSpace, w.ctx),
  ],
  ['destroy a foreign map', ['destroy'], (w) => w.core.destroyRegionMapAs(w.mallory, w.map)],
];

describe('capabilities', () => {
  it('the creator holds every right on what it created; its own operations succeed', () => {
    const w = world();
    expect(w.core.attachAs(w.owner, w.map, w.ds, { at: 0x2000 }).ok).toBe(true);
    expect(w.core.setFaultHandlerAs(w.owner, w.map, w.ctx).ok).toBe(true);
    expect(w.core.detachAs(w.owner, w.map, 0x2000).ok).toBe(true);
    expect(w.core.destroyRegionMapAs(w.owner, w.map).ok).toBe(true);
  });

  for (const [what, _rights, op] of OPS) {
    it(`without the capability, '${what}' fails with NO_CAPABILITY and changes nothing`, () => {
      const w = world();
      const before = fingerprint(w.core);
      const r = op(w);
      expect(r).toMatchObject({ ok: false, code: 'NO_CAPABILITY' });
      expect((r as { message: string }).message).toMatch(/mallory/);
      expect(fingerprint(w.core)).toBe(before);
    });
  }

  it('any set of delegated rights allows exactly the operations that need only those rights', () => {
    const all: Right[] = ['use', 'attach', 'register-handler', 'destroy'];
    fc.assert(
      fc.property(fc.subarray(all), fc.subarray(all), fc.nat(OPS.length - 1), (onMap, onObjects, i) => {
        const w = world();
        if (onMap.length) unwrap(w.core.delegate(w.owner, w.mallory, w.map, onMap));
        if (onObjects.length) {
          unwrap(w.core.delegate(w.owner, w.mallory, w.ds, onObjects));
          unwrap(w.core.delegate(w.owner, w.mallory, w.ctx, onObjects));
        }
        const [, needed, op] = OPS[i]!;
        // Operations on the map need the map right; those on a dataspace or context the object right.
        const held = i === 1 || i === 3 ? onObjects : onMap;
        const allowed = needed.every((r) => held.includes(r));
        const before = fingerprint(w.core);
        const r = op(w);
        expect(r.ok).toBe(allowed);
        if (!r.ok) {
          expect(r.code).toBe('NO_CAPABILITY');
          expect(fingerprint(w.core)).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('one cannot delegate more than one holds, and a destroyed object leaves no capability behind', () => {
    const w = world();
    const third = unwrap(w.core.createPd('init -> third'));
    expect(w.core.delegate(w.mallory, third, w.map, ['attach']).ok).toBe(false);
    unwrap(w.core.delegate(w.owner, w.mallory, w.map, ['attach']));
    expect(w.core.delegate(w.mallory, third, w.map, ['attach', 'destroy']).ok).toBe(false);
    unwrap(w.core.free(w.owner, w.ds));
    expect(w.core.caps.check(w.owner, w.ds, 'use').ok).toBe(false);
  });
});
