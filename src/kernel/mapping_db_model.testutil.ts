/**
 * A naive reference for the mapping database: a flat list of edges (space, va, size, frame,
 * rights, parent), searched linearly, with subtrees found by fixpoint iteration. It restates the
 * rules of mapping_db.ts (and their order of checks) as plainly as possible.
 */

export interface Edge {
  readonly id: number;
  space: number;
  va: number;
  readonly log2: number;
  readonly pa: number;
  rights: number;
  readonly parent: number | null;
}

const R = 4;
const size = (log2: number) => 2 ** log2;
const overlaps = (a: number, aEnd: number, b: number, bEnd: number) => a < bEnd && b < aEnd;

export class NaiveMdb {
  edges: Edge[] = [];
  private next = 0;

  constructor(
    /** Bytes a space may hold. */
    readonly limitOf: (space: number) => number,
    readonly nodeBytes: number,
  ) {}

  count(space: number): number {
    return this.edges.filter((e) => e.space === space).length;
  }

  at(space: number, va: number): Edge | undefined {
    return this.edges.find((e) => e.space === space && e.va <= va && va < e.va + size(e.log2));
  }

  byId(id: number | null): Edge | undefined {
    return this.edges.find((e) => e.id === id);
  }

  /** `e` and everything derived from it, by fixpoint. */
  subtree(e: Edge): Set<number> {
    const s = new Set([e.id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const x of this.edges)
        if (x.parent !== null && s.has(x.parent) && !s.has(x.id)) {
          s.add(x.id);
          grew = true;
        }
    }
    return s;
  }

  private ancestorsOrSelf(e: Edge): Set<number> {
    const s = new Set<number>();
    for (let x: Edge | undefined = e; x; x = this.byId(x.parent)) s.add(x.id);
    return s;
  }

  private removeAll(tops: readonly Edge[]): void {
    const gone = new Set<number>();
    for (const t of tops) for (const id of this.subtree(t)) gone.add(id);
    this.edges = this.edges.filter((e) => !gone.has(e.id));
  }

  private downgrade(top: Edge, mask: number): void {
    const ids = this.subtree(top);
    for (const e of this.edges) if (ids.has(e.id)) e.rights &= ~mask;
  }

  private inSpace(space: number, va: number, end: number): Edge[] {
    return this.edges.filter((e) => e.space === space && overlaps(va, end, e.va, e.va + size(e.log2)));
  }

  private full(space: number): boolean {
    return (this.count(space) + 1) * this.nodeBytes > this.limitOf(space);
  }

  root(space: number, va: number, pa: number, log2: number, rights: number): string {
    const sz = size(log2);
    if (va % sz !== 0 || pa % sz !== 0) return 'MISALIGNED';
    if ((rights & R) === 0) return 'NO_RIGHTS';
    if (this.edges.some((e) => e.parent === null && overlaps(pa, pa + sz, e.pa, e.pa + size(e.log2))))
      return 'ROOT_OVERLAP';
    if (this.full(space)) return 'OUT_OF_KERNEL_MEMORY';
    this.removeAll(this.inSpace(space, va, va + sz));
    this.edges.push({ id: this.next++, space, va, log2, pa, rights: rights & 7, parent: null });
    return 'ok';
  }

  /** The source checks shared by map and grant. */
  private source(from: number, fromVa: number, toVa: number, log2: number, rights: number): Edge | string {
    const sz = size(log2);
    if (fromVa % sz !== 0 || toVa % sz !== 0) return 'MISALIGNED';
    const src = this.at(from, fromVa);
    if (!src) return 'NO_MAPPING';
    if (log2 > src.log2) return 'SIZE_EXCEEDS_PARENT';
    if ((rights & src.rights & R) === 0) return 'NO_RIGHTS';
    return src;
  }

  map(from: number, fromVa: number, to: number, toVa: number, log2: number, rights: number): string {
    const src = this.source(from, fromVa, toVa, log2, rights);
    if (typeof src === 'string') return src;
    const eff = rights & src.rights;
    const pa = src.pa + (fromVa - src.va);
    const over = this.inSpace(to, toVa, toVa + size(log2));
    const e0 = over[0];
    if (
      over.length === 1 &&
      e0 &&
      e0.parent === src.id &&
      e0.va === toVa &&
      e0.log2 === log2 &&
      e0.pa === pa
    ) {
      e0.rights |= eff;
      return 'ok';
    }
    const anc = this.ancestorsOrSelf(src);
    if (over.some((e) => anc.has(e.id))) return 'ONTO_ANCESTOR';
    if (this.full(to)) return 'OUT_OF_KERNEL_MEMORY';
    this.removeAll(over);
    this.edges.push({ id: this.next++, space: to, va: toVa, log2, pa, rights: eff, parent: src.id });
    return 'ok';
  }

  grant(from: number, fromVa: number, to: number, toVa: number, log2: number, rights: number): string {
    const src = this.source(from, fromVa, toVa, log2, rights);
    if (typeof src === 'string') return src;
    if (log2 < src.log2) return 'GRANT_PARTIAL';
    const lost = src.rights & ~(rights & src.rights);
    if (from === to && toVa === src.va) {
      this.downgrade(src, lost);
      return 'ok';
    }
    const over = this.inSpace(to, toVa, toVa + size(log2));
    const anc = this.ancestorsOrSelf(src);
    if (over.some((e) => anc.has(e.id))) return 'ONTO_ANCESTOR';
    if (from !== to && this.full(to)) return 'OUT_OF_KERNEL_MEMORY';
    this.removeAll(over);
    src.space = to;
    src.va = toVa;
    this.downgrade(src, lost);
    return 'ok';
  }

  unmap(space: number, base: number, log2: number, self: boolean, rights: number): void {
    const mask = rights & 7;
    if (mask === 0) return;
    const end = base + size(log2);
    const act = (e: Edge) => ((mask & R) !== 0 ? this.removeAll([e]) : this.downgrade(e, mask));
    for (const h of this.inSpace(space, base, end)) {
      if (!this.byId(h.id)) continue;
      if (self) {
        act(h);
        continue;
      }
      const paLo = h.pa + Math.max(base, h.va) - h.va;
      const paHi = h.pa + Math.min(end, h.va + size(h.log2)) - h.va;
      const kids = this.edges.filter(
        (c) => c.parent === h.id && overlaps(paLo, paHi, c.pa, c.pa + size(c.log2)),
      );
      for (const c of kids) act(c);
    }
  }

  destroy(space: number): void {
    this.removeAll(this.edges.filter((e) => e.space === space));
  }
}
