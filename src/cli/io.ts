/**
 * Command-line I/O helpers shared by every command: user errors without stack traces, the
 * preflight of outputs (writable, not an input, not each other), outputs written atomically (a
 * temporary file renamed into place, so a failed run leaves no partial file and no earlier
 * output is lost), Ctrl-C as a request to stop, and the parsers of numbers, sizes, lists and
 * choices, so every flag of every command is checked the same way with the same words.
 */
import { access, constants, mkdir, open, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A mistake of the user's (bad flag, bad file): printed as one line, exit status `exitCode`. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Exit status of a run stopped by Ctrl-C (128 + SIGINT, as a shell reports it). */
export const EXIT_INTERRUPTED = 130;

/**
 * Exit status of `replay` and `compare` when a traced thread stopped for good before the end of
 * its trace, in any design (it died, or waits for a failed fault handler): the output is
 * complete, but covers only the records before the stop (`stopped` in docs/OUTPUT.md).
 */
export const EXIT_THREAD_STOPPED = 3;

/** Writes `data` to `path` via a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await ensureDir(dirname(path));
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new UserError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time (`mkdir -p`; Node's recursive mkdir
 * can loop forever under /proc).
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; (await statOrNull(d)) === null; d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    await mkdir(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
}

/** One file a command will write, and the flag that named it (for the error message; '' for none). */
export interface Output {
  readonly flag: string;
  readonly path: string;
}

const label = (o: Output) => (o.flag ? `${o.flag}: ` : '');

type Stats = Awaited<ReturnType<typeof stat>>;

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserError(`cannot check ${path}: ${(e as Error).message}`);
  }
}

/**
 * Creates and removes a file in `dir`: the only sure test that files can be made there (access()
 * says yes to root on a read-only or virtual file system). Returns why not, or null.
 */
async function probe(dir: string): Promise<string | null> {
  const p = join(dir, `.faultline-probe-${process.pid}`);
  try {
    await (await open(p, 'wx')).close();
    await rm(p, { force: true });
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return `the directory ${dir} is not writable`;
    if (code === 'EROFS') return `${dir} is on a read-only file system`;
    return `cannot create files in ${dir} (${code ?? (e as Error).message})`;
  }
}

async function writable(path: string, mode: number): Promise<boolean> {
  return access(path, mode).then(
    () => true,
    () => false,
  );
}

/**
 * Checks, before any work, that `o` can be written: an existing regular file that is writable,
 * or a new file whose nearest existing ancestor is a directory we may create files in. Returns
 * the output's canonical path (symlinks of the existing part resolved), to compare outputs.
 */
async function checkOutput(o: Output): Promise<string> {
  if (o.path === '') throw new UserError(`${label(o)}'' is not a file name`);
  const fail = (why: string) => new UserError(`${label(o)}cannot write ${o.path}: ${why}`);
  const st = await statOrNull(o.path);
  if (st) {
    if (st.isDirectory()) throw fail('it is a directory');
    // Renaming over a device or a pipe (say /dev/null) would replace it with a plain file.
    if (!st.isFile()) throw fail('it is not a regular file');
    if (!(await writable(o.path, constants.W_OK))) throw fail('the file is not writable');
  }
  // The temporary file is created beside the output: its directory must take new files.
  let dir = dirname(o.path);
  const missing: string[] = [];
  for (;;) {
    const d = await statOrNull(dir);
    if (d) {
      if (!d.isDirectory()) throw fail(`${dir} is not a directory`);
      const why = await probe(dir);
      if (why) throw fail(why);
      break;
    }
    if (dirname(dir) === dir) throw fail(`no such directory ${dir}`);
    missing.unshift(basename(dir));
    dir = dirname(dir);
  }
  return join(await realpath(dir), ...missing, basename(o.path));
}

/** `--out DIR` of the commands that write several files: any directory name but the empty one. */
export function outDir(text: string, flag = '--out'): string {
  if (text === '')
    throw new UserError(`${flag}: '' is not a directory name (use . for the current directory)`);
  return text;
}

/**
 * The preflight every command runs before any work: each output can be written (see
 * {@link checkOutput}), none is the same file as an input (same device and inode, so a symlink,
 * a hard link or `./a` for `a` are caught) and no two outputs are the same file. Inputs that do
 * not exist are skipped: their reader reports them.
 */
