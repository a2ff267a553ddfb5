/**
 * Helpers of the sweeps (`faultline scale`, `faultline irq`): designs outermost, CPU counts
 * inside, run one point at a time so Ctrl-C can cut them short with the points done so far.
 */

/** Lets pending signals and timers run (a Ctrl-C is seen here) before the next piece of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * What a plot of a sweep cut short can show: the CPU counts the first design reached, and the
 * designs that reached all of them (one value per CPU count each). A full sweep gives everything.
 */
export function completeSeries<D>(
  points: readonly { readonly design: D }[],
  designs: readonly D[],
  cpus: readonly number[],
): { designs: D[]; cpus: number[] } {
  const count = (d: D) => points.filter((p) => p.design === d).length;
  const n = designs.length > 0 ? Math.min(count(designs[0]!), cpus.length) : 0;
  return { designs: designs.filter((d) => count(d) === n), cpus: cpus.slice(0, n) };
}
