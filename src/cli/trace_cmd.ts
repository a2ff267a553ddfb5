/**
 * `faultline trace info` and `faultline trace convert`: what a trace holds, and conversion between
 * Valgrind lackey text and the faultline binary format (either gzip-compressed), streamed in
 * constant memory. {@link registerTraceCommands} also registers `faultline capture`
 * (capture_cmd.ts), which records new traces.
 */
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  DEFAULT_BATCH_CAPACITY,
  KIND_LETTERS,
  type TraceBatch,
  type TraceInfo,
  TraceInfoCollector,
} from '../sim/trace_batch.js';
import { hex, sizeName } from '../util/hex.js';
import { BinaryTraceWriter } from '../workload/binary_trace.js';
import { sharedTrace } from './block_read.js';
import { AtomicOutputStream, infoFields, registerCaptureCommand } from './capture_cmd.js';
import { checkOutputs, UserError } from './io.js';
import { openTrace, readTraceFromStream, type TraceFormat, type TraceSummary } from './trace_source.js';

/** What `faultline trace info --json` prints. */
export interface TraceInfoReport extends ReturnType<typeof infoFields> {
  readonly file: string;
  readonly format: TraceFormat;
  readonly gzip: boolean;
  /** Size of the file (compressed size for gzip). */
  readonly bytes: number;
  /** Lines of a lackey trace, null for binary. */
  readonly lines: number | null;
  /**
   * Whether `compare` with a partner thread decodes the trace on both replaying threads: lackey
   * text that is not gzip-compressed, or a binary trace whose blocks are batches of 65,536 records
   * (as `trace convert` writes them) and that is not gzip-compressed.
   */
  readonly sharedDecode: boolean;
}

/** Reads a whole trace once and summarises it. A bad or missing file is a UserError naming it. */
export async function traceInfo(path: string): Promise<TraceInfoReport> {
  const c = new TraceInfoCollector();
  const r = await openTrace(path, c.sink);
  if (!r.ok) throw new UserError(r.message);
  const shared = sharedTrace(path, DEFAULT_BATCH_CAPACITY, true) !== null;
  return infoReport(r.value, c.result(), shared);
}

function infoReport(s: TraceSummary, info: TraceInfo, sharedDecode: boolean): TraceInfoReport {
  return {
    file: s.file,
    format: s.format,
    gzip: s.gzip,
    bytes: s.bytes,
    lines: s.lines,
    sharedDecode,
    ...infoFields(info),
  };
}

/** `lackey text`, `faultline binary, gzip`, ... */
export function formatName(format: TraceFormat, gzip: boolean): string {
  return `${format === 'lackey' ? 'lackey text' : 'faultline binary'}${gzip ? ', gzip' : ''}`;
}

/** The text form of `faultline trace info`. */
export function infoText(r: TraceInfoReport): string {
  const kinds = KIND_LETTERS.map((k) => `${k} ${r.perKind[k]}`).join(', ');
  const lines = r.lines === null ? '' : `, ${r.lines} lines`;
  return [
    `${r.file}: ${formatName(r.format, r.gzip)}, ${r.bytes} bytes${lines}`,
    `  records    ${r.records} (${kinds})`,
    `  pages      ${r.pages} distinct 4K pages (${sizeName(r.footprint)} footprint)`,
    `  addresses  ${hex(r.lowest)}..${hex(r.highest)}`,
    `  blocks     ${blocksLine(r)}`,
  ].join('\n');
}

/** Where `compare` decodes the trace's blocks. */
function blocksLine(r: TraceInfoReport): string {
  if (r.format === 'lackey')
    return r.sharedDecode
      ? 'lines cut into blocks: compare parses them on both replaying threads'
      : 'gzip-compressed: compare parses it on the reader thread';
  if (r.sharedDecode) return 'one batch each: compare decodes them on both replaying threads';
  if (r.gzip) return 'gzip-compressed: compare decodes them on the reader thread';
  return 'not one batch (65536 records) each: compare decodes them on the reader thread; trace convert rewrites them';
}

/** Output format chosen from the file name: `.txt`/`.lackey` is lackey text, `.gz` adds gzip. */
export function outputFormat(path: string): { format: TraceFormat; gzip: boolean } {
  const gzip = /\.gz$/i.test(path);
  const base = gzip ? path.slice(0, -3) : path;
  return { format: /\.(txt|lackey)$/i.test(base) ? 'lackey' : 'binary', gzip };
}

/** Most bytes of one lackey line: `I  ` + 16 hex digits + `,` + 4 digits + newline. */
const MAX_LINE = 3 + 16 + 1 + 4 + 1;
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const LEAD = [
  [73, 32, 32],
  [32, 76, 32],
  [32, 83, 32],
  [32, 77, 32],
].map((l) => Uint8Array.from(l));
const TWO32 = 4294967296;

/** Encodes batches as lackey text (`I  04000800,3`, ` L 04222cac,8`), one fresh chunk per batch. */
export class LackeyTextWriter {
  /** Records written so far. */
  records = 0;

  constructor(private readonly out: (chunk: Uint8Array) => void) {}

