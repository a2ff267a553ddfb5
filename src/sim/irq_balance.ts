/**
 * An irqbalance-style balancer (seed 000, rerouting at run time): every interval it looks at the
 * interrupt and device cycles each NIC queue cost since the last decision, and moves the heaviest
 * queue of the busiest CPU to the idlest CPU when the gap between the two is worth it and the move
 * narrows it. `irq_path.ts` carries the move out (vector and handler thread) and counts its cost.
 */

/** The balancer's options. */
export interface BalanceOptions {
  /** Cycles between decisions. */
  readonly intervalCycles: number;
  /** Minimum load difference (fraction of the interval) between busiest and idlest CPU to act (default 0.1). */
  readonly threshold?: number;
}

/**
 * One decision: the queue to move and where, or null. `queueLoad[q]` is queue q's cycles since
 * the last decision and `cpuOf(q)` the CPU its handler thread is on now.
 */
export function pickMove(
  queueLoad: Float64Array,
  cpuOf: (queue: number) => number,
  cpus: number,
  b: BalanceOptions,
): { readonly queue: number; readonly cpu: number } | null {
  const load = new Float64Array(cpus);
  const nq = queueLoad.length;
  for (let q = 0; q < nq; q++) load[cpuOf(q)]! += queueLoad[q]!;
  let busy = 0;
  let idle = 0;
  for (let c = 1; c < cpus; c++) {
    if (load[c]! > load[busy]!) busy = c;
    if (load[c]! < load[idle]!) idle = c;
  }
  const gap = load[busy]! - load[idle]!;
  let pick = -1;
  for (let q = 0; q < nq; q++) {
    if (cpuOf(q) !== busy) continue;
    // Moving q helps only if it narrows the gap: its load below the whole gap.
    const l = queueLoad[q]!;
    if (l > 0 && l < gap && (pick < 0 || l > queueLoad[pick]!)) pick = q;
  }
  return gap > (b.threshold ?? 0.1) * b.intervalCycles && pick >= 0 ? { queue: pick, cpu: idle } : null;
}
