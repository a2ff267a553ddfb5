/**
 * Helpers of the sweeps (`faultline scale`, `faultline irq`): designs outermost, CPU counts
 * inside, run one point at a time so Ctrl-C can cut them short with the points done so far.
 */
import { UserError } from './io.js';

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

/** Stacks two standalone SVG documents vertically into one. */
export function stackSvgs(a: string, b: string): string {
  const size = (svg: string) => {
    const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
    if (!m) throw new UserError('cannot combine the charts: unexpected SVG header');
    return [Number(m[1]), Number(m[2])] as const;
  };
  const [wa, ha] = size(a);
  const [wb, hb] = size(b);
  const w = Math.max(wa, wb);
  const h = ha + hb;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" ` +
    `width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="white"/>` +
    `${a}${b.replace(/^<svg/, `<svg y="${ha}"`)}</svg>`
  );
}
