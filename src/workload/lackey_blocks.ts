/**
 * Parsing lackey text in pieces: the file cut into blocks of whole lines (an index read from a
 * few bytes around each cut), and a parser for one block. Lines are independent once a block
 * starts at a line's start, so several threads can parse any blocks in any order; the caller
 * adds the lines of the blocks before a failing one to its error's line number
 * ({@link rebaseSyntaxError}). Records, lines and errors are those of {@link LackeyParser}, which
 * parses each block.
 */

import { TraceBatch } from '../sim/trace_batch.js';
import { invariant, type Ok } from '../util/result.js';
import { isBinaryTrace } from './binary_trace_reader.js';
import { LackeyParser, type LackeyStats, type TraceSyntaxError } from './lackey.js';
import { DASH, EQ, MAX_LINE_BYTES, NL } from './lackey_scan.js';

/**
 * Fewest bytes of a record line with its newline (`I 0,1\n`); the last line of a file may lack
 * the newline. A block of n bytes therefore holds at most floor((n + 1) / 6) records.
 */
export const MIN_RECORD_LINE_BYTES = 6;

/** Most bytes of a block whose records are sure to fit a batch of `capacity` records. */
export function blockBytesFor(capacity: number): number {
  return MIN_RECORD_LINE_BYTES * capacity - 1;
}

/** Where the blocks of a lackey text file lie: each starts at a line's start. */
export interface LackeyBlockIndex {
  /** Per block: absolute offset. */
  readonly offsets: Float64Array;
  /** Per block: length in bytes (every block but the last ends with a newline). */
  readonly bytes: Uint32Array;
  /** The file's size. */
  readonly size: number;
}

/** Bytes read per look back for a newline before a cut. */
const PROBE = 4096;
/** Bytes read per look ahead past a line longer than a block (a Valgrind message, or garbage). */
const AHEAD = 1 << 16;

/**
 * Cuts a file of `size` bytes, read through `readAt(offset, length)`, into blocks of at most
 * `blockBytes` bytes that end with a newline: each cut goes after the last newline before the
 * limit. A line longer than a block makes a block of its own (one line: at most one record), or,
 * when it is too long to be a record line, blocks of their own.
 * Null for an empty file, a gzip-compressed one and a binary trace (they are not cut).
 */
export function indexLackeyBlocks(
  size: number,
  readAt: (offset: number, length: number) => Uint8Array,
  blockBytes: number,
): LackeyBlockIndex | null {
  invariant(Number.isInteger(blockBytes) && blockBytes >= 1, `blockBytes ${blockBytes} is not a size`);
  if (size <= 0) return null;
  const head = readAt(0, 8);
  if ((head[0] === 0x1f && head[1] === 0x8b) || isBinaryTrace(head)) return null;
  const offsets: number[] = [];
  const bytes: number[] = [];
  for (let s = 0; s < size; ) {
    const e =
      size - s <= blockBytes ? size : cutAfter(s, s + blockBytes, size, Math.min(PROBE, blockBytes), readAt);
    offsets.push(s);
    bytes.push(e - s);
    s = e;
  }
  return { offsets: Float64Array.from(offsets), bytes: Uint32Array.from(bytes), size };
}

/**
 * The end of the block that starts at `s`: just after the last newline in [s, limit), or, when
 * there is none, after the first newline from `limit` on (or the file's end). A line that long
 * which is not a Valgrind message is cut as soon as it passes MAX_LINE_BYTES + 1 bytes: the parse
 * of its first piece fails on it exactly as the streaming reader does, and no later piece is ever
 * taken. So garbage without newlines (a wrong file) makes blocks of the usual size, not one block
 * the size of the file.
 */
function cutAfter(
  s: number,
  limit: number,
  size: number,
  probe: number,
  readAt: (offset: number, length: number) => Uint8Array,
): number {
  for (let to = limit; to > s; to -= probe) {
    const from = Math.max(s, to - probe);
    const nl = readAt(from, to - from).lastIndexOf(NL);
    if (nl >= 0) return from + nl + 1;
  }
  const head = readAt(s, 2);
  const message = head.length === 2 && head[0] === head[1] && (head[0] === EQ || head[0] === DASH);
  for (let from = limit; from < size; from += AHEAD) {
    if (!message && from - s > MAX_LINE_BYTES + 1) return from;
    const nl = readAt(from, Math.min(AHEAD, size - from)).indexOf(NL);
    if (nl >= 0) return from + nl + 1;
  }
  return size;
}

/**
 * Parses one block, `buf[start..end)`, into `batch` (from its start), with line numbers counted
 * from the block's first line. Only the file's last block may end without a newline. Its records
 * must fit the batch ({@link blockBytesFor}).
 */
export function parseLackeyBlock(
  buf: Uint8Array,
  start: number,
  end: number,
  batch: TraceBatch,
): Ok<LackeyStats> | TraceSyntaxError {
  batch.length = 0;
  let delivered = 0;
  // The parser hands over a batch when it is full or at the end; a second one would mean the
  // block held more records than the batch.
  const spare = new TraceBatch(1);
  const parser = new LackeyParser(
    (b) => {
      if (b.length > 0) delivered++;
    },
    undefined,
    () => (delivered === 0 ? batch : spare),
  );
  const r = parser.feed(buf.subarray(start, end));
  const e = r.ok ? parser.end() : r;
  invariant(delivered <= 1 && spare.length === 0, 'a lackey block held more records than its batch');
  return e;
}

/** The error of a block's parse, its line counted from the file's start (`linesBefore` lines precede the block). */
export function rebaseSyntaxError(e: TraceSyntaxError, linesBefore: number): TraceSyntaxError {
  const line = e.line + linesBefore;
  return { ...e, line, message: `line ${line}, column ${e.column}: ${e.detail}` };
}
