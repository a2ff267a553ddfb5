/**
 * Core's use of the kernel's capability spaces: every object core creates (dataspaces, region
 * maps, signal contexts) is registered, its creator's space gets every right, and other
 * protection domains get rights only by delegation. Operations performed on behalf of a
 * protection domain check them first and change nothing when a right is missing.
 */
import { CapRegistry, type CapSpace, type Right, Rights } from '../kernel/capability.js';
import { err, ok, type Result } from '../util/result.js';
import type { PdSession } from './pd_session.js';

/** Something capability-protected that core created. */
export interface Protected {
  readonly id: number;
}

/** Error code when a right is missing. */
export type CapabilityErrorCode = 'NO_CAPABILITY';

/** The capability spaces of core's sessions. */
export class CoreCapabilities {
  readonly registry = new CapRegistry();
  private readonly spaces = new Map<PdSession, CapSpace>();

  /** The capability space of a session (created with it). */
  spaceOf(session: PdSession): CapSpace {
    let s = this.spaces.get(session);
    if (!s) {
      s = this.registry.createSpace({ label: session.label });
      this.spaces.set(session, s);
    }
    return s;
  }

  /** Registers a new object and gives its creator every right. */
  created(creator: PdSession, obj: Protected, kind: string, label: string): void {
    const r = this.registry.register({ id: obj.id, kind, label });
    if (!r.ok) throw new Error(`object #${obj.id} registered twice`);
    const g = this.registry.grant(this.spaceOf(creator), obj.id, Rights.ALL);
    if (!g.ok) throw new Error(g.message);
  }

  /** Forgets a destroyed object and every capability to it. */
  destroyed(obj: Protected): void {
    this.registry.unregister(obj.id);
  }

  /** Checks that `actor` holds `right` on `obj`. */
  check(actor: PdSession, obj: Protected, right: Right): Result<void, CapabilityErrorCode> {
    return this.registry.check(this.spaceOf(actor), obj.id, right);
  }

  /** Delegates rights (a subset of what `from` holds) to `to`. */
  delegate(
    from: PdSession,
    to: PdSession,
    obj: Protected,
    rights: readonly Right[],
  ): Result<void, 'NO_CAPABILITY' | 'INVALID_RIGHTS'> {
    const r = this.registry.delegate(this.spaceOf(from), this.spaceOf(to), obj.id, Rights.of(...rights));
    if (r.ok) return ok(undefined);
    return err(r.code === 'NO_CAPABILITY' ? 'NO_CAPABILITY' : 'INVALID_RIGHTS', r.message);
  }
}
