/**
 * Replay figures: lackey parsing alone against a full replay of the same file, the binary format
 * against text, and resident memory while a long synthetic trace streams through the machine.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { BUNDLED_TRACE } from '../cli/demo.js';
import { replay } from '../cli/replay_run.js';
import { runOptions } from '../cli/run_options.js';
import { openTrace } from '../cli/trace_source.js';
import type { ReaderMode } from '../cli/trace_thread.js';
import { buildTracedSystem } from '../sim/replay.js';
import { PushSource } from '../sim/sim_thread.js';
import { TraceBatch } from '../sim/trace_batch.js';
import { unwrap } from '../util/result.js';
import { BinaryTraceWriter } from '../workload/binary_trace.js';
import { createWorkload } from '../workload/synthetic.js';
import { lcg, type Recorder } from './harness.js';

const TEXT_LINES = 5_000_000;
const PASSES = 5;

/** Appends lackey lines byte by byte into 1 MiB chunks written to a file descriptor. */
class LackeyWriter {
  private readonly buf = new Uint8Array(1 << 20);
  private pos = 0;
  constructor(private readonly fd: number) {}

  line(kind: string, addr: number, size: number): void {
    if (this.pos > this.buf.length - 64) this.flush();
    const b = this.buf;
    if (kind === 'I') {
      b[this.pos++] = 73;
      b[this.pos++] = 32;
    } else {
      b[this.pos++] = 32;
      b[this.pos++] = kind.charCodeAt(0);
    }
    b[this.pos++] = 32;
    const digits = Math.max(8, Math.ceil(Math.log2(addr + 1) / 4));
    for (let d = digits - 1; d >= 0; d--) {
      const v = Math.floor(addr / 16 ** d) % 16;
      b[this.pos++] = v < 10 ? 48 + v : 87 + v;
    }
    b[this.pos++] = 44;
    if (size >= 10) b[this.pos++] = 48 + Math.floor(size / 10);
    b[this.pos++] = 48 + (size % 10);
    b[this.pos++] = 10;
  }

  text(s: string): void {
    this.flush();
    writeSync(this.fd, s);
  }

  flush(): void {
    if (this.pos > 0) writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }
}

/**
 * A lackey trace with a realistic mix: sequential instruction fetches (1..15 bytes) in a 256K code
 * range with a branch every ~8 instructions, and after ~40% of them a load, store or modify: half
 * into a 4M heap (a sweep and random hits), half into a 64K stack window.
 */
function writeLackey(path: string, lines: number): void {
  const fd = openSync(path, 'w');
  const w = new LackeyWriter(fd);
  w.text('==4242== Lackey, an example Valgrind tool\n==4242== Command: ./bench\n==4242== \n');
  const rnd = lcg(2024);
  const code = 0x400000;
  const heap = 0x4a2c000;
  const stack = 0x1ffeff0000;
  let pc = code;
  let sweep = 0;
  let n = 0;
  while (n < lines) {
    const len = 1 + Math.floor(rnd() * rnd() * 15);
    w.line('I', pc, len);
    n++;
    pc = rnd() < 0.12 ? code + Math.floor(rnd() * 65536) * 4 : pc + len;
    if (pc >= code + 256 * 1024) pc = code;
    if (n < lines && rnd() < 0.4) {
      const u = rnd();
      const kind = u < 0.6 ? 'L' : u < 0.9 ? 'S' : 'M';
      const size = [8, 8, 8, 4, 4, 2, 1, 8][Math.floor(rnd() * 8)]!;
      let addr: number;
      const v = rnd();
      if (v < 0.25) {
        addr = heap + sweep;
        sweep = (sweep + 8) % (4 << 20);
      } else if (v < 0.5) addr = heap + Math.floor(rnd() * (4 << 20));
      else addr = stack + Math.floor(rnd() * 65536);
      w.line(kind, addr - (addr % size), size);
      n++;
    }
  }
  w.flush();
  closeSync(fd);
}

/** Runs `pass` `times` times; returns the fastest wall time in ms and the pass's count. */
async function best(times: number, pass: () => Promise<number>): Promise<{ ms: number; count: number }> {
  let ms = Number.POSITIVE_INFINITY;
  let count = 0;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    count = await pass();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, count };
}

async function parseOnly(path: string, lines: boolean): Promise<number> {
  let records = 0;
  const res = await openTrace(path, (b) => {
    records += b.length;
  });
  if (!res.ok) throw new Error(res.message);
  return lines ? res.value.lines! : records;
}

async function replayFile(path: string, reader: ReaderMode = 'auto'): Promise<number> {
  const out = await replay(path, runOptions(['genode'], {}), { reader });
  if (out.results[0]!.errors.length > 0) throw new Error(`replay errors: ${out.results[0]!.errors[0]}`);
  return out.results[0]!.records;
}

/**
 * Parse-only against full replay of one lackey text file, then the same records in the binary
 * format; figures are named `replay.<label>.*`.
 */
