/**
 * The shipped scenarios (scenarios/*.yaml) and the traces their trace players replay, bundled
 * into the app at build time so that they are one click away, also in a static export.
 */
import { TraceBatch } from '../../../src/sim/trace_batch.js';
import { parseLackey } from '../../../src/workload/lackey.js';
import type { TraceInputs } from './session.js';

const files = import.meta.glob('../../../scenarios/*.yaml', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

/** Traces by their path relative to scenarios/ (as the scenarios write them). */
const traceTexts: Record<string, string> = {
  '../test/fixtures/lackey_small.txt': import.meta.glob('../../../test/fixtures/lackey_small.txt', {
    query: '?raw',
    import: 'default',
    eager: true,
  })['../../../test/fixtures/lackey_small.txt'] as string,
};

/** A shipped scenario. */
export interface ShippedScenario {
  /** File name without `.yaml`. */
  readonly name: string;
  readonly text: string;
  /** Its `description:` line. */
  readonly description: string;
}

/** Every shipped scenario, by name. */
export const SHIPPED: readonly ShippedScenario[] = Object.entries(files)
  .map(([path, text]) => ({
    name: path.replace(/^.*\//, '').replace(/\.yaml$/, ''),
    text,
    description: /^description:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? '',
  }))
  .sort((a, b) => a.name.localeCompare(b.name));

/** Parses lackey text into batches (copies, as a trace player holds them). */
export function lackeyBatches(text: string): TraceBatch[] {
  const out: TraceBatch[] = [];
  const r = parseLackey(text, (b) => {
    out.push(b.copy());
  });
  if (!r.ok) throw new Error(r.message);
  return out;
}

/** Records given as plain arrays (what `faultline view` sends for a scenario file's traces). */
export interface TraceRecords {
  readonly kind: readonly number[];
  readonly addr: readonly number[];
  readonly size: readonly number[];
}

/** Batches of plain records. */
export function recordBatches(r: TraceRecords): TraceBatch[] {
  const out: TraceBatch[] = [];
  const n = r.kind.length;
  for (let from = 0; from < n; from += 65536) {
    const len = Math.min(65536, n - from);
    const b = new TraceBatch(len);
    for (let i = 0; i < len; i++) {
      b.kind[i] = r.kind[from + i]!;
      b.addr[i] = r.addr[from + i]!;
      b.size[i] = r.size[from + i]!;
    }
    b.length = len;
    out.push(b);
  }
  return out;
}

/** The bundled traces, parsed on first use. */
let bundled: Map<string, TraceBatch[]> | null = null;
export function shippedTraces(): TraceInputs {
  if (!bundled) bundled = new Map(Object.entries(traceTexts).map(([k, v]) => [k, lackeyBatches(v)]));
  return bundled;
}
