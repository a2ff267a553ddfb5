/**
 * No command writes over its input or starts work it cannot save: an output that is an input
 * (by any name) or that cannot be written is refused first, with one line naming the flag, exit
 * status 2, no stack trace, nothing printed on stdout and the input untouched.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capture } from './capture_cmd.js';
import { cliRun } from './cli.testutil.js';
import { demo } from './demo.js';
import { UserError } from './io.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-outputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const trace = join(tmp, 'small.txt');
copyFileSync(join(ROOT, 'test/fixtures/lackey_small.txt'), trace);
const original = readFileSync(trace);
const link = join(tmp, 'link.json');
symlinkSync(trace, link);
/** A file where a directory is expected. */
const plain = join(tmp, 'plain.txt');
writeFileSync(plain, 'not a directory\n');

/** One line on stderr matching `message`, exit 2, nothing on stdout, the trace unchanged. */
function refused(r: { code: number | null; out: string; err: string }, message: RegExp): void {
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(readFileSync(trace)).toEqual(original);
}

describe.concurrent('outputs are checked before any work', () => {
  it('replay --timeline onto the trace itself, by a relative path or a symlink', async () => {
    const rel = relative(ROOT, trace);
    refused(
      await cliRun(['replay', trace, '--timeline', rel]),
      /^faultline: --timeline: .*small\.txt is the same file as the input .*small\.txt; write the output somewhere else\n$/,
    );
    refused(
      await cliRun(['replay', trace, '--report', link]),
      /^faultline: --report: .*link\.json is the same file as the input/,
    );
  });

  it('replay --timeline and --report naming one file', async () => {
    const a = join(tmp, 'same.json');
    refused(
      await cliRun(['replay', trace, '--timeline', a, '--report', join(tmp, '.', 'same.json')]),
      /^faultline: --report: .* is also the --timeline output/,
    );
  });

  it('replay --report under a file: refused before replaying (was: exit 70 after the run)', async () => {
    refused(
      await cliRun(['replay', trace, '--report', join(plain, 'r.html')]),
      /^faultline: --report: cannot write .*plain\.txt\/r\.html: .*plain\.txt is not a directory\n$/,
    );
  });

  it('compare, scale and irq --out that is a file', async () => {
    const [c, s, i] = await Promise.all([
      cliRun(['compare', trace, '--out', plain]),
      cliRun(['scale', '--out', plain]),
      cliRun(['irq', '--out', plain]),
    ]);
    refused(
      c,
      /^faultline: --out: cannot write .*plain\.txt\/compare\.svg: .*plain\.txt is not a directory\n$/,
    );
    refused(s, /^faultline: --out: cannot write .*plain\.txt\/scale-throughput\.svg: /);
    refused(i, /^faultline: --out: cannot write .*plain\.txt\/irq\.svg: /);
    expect(readFileSync(plain, 'utf8')).toBe('not a directory\n');
  });

  it('demo --out that is a file', async () => {
    await expect(demo(plain)).rejects.toThrow(
      /^--out: cannot write .*demo-timeline\.json: .* is not a directory$/,
    );
  });

  it('capture --out onto the program or one of its file arguments, before valgrind starts', async () => {
    const prog = join(tmp, 'prog');
    copyFileSync('/bin/true', prog);
    const data = join(tmp, 'data.txt');
    writeFileSync(data, 'keep me\n');
    const opts = { gzip: false, replay: false, design: 'genode', flags: {} };
    for (const [command, out] of [
      [[prog], prog],
      [['/bin/cat', data], data],
    ] as const) {
      const e = await capture({ ...opts, command, out }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).message).toMatch(
        /^--out: .* is the input file; write the output somewhere else$/,
      );
    }
    expect(readFileSync(data, 'utf8')).toBe('keep me\n');
    expect(readFileSync(prog)).toEqual(readFileSync('/bin/true'));
  });
});