async function fileFigures(r: Recorder, label: string, text: string, what: string): Promise<void> {
  const bin = join(tmpdir(), `faultline-bench-${process.pid}.fltrace`);
  try {
    const how = `${what}, best of ${PASSES}`;
    const parse = await best(PASSES, () => parseOnly(text, true));
    const parseRate = parse.count / (parse.ms / 1000);
    r.record(
      `replay.${label}.parse_only`,
      parseRate,
      'lines/s',
      `${parse.count} lines, openTrace + counting sink, ${how}`,
    );
    const inline = await best(PASSES, () => replayFile(text, 'inline'));
    const inlineRate = inline.count / (inline.ms / 1000);
    r.record(
      `replay.${label}.full_inline`,
      inlineRate,
      'records/s',
      `genode, 1 CPU, --reader inline, ${how}`,
    );
    const full = await best(PASSES, () => replayFile(text));
    const textRate = full.count / (full.ms / 1000);
    r.record(`replay.${label}.full`, textRate, 'records/s', `genode, 1 CPU, reader thread, ${how}`);
    r.record(`replay.${label}.full_vs_parse`, textRate / parseRate, 'ratio', 'target >= 0.8');

    const fd = openSync(bin, 'w');
    const writer = new BinaryTraceWriter((chunk) => {
      writeSync(fd, chunk);
    });
    const conv = await openTrace(text, (b) => {
      writer.write(b);
    });
    writer.finish();
    closeSync(fd);
    if (!conv.ok) throw new Error(conv.message);
    const binParse = await best(PASSES, () => parseOnly(bin, false));
    r.record(`replay.${label}.binary_parse_only`, binParse.count / (binParse.ms / 1000), 'records/s', how);
    const binInline = await best(PASSES, () => replayFile(bin, 'inline'));
    r.record(
      `replay.${label}.binary_full_inline`,
      binInline.count / (binInline.ms / 1000),
      'records/s',
      `genode, 1 CPU, --reader inline, ${how}`,
    );
    const binFull = await best(PASSES, () => replayFile(bin));
    const binRate = binFull.count / (binFull.ms / 1000);
    r.record(`replay.${label}.binary_full`, binRate, 'records/s', `genode, 1 CPU, reader thread, ${how}`);
    r.record(`replay.${label}.binary_vs_text`, binRate / textRate, 'x', 'full replay; target >= 2');
  } finally {
    rmSync(bin, { force: true });
  }
}

/** The synthetic mix (`writeLackey`): many random heap accesses, so many TLB misses. */
async function syntheticFigures(r: Recorder): Promise<void> {
  const text = join(tmpdir(), `faultline-bench-${process.pid}.lackey`);
  try {
    writeLackey(text, TEXT_LINES);
    await fileFigures(r, 'synthetic', text, 'synthetic mix');
  } finally {
    rmSync(text, { force: true });
  }
}

/** The bundled real trace (valgrind lackey of sort), decompressed, repeated to 4x its length. */
async function realFigures(r: Recorder): Promise<void> {
  const text = join(tmpdir(), `faultline-bench-${process.pid}-sort.lackey`);
  try {
    const plain = gunzipSync(readFileSync(BUNDLED_TRACE));
    const fd = openSync(text, 'w');
    for (let i = 0; i < 4; i++) writeSync(fd, plain);
    closeSync(fd);
    await fileFigures(r, 'sort', text, 'bundled sort trace x4');
  } finally {
    rmSync(text, { force: true });
  }
}

/** What the memory child reports on stdout. */
interface MemoryReport {
  startMB: number;
  peakMB: number;
  records: number;
  seconds: number;
}

/**
 * Streams a long synthetic trace through one traced system (batches pushed as replay_run does) and
 * samples the resident set after every batch. Runs in a child process so the figure is the whole
 * process's RSS, unaffected by what earlier groups left in this one.
 */
function streamMemory(): MemoryReport {
  (globalThis as { gc?: () => void }).gc?.();
  const rssStart = process.memoryUsage.rss();
  const full = 100_000_000;
  const trace = unwrap(
    createWorkload({
      pattern: 'zipf',
      skew: 1,
      records: full,
      footprint: 256 * 2 ** 20,
      instrPerAccess: 2,
      codeFootprint: 1 << 20,
      seed: 5,
    }),
  );
  const src = new PushSource();
  const sys = buildTracedSystem([src]);
  const thread = sys.threads[0]!;
  const batch = new TraceBatch();
  let peak = rssStart;
  let records = 0;
  let limit = full;
  const t0 = performance.now();
  while (records < limit) {
    batch.length = 0;
    const n = trace.fill(batch);
    if (n === 0) break;
    src.push(batch);
    sys.machine.kick(thread);
    sys.machine.run();
    records += n;
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    // Projected beyond ~60 s after the first 5 M records: stop at 20 M instead.
    if (limit === full && records >= 5_000_000 && ((performance.now() - t0) / records) * full > 60_000)
      limit = 20_000_000;
  }
  const seconds = (performance.now() - t0) / 1000;
  src.end();
  sys.machine.kick(thread);
  sys.machine.run();
  if (thread.records !== records) throw new Error(`memory bench: ${thread.records} of ${records} replayed`);
  return { startMB: rssStart / 2 ** 20, peakMB: peak / 2 ** 20, records, seconds };
}

async function memoryFigures(r: Recorder): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', self, MEMORY_CHILD], {
    maxBuffer: 1 << 20,
  });
  const m = JSON.parse(stdout) as MemoryReport;
  const what =
    m.records === 100_000_000 ? '100M records' : `${m.records / 1e6}M records (100M projected > 60 s)`;
  r.record(
    'replay.memory.peak_rss',
    m.peakMB,
    'MB',
    `${what}, zipf 256M, child process, ${m.startMB.toFixed(0)} MB before; target < 300`,
  );
  r.record(
    'replay.memory.rate',
    m.records / m.seconds,
    'records/s',
    `${what}, synthetic pushed batches, 1 CPU`,
  );
}

export async function replayBenchmarks(r: Recorder): Promise<void> {
  await syntheticFigures(r);
  await realFigures(r);
  await memoryFigures(r);
}

const MEMORY_CHILD = '--memory-child';
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes(MEMORY_CHILD)) {
  process.stdout.write(`${JSON.stringify(streamMemory())}\n`);
}
