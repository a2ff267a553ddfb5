import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../util/result.js';
import { CapRegistry, type CapSpace, RIGHT_NAMES, type Right, Rights } from './capability.js';

function setup() {
  const reg = new CapRegistry();
  unwrap(reg.register({ id: 7, kind: 'dataspace', label: 'ram' }));
  unwrap(reg.register({ id: 9, kind: 'signal-context', label: 'faults' }));
  const core = reg.createSpace({ label: 'core' });
  const app = reg.createSpace({ label: 'init -> app' });
  const mgr = reg.createSpace({ label: 'init -> mgr' });
  const peer = reg.createSpace({ label: 'init -> peer' });
  return { reg, core, app, mgr, peer };
}

function snap(spaces: readonly CapSpace[]): string[] {
  return spaces.flatMap((s) => s.objects().map((o) => `${s.owner.label}:${o}:${s.rights(o)}`));
}

describe('Rights', () => {
  it('is a set with canonical order, coverage and missing rights', () => {
    const r = Rights.of('ipc', 'use');
    expect(r.toString()).toBe('{use, ipc}');
    expect(r.has('use')).toBe(true);
    expect(r.has('attach')).toBe(false);
    expect(r.covers(Rights.of('use'))).toBe(true);
    expect(r.covers(Rights.of('use', 'attach'))).toBe(false);
    expect(r.missing(Rights.of('use', 'attach', 'destroy'))).toEqual(['attach', 'destroy']);
    expect(Rights.ALL.names()).toEqual([...RIGHT_NAMES]);
    expect(Rights.NONE.empty).toBe(true);
    expect(Rights.of('use').equals(Rights.of('use'))).toBe(true);
    expect(() => Rights.of('fly' as Right)).toThrow(/unknown right/);
  });
});

