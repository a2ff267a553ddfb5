/**
 * Text edits of a scenario that keep the rest of the file as written (comments, flow style,
 * spacing): set one scalar of a step, found by its path.
 */
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Path } from '../../../src/scenario/problem.js';

/** The edited text, or why the value cannot be edited in place. */
export type EditResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly message: string };

/** Sets the scalar at `path` (e.g. `['steps', 4, 'attach', 'at']`) to `value`, adding the key if absent. */
export function setScalar(text: string, path: Path, value: string): EditResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, message: 'the file does not parse' };
  const node = doc.getIn(path, true);
  if (node !== undefined) {
    if (!isScalar(node) || !node.range)
      return { ok: false, message: `${path.join('.')} is not a plain value` };
    const [start, end] = node.range;
    const old = text.slice(start, end);
    if (old.includes('${'))
      return { ok: false, message: `${path.join('.')} is computed (${old}): edit it by hand` };
    return { ok: true, text: text.slice(0, start) + value + text.slice(end) };
  }
  const parent = doc.getIn(path.slice(0, -1), true);
  const key = String(path.at(-1));
  if (!isMap(parent) || !parent.range)
    return { ok: false, message: `no map at ${path.slice(0, -1).join('.')}` };
  if (parent.flow) {
    // `{ a: 1, b: 2 }`: insert before the closing brace.
    const close = text.lastIndexOf('}', parent.range[1] - 1);
    if (close < parent.range[0]) return { ok: false, message: 'cannot find the end of the flow map' };
    let at = close;
    while (at > 0 && text[at - 1] === ' ') at--;
    return { ok: true, text: `${text.slice(0, at)}, ${key}: ${value}${text.slice(at)}` };
  }
  // A block map: a new line after the last item, indented like the first key.
  const first = parent.items[0]?.key;
  const last = parent.items.at(-1)?.value;
  if (!isScalar(first) || !first.range || !last || !(last as { range?: number[] }).range) {
    return { ok: false, message: 'cannot place a new key in this map' };
  }
  const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
  const indent = text.slice(lineStart, first.range[0]);
  const end = (last as { range: number[] }).range[1]!;
  const eol = text.indexOf('\n', end);
  const cut = eol < 0 ? text.length : eol;
  return {
    ok: true,
    text: `${text.slice(0, cut)}\n${' '.repeat(indent.length)}${key}: ${value}${text.slice(cut)}`,
  };
}
