/**
 * Walks over mapping trees without recursion: a chain of a million derived mappings, or a node
 * with a million children, must not touch the call stack. Each walk follows the first-child,
 * next-sibling and parent columns, so it needs no explicit stack either.
 */
import { NONE, type NodeTable } from './mapping_db_table.js';

/**
 * Visits `top` and its descendants in pre-order (a parent before its children, children
 * newest first). When `visit` returns false the node's descendants are skipped. `visit` may
 * change a node's rights or kill it but must not relink the tree.
 */
export function walkSubtree(t: NodeTable, top: number, visit: (n: number) => boolean): void {
  let n = top;
  for (;;) {
    if (visit(n) && t.first[n] !== NONE) {
      n = t.first[n]!;
      continue;
    }
    while (n !== top && t.next[n] === NONE) n = t.parent[n]!;
    if (n === top) return;
    n = t.next[n]!;
  }
}

/** True when `anc` is `n` or one of its ancestors; walks up only to `anc`'s depth. */
export function isAncestorOrSelf(t: NodeTable, anc: number, n: number): boolean {
  const d = t.depth[anc]!;
  while (n !== NONE && t.depth[n]! >= d) {
    if (n === anc) return true;
    n = t.parent[n]!;
  }
  return false;
}

/** Links `child` as the first child of `parent`. */
export function linkChild(t: NodeTable, parent: number, child: number): void {
  const head = t.first[parent]!;
  t.next[child] = head;
  t.prev[child] = NONE;
  if (head !== NONE) t.prev[head] = child;
  t.first[parent] = child;
  t.kidCount[parent]!++;
}

/** Unlinks `child` from its parent's child list (its own subtree stays attached to it). */
export function unlinkChild(t: NodeTable, child: number): void {
  const p = t.parent[child]!;
  const prev = t.prev[child]!;
  const next = t.next[child]!;
  if (prev !== NONE) t.next[prev] = next;
  else t.first[p] = next;
  if (next !== NONE) t.prev[next] = prev;
  t.next[child] = NONE;
  t.prev[child] = NONE;
  t.kidCount[p]!--;
}
