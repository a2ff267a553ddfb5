/**
 * Runs the CLI (from the sources, through tsx) as a user would, in its own process, and presses
 * Ctrl-C on it at a known point: a preloaded script reports on fd 3 the moment the CLI starts
 * listening for SIGINT, so the signal is sent when the command is surely running, not by a timer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeLackeyMix } from '../workload/lackey_mix.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'src/cli/main.ts');
/** tsx by absolute URL, so the CLI also runs in other working directories. */
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Writes `sigint` to fd 3 whenever a SIGINT listener is added (CommonJS, loaded with --require). */
const PRELOAD = `
const { writeSync } = require('node:fs');
for (const m of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) {
  const orig = process[m];
  process[m] = function (event, ...rest) {
    const r = orig.call(this, event, ...rest);
    if (event === 'SIGINT') writeSync(3, 'sigint\\n');
    return r;
  };
}
`;
const preload = join(mkdtempSync(join(tmpdir(), 'faultline-preload-')), 'sigint_ready.cjs');
writeFileSync(preload, PRELOAD);

/** How a CLI process ended. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

/** Options of {@link cliRun}. */
export interface CliOptions {
  readonly cwd?: string;
  /**
   * Press Ctrl-C (SIGINT to the CLI process) once it listens for it and `ready(pid)` holds
   * (polled every 20 ms).
   */
  readonly interrupt?: { readonly ready?: (pid: number) => boolean };
}

/** Runs `faultline ARGS...` and collects its output. */
export function cliRun(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', preload, '--import', TSX, MAIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    let pressed = false;
    const press = () => {
      if (pressed || child.exitCode !== null) return;
      if (opts.interrupt?.ready && !opts.interrupt.ready(child.pid!)) {
        setTimeout(press, 20);
        return;
      }
      pressed = true;
      child.kill('SIGINT');
    };
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.setEncoding('utf8');
    fd3.on('data', (s: string) => {
      if (opts.interrupt && s.includes('sigint')) press();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** Writes `records` lines of the synthetic lackey mix (workload/lackey_mix.ts) to `path`; returns `path`. */
export function writeMixTrace(path: string, records: number, seed?: number): string {
  const chunks: Uint8Array[] = [];
  writeLackeyMix(records, (c) => chunks.push(c.slice()), seed);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}