  /** Encodes every record of a batch. */
  write(batch: TraceBatch): void {
    const buf = new Uint8Array(batch.length * MAX_LINE);
    const { kind, addr, size } = batch;
    let o = 0;
    for (let i = 0; i < batch.length; i++) {
      const lead = LEAD[kind[i]!]!;
      buf[o++] = lead[0]!;
      buf[o++] = lead[1]!;
      buf[o++] = lead[2]!;
      const a = addr[i]!;
      if (a >= 0) {
        const lo = a % TWO32;
        const hi = (a - lo) / TWO32;
        if (hi > 0) o = writeHex(buf, o, hi, 1);
        o = writeHex(buf, o, lo, 8);
      } else {
        // A sign-extended upper-half address: its 64-bit two's complement, 16 digits.
        const lo = ((a % TWO32) + TWO32) % TWO32;
        o = writeHex(buf, o, (a - lo) / TWO32 + TWO32, 8);
        o = writeHex(buf, o, lo, 8);
      }
      buf[o++] = 44; // ,
      o = writeDecimal(buf, o, size[i]!);
      buf[o++] = 10;
    }
    this.records += batch.length;
    if (o > 0) this.out(buf.subarray(0, o));
  }

  /** Nothing to flush: lackey text has no trailer. */
  finish(): void {}
}

/** Writes `v` (< 2^32) in hex, zero-padded to at least `width` digits. */
function writeHex(buf: Uint8Array, o: number, v: number, width: number): number {
  let digits = 1;
  while (digits < 8 && v >= 16 ** digits) digits++;
  digits = Math.max(digits, width);
  for (let d = digits - 1; d >= 0; d--) {
    buf[o + d] = HEX_DIGITS[v % 16]!;
    v = Math.floor(v / 16);
  }
  return o + digits;
}

function writeDecimal(buf: Uint8Array, o: number, v: number): number {
  const digits = v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1;
  for (let d = digits - 1; d >= 0; d--) {
    buf[o + d] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + digits;
}

/** What `faultline trace convert` did. */
export interface ConvertReport {
  readonly input: { readonly file: string; readonly format: TraceFormat; readonly gzip: boolean };
  readonly output: { readonly file: string; readonly format: TraceFormat; readonly gzip: boolean };
  readonly records: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Converts a trace (format detected from its bytes) to the format {@link outputFormat} picks from
 * `output`'s name, streaming with backpressure. The output appears only when the whole input was
 * read without error.
 */
export async function convertTrace(input: string, output: string): Promise<ConvertReport> {
  const to = outputFormat(output);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(input, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${input}: ${code === 'ENOENT' ? 'no such file' : `cannot open: ${(e as Error).message}`}`,
    );
  }
  // Converting a file onto itself would replace the input while it is being read.
  try {
    await checkOutputs([{ flag: '', path: output }], [input]);
  } catch (e) {
    await fh.close();
    throw e;
  }
  const stream = fh.createReadStream({ highWaterMark: 1 << 20 });
  let out: AtomicOutputStream | null = null;
  try {
    const o = await AtomicOutputStream.create(output, to.gzip);
    out = o;
    const encoder =
      to.format === 'binary'
        ? new BinaryTraceWriter((c) => o.write(c))
        : new LackeyTextWriter((c) => o.write(c));
    // Read the next input chunk only once the output has room: memory stays bounded.
    async function* throttled(): AsyncGenerator<Uint8Array> {
      for await (const c of stream as AsyncIterable<Uint8Array>) {
        yield c;
        if (!(await o.drained())) return;
      }
    }
    const r = await readTraceFromStream(throttled(), input, (b) => encoder.write(b));
    if (o.failure) throw new UserError(`cannot write ${output}: ${o.failure.message}`);
    if (!r.ok) throw new UserError(r.message);
    encoder.finish();
    const bytesOut = await o.commit();
    out = null;
    return {
      input: { file: input, format: r.value.format, gzip: r.value.gzip },
      output: { file: output, ...to },
      records: r.value.records,
      bytesIn: r.value.bytes,
      bytesOut,
    };
  } finally {
    await out?.abort();
    stream.destroy();
    await fh.close().catch(() => undefined);
  }
}

/** The text form of `faultline trace convert`. */
export function convertText(r: ConvertReport): string {
  return [
    `${r.input.file} (${formatName(r.input.format, r.input.gzip)}) -> ${r.output.file} (${formatName(r.output.format, r.output.gzip)})`,
    `  records    ${r.records}`,
    `  bytes      ${r.bytesIn} in, ${r.bytesOut} out`,
  ].join('\n');
}

/** Registers `faultline trace info`, `faultline trace convert` and `faultline capture`. */
export function registerTraceCommands(program: Command): void {
  const trace = program.command('trace').description('inspect and convert memory-access traces');
  trace
    .command('info <trace>')
    .description(
      'records per kind, distinct 4K pages, address range and format of a trace (lackey, binary, gzip)',
    )
    .option('--json', 'print one JSON object')
    .action(async (path: string, flags: { json?: boolean }) => {
      const r = await traceInfo(path);
      process.stdout.write(`${flags.json ? JSON.stringify(r) : infoText(r)}\n`);
    });
  trace
    .command('convert <in> <out>')
    .description('convert a trace: to faultline binary, or to lackey text when OUT ends in .txt or .lackey')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nThe input format is detected from its bytes. An OUT ending in .gz is gzip-compressed.\n' +
        'OUT is written atomically: on any error no output file is left behind.',
    )
    .action(async (input: string, output: string, flags: { json?: boolean }) => {
      const r = await convertTrace(input, output);
      process.stdout.write(`${flags.json ? JSON.stringify(r) : convertText(r)}\n`);
    });
  registerCaptureCommand(program);
}
