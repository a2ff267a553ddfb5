/**
 * Replay rate of the bundled trace against another build, in one process: `node --expose-gc
 * dist/bench/replay_ab.js BASELINE_DIST [SECONDS]`, where BASELINE_DIST is the `dist` directory of
 * another checkout, built, with its `node_modules` (docs/BENCHMARKS.md says how to make one).
 *
 * Both builds replay the bundled sort trace four times over, alternating run by run, and each
 * build's main-thread CPU time is summed (see `threadCpuMs`), so load from other processes hits
 * both alike. Two figures: the simulation alone (records parsed once, in memory, pushed through a
 * traced system) and a whole `faultline replay --reader inline`.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { threadCpuMs } from './harness.js';

/** One build's entry points, loaded from its dist directory. */
interface Build {
  readonly name: string;
  /** Replays the parsed records (simulation only); returns the records replayed. */
  sim(): number;
  /** A whole inline replay of the file; returns the records replayed. */
  full(): Promise<number>;
}

/** The modules of a build, as far as this bench uses them (the same API before and after). */
interface Batch {
  length: number;
  readonly kind: Uint8Array;
  readonly addr: Float64Array;
  readonly size: Uint8Array | Uint16Array | Uint32Array;
}

async function load(dist: string, name: string, trace: string): Promise<Build> {
  const m = async <T>(path: string) => (await import(pathToFileURL(join(dist, path)).href)) as T;
  const { openTrace } = await m<{
    openTrace(p: string, sink: (b: Batch) => void): Promise<{ ok: boolean; message?: string }>;
  }>('cli/trace_source.js');
  const { buildTracedSystem } = await m<{
    buildTracedSystem(s: unknown[]): {
      machine: { kick(t: unknown): void; run(): void };
      threads: { records: number }[];
    };
  }>('sim/replay.js');
  const { PushSource } = await m<{
    PushSource: new () => { push(b: Batch): void; end(): void };
  }>('sim/sim_thread.js');
  const { TraceBatch } = await m<{ TraceBatch: new (n: number) => Batch }>('sim/trace_batch.js');
  const { replay } = await m<{
    replay(p: string, runs: unknown, hooks: unknown): Promise<{ results: { records: number }[] }>;
  }>('cli/replay_run.js');
  const { runOptions } = await m<{ runOptions(d: string[], f: object): unknown }>('cli/run_options.js');
  const batches: Batch[] = [];
  const r = await openTrace(trace, (b) => {
    const c = new TraceBatch(b.length);
    c.kind.set(b.kind.subarray(0, b.length));
    c.addr.set(b.addr.subarray(0, b.length));
    c.size.set(b.size.subarray(0, b.length));
    c.length = b.length;
    batches.push(c);
  });
  if (!r.ok) throw new Error(`${name}: ${r.message}`);
  return {
    name,
    sim() {
      const src = new PushSource();
      const sys = buildTracedSystem([src]);
      const t = sys.threads[0]!;
      for (const b of batches) {
        src.push(b);
        sys.machine.kick(t);
        sys.machine.run();
      }
      src.end();
      sys.machine.kick(t);
      sys.machine.run();
      return t.records;
    },
    async full() {
      const out = await replay(trace, runOptions(['genode'], {}), { reader: 'inline' });
      return out.results[0]!.records;
    },
  };
}

/** Alternates the two builds for `seconds`; returns records per second of main-thread CPU each. */
async function race(
  a: Build,
  b: Build,
  seconds: number,
  pass: (x: Build) => number | Promise<number>,
): Promise<[number, number]> {
  const cpu = [0, 0];
  const records = [0, 0];
  for (let i = 0; i < 3; i++) {
    await pass(a);
    await pass(b);
  }
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    // Alternate which goes first, so neither always runs after the other's garbage.
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      (globalThis as { gc?: () => void }).gc?.();
      const t = threadCpuMs();
      records[k]! += await pass(k === 0 ? a : b);
      cpu[k]! += threadCpuMs() - t;
    }
  }
  return [(records[0]! * 1000) / cpu[0]!, (records[1]! * 1000) / cpu[1]!];
}

async function main(): Promise<void> {
  const base = process.argv[2];
  if (base === undefined) {
    process.stderr.write('usage: node --expose-gc dist/bench/replay_ab.js BASELINE_DIST [SECONDS]\n');
    process.exitCode = 2;
    return;
  }
  const seconds = Number(process.argv[3] ?? 20);
  const here = resolve(import.meta.dirname, '..');
  const trace = join(tmpdir(), `faultline-ab-${process.pid}-sort.lackey`);
  try {
    const plain = gunzipSync(readFileSync(join(here, '..', 'traces', 'sort.lackey.gz')));
    const fd = openSync(trace, 'w');
    for (let i = 0; i < 4; i++) writeSync(fd, plain);
    closeSync(fd);
    const a = await load(resolve(base), 'baseline', trace);
    const b = await load(here, 'this build', trace);
    const [simA, simB] = await race(a, b, seconds, (x) => x.sim());
    const [fullA, fullB] = await race(a, b, seconds, (x) => x.full());
    const m = (v: number) => (v / 1e6).toFixed(2).padStart(7);
    process.stdout.write(
      `bundled sort trace x4, M records per second of main-thread CPU, ${seconds} s per figure\n` +
        `                        baseline  this build  ratio\n` +
        `simulation only         ${m(simA)}   ${m(simB)}    ${(simB / simA).toFixed(3)}\n` +
        `replay --reader inline  ${m(fullA)}   ${m(fullB)}    ${(fullB / fullA).toFixed(3)}\n`,
    );
  } finally {
    rmSync(trace, { force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`replay_ab failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
