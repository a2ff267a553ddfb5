/**
 * Trace input from files and streams: detects gzip, the faultline binary format and lackey text by
 * their first bytes, streams the input through the matching parser in constant memory (async
 * iteration gives backpressure) and reports problems as typed errors naming the file.
 */
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { BatchSupply, TraceSink } from '../sim/trace_batch.js';
import { type Err, err, type Ok, ok } from '../util/result.js';
import { BinaryTraceReader, isBinaryTrace } from '../workload/binary_trace_reader.js';
import { LackeyParser } from '../workload/lackey.js';

/** Error codes of trace input. */
export type TraceSourceCode =
  | 'TRACE_NOT_FOUND'
  | 'TRACE_IO'
  | 'TRACE_EMPTY'
  | 'TRACE_SYNTAX'
  | 'TRACE_CORRUPT';

/** A trace input problem; the message starts with the file name. */
export interface TraceSourceError extends Err<TraceSourceCode> {
  /** File or stream name as given. */
  readonly file: string;
  /** 1-based line of a lackey syntax error. */
  readonly line?: number;
  /** 1-based byte column of a lackey syntax error. */
  readonly column?: number;
  /** Byte offset of a binary-format problem (in the uncompressed data) or, for gzip problems, compressed bytes read. */
  readonly offset?: number;
}

/** Trace formats recognised by their first bytes. */
export type TraceFormat = 'lackey' | 'binary';

/** What was read. */
export interface TraceSummary {
  readonly file: string;
  readonly format: TraceFormat;
  /** True when the input was gzip-compressed. */
  readonly gzip: boolean;
  /** Records delivered to the consumer. */
  readonly records: number;
  /** Lines read (lackey only). */
  readonly lines: number | null;
  /** True when a lackey input ended without a final newline (the last line may be cut short). */
  readonly partialLine: boolean;
  /** Count declared in a binary header, if any. */
  readonly declaredRecords: number | null;
  /** True when the consumer returned `false` and reading stopped early. */
  readonly stopped: boolean;
  /** Bytes read from the file or stream (compressed size for gzip). */
  readonly bytes: number;
}

/** Options of {@link openTrace} and {@link readTraceFromStream}. */
export interface TraceSourceOptions {
  /** Records per batch handed to the consumer (default 65536). */
  readonly batchCapacity?: number;
  /** Batches to fill, one after another (default: one batch of `batchCapacity`, refilled). */
  readonly batchSupply?: BatchSupply;
  /** File read size in bytes (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Called with the input bytes read so far (compressed bytes for gzip input). */
  readonly onProgress?: (bytes: number) => void;
}

/** Result of reading a trace. */
export type TraceReadResult = Ok<TraceSummary> | TraceSourceError;

/** A trace input error naming `file`. */
export const traceSourceError = (
  file: string,
  code: TraceSourceCode,
  what: string,
  extra: object = {},
): TraceSourceError => ({
  ...err(code, `${file}: ${what}`),
  file,
  ...extra,
});

/**
 * Streams a trace file (lackey text, faultline binary, either gzip-compressed) to `consumer` in
 * batches. The consumer may return `false` to stop early. Resolves to a summary or a typed error.
 */
export async function openTrace(
  path: string,
  consumer: TraceSink,
  options: TraceSourceOptions = {},
): Promise<TraceReadResult> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return traceSourceError(path, 'TRACE_NOT_FOUND', 'no such file');
    return traceSourceError(path, 'TRACE_IO', `cannot open: ${(e as Error).message}`);
  }
  const stream = fh.createReadStream({ highWaterMark: options.chunkBytes ?? 1 << 20 });
  try {
    return await readTraceFromStream(stream, path, consumer, options);
  } finally {
    stream.destroy();
    await fh.close().catch(() => undefined);
  }
}

/** Byte counter shared by the chunk generators of one read. */
interface Counter {
  bytes: number;
  /** Told the input bytes read so far (compressed bytes for gzip), for progress bars. */
  progress?: (bytes: number) => void;
}

/**
 * Reads a trace from any byte stream (e.g. Valgrind's stdout for `capture --replay`); `name`
 * labels errors. Detection and errors as in {@link openTrace}.
 */
