/** Helpers of the scenario tests. */
import { readFileSync } from 'node:fs';
import type { TraceBatch } from '../sim/trace_batch.js';
import { parseLackey } from '../workload/lackey.js';

/** The records of a lackey trace, as `faultline run` hands them over (it reads every format). */
export function lackey(path: string): TraceBatch[] {
  const out: TraceBatch[] = [];
  const r = parseLackey(readFileSync(path), (b) => {
    out.push(b.copy());
  });
  if (!r.ok) throw new Error(r.message);
  return out;
}
