/**
 * `faultline capture` with the real valgrind (installed on every machine here: these tests fail,
 * they do not skip, when it is missing), and with valgrind hidden by an empty PATH. Each run of
 * the CLI is a separate process in a fresh working directory; the runs go concurrently.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicOutputStream, capture, VALGRIND_MISSING } from './capture_cmd.js';
import { UserError } from './io.js';
import { traceInfo } from './trace_cmd.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src/cli/main.ts');
/** tsx by absolute URL: the CLI runs in a temporary directory, where `--import tsx` resolves nothing. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const tmp = mkdtempSync(join(tmpdir(), 'faultline-capture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
  cwd: string;
}

/** Runs the CLI in a fresh directory (so outputs and leftovers are visible with readdir). */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const cwd = mkdtempSync(join(tmp, 'run-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd,
      env: { ...env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, cwd }));
  });
}

describe.concurrent('faultline capture', () => {
  it('records /bin/true into PROGRAM.lackey.gz in the current directory', async () => {
    const r = await cli(['capture', '--', '/bin/true']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(r.cwd)).toEqual(['true.lackey.gz']);
    const file = join(r.cwd, 'true.lackey.gz');
    expect([...readFileSync(file).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const info = await traceInfo(file);
    expect(info).toMatchObject({ format: 'lackey', gzip: true });
    expect(info.records).toBeGreaterThan(1000);
    expect(info.perKind.I).toBeGreaterThan(0);
    expect(info.perKind.L + info.perKind.S + info.perKind.M).toBeGreaterThan(0);
    expect(r.out).toContain(`captured ${info.records} records`);
    expect(r.out).toContain(`wrote true.lackey.gz (${readFileSync(file).length} bytes, gzip lackey text)`);
  });

  it('replays /bin/true live with --replay --json, writing no file', async () => {
    const r = await cli([
      'capture',
      '--replay',
      '--json',
      '--design',
      'genode',
      '--cpus',
      '2',
      '--',
      '/bin/true',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.records).toBeGreaterThan(1000);
    expect(j.faults.reflected).toBeGreaterThan(0);
    expect(j).toMatchObject({ design: 'genode', cpus: 2, interrupted: false });
    expect(j.trace).toMatchObject({ format: 'lackey', gzip: false, records: j.records });
    expect(j.capture).toMatchObject({ command: ['/bin/true'], output: null, completed: true, code: 0 });
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it("leaves the program's stdout and stderr alone and notes a non-zero exit", async () => {
    const script = 'echo to-stdout; echo to-stderr >&2; exit 3';
    const r = await cli(['capture', '--no-gzip', '--out', 'sub/t.txt', '--', '/bin/sh', '-c', script]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('to-stdout');
    expect(r.err).toBe('to-stderr\nfaultline: note: /bin/sh exited with status 3\n');
    const file = join(r.cwd, 'sub', 't.txt');
    expect(readFileSync(file).subarray(0, 2).toString()).toBe('=='); // plain lackey text
    expect((await traceInfo(file)).records).toBeGreaterThan(1000);
  });

  it('says when valgrind itself fails, exit 1, and writes nothing', async () => {
    const r = await cli(['capture', '--', join(tmp, 'no-such-program')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/faultline: valgrind failed with exit status \d+ before running .*no-such-program/);
    expect(r.out).toBe('');
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('gives a clear one-line error and exit 2 when valgrind is missing', async () => {
    const r = await cli(['capture', '--', '/bin/true'], { ...process.env, PATH: '' });
    expect(r.code).toBe(2);
    expect(r.err).toBe(`faultline: ${VALGRIND_MISSING}\n`);
    expect(r.out).toBe('');
    expect(readdirSync(r.cwd)).toEqual([]);
  });
});

// In-process, after the concurrent runs above: these empty PATH for a moment.
describe('capture without valgrind on PATH', () => {
  async function withoutPath(run: () => Promise<unknown>): Promise<unknown> {
    const saved = process.env.PATH;
    process.env.PATH = '';
    try {
      return await run().then(
        () => null,
        (e: unknown) => e,
      );
    } finally {
      process.env.PATH = saved;
    }
  }
  const opts = { command: ['/bin/true'], gzip: true, replay: true, design: 'genode', flags: {} };

  it('fails with the clear UserError in --replay mode too', async () => {
    const e = await withoutPath(() => capture(opts));
    expect(e).toBeInstanceOf(UserError);
    expect(e).toMatchObject({ message: VALGRIND_MISSING, exitCode: 2 });
  });

  it('checks replay flags before looking for valgrind', async () => {
    const e = await withoutPath(() => capture({ ...opts, flags: { cpus: '0' } }));
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/^--cpus: '0'/);
  });
});

describe('AtomicOutputStream', () => {
  it('shows nothing under the final name until commit, and nothing at all after abort', async () => {
    const d = mkdtempSync(join(tmp, 'atomic-'));
    const kept = await AtomicOutputStream.create(join(d, 'kept.txt'), false);
    kept.write(Buffer.from('hello'));
    expect(await kept.drained()).toBe(true);
    expect(readdirSync(d)).not.toContain('kept.txt');
    expect(await kept.commit()).toBe(5);
    const dropped = await AtomicOutputStream.create(join(d, 'dropped.gz'), true);
    dropped.write(Buffer.from('partial'));
    await dropped.abort();
    expect(readdirSync(d)).toEqual(['kept.txt']);
    expect(readFileSync(join(d, 'kept.txt'), 'utf8')).toBe('hello');
  });
});
