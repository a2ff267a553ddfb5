/**
 * Capabilities: the only way a protection domain can name a kernel or core object. Each PD has a
 * capability space mapping object ids to rights. Core (or the kernel) grants root capabilities to
 * the objects it creates; a holder may delegate a capability with a subset of its rights to
 * another PD. Delegations form a derivation tree per object, like an L4 mapping database:
 * revoking a capability removes everything derived from it, and destroying the object removes
 * every capability to it. Anything attempted without the right fails and changes nothing.
 *
 * The registry is generic: core registers dataspaces, region maps, signal contexts, endpoints and
 * IRQ sessions under their stable numeric ids and wraps the checks.
 */
import { err, invariant, ok, type Result } from '../util/result.js';

/** The rights a capability can carry, in a fixed order (the order of `Rights.toString`). */
export const RIGHT_NAMES = ['use', 'attach', 'register-handler', 'destroy', 'ipc'] as const;

/** One right: use an object, attach it (dataspaces), register a handler (signals, faults), destroy it, call it. */
export type Right = (typeof RIGHT_NAMES)[number];

/** An immutable set of rights (a bit mask over `RIGHT_NAMES`). */
export class Rights {
  /** No rights. */
  static readonly NONE = new Rights(0);
  /** Every right. */
  static readonly ALL = new Rights((1 << RIGHT_NAMES.length) - 1);

  private constructor(readonly mask: number) {}

  /** The set of the given rights. */
  static of(...names: readonly Right[]): Rights {
    let m = 0;
    for (const n of names) m |= bit(n);
    return new Rights(m);
  }

  /** True when the set holds `r`. */
  has(r: Right): boolean {
    return (this.mask & bit(r)) !== 0;
  }

  /** True when every right of `other` is in this set. */
  covers(other: Rights): boolean {
    return (other.mask & ~this.mask) === 0;
  }

  /** The rights of `other` this set lacks, in canonical order. */
  missing(other: Rights): Right[] {
    return new Rights(other.mask & ~this.mask).names();
  }

  /** True when the set is empty. */
  get empty(): boolean {
    return this.mask === 0;
  }

  /** The rights in canonical order. */
  names(): Right[] {
    return RIGHT_NAMES.filter((n) => this.has(n));
  }

  equals(other: Rights): boolean {
    return this.mask === other.mask;
  }

  toString(): string {
    return `{${this.names().join(', ')}}`;
  }
}

function bit(r: Right): number {
  const i = RIGHT_NAMES.indexOf(r);
  invariant(i >= 0, `unknown right '${r}'`);
  return 1 << i;
}

/** Capability errors. */
export type CapErrorCode =
  | 'NO_CAPABILITY'
  | 'UNKNOWN_OBJECT'
  | 'OBJECT_EXISTS'
  | 'CAP_EXISTS'
  | 'INVALID_RIGHTS';

/** A capability-protected object as the registry knows it. */
export interface CapObject {
  /** Stable id (core's object id). */
  readonly id: number;
  /** What it is: 'dataspace', 'region-map', 'signal-context', 'endpoint', ... (for messages). */
  readonly kind: string;
  readonly label: string;
}

/** One capability: a space's rights to an object, and where it came from. */
interface Cap {
  readonly space: CapSpace;
  readonly obj: CapObject;
  readonly rights: Rights;
  /** The capability it was delegated from; null for a root capability granted by core. */
  readonly parent: Cap | null;
  readonly children: Cap[];
}

function objName(o: CapObject): string {
  return `${o.kind} #${o.id} '${o.label}'`;
}

/** The capabilities of one protection domain. Created and changed only through its `CapRegistry`. */
export class CapSpace {
  /** @internal capabilities by object id. */
  readonly caps = new Map<number, Cap>();

  /** @internal use `CapRegistry.createSpace`. */
  constructor(
    readonly registry: CapRegistry,
    /** Who owns it (a protection domain or anything with a label), for messages. */
    readonly owner: { readonly label: string },
  ) {}

