/**
 * `faultline capture -- PROGRAM ARGS...`: runs a program under Valgrind's lackey tool and records
 * its memory accesses to a (gzip) lackey file, or with `--replay` streams them live into a design,
 * with no file at all. Valgrind writes the trace to a pipe on its fd 3 (`--log-fd=3`), so the
 * program's own stdout and stderr stay untouched and the trace is consumed as it is produced.
 * Also home of {@link AtomicOutputStream}, the streaming counterpart of `writeFileAtomic`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import { type ArchName, arch } from '../hw/arch.js';
import { TLB_SPEC_HELP } from '../hw/tlb_spec.js';
import { summaryText } from '../report/run_report.js';
import { stopText } from '../sim/replay_stop.js';
import { KIND_LETTERS, type TraceInfo, TraceInfoCollector } from '../sim/trace_batch.js';
import { LackeyParser } from '../workload/lackey.js';
import { checkOutputs, EXIT_INTERRUPTED, ensureDir, Interrupt, UserError } from './io.js';
import { addRunFlags } from './replay_cmd.js';
import type { ReplayOutcome } from './replay_run.js';
import { type RunFlags, runOptions } from './run_options.js';

/** What `valgrind` missing looks like to the user. */
export const VALGRIND_MISSING = 'valgrind not found: install it (Debian: apt-get install valgrind)';

/**
 * A file written as a stream and put in place only at {@link commit}: bytes go (optionally through
 * gzip) to `PATH.tmp-PID`, which is renamed to `PATH` on success and removed on {@link abort}, so a
 * failed or interrupted run never leaves a partial file under the final name.
 */
export class AtomicOutputStream {
  /** The first write error, if any; later writes are dropped. */
  failure: Error | null = null;

  private constructor(
    /** Final path. */
    readonly path: string,
    private readonly tmp: string,
    private readonly head: Writable,
    private readonly file: Writable & { bytesWritten: number },
    private readonly done: Promise<void>,
  ) {
    done.catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
  }

