/**
 * Replay figures: a full replay of a lackey file against a native (C, -O2) parse of the same file
 * and against parsing alone, its gzip form, the binary format, both readers, and `compare` with
 * several designs against one replay; and resident memory while a long synthetic trace streams
 * through the machine. Every figure is measured twice: wall time (best of PASSES) and a CPU-time
 * bound (see `timed`), which does not move when other processes share the machine's two cores.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
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
import { writeLackeyMix } from '../workload/lackey_mix.js';
import { createWorkload } from '../workload/synthetic.js';
import type { Recorder, Timed } from './harness.js';
import { timed } from './harness.js';

const TEXT_LINES = 5_000_000;
const PASSES = 5;
/** Designs of the `compare` figures, in order: the first N are compared. */
const COMPARE = ['genode', '4k-only', 'partitioned', 'trampoline'];

const rate = (t: Timed, ms: number): number => t.count / (ms / 1000);

/** What the native parser reports. */
interface NativeReport {
  lines: number;
  records: number;
  cpu: number;
  wall: number;
}

/**
 * Builds the native baseline (src/bench/native/lackey_parse.c) with the machine's C compiler into
 * a temporary directory; null when there is none. Without zlib it is built for plain files only.
 */
function buildNative(dir: string): { path: string; gzip: boolean } | null {
  const src = fileURLToPath(new URL('../../src/bench/native/lackey_parse.c', import.meta.url));
  const out = join(dir, 'lackey_parse');
  for (const cc of ['cc', 'gcc', 'clang']) {
    for (const [flags, gzip] of [
      [['-lz'], true],
      [['-DNO_ZLIB'], false],
    ] as const) {
      try {
        execFileSync(cc, ['-O2', '-o', out, src, ...flags], { stdio: 'ignore' });
        return { path: out, gzip };
      } catch {
        // next flags or compiler
      }
    }
  }
  return null;
}

/** Best of `times` runs of the native parser on `file`: lines, and the lowest CPU and wall time. */
function native(bin: string, file: string, times: number): Timed {
  let cpuMs = Number.POSITIVE_INFINITY;
  let wallMs = Number.POSITIVE_INFINITY;
  let count = 0;
  for (let i = 0; i < times; i++) {
    const rep = JSON.parse(execFileSync(bin, [file], { encoding: 'utf8' })) as NativeReport;
    cpuMs = Math.min(cpuMs, rep.cpu * 1000);
    wallMs = Math.min(wallMs, rep.wall * 1000);
    count = rep.records;
  }
  return { cpuMs, wallMs, count };
}

async function parseOnly(path: string, lines: boolean): Promise<number> {
  let records = 0;
  const res = await openTrace(path, (b) => {
    records += b.length;
  });
  if (!res.ok) throw new Error(res.message);
  return lines ? res.value.lines! : records;
}

async function replayFile(
  path: string,
  reader: ReaderMode = 'auto',
  designs = ['genode'],
  sharedDecode = true,
): Promise<number> {
  const out = await replay(path, runOptions(designs, {}), { reader, sharedDecode });
  if (out.results[0]!.errors.length > 0) throw new Error(`replay errors: ${out.results[0]!.errors[0]}`);
  return out.results[0]!.records;
}

/** Records a full replay's wall rate and its CPU-time bound, `name` and `name_cpu`. */
function recordRates(r: Recorder, name: string, t: Timed, how: string, target?: string): void {
  r.record(name, rate(t, t.wallMs), 'records/s', `${how}, wall`);
  r.record(
    `${name}_cpu`,
    rate(t, t.cpuMs),
    'records/s',
    `${how}, CPU-time bound${target ? `; ${target}` : ''}`,
  );
}

/** Writes the binary form of a lackey file. */
async function toBinary(text: string, bin: string): Promise<void> {
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
}

/**
 * Every figure of one lackey text file, named `replay.<label>.*`: parsing, full replays with both
 * readers, the native baseline, the gzip and binary forms, and `compare`.
 */