  /** The rights held to an object (NONE when no capability). */
  rights(objId: number): Rights {
    return this.caps.get(objId)?.rights ?? Rights.NONE;
  }

  /** True when the space holds `right` to the object. */
  has(objId: number, right: Right): boolean {
    return this.rights(objId).has(right);
  }

  /** Succeeds when the space holds `right` to the object; otherwise NO_CAPABILITY naming PD, object and right. */
  check(objId: number, right: Right): Result<void, 'NO_CAPABILITY'> {
    return this.registry.check(this, objId, right);
  }

  /** Ids of the objects this space holds capabilities to, ascending. */
  objects(): number[] {
    return [...this.caps.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.caps.size;
  }

  toString(): string {
    return `cap space of pd '${this.owner.label}' (${this.caps.size} capabilities)`;
  }
}

/** The kernel-wide table of capability-protected objects and the derivation trees of their capabilities. */
export class CapRegistry {
  private readonly objs = new Map<number, { obj: CapObject; roots: Cap[] }>();

  /** Creates the capability space of a protection domain. */
  createSpace(owner: { readonly label: string }): CapSpace {
    return new CapSpace(this, owner);
  }

  /** Registers an object so capabilities can name it. */
  register(obj: CapObject): Result<void, 'OBJECT_EXISTS'> {
    const had = this.objs.get(obj.id);
    if (had) return err('OBJECT_EXISTS', `cannot register ${objName(obj)}: id taken by ${objName(had.obj)}`);
    this.objs.set(obj.id, { obj, roots: [] });
    return ok(undefined);
  }

  /** The registered object with this id. */
  object(id: number): CapObject | undefined {
    return this.objs.get(id)?.obj;
  }

  /**
   * Grants a root capability (the authority of core or the kernel, e.g. to the creator of an
   * object). A space that already holds the object keeps its capability when `rights` adds nothing
   * (idempotent); asking for more fails with CAP_EXISTS (revoke first).
   */
  grant(to: CapSpace, objId: number, rights: Rights): Result<void, CapErrorCode> {
    const o = this.objs.get(objId);
    if (!o)
      return err('UNKNOWN_OBJECT', `cannot grant object #${objId} to pd '${to.owner.label}': no such object`);
    const pre = this.prepareInsert(to, o.obj, rights);
    if (!pre.ok) return pre;
    if (!pre.value) return ok(undefined);
    const cap: Cap = { space: to, obj: o.obj, rights, parent: null, children: [] };
    o.roots.push(cap);
    to.caps.set(objId, cap);
    return ok(undefined);
  }

  /**
   * Delegates a capability with `rights` ⊆ the rights `from` holds to another space; the new
   * capability is derived from `from`'s and dies with it. Idempotent when `to` already holds at
   * least `rights`; CAP_EXISTS when it holds fewer (revoke first).
   */
  delegate(from: CapSpace, to: CapSpace, objId: number, rights: Rights): Result<void, CapErrorCode> {
    this.mine(from);
    const src = from.caps.get(objId);
    const o = this.objs.get(objId);
    if (!src || !o) return err('NO_CAPABILITY', `${this.lacking(from, objId, rights)}: cannot delegate it`);
    if (!src.rights.covers(rights))
      return err(
        'NO_CAPABILITY',
        `pd '${from.owner.label}' cannot delegate ${rights} of ${objName(o.obj)} to pd '${to.owner.label}': ` +
          `it holds only ${src.rights}, missing ${src.rights.missing(rights).join(', ')}`,
      );
    const pre = this.prepareInsert(to, o.obj, rights);
    if (!pre.ok) return pre;
    if (!pre.value) return ok(undefined);
    const cap: Cap = { space: to, obj: o.obj, rights, parent: src, children: [] };
    src.children.push(cap);
    to.caps.set(objId, cap);
    return ok(undefined);
  }

