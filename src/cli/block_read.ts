/**
 * The replaying thread's side of a shared decode ({@link BlockRing}): `compare` of a binary trace
 * or of plain lackey text with a partner thread reads no trace on a reader thread; this thread and
 * the partner decode the blocks between them while each replays its designs. Same contract as
 * {@link openTrace}.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TraceSink } from '../sim/trace_batch.js';
import { ok } from '../util/result.js';
import { indexBinaryBlocks } from '../workload/binary_blocks.js';
import { blockBytesFor, indexLackeyBlocks, rebaseSyntaxError } from '../workload/lackey_blocks.js';
import type { BlockFailure, BlockRing, SharedTrace } from './block_ring.js';
import { balances, type DesignShare, type planShare } from './replay_share.js';
import { mainBalance } from './share_balance.js';
import { type TraceReadResult, traceSourceError } from './trace_source.js';

/**
 * Batches in flight. Like the reader thread's ring with a partner (PARTNER_SLOTS): the two
 * threads replay different designs and drift apart, and the one ahead decodes ahead.
 */
export const SHARED_SLOTS = 16;

/** The replaying thread lets the event loop run (signals, progress bars) at least this often. */
const YIELD_MS = 25;

/**
 * The blocks of `path` when a shared decode can read it into batches of `capacity` records: a
 * plain (not gzip) binary trace with at least one record, well framed, whose blocks each fill one
 * batch (as `trace convert` writes them); or, when `text`, a plain file that is not a binary trace
 * (lackey text, cut at line ends). Null otherwise: the streaming reader then reads it, and reports
 * any problem in it.
 */
export function sharedTrace(path: string, capacity: number, text: boolean): SharedTrace | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const readAt = (offset: number, length: number): Uint8Array => {
      const b = new Uint8Array(length);
      let got = 0;
      for (let k = 1; got < length && k > 0; got += k) k = readSync(fd, b, got, length - got, offset + got);
      return b.subarray(0, got);
    };
    const size = fstatSync(fd).size;
    const binary = indexBinaryBlocks(size, readAt, capacity);
    if (binary !== null) return binary.totalRecords > 0 ? { format: 'binary', index: binary } : null;
    const lackey = text ? indexLackeyBlocks(size, readAt, blockBytesFor(capacity)) : null;
    return lackey !== null ? { format: 'lackey', index: lackey } : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Options of {@link readBlocksShared}. */
export interface SharedReadOptions {
  readonly onProgress?: (bytes: number) => void;
  /** True once the partner thread has died (then nothing waits for it). */
  readonly partnerFailed: () => boolean;
  /**
   * Balance the runs between the threads (replay_share.ts): this thread's runs, fed by
   * `consumer`, and which runs the partner replays now. The partner must be told to balance too.
   */
  readonly balance?: {
    readonly share: DesignShare;
    readonly partner: readonly boolean[];
    /** Picks the new split (default {@link planShare}; tests force moves with it). */
    readonly choose?: typeof planShare;
  };
}

/**
 * Replays the batches of `ring` into `consumer` on this thread, decoding those nobody has yet,
 * and allows each to the partner as it takes it. Resolves once the partner has replayed every
 * batch taken.
 */
export async function readBlocksShared(
  ring: BlockRing,
  consumer: TraceSink,
  options: SharedReadOptions,
): Promise<TraceReadResult> {
  const { path, trace } = ring.buffers;
  let taken = 0;
  let records = 0;
  /** Lackey text: lines of the blocks taken, and whether the last ended without a newline. */
  let lines = 0;
  let partialLine = false;
  let stopped = false;
  let failure: BlockFailure | Error | null = null;
  let turn = performance.now();
  const b = options.balance;
  const balance =
    b !== undefined && balances(ring.length, b.partner.length)
      ? mainBalance(ring, b.share, b.partner, ring.length, options.partnerFailed, b.choose)
      : null;
  try {
    for (let i = 0; i < ring.length; ) {
      // While batches are ready nothing below awaits: make room for signal handlers and timers.
      if (performance.now() - turn >= YIELD_MS) {
        await nextTurn();
        turn = performance.now();
      }
      const tick = ring.tick;
      const batch = ring.ready(i);
      if (batch === null) {
        if (ring.failed(i)) {
          failure = ring.error(i);
          break;
        }
        // Nothing to decode: perhaps the plan frees the slots this thread holds.
        if (ring.decodeAhead() || balance?.settle() === true) continue;
        // A partner that died may have claimed this batch, or hold its slot: it never comes.
        if (options.partnerFailed()) throw new Error('internal: the partner replay thread died');
        await ring.changed(tick, 200);
        turn = performance.now();
        continue;
      }
      records += batch.length;
      const l = ring.lines(i);
      lines += l.lines;
      partialLine = l.partialLine;
      ring.allow(++taken);
      const more = consumer(batch);
      i++;
      if (balance?.holding === true) balance.replayed(i);
      else ring.release(i - 1);
      if (more === false) {
        stopped = true;
        break;
      }
      options.onProgress?.(ring.bytesThrough(i - 1));
    }
    ring.end(taken);
    for (;;) {
      const tick = ring.tick;
      if (ring.partnerProgress >= taken || options.partnerFailed()) break;
      await ring.changed(tick, 200);
    }
  } finally {
    // On an exception the partner is told the run ends here: it must not wait for batches that will not come.
    ring.end(taken);
    ring.close();
  }
  if (failure instanceof Error) return traceSourceError(path, 'TRACE_IO', `read error: ${failure.message}`);
  if (failure !== null && failure.code === 'TRACE_SYNTAX') {
    // The block's line numbers count from its first line; the blocks taken before it precede it.
    const e = rebaseSyntaxError(failure, lines);
    return traceSourceError(path, e.code, e.message, { line: e.line, column: e.column });
  }
  if (failure !== null)
    return traceSourceError(path, failure.code, failure.message, { offset: failure.offset });
  const through = stopped ? ring.bytesThrough(taken - 1) : ring.bytesThrough(ring.length - 1);
  if (trace.format === 'binary') {
    return ok({
      file: path,
      format: 'binary',
      gzip: false,
      records,
      lines: null,
      partialLine: false,
      declaredRecords: trace.index.declaredRecords,
      stopped,
      // Read to the end: the last block and the 16-byte end block after it.
      bytes: stopped ? through : through + 16,
    });
  }
  if (records === 0)
    return traceSourceError(path, 'TRACE_EMPTY', `no trace records (${lines} lines, none of them an access)`);
  // In the streaming reader's order of fields.
  return ok({
    file: path,
    gzip: false,
    declaredRecords: null,
    lines,
    partialLine: partialLine && !stopped,
    format: 'lackey',
    records,
    stopped,
    bytes: through,
  });
}
