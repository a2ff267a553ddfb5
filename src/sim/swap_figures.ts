/**
 * The figures of a paged memory (docs/OUTPUT.md `swap`, `faults.major`): per provider and in all,
 * and the words for a transfer that failed.
 */
import { BLOCK_SIZE } from '../hw/block_device.js';
import { hex } from '../util/hex.js';
import { NOMINAL_CLOCK_HZ } from './cost.js';
import type { Histogram } from './metrics.js';
import type { LatencyResult, SwapResult } from './swap_options.js';
import type { PageTransfer, SwapSystem } from './swap_system.js';

/** The figures of a swap system's run (since its last reset). */
export function swapResult(sys: SwapSystem): SwapResult {
  const s = sys.mem.stats;
  const providers = sys.servers.map((t) => {
    const f = sys.figures.get(t)!;
    const info = sys.registry.providers().find((p) => p.port === t.port)!;
    const dev = t.server.device;
    return {
      name: t.server.name,
      device: dev.spec.name,
      blocks: info.blocks,
      used: info.used,
      ins: f.ins,
      outs: f.outs,
      bytesIn: f.ins * BLOCK_SIZE,
      bytesOut: f.outs * BLOCK_SIZE,
      cacheHits: t.server.stats.cacheHits - f.from.cacheHits,
      ioErrors: t.server.stats.ioErrors - f.from.ioErrors,
      timeouts: f.timeouts,
      dead: t.dead || info.dead,
      queueWaitCycles: dev.stats.queueWaitCycles - f.from.queueWaitCycles,
      latency: latencyOf(f.latency),
    };
  });
  const ins = providers.reduce((a, p) => a + p.ins, 0);
  const outs = providers.reduce((a, p) => a + p.outs, 0);
  return {
    ram: sys.options.ram,
    frames: sys.mem.frames.capacity,
    unit: sys.mem.unitBytes,
    pager: sys.pager,
    data: sys.mode,
    replacement: sys.options.replacement ?? 'clock',
    ins,
    outs,
    bytesIn: ins * BLOCK_SIZE,
    bytesOut: outs * BLOCK_SIZE,
    fileIns: sys.counters.fileIns,
    fileOuts: sys.counters.fileOuts,
    diskWaitCycles: sys.counters.diskWait,
    evictions: s.evictions - sys.base.evictions,
    evictionsDirty: s.evictionsDirty - sys.base.evictionsDirty,
    zeroFills: s.zeroFills - sys.base.zeroFills,
    terminated: sys.counters.terminated,
    providers,
  };
}

/** Why a transfer failed, in words: `'swap0' reported an I/O error`. */
export function failureText(t: PageTransfer, timeoutCycles: number): string {
  const who = `'${t.server.server.name}'`;
  if (t.status === 'DEAD') return `${who} is dead`;
  if (t.status === 'TIMEOUT') return `${who} did not answer within ${timeoutCycles / NOMINAL_CLOCK_HZ} s`;
  return `${who} reported an I/O error`;
}

/** What a failed transfer of the page at `va` was: `swap-in of the page at 0x1000`. */
export function transferText(op: 'read' | 'write', file: boolean, va: number): string {
  const what = file
    ? op === 'read'
      ? 'reading'
      : 'writing back'
    : op === 'read'
      ? 'swap-in of'
      : 'swap-out of';
  return `${what} the ${file ? 'memory-mapped ' : ''}page at ${hex(va)}`;
}

/** p50, p99, max and count of a histogram (zeros when empty). */
export function latencyOf(h: Histogram): LatencyResult {
  return h.count === 0
    ? { p50: 0, p99: 0, max: 0, count: 0 }
    : { p50: h.percentile(0.5), p99: h.percentile(0.99), max: h.max, count: h.count };
}
