/**
 * Replay and compare results, as `faultline replay --json` and `faultline compare --json` print
 * them (with `--tlb-samples`, the TLB contents over time).
 */
import type { RunResult } from '../../../src/sim/replay.js';
import type { TlbSample } from '../../../src/sim/tlb_samples.js';

/** One run's result, with its TLB samples when it was replayed with --tlb-samples. */
export type RunResultView = RunResult & { readonly tlbSamples?: readonly TlbSample[] };

/** A loaded result file. */
export type RunFile =
  | { readonly kind: 'replay'; readonly file: string; readonly result: RunResultView; readonly trace: string }
  | {
      readonly kind: 'compare';
      readonly file: string;
      readonly results: readonly RunResultView[];
      readonly trace: string;
    };

function isResult(x: unknown): x is RunResultView {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.design === 'string' &&
    typeof r.records === 'number' &&
    typeof r.cycles === 'number' &&
    typeof r.tlb === 'object' &&
    typeof r.faults === 'object' &&
    typeof r.mappings === 'object'
  );
}

/** Recognises the JSON of a replay or a comparison; otherwise says what was expected. */
export function parseRunFile(json: unknown, file: string): RunFile | { readonly error: string } {
  if (typeof json !== 'object' || json === null) return { error: `${file}: expected a JSON object` };
  const j = json as Record<string, unknown>;
  const trace =
    typeof j.trace === 'object' && j.trace !== null ? String((j.trace as { file?: unknown }).file ?? '') : '';
  if (Array.isArray(j.results)) {
    if (j.results.length === 0 || !j.results.every(isResult))
      return { error: `${file}: "results" must hold the objects faultline replay --json prints` };
    return { kind: 'compare', file, results: j.results, trace };
  }
  if (isResult(j)) return { kind: 'replay', file, result: j, trace };
  return {
    error: `${file}: not the output of faultline replay --json or faultline compare --json (expected "design", "records", "tlb", … or "results")`,
  };
}

/** Entries by page size summed over the levels of one CPU at one sample. */
export function entriesBySize(s: TlbSample, cpu: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of s.cpus.find((c) => c.cpu === cpu)?.levels ?? []) {
    for (const [size, n] of Object.entries(l.valid)) out[size] = (out[size] ?? 0) + n;
  }
  return out;
}

/** Per interval between consecutive samples: the hit rate and the misses (translations that missed every level). */
export function intervals(
  samples: readonly TlbSample[],
): { records: number; rate: number; misses: number }[] {
  const out: { records: number; rate: number; misses: number }[] = [];
  let h = 0;
  let m = 0;
  for (const s of samples) {
    const dh = s.hits - h;
    const dm = s.misses - m;
    if (dh + dm > 0) out.push({ records: s.records, rate: dh / (dh + dm), misses: dm });
    h = s.hits;
    m = s.misses;
  }
  return out;
}