async function fileFigures(
  r: Recorder,
  label: string,
  text: string,
  what: string,
  nativeBin: { path: string; gzip: boolean } | null,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  const gz = join(dir, 'trace.lackey.gz');
  const bin = join(dir, 'trace.fltrace');
  try {
    const how = `${what}, genode, 1 CPU, best of ${PASSES}`;
    const parse = await timed(PASSES, () => parseOnly(text, true));
    r.record(
      `replay.${label}.parse_only`,
      rate(parse, parse.wallMs),
      'lines/s',
      `${parse.count} lines, openTrace + counting sink, ${what}, best of ${PASSES}, wall`,
    );
    const inline = await timed(PASSES, () => replayFile(text, 'inline'));
    recordRates(r, `replay.${label}.full_inline`, inline, `${how}, --reader inline`);
    const full = await timed(PASSES, () => replayFile(text, 'thread'));
    recordRates(r, `replay.${label}.full`, full, `${how}, reader thread`);
    r.record(
      `replay.${label}.full_vs_parse`,
      rate(full, full.wallMs) / rate(parse, parse.wallMs),
      'ratio',
      'wall; target >= 0.8',
    );

    // Item 2: against a native byte loop over the same file.
    if (nativeBin) {
      const nat = native(nativeBin.path, text, PASSES);
      r.record(
        `replay.${label}.native_parse`,
        rate(nat, nat.cpuMs),
        'records/s',
        'C -O2 byte loop, mmap, CPU time',
      );
      r.record(
        `replay.${label}.full_vs_native`,
        rate(full, full.cpuMs) / rate(nat, nat.cpuMs),
        'ratio',
        'full replay (reader thread) vs native parse, CPU-time bound vs CPU time; target >= 0.5',
      );
      r.record(
        `replay.${label}.full_vs_native_wall`,
        rate(full, full.wallMs) / rate(nat, nat.wallMs),
        'ratio',
        "the same in wall time (moves with the machine's load)",
      );
    }

    // The gzip form: zlib inflates on libuv's pool, the parser on the reader thread.
    writeFileSync(gz, gzipSync(readFileSync(text)));
    const gzInline = await timed(PASSES, () => replayFile(gz, 'inline'));
    recordRates(r, `replay.${label}.gzip_full_inline`, gzInline, `${how}, gzip, --reader inline`);
    const gzFull = await timed(PASSES, () => replayFile(gz, 'thread'));
    recordRates(r, `replay.${label}.gzip_full`, gzFull, `${how}, gzip, reader thread`);
    if (nativeBin?.gzip) {
      const nat = native(nativeBin.path, gz, PASSES);
      r.record(
        `replay.${label}.gzip_native_parse`,
        rate(nat, nat.cpuMs),
        'records/s',
        'C -O2, zlib gzread, CPU time',
      );
      r.record(
        `replay.${label}.gzip_full_vs_native`,
        rate(gzFull, gzFull.cpuMs) / rate(nat, nat.cpuMs),
        'ratio',
        'gzip: full replay vs native inflate + parse, CPU time; target >= 0.5',
      );
    }

    await toBinary(text, bin);
    const binParse = await timed(PASSES, () => parseOnly(bin, false));
    r.record(
      `replay.${label}.binary_parse_only`,
      rate(binParse, binParse.wallMs),
      'records/s',
      `${what}, best of ${PASSES}, wall`,
    );
    const binInline = await timed(PASSES, () => replayFile(bin, 'inline'));
    recordRates(r, `replay.${label}.binary_full_inline`, binInline, `${how}, binary, --reader inline`);
    const binFull = await timed(PASSES, () => replayFile(bin, 'thread'));
    recordRates(
      r,
      `replay.${label}.binary_full`,
      binFull,
      `${how}, binary, reader thread`,
      'target >= 100 M',
    );
    r.record(
      `replay.${label}.binary_vs_text`,
      rate(binFull, binFull.wallMs) / rate(full, full.wallMs),
      'x',
      'full replay, wall; target >= 2',
    );

    // Item 3: the reader thread against --reader inline, per form (> 1: the thread is faster).
    for (const [form, thread, inl] of [
      ['text', full, inline],
      ['gzip', gzFull, gzInline],
      ['binary', binFull, binInline],
    ] as const) {
      r.record(
        `replay.${label}.thread_vs_inline.${form}`,
        inl.wallMs / thread.wallMs,
        'x',
        'wall; > 1: the reader thread is faster',
      );
      r.record(
        `replay.${label}.thread_vs_inline.${form}_cpu`,
        inl.cpuMs / thread.cpuMs,
        'x',
        'CPU-time bound',
      );
    }

    // Item 6: compare with N designs against one replay of the same file, both with --reader
    // thread (what `--reader auto` picks for comparisons from 10 M records on: the designs replay on
    // two threads, which decode the trace between them). The designs differ in cost (4k-only misses
    // far more), so one replay is the mean of their single replays.
    for (const [form, path] of [
      ['text', text],
      ['binary', bin],
    ] as const) {
      const singles: Timed[] = [];
      for (const d of COMPARE) singles.push(await timed(PASSES, () => replayFile(path, 'thread', [d])));
      for (const n of [2, 4]) {
        const t = await timed(PASSES, () => replayFile(path, 'thread', COMPARE.slice(0, n)));
        const mean = (k: 'wallMs' | 'cpuMs') => singles.slice(0, n).reduce((a, x) => a + x[k], 0) / n;
        const bound = 1 + 0.5 * (n - 1);
        const what = `${COMPARE.slice(0, n).join(', ')} against the mean of their single replays`;
        r.record(
          `replay.${label}.compare_${n}.${form}`,
          t.wallMs / mean('wallMs'),
          'replays',
          `${what}, wall; target <= ${bound}`,
        );
        r.record(
          `replay.${label}.compare_${n}.${form}_cpu`,
          t.cpuMs / mean('cpuMs'),
          'replays',
          `${what}, CPU-time bound; target <= ${bound}`,
        );
        // The same comparison with the reader thread decoding (before the shared decode; text of 2
        // designs then takes no partner).
        const ring = await timed(PASSES, () => replayFile(path, 'thread', COMPARE.slice(0, n), false));
        r.record(
          `replay.${label}.compare_${n}.${form}_reader_thread`,
          ring.wallMs / mean('wallMs'),
          'replays',
          `${what}, wall, decoded on the reader thread; baseline of the shared decode`,
        );
        // A design's simulation runs on one thread, so no split beats the slowest design's replay:
        // against the mean, that is the least this figure can reach (2 designs: 2·slow/(fast+slow)).
        const slowestWall = Math.max(...singles.slice(0, n).map((x) => x.wallMs));
        r.record(
          `replay.${label}.compare_${n}.${form}_floor`,
          slowestWall / mean('wallMs'),
          'replays',
          `the slowest of the designs' single replays against their mean, wall: the least compare_${n}.${form} can reach`,
        );
        // No split of unequal designs over two threads beats the slowest one's replay.
        const slowest = Math.max(...singles.slice(0, n).map((x) => x.cpuMs));
        r.record(
          `replay.${label}.compare_${n}.${form}_vs_slowest_cpu`,
          t.cpuMs / slowest,
          'x',
          'CPU-time bound against the slowest single replay of the same designs',
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The synthetic mix (workload/lackey_mix.ts): many random heap accesses, so many TLB misses. */
async function syntheticFigures(
  r: Recorder,
  nativeBin: { path: string; gzip: boolean } | null,
): Promise<void> {
  const text = join(tmpdir(), `faultline-bench-${process.pid}.lackey`);
  try {
    const fd = openSync(text, 'w');
    writeLackeyMix(TEXT_LINES, (c) => {
      writeSync(fd, c);
    });
    closeSync(fd);
    await fileFigures(r, 'synthetic', text, 'synthetic mix', nativeBin);
  } finally {
    rmSync(text, { force: true });
  }
}

/** The bundled real trace (valgrind lackey of sort), decompressed, repeated to 4x its length. */
async function realFigures(r: Recorder, nativeBin: { path: string; gzip: boolean } | null): Promise<void> {
  const text = join(tmpdir(), `faultline-bench-${process.pid}-sort.lackey`);
  try {
    const plain = gunzipSync(readFileSync(BUNDLED_TRACE));
    const fd = openSync(text, 'w');
    for (let i = 0; i < 4; i++) writeSync(fd, plain);
    closeSync(fd);
    await fileFigures(r, 'sort', text, 'bundled sort trace x4', nativeBin);
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
  const dir = mkdtempSync(join(tmpdir(), 'faultline-native-'));
  try {
    const nativeBin = buildNative(dir);
    if (!nativeBin) process.stderr.write('  (no C compiler: the native baseline figures are left out)\n');
    await syntheticFigures(r, nativeBin);
    await realFigures(r, nativeBin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await memoryFigures(r);
}

const MEMORY_CHILD = '--memory-child';
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes(MEMORY_CHILD)) {
  process.stdout.write(`${JSON.stringify(streamMemory())}\n`);
}