  /**
   * Removes every capability derived from `space`'s capability to the object (and, with
   * `{ self: true }`, that capability too). Returns the spaces that lost a capability, children
   * before their parents, siblings in delegation order.
   */
  revoke(space: CapSpace, objId: number, opts: { self?: boolean } = {}): Result<CapSpace[], 'NO_CAPABILITY'> {
    this.mine(space);
    const cap = space.caps.get(objId);
    if (!cap) return err('NO_CAPABILITY', `${this.lacking(space, objId, Rights.NONE)}: nothing to revoke`);
    const lost: CapSpace[] = [];
    for (const child of [...cap.children]) this.drop(child, lost);
    if (opts.self) this.drop(cap, lost);
    return ok(lost);
  }

  /**
   * Destroys an object on behalf of `by`, which needs the 'destroy' right: every capability to it
   * vanishes and it is unregistered. Returns the spaces that lost a capability.
   */
  destroy(by: CapSpace, objId: number): Result<CapSpace[], 'NO_CAPABILITY'> {
    const c = this.check(by, objId, 'destroy');
    if (!c.ok) return c;
    return ok(this.unregister(objId));
  }

  /** Core-internal destruction without a capability check; returns the spaces that lost a capability. */
  unregister(objId: number): CapSpace[] {
    const o = this.objs.get(objId);
    if (!o) return [];
    const lost: CapSpace[] = [];
    for (const root of [...o.roots]) this.drop(root, lost);
    this.objs.delete(objId);
    return lost;
  }

  /** Succeeds when `space` holds `right` to the object; otherwise NO_CAPABILITY naming PD, object and right. */
  check(space: CapSpace, objId: number, right: Right): Result<void, 'NO_CAPABILITY'> {
    const cap = space.caps.get(objId);
    if (cap?.rights.has(right)) return ok(undefined);
    return err('NO_CAPABILITY', this.lacking(space, objId, Rights.of(right)));
  }

  /** The space's capability was derived from this space's capability (null for a root or none). */
  parentOf(space: CapSpace, objId: number): CapSpace | null {
    return space.caps.get(objId)?.parent?.space ?? null;
  }

  toString(): string {
    return `capability registry (${this.objs.size} objects)`;
  }

  private mine(space: CapSpace): void {
    invariant(space.registry === this, `${space} belongs to another capability registry`);
  }

  /** ok(true): insert; ok(false): already held with at least these rights; err: refuse. */
  private prepareInsert(to: CapSpace, obj: CapObject, rights: Rights): Result<boolean, CapErrorCode> {
    this.mine(to);
    if (rights.empty)
      return err(
        'INVALID_RIGHTS',
        `a capability to ${objName(obj)} for pd '${to.owner.label}' needs a right`,
      );
    const have = to.caps.get(obj.id);
    if (!have) return ok(true);
    if (have.rights.covers(rights)) return ok(false);
    return err(
      'CAP_EXISTS',
      `pd '${to.owner.label}' already holds ${objName(obj)} with ${have.rights}; ` +
        `revoke it before giving ${rights}`,
    );
  }

  private drop(cap: Cap, lost: CapSpace[]): void {
    for (const child of [...cap.children]) this.drop(child, lost);
    cap.space.caps.delete(cap.obj.id);
    lost.push(cap.space);
    if (cap.parent) {
      const i = cap.parent.children.indexOf(cap);
      if (i >= 0) cap.parent.children.splice(i, 1);
    } else {
      const roots = this.objs.get(cap.obj.id)?.roots;
      const i = roots ? roots.indexOf(cap) : -1;
      if (i >= 0) roots!.splice(i, 1);
    }
  }

  private lacking(space: CapSpace, objId: number, need: Rights): string {
    const o = this.objs.get(objId);
    const name = o ? objName(o.obj) : `object #${objId} (no such object)`;
    const have = space.caps.get(objId);
    const what = need.empty ? '' : ` '${need.names().join("', '")}'`;
    if (!have)
      return `pd '${space.owner.label}' holds no capability to ${name}${what ? ` (needs${what})` : ''}`;
    return `pd '${space.owner.label}' lacks the${what} right to ${name}: it holds ${have.rights}`;
  }
}
