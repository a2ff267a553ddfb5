/**
 * Walks over mapping trees without recursion: a chain of a million derived mappings, or a node
 * with a million children, must not touch the call stack. Each walk follows first-child,
 * next-sibling and parent links, so it needs no explicit stack either.
 */
import type { MdbNode } from './mapping_db_node.js';

/**
 * Visits `top` and its descendants in pre-order (a parent before its children, children
 * newest first). When `visit` returns false the node's descendants are skipped. `visit` may
 * change a node's rights or mark it dead but must not relink the tree.
 */
export function walkSubtree(top: MdbNode, visit: (n: MdbNode) => boolean): void {
  let n: MdbNode = top;
  for (;;) {
    if (visit(n) && n.firstChild !== null) {
      n = n.firstChild;
      continue;
    }
    while (n !== top && n.nextSibling === null) n = n.parent!;
    if (n === top) return;
    n = n.nextSibling!;
  }
}

/** True when `anc` is `n` or one of its ancestors; walks up only to `anc`'s depth. */
export function isAncestorOrSelf(anc: MdbNode, n: MdbNode | null): boolean {
  while (n !== null && n.depth >= anc.depth) {
    if (n === anc) return true;
    n = n.parent;
  }
  return false;
}

/** Links `child` as the first child of `parent`. */
export function linkChild(parent: MdbNode, child: MdbNode): void {
  const head = parent.firstChild;
  child.nextSibling = head;
  child.prevSibling = null;
  if (head !== null) head.prevSibling = child;
  parent.firstChild = child;
  parent.childCount++;
  parent.kids?.add(child);
}

/** Unlinks `child` from its parent's child list (its own subtree stays attached to it). */
export function unlinkChild(child: MdbNode): void {
  const p = child.parent!;
  if (child.prevSibling !== null) child.prevSibling.nextSibling = child.nextSibling;
  else p.firstChild = child.nextSibling;
  if (child.nextSibling !== null) child.nextSibling.prevSibling = child.prevSibling;
  child.nextSibling = null;
  child.prevSibling = null;
  p.childCount--;
  p.kids?.remove(child);
}