export async function readTraceFromStream(
  readable: AsyncIterable<unknown>,
  name: string,
  consumer: TraceSink,
  options: TraceSourceOptions = {},
): Promise<TraceReadResult> {
  const counter: Counter = { bytes: 0, progress: options.onProgress };
  // Exceptions thrown by the consumer are its own: they propagate, they are not read errors.
  let thrown: { error: unknown } | null = null;
  const sink: TraceSink = (batch) => {
    try {
      return consumer(batch);
    } catch (error) {
      thrown = { error };
      throw error;
    }
  };
  try {
    return await consume(readable[Symbol.asyncIterator](), name, sink, options, counter, false);
  } catch (e) {
    if (thrown !== null) throw (thrown as { error: unknown }).error;
    return ioError(name, e, counter);
  }
}

function ioError(name: string, e: unknown, counter: Counter): TraceSourceError {
  const x = e as NodeJS.ErrnoException;
  if (typeof x?.code === 'string' && x.code.startsWith('Z_')) {
    const what =
      x.code === 'Z_BUF_ERROR'
        ? 'unexpected end of gzip data (the file is truncated)'
        : `corrupt gzip data (${x.message})`;
    return traceSourceError(name, 'TRACE_CORRUPT', `${what} after ${counter.bytes} compressed bytes`, {
      offset: counter.bytes,
    });
  }
  return traceSourceError(name, 'TRACE_IO', `read error: ${x?.message ?? String(e)}`);
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  throw new TypeError(`trace stream yielded ${typeof v}, expected bytes`);
}

/** Yields `head` and then the rest of `it`, counting bytes; closes `it` when the consumer stops. */
async function* rest(
  head: Uint8Array[],
  it: AsyncIterator<unknown>,
  counter: Counter | null,
): AsyncGenerator<Uint8Array> {
  try {
    for (const c of head) yield c;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const c = toBytes(r.value);
      if (counter) {
        counter.bytes += c.length;
        counter.progress?.(counter.bytes);
      }
      yield c;
    }
  } finally {
    await it.return?.();
  }
}

async function consume(
  it: AsyncIterator<unknown>,
  name: string,
  consumer: TraceSink,
  options: TraceSourceOptions,
  counter: Counter,
  gzip: boolean,
): Promise<TraceReadResult> {
  // Peek at least 8 bytes (the binary magic) to pick the format.
  const head: Uint8Array[] = [];
  let headLen = 0;
  while (headLen < 8) {
    const r = await it.next();
    if (r.done) break;
    const c = toBytes(r.value);
    if (!gzip) counter.bytes += c.length;
    head.push(c);
    headLen += c.length;
  }
  const first = concat(head, Math.min(headLen, 8));
  const chunks = rest(head, it, gzip ? null : counter);
  if (!gzip && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = createGunzip();
    pipeline(chunks, gunzip, () => undefined);
    return consume(gunzip[Symbol.asyncIterator](), name, consumer, options, counter, true);
  }
  const base = { file: name, gzip, declaredRecords: null, lines: null, partialLine: false };
  if (isBinaryTrace(first)) {
    const reader = new BinaryTraceReader(consumer, options.batchCapacity, options.batchSupply);
    for await (const c of chunks) {
      const r = reader.feed(c);
      if (!r.ok) return traceSourceError(name, r.code, r.message, { offset: r.offset });
      if (reader.stopped) break;
    }
    const e = reader.end();
    if (!e.ok) return traceSourceError(name, e.code, e.message, { offset: e.offset });
    const s = { ...base, format: 'binary' as const, ...e.value, bytes: counter.bytes };
    return s.records === 0
      ? traceSourceError(name, 'TRACE_EMPTY', 'no trace records in this binary trace')
      : ok(s);
  }
  const parser = new LackeyParser(consumer, options.batchCapacity, options.batchSupply);
  for await (const c of chunks) {
    const r = parser.feed(c);
    if (!r.ok) return traceSourceError(name, r.code, r.message, { line: r.line, column: r.column });
    if (parser.stopped) break;
  }
  const e = parser.end();
  if (!e.ok) return traceSourceError(name, e.code, e.message, { line: e.line, column: e.column });
  if (e.value.records === 0) {
    const why = headLen === 0 ? 'the input is empty' : `${e.value.lines} lines, none of them an access`;
    return traceSourceError(name, 'TRACE_EMPTY', `no trace records (${why})`);
  }
  return ok({ ...base, format: 'lackey', ...e.value, bytes: counter.bytes });
}

function concat(chunks: Uint8Array[], max: number): Uint8Array {
  const out = new Uint8Array(max);
  let o = 0;
  for (const c of chunks) {
    if (o >= max) break;
    const n = Math.min(c.length, max - o);
    out.set(c.subarray(0, n), o);
    o += n;
  }
  return out;
}