describe('CapRegistry', () => {
  it('grants root capabilities and checks rights', () => {
    const { reg, app } = setup();
    unwrap(reg.grant(app, 7, Rights.of('use', 'attach')));
    expect(app.check(7, 'attach').ok).toBe(true);
    expect(reg.check(app, 7, 'use').ok).toBe(true);
    expect(app.has(7, 'destroy')).toBe(false);
    expect(app.objects()).toEqual([7]);
    expect(reg.parentOf(app, 7)).toBeNull();
    expect(app.toString()).toBe("cap space of pd 'init -> app' (1 capabilities)");
  });

  it('names the PD, the object and the missing right when a check fails', () => {
    const { reg, app } = setup();
    expect(app.check(7, 'attach')).toEqual({
      ok: false,
      code: 'NO_CAPABILITY',
      message: "pd 'init -> app' holds no capability to dataspace #7 'ram' (needs 'attach')",
    });
    unwrap(reg.grant(app, 7, Rights.of('use')));
    const r = app.check(7, 'destroy');
    expect(r.ok ? '' : r.message).toBe(
      "pd 'init -> app' lacks the 'destroy' right to dataspace #7 'ram': it holds {use}",
    );
    const u = app.check(42, 'use');
    expect(u.ok ? '' : u.message).toContain('object #42 (no such object)');
  });

  it('delegates a subset of the held rights and derives it from the holder', () => {
    const { reg, app, mgr } = setup();
    unwrap(reg.grant(mgr, 7, Rights.of('use', 'attach', 'destroy')));
    unwrap(reg.delegate(mgr, app, 7, Rights.of('use', 'attach')));
    expect(app.rights(7).toString()).toBe('{use, attach}');
    expect(reg.parentOf(app, 7)).toBe(mgr);
  });

  it('refuses to delegate rights the holder lacks, naming them, and changes nothing', () => {
    const { reg, core, app, mgr, peer } = setup();
    unwrap(reg.grant(mgr, 7, Rights.of('use')));
    const before = snap([core, app, mgr, peer]);
    const r = reg.delegate(mgr, app, 7, Rights.of('use', 'attach'));
    expect(r.ok ? '' : r.code).toBe('NO_CAPABILITY');
    expect(r.ok ? '' : r.message).toBe(
      "pd 'init -> mgr' cannot delegate {use, attach} of dataspace #7 'ram' to pd 'init -> app': " +
        'it holds only {use}, missing attach',
    );
    const none = reg.delegate(app, peer, 9, Rights.of('use'));
    expect(none.ok ? '' : none.message).toContain(
      "pd 'init -> app' holds no capability to signal-context #9",
    );
    expect(snap([core, app, mgr, peer])).toEqual(before);
  });

  it('is idempotent for rights already held and refuses widening with CAP_EXISTS', () => {
    const { reg, app, mgr } = setup();
    unwrap(reg.grant(mgr, 7, Rights.ALL));
    unwrap(reg.delegate(mgr, app, 7, Rights.of('use', 'attach')));
    unwrap(reg.delegate(mgr, app, 7, Rights.of('use')));
    unwrap(reg.grant(app, 7, Rights.of('attach')));
    expect(reg.parentOf(app, 7)).toBe(mgr);
    const r = reg.delegate(mgr, app, 7, Rights.of('destroy'));
    expect(r.ok ? '' : r.code).toBe('CAP_EXISTS');
    expect(app.rights(7).toString()).toBe('{use, attach}');
    const g = reg.grant(app, 7, Rights.ALL);
    expect(g.ok ? '' : g.code).toBe('CAP_EXISTS');
  });

  it('refuses empty rights, unknown objects and duplicate registration', () => {
    const { reg, app, mgr } = setup();
    unwrap(reg.grant(mgr, 7, Rights.ALL));
    const codes = [
      reg.grant(app, 7, Rights.NONE),
      reg.delegate(mgr, app, 7, Rights.NONE),
      reg.grant(app, 8, Rights.ALL),
      reg.register({ id: 7, kind: 'endpoint', label: 'x' }),
    ].map((r) => (r.ok ? 'ok' : r.code));
    expect(codes).toEqual(['INVALID_RIGHTS', 'INVALID_RIGHTS', 'UNKNOWN_OBJECT', 'OBJECT_EXISTS']);
    expect(app.size).toBe(0);
    expect(reg.object(7)?.kind).toBe('dataspace');
  });

  it('revokes everything derived, keeping the own capability unless asked', () => {
    const { reg, core, app, mgr, peer } = setup();
    unwrap(reg.grant(core, 7, Rights.ALL));
    unwrap(reg.delegate(core, mgr, 7, Rights.of('use', 'attach')));
    unwrap(reg.delegate(mgr, app, 7, Rights.of('use', 'attach')));
    unwrap(reg.delegate(app, peer, 7, Rights.of('use')));
    unwrap(reg.grant(peer, 9, Rights.of('use')));
    const lost = unwrap(reg.revoke(mgr, 7));
    expect(lost.map((s) => s.owner.label)).toEqual(['init -> peer', 'init -> app']);
    expect(snap([core, app, mgr, peer])).toEqual([
      'core:7:{use, attach, register-handler, destroy, ipc}',
      'init -> mgr:7:{use, attach}',
      'init -> peer:9:{use}',
    ]);
    unwrap(reg.delegate(mgr, app, 7, Rights.of('use')));
    expect(unwrap(reg.revoke(core, 7, { self: true })).map((s) => s.owner.label)).toEqual([
      'init -> app',
      'init -> mgr',
      'core',
    ]);
    expect(snap([core, app, mgr, peer])).toEqual(['init -> peer:9:{use}']);
    const r = reg.revoke(core, 7);
    expect(r.ok ? '' : r.code).toBe('NO_CAPABILITY');
  });

  it('destroys an object only with the destroy right, removing every capability to it', () => {
    const { reg, core, app, mgr } = setup();
    unwrap(reg.grant(core, 7, Rights.ALL));
    unwrap(reg.grant(mgr, 7, Rights.of('use')));
    unwrap(reg.delegate(core, app, 7, Rights.of('use')));
    const before = snap([core, app, mgr]);
    const denied = reg.destroy(app, 7);
    expect(denied.ok ? '' : denied.message).toContain("lacks the 'destroy' right");
    expect(snap([core, app, mgr])).toEqual(before);
    expect(unwrap(reg.destroy(core, 7)).map((s) => s.owner.label)).toEqual([
      'init -> app',
      'core',
      'init -> mgr',
    ]);
    expect(snap([core, app, mgr])).toEqual([]);
    expect(reg.object(7)).toBeUndefined();
    expect(reg.unregister(7)).toEqual([]);
    unwrap(reg.register({ id: 7, kind: 'dataspace', label: 'again' }));
  });

  it('refuses spaces of another registry as a broken invariant', () => {
    const { reg, app } = setup();
    const other = new CapRegistry().createSpace({ label: 'alien' });
    unwrap(reg.grant(app, 7, Rights.ALL));
    expect(() => reg.delegate(app, other, 7, Rights.of('use'))).toThrow(/another capability registry/);
  });
});

