/** Growing typed arrays (the event engine's parallel arrays). */

/** A copy of `a` in a new array of `cap` elements, the new ones set to `fill`. */
export function growF64(a: Float64Array, cap: number, fill: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

/** A copy of `a` in a new array of `cap` elements, the new ones set to `fill`. */
export function growI32(a: Int32Array, cap: number, fill: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}
