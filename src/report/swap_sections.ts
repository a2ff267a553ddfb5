/**
 * The paged memory's part of a run report (issue 16): rows of the figures table (major and minor
 * faults with their latencies, swap-ins and swap-outs, bytes moved, time waiting for disk) and a
 * table per design of its swap providers. Results without paged memory add nothing.
 */
import type { RunResult } from '../sim/replay.js';
import type { CaptionedTable } from './run_sections.js';
import type { Cell } from './table.js';

type Row = readonly [string, (r: RunResult) => number | string];

const ROWS: readonly Row[] = [
  ['faults major (disk I/O)', (r) => r.faults.major ?? '-'],
  ['faults minor (no I/O)', (r) => r.faults.minor ?? '-'],
  ['  major latency p50 (cycles)', (r) => r.faults.latencyByKind?.major.p50 ?? '-'],
  ['  major latency p99 (cycles)', (r) => r.faults.latencyByKind?.major.p99 ?? '-'],
  ['  minor latency p50 (cycles)', (r) => r.faults.latencyByKind?.minor.p50 ?? '-'],
  ['  minor latency p99 (cycles)', (r) => r.faults.latencyByKind?.minor.p99 ?? '-'],
  ['swap-ins (pages)', (r) => r.swap?.ins ?? '-'],
  ['swap-outs (pages)', (r) => r.swap?.outs ?? '-'],
  ['bytes swapped in', (r) => r.swap?.bytesIn ?? '-'],
  ['bytes swapped out', (r) => r.swap?.bytesOut ?? '-'],
  ['file pages read / written back', (r) => (r.swap ? `${r.swap.fileIns} / ${r.swap.fileOuts}` : '-')],
  ['evictions (with writes)', (r) => (r.swap ? `${r.swap.evictions} (${r.swap.evictionsDirty})` : '-')],
  ['waiting for disk (cycles)', (r) => r.swap?.diskWaitCycles ?? '-'],
  ['threads terminated by paging', (r) => r.swap?.terminated ?? '-'],
];

/** The paged memory's rows of the figures table (none when no result has paged memory). */
export function swapRows(results: readonly RunResult[]): Cell[][] {
  if (!results.some((r) => r.swap)) return [];
  return ROWS.map(([label, f]) => [label, ...results.map(f)]);
}

/** Per design with paged memory: its providers' figures. */
export function swapTables(r: RunResult): CaptionedTable[] {
  const s = r.swap;
  if (!s) return [];
  const limit =
    s.ram === null ? 'no RAM limit' : `RAM limit ${s.ram} bytes = ${s.frames} frames of ${s.unit} bytes`;
  return [
    {
      caption: `Swap providers (${r.design}; ${s.pager} pages, data by ${s.data}, ${s.replacement} replacement, ${limit}); latency of the major faults each served, in cycles`,
      headers: [
        'provider',
        'device',
        'blocks used',
        'ins',
        'outs',
        'bytes in',
        'bytes out',
        'cache hits',
        'I/O errors',
        'timeouts',
        'p50',
        'p99',
      ],
      rows: s.providers.map((p) => [
        `${p.name}${p.dead ? ' (dead)' : ''}`,
        p.device,
        `${p.used} of ${p.blocks}`,
        p.ins,
        p.outs,
        p.bytesIn,
        p.bytesOut,
        p.cacheHits,
        p.ioErrors,
        p.timeouts,
        p.latency.p50,
        p.latency.p99,
      ]),
    },
  ];
}