// ---- Model-based test against a naive reference -------------------------------------------

const SPACES = 4;
const OBJS = 3;

/** Reference: a flat list of capabilities with parent indices into the same list. */
interface RefCap {
  space: number;
  obj: number;
  mask: number;
  parent: RefCap | null;
}
interface Model {
  caps: RefCap[];
  objs: Set<number>;
}
interface Real {
  reg: CapRegistry;
  spaces: CapSpace[];
}

type Op =
  | { k: 'register'; obj: number }
  | { k: 'grant'; to: number; obj: number; mask: number }
  | { k: 'delegate'; from: number; to: number; obj: number; mask: number }
  | { k: 'revoke'; space: number; obj: number; self: boolean }
  | { k: 'destroy'; space: number; obj: number };

const rightsOf = (mask: number) => Rights.of(...RIGHT_NAMES.filter((_, i) => (mask >> i) & 1));
const find = (m: Model, space: number, obj: number) => m.caps.find((c) => c.space === space && c.obj === obj);

function refDrop(m: Model, root: RefCap): void {
  const doomed = new Set<RefCap>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of m.caps) {
      if (c.parent && doomed.has(c.parent) && !doomed.has(c)) {
        doomed.add(c);
        grew = true;
      }
    }
  }
  m.caps = m.caps.filter((c) => !doomed.has(c));
}

function refInsert(m: Model, to: number, obj: number, mask: number, parent: RefCap | null): string {
  if (mask === 0) return 'INVALID_RIGHTS';
  const have = find(m, to, obj);
  if (have) return (mask & ~have.mask) === 0 ? 'ok' : 'CAP_EXISTS';
  m.caps.push({ space: to, obj, mask, parent });
  return 'ok';
}

function refRun(m: Model, op: Op): string {
  switch (op.k) {
    case 'register':
      if (m.objs.has(op.obj)) return 'OBJECT_EXISTS';
      m.objs.add(op.obj);
      return 'ok';
    case 'grant':
      if (!m.objs.has(op.obj)) return 'UNKNOWN_OBJECT';
      return refInsert(m, op.to, op.obj, op.mask, null);
    case 'delegate': {
      const src = find(m, op.from, op.obj);
      if (!src || (op.mask & ~src.mask) !== 0) return 'NO_CAPABILITY';
      return refInsert(m, op.to, op.obj, op.mask, src);
    }
    case 'revoke': {
      const c = find(m, op.space, op.obj);
      if (!c) return 'NO_CAPABILITY';
      for (const child of m.caps.filter((x) => x.parent === c)) refDrop(m, child);
      if (op.self) refDrop(m, c);
      return 'ok';
    }
    case 'destroy': {
      const c = find(m, op.space, op.obj);
      if (!c || !((c.mask >> RIGHT_NAMES.indexOf('destroy')) & 1)) return 'NO_CAPABILITY';
      m.caps = m.caps.filter((x) => x.obj !== op.obj);
      m.objs.delete(op.obj);
      return 'ok';
    }
  }
}