  /** Opens the temporary file (failing early, as a UserError, when the location is not writable). */
  static async create(path: string, gzip: boolean): Promise<AtomicOutputStream> {
    const tmp = `${path}.tmp-${process.pid}`;
    let fh: FileHandle;
    try {
      await ensureDir(dirname(path));
      fh = await open(tmp, 'w');
    } catch (e) {
      throw new UserError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const file = fh.createWriteStream();
    const gz = gzip ? createGzip() : null;
    const done = gz ? pipeline(gz, file) : finished(file);
    return new AtomicOutputStream(path, tmp, gz ?? file, file, done);
  }

  /** Queues bytes (the caller keeps memory bounded by awaiting {@link drained}). */
  write(chunk: Uint8Array): void {
    if (this.failure === null) this.head.write(chunk);
  }

  /** Waits until queued bytes are flushed enough to take more; false once writing has failed. */
  async drained(): Promise<boolean> {
    if (this.failure === null && this.head.writableNeedDrain) {
      try {
        await Promise.race([once(this.head, 'drain'), this.done]);
      } catch (e) {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      }
    }
    return this.failure === null;
  }

  /** Flushes, closes and renames into place; returns the bytes written (compressed size for gzip). */
  async commit(): Promise<number> {
    if (this.failure === null) {
      this.head.end();
      await this.done.catch(() => undefined);
    }
    if (this.failure === null) {
      try {
        await rename(this.tmp, this.path);
        return this.file.bytesWritten;
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
      }
    }
    const why = this.failure.message;
    await this.abort();
    throw new UserError(`cannot write ${this.path}: ${why}`);
  }

  /** Stops writing and removes the temporary file; the final path is left as it was. */
  async abort(): Promise<void> {
    this.failure ??= new Error('aborted');
    this.head.destroy();
    this.file.destroy();
    await this.done.catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/** A {@link TraceInfo} as JSON fields (the same shape as `faultline trace info --json`). */
export function infoFields(info: TraceInfo) {
  return {
    records: info.records,
    perKind: Object.fromEntries(KIND_LETTERS.map((k, i) => [k, info.perKind[i]!])) as Record<string, number>,
    pages: info.pages,
    footprint: info.footprint,
    lowest: info.lowest,
    highest: info.highest,
  };
}

/** Options of {@link capture}. */
export interface CaptureOptions {
  /** The program and its arguments. */
  readonly command: readonly string[];
  /** Trace file to write; default `PROGRAM.lackey.gz` (or `.lackey` without gzip), none with `replay`. */
  readonly out?: string;
  readonly gzip: boolean;
  /** Replay the accesses live through `design`. */
  readonly replay: boolean;
  readonly design: string;
  readonly flags: RunFlags;
}

/**
 * How the run ended. Valgrind ends the way the program did (same exit status, same fatal signal);
 * `completed` tells that apart from valgrind failing on its own.
 */
export interface CaptureExit {
  /** True when valgrind ran the program to its end (lackey printed its final `Exit code` line). */
  readonly completed: boolean;
  /** Exit status, or null when ended by a signal. */
  readonly code: number | null;
  /** Fatal signal, or null. */
  readonly signal: string | null;
}

/** What a capture produced. */
export interface CaptureReport {
  readonly command: readonly string[];
  /** The written trace file, if any. */
  readonly output: { readonly file: string; readonly gzip: boolean; readonly bytes: number } | null;
  /** Summary of the captured accesses (without `replay`). */
  readonly info: TraceInfo | null;
  /** The replay (with `replay`). */
  readonly replayed: ReplayOutcome | null;
  readonly exit: CaptureExit;
  /** True when the user interrupted the capture (Ctrl-C). */
  readonly interrupted: boolean;
  /** Why valgrind failed, or null when it ran the program to its end. */
  readonly problem: string | null;
}

/**
 * Keeps the last bytes of valgrind's log, where lackey's last line is `==PID== Exit code: N` once
 * the program has ended (N itself is not reliable: valgrind's exit status is).
 */
class LogTail {
  private text = '';
  see(chunk: Uint8Array): void {
    const s = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    this.text = (this.text + s.slice(-512)).slice(-512);
  }
  completed(): boolean {
    return /==\d+== Exit code:\s+-?\d+\s*$/.test(this.text);
  }
}

/** Starts valgrind; a UserError when it cannot be run. */
async function startValgrind(command: readonly string[]): Promise<ChildProcess> {
  const child = spawn('valgrind', ['--tool=lackey', '--trace-mem=yes', '--log-fd=3', ...command], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
  });
  try {
    await once(child, 'spawn');
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    if (x.code === 'ENOENT') throw new UserError(VALGRIND_MISSING);
    throw new UserError(`cannot run valgrind: ${x.message}`);
  }
  return child;
}

/** Runs `command` under valgrind lackey; writes and/or replays the trace. */
export async function capture(opts: CaptureOptions): Promise<CaptureReport> {
  const program = opts.command[0];
  if (program === undefined)
    throw new UserError('capture: no program given (usage: faultline capture -- PROGRAM ARGS...)');
  const runs = opts.replay ? runOptions([opts.design], opts.flags) : null;
  // The simulator is loaded only for --replay (and before valgrind starts writing).
  const { replay } = runs ? await import('./replay_run.js') : { replay: null };
  const outPath = opts.out ?? (opts.replay ? null : `${basename(program)}.lackey${opts.gzip ? '.gz' : ''}`);
  // The program and its file arguments are read while the trace is written: never write over them.
  if (outPath !== null) await checkOutputs([{ flag: '--out', path: outPath }], opts.command);
  const out = outPath === null ? null : await AtomicOutputStream.create(outPath, opts.gzip);
  let child: ChildProcess;
  try {
    child = await startValgrind(opts.command);
  } catch (e) {
    await out?.abort();
    throw e;
  }
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const stop = Interrupt.install();
  const tail = new LogTail();
  let logEnded = false;
  const log = child.stdio[3] as Readable;
  async function* tapped(): AsyncGenerator<Uint8Array> {
    for await (const c of log as AsyncIterable<Uint8Array>) {
      // Once stopped, end at the next line end: what was captured stays a well-formed trace.
      const nl = stop.requested ? c.lastIndexOf(10) : -1;
      const chunk = nl >= 0 ? c.subarray(0, nl + 1) : c;
      tail.see(chunk);
      if (out) {
        out.write(chunk);
        if (!(await out.drained())) return;
      }
      yield chunk;
      if (nl >= 0) return;
    }
    logEnded = true;
  }
  const name = `valgrind output of ${program}`;
  let replayed: ReplayOutcome | null = null;
  let info: TraceInfo | null = null;
  let failure: unknown = null;
  let killed = false;
  try {
    if (runs && replay) {
      replayed = await replay({ stream: tapped(), name }, runs, { shouldStop: () => stop.requested });
    } else {
      info = await countRecords(tapped(), name);
    }
  } catch (e) {
    failure = e;
  } finally {
    stop.dispose();
    log.destroy();
    // Stopped before valgrind closed its log (interrupted, bad output): end it. Otherwise it is
    // exiting by itself, and how it ends is its own.
    if (!logEnded && child.exitCode === null && child.signalCode === null) killed = child.kill('SIGTERM');
  }
  const ended = await closed;
  const interrupted = stop.requested;
  const exit: CaptureExit = { completed: tail.completed(), code: ended.code, signal: ended.signal };
  const records = replayed?.trace.records ?? info?.records ?? 0;
  // Ctrl-C on a terminal reaches valgrind too: its end is then the user's doing, not a failure.
  const problem = exit.completed || killed || interrupted ? null : valgrindProblem(exit, records, program);
  const writeFailure = out?.failure ?? null;
  if (failure !== null || records === 0 || writeFailure !== null) {
    await out?.abort();
    if (writeFailure !== null && failure === null) {
      throw new UserError(`cannot write ${out!.path}: ${writeFailure.message}`);
    }
    if (problem !== null) throw new UserError(problem, 1);
    if (failure !== null) throw failure;
    throw new UserError(`${name}: no trace records captured`, 1);
  }
  const output = out ? { file: out.path, gzip: opts.gzip, bytes: await out.commit() } : null;
  return { command: opts.command, output, info, replayed, exit, interrupted, problem };
}

function valgrindProblem(exit: CaptureExit, records: number, program: string): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `failed with exit status ${exit.code}`;
  const when = records === 0 ? ` before running ${program}` : ` while running ${program}`;
  return `valgrind ${how}${when} (see its messages above)`;
}

/** Counts and summarises the records of a lackey stream; a syntax error is a UserError naming the line. */
async function countRecords(stream: AsyncIterable<Uint8Array>, name: string): Promise<TraceInfo> {
  const collector = new TraceInfoCollector();
  const parser = new LackeyParser(collector.sink);
  for await (const c of stream) {
    const r = parser.feed(c);
    if (!r.ok) throw new UserError(`${name}: ${r.message}`, 1);
  }
  const e = parser.end();
  if (!e.ok) throw new UserError(`${name}: ${e.message}`, 1);
  return collector.result();
}

/** The one-line JSON or text that `faultline capture` prints. */
export function captureText(r: CaptureReport, json: boolean): string {
  const capture = {
    command: r.command,
    output: r.output,
    ...r.exit,
    problem: r.problem,
  };
  if (r.replayed) {
    const o = r.replayed;
    const t = o.trace;
    if (json) {
      const trace = { file: t.file, format: t.format, gzip: t.gzip, records: t.records };
      return JSON.stringify({
        ...o.results[0]!,
        trace,
        interrupted: r.interrupted || o.interrupted,
        capture,
      });
    }
    const lines = [];
    if (r.interrupted || o.interrupted) lines.push('interrupted: partial result');
    lines.push(summaryText(o.results[0]!));
    for (const e of o.results[0]!.errors) lines.push(`error: ${e}`);
    const stop = o.results[0]!.stopped;
    if (stop) lines.push(stopText(stop, t.records, arch(o.results[0]!.arch as ArchName)));
    if (r.output) lines.push(`wrote ${describeOutput(r.output)}`);
    return lines.join('\n');
  }
  const info = r.info!;
  if (json) return JSON.stringify({ ...infoFields(info), interrupted: r.interrupted, capture });
  const lines = [];
  if (r.interrupted) lines.push('interrupted: partial capture');
  lines.push(`captured ${info}`);
  if (r.output) lines.push(`wrote ${describeOutput(r.output)}`);
  return lines.join('\n');
}

function describeOutput(o: NonNullable<CaptureReport['output']>): string {
  return `${o.file} (${o.bytes} bytes, ${o.gzip ? 'gzip lackey text' : 'lackey text'})`;
}

/** A note for stderr when the program exited non-zero or was killed, or null. */
export function exitNote(r: CaptureReport): string | null {
  const { completed, code, signal } = r.exit;
  if (!completed || r.interrupted) return null;
  if (signal !== null) return `note: ${r.command[0]} was killed by ${signal}`;
  return code !== 0 ? `note: ${r.command[0]} exited with status ${code}` : null;
}

/** Registers `faultline capture`. */
export function registerCaptureCommand(program: Command): void {
  addRunFlags(
    program
      .command('capture')
      .description('run a program under Valgrind lackey and record its memory accesses (or replay them live)')
      .argument('<program>', 'the program to run, after `--`')
      .argument('[args...]', 'its arguments')
      .option('--out <file>', 'trace file to write (default: PROGRAM.lackey.gz in the current directory)')
      .option('--no-gzip', 'write plain lackey text')
      .option('--replay', 'replay the accesses live through a design, with no file (add --out to keep one)')
      .option('--design <name>', 'design for --replay (see `faultline designs`)', 'genode')
      .option('--json', 'print one JSON object (with --replay: the `faultline replay --json` object)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  faultline capture -- ls -l /               writes ls.lackey.gz
  faultline capture --replay --json -- /bin/true

The program's stdout and stderr are its own; valgrind writes the trace to a pipe.
Exit status: 0 when the capture worked (a program exiting non-zero is noted on stderr), 1 when
valgrind failed (what was captured is still reported), 2 for usage errors or missing valgrind,
130 when stopped by Ctrl-C (what was captured so far is kept and reported).

TLB specs (--tlb):
  ${TLB_SPEC_HELP}
`,
    )
    .action(
      async (
        prog: string,
        args: string[],
        flags: RunFlags & { out?: string; gzip: boolean; replay?: boolean; design: string; json?: boolean },
      ) => {
        const r = await capture({
          command: [prog, ...args],
          out: flags.out,
          gzip: flags.gzip,
          replay: !!flags.replay,
          design: flags.design,
          flags,
        });
        process.stdout.write(`${captureText(r, !!flags.json)}\n`);
        if (r.problem !== null) throw new UserError(r.problem, 1);
        const note = exitNote(r);
        if (note !== null) process.stderr.write(`faultline: ${note}\n`);
        if (r.interrupted) process.exitCode = EXIT_INTERRUPTED;
      },
    );
}
