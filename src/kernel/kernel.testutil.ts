/** Test helpers for the kernel layer: a protection domain with numbered threads. */
import { ProtectionDomain } from './protection_domain.js';
import type { Thread } from './thread.js';

/** Creates `n` threads named t0..t(n-1) in one PD; `cpu`/`priority` pick per-thread values. */
export function threads(
  n: number,
  opts: { cpu?: (i: number) => number; priority?: (i: number) => number } = {},
): Thread[] {
  const pd = new ProtectionDomain(1, 'init -> test', [12]);
  const out: Thread[] = [];
  for (let i = 0; i < n; i++) {
    const t = pd.addThread(100 + i, `t${i}`, opts.cpu?.(i) ?? 0);
    t.priority = opts.priority?.(i) ?? 0;
    out.push(t);
  }
  return out;
}

/** Names of threads, for readable expectations. */
export function names(ts: readonly (Thread | null)[]): (string | null)[] {
  return ts.map((t) => t?.name ?? null);
}