function realRun(r: Real, op: Op): string {
  const s = r.spaces;
  const res = (() => {
    switch (op.k) {
      case 'register':
        return r.reg.register({ id: op.obj, kind: 'object', label: `o${op.obj}` });
      case 'grant':
        return r.reg.grant(s[op.to]!, op.obj, rightsOf(op.mask));
      case 'delegate':
        return r.reg.delegate(s[op.from]!, s[op.to]!, op.obj, rightsOf(op.mask));
      case 'revoke':
        return r.reg.revoke(s[op.space]!, op.obj, { self: op.self });
      case 'destroy':
        return r.reg.destroy(s[op.space]!, op.obj);
    }
  })();
  return res.ok ? 'ok' : res.code;
}

function realSnapshot(r: Real): string[] {
  return r.spaces.flatMap((sp, i) =>
    sp.objects().map((o) => {
      const parent = r.reg.parentOf(sp, o);
      return `${i}:${o}:${sp.rights(o).mask}:${parent ? r.spaces.indexOf(parent) : '-'}`;
    }),
  );
}

function refSnapshot(m: Model): string[] {
  return [...m.caps]
    .sort((a, b) => a.space - b.space || a.obj - b.obj)
    .map((c) => `${c.space}:${c.obj}:${c.mask}:${c.parent ? c.parent.space : '-'}`);
}

class OpCmd implements fc.Command<Model, Real> {
  constructor(readonly op: Op) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const before = realSnapshot(r);
    const want = refRun(m, this.op);
    const got = realRun(r, this.op);
    expect(got).toBe(want);
    const after = realSnapshot(r);
    if (got !== 'ok') expect(after).toEqual(before);
    expect(after).toEqual(refSnapshot(m));
    const checks: boolean[] = [];
    const expected: boolean[] = [];
    for (const [i, space] of r.spaces.entries()) {
      for (let o = 0; o < OBJS; o++) {
        const parent = r.reg.parentOf(space, o);
        checks.push(parent === null || parent.rights(o).covers(space.rights(o)));
        expected.push(true);
        const held = find(m, i, o)?.mask ?? 0;
        RIGHT_NAMES.forEach((right, bit) => {
          checks.push(space.check(o, right).ok);
          expected.push(((held >> bit) & 1) === 1);
        });
      }
    }
    expect(checks).toEqual(expected);
  }
  toString = () => JSON.stringify(this.op);
}

const sp = fc.integer({ min: 0, max: SPACES - 1 });
const ob = fc.integer({ min: 0, max: OBJS - 1 });
const mask = fc.integer({ min: 0, max: 31 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  ob.map((obj) => ({ k: 'register' as const, obj })),
  fc.record({ k: fc.constant('grant' as const), to: sp, obj: ob, mask }),
  {
    weight: 4,
    arbitrary: fc.record({ k: fc.constant('delegate' as const), from: sp, to: sp, obj: ob, mask }),
  },
  fc.record({ k: fc.constant('revoke' as const), space: sp, obj: ob, self: fc.boolean() }),
  fc.record({ k: fc.constant('destroy' as const), space: sp, obj: ob }),
);

describe('CapRegistry model', () => {
  it('matches a naive capability list; failed operations change nothing; derived rights stay within the parent', () => {
    fc.assert(
      fc.property(
        fc.commands([opArb.map((op) => new OpCmd(op))], { maxCommands: 80, size: 'medium' }),
        (cmds) => {
          const reg = new CapRegistry();
          const spaces = Array.from({ length: SPACES }, (_, i) => reg.createSpace({ label: `pd${i}` }));
          fc.modelRun(() => ({ model: { caps: [], objs: new Set<number>() }, real: { reg, spaces } }), cmds);
        },
      ),
      { numRuns: 200 },
    );
  });
});
