/**
 * Who needed a communication right to whom: recorded as the machine checks capabilities (an IPC
 * call), submits signals, sends map items and routes page faults, so the trust relationships of a
 * design are read off what actually ran rather than typed in (seed 001: "the region manager must
 * possess a capability to directly communicate to the dataspace manager", ...).
 */

/** What the right was used for. */
export type TrustKind =
  /** Synchronous call: the caller depends on the callee answering. */
  | 'call'
  /** Asynchronous signal: fire and forget, the sender never waits. */
  | 'signal'
  /** Map items sent into the receiver's address space (needs a direct communication right). */
  | 'map'
  /** The kernel sends the source's page faults to the target (its pager). */
  | 'page-fault';

/** One relationship: `from` needs a right of kind `kind` to `to`, used for `what`. */
export interface TrustEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: TrustKind;
  readonly what: string;
  /** How often it was used in the run. */
  readonly uses: number;
}

/** The relationships used in one run, in the order first used. */
export class TrustLog {
  private readonly edges = new Map<string, { edge: Omit<TrustEdge, 'uses'>; uses: number }>();

  /** Records one use of a right (repeats only count). */
  record(from: string, to: string, kind: TrustKind, what: string): void {
    const key = `${from}\u0000${to}\u0000${kind}\u0000${what}`;
    const e = this.edges.get(key);
    if (e) e.uses++;
    else this.edges.set(key, { edge: { from, to, kind, what }, uses: 1 });
  }

  /** Every relationship used, first use first. */
  list(): TrustEdge[] {
    return [...this.edges.values()].map((e) => ({ ...e.edge, uses: e.uses }));
  }

  /** True when some relationship of `kind` from `from` to `to` was used. */
  has(from: string, to: string, kind: TrustKind): boolean {
    for (const e of this.edges.values())
      if (e.edge.from === from && e.edge.to === to && e.edge.kind === kind) return true;
    return false;
  }
}