export async function checkOutputs(
  outputs: readonly Output[],
  inputs: readonly string[] = [],
): Promise<void> {
  const ins: Array<{ path: string; st: Stats }> = [];
  for (const path of inputs) {
    // An input we cannot even look at cannot be an output we could write: skip it.
    const st = await stat(path).catch(() => null);
    if (st?.isFile()) ins.push({ path, st });
  }
  const seen = new Map<string, Output>();
  for (const o of outputs) {
    const canonical = await checkOutput(o);
    const st = await statOrNull(o.path);
    const input = st && ins.find((i) => i.st.dev === st.dev && i.st.ino === st.ino);
    if (input) {
      const which = input.path === o.path ? 'the input file' : `the same file as the input ${input.path}`;
      throw new UserError(`${label(o)}${o.path} is ${which}; write the output somewhere else`);
    }
    const other = seen.get(canonical);
    if (other) throw new UserError(`${label(o)}${o.path} is also the ${other.flag} output (${other.path})`);
    seen.set(canonical, o);
  }
}

/**
 * Ctrl-C as a request to stop: {@link requested} turns true at the first SIGINT, and the command
 * finishes with what it has (partial results, exit status {@link EXIT_INTERRUPTED}); a second
 * Ctrl-C ends the process at once.
 */
export class Interrupt {
  private count = 0;
  private readonly onSignal = () => {
    this.count++;
    if (this.count > 1) process.exit(EXIT_INTERRUPTED);
  };

  private constructor() {
    process.on('SIGINT', this.onSignal);
  }

  /** Starts listening for Ctrl-C. */
  static install(): Interrupt {
    return new Interrupt();
  }

  /** True once Ctrl-C was pressed. */
  get requested(): boolean {
    return this.count > 0;
  }

  /** Stops listening (Ctrl-C kills the process again). */
  dispose(): void {
    process.removeListener('SIGINT', this.onSignal);
  }
}

/**
 * Runs a command's body with Ctrl-C caught ({@link Interrupt}); when it was pressed, the body's
 * partial output stands and the exit status is {@link EXIT_INTERRUPTED}.
 */
export async function interruptible<T>(body: (stop: Interrupt) => Promise<T>): Promise<T> {
  const stop = Interrupt.install();
  try {
    const r = await body(stop);
    if (stop.requested) process.exitCode = EXIT_INTERRUPTED;
    return r;
  } finally {
    stop.dispose();
  }
}

// ------------------------------------------------------------------ parsers of flag values

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Parses `4096`, `0x1000`, `4K`, `2M`, `1G` into bytes; throws a UserError naming the flag.
 * Zero is accepted only with `allowZero`.
 */
export function parseSize(text: string, what: string, opts: { allowZero?: boolean } = {}): number {
  const m = /^(0x[0-9a-f]+|\d+)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UserError(`${what}: '${text}' is not a size (expected e.g. 4096, 0x1000, 64K, 2M, 1G)`);
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  const min = opts.allowZero ? 0 : 1;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UserError(`${what}: '${text}' is out of range (expected ${min} to 2^53-1 bytes)`);
  }
  return n;
}

/** Parses a decimal integer from `min` to `max`; the message states the range (and `unit`). */
export function parseIntIn(text: string, what: string, min: number, max: number, unit = ''): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UserError(`${what}: '${text}' is not an integer from ${min} to ${max}${unit && ` ${unit}`}`);
  }
  return n;
}

/** Parses a positive integer flag (1 to `max`). */
export function parsePositiveInt(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  return parseIntIn(text, what, 1, max);
}

/** Parses a comma-separated list of positive integers, strictly increasing when asked. */
export function parseIntList(
  text: string,
  what: string,
  max: number,
  opts: { increasing?: boolean } = {},
): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new UserError(`${what}: '${text}' is not a comma-separated list of integers (e.g. 1,2,4,8)`);
  }
  const xs = items.map((s) => parsePositiveInt(s, what, max));
  if (opts.increasing && xs.some((x, i) => i > 0 && x <= xs[i - 1]!)) {
    throw new UserError(`${what}: '${text}' must be strictly increasing, e.g. 1,2,4,8`);
  }
  return xs;
}

/** Parses a fraction from 0 to 1 (`0`, `0.25`, `1`). */
export function parseRatio(text: string, what: string): number {
  const n = Number(text);
  if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text) || !(n >= 0 && n <= 1)) {
    throw new UserError(`${what}: '${text}' is not a number from 0 to 1`);
  }
  return n;
}

/** Checks that `text` is one of `choices`. */
export function parseChoice<T extends string>(text: string, what: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UserError(`${what}: '${text}' is not one of ${choices.join(', ')}`);
  }
  return text as T;
}

/** Collects a repeatable commander option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
