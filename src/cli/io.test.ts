/**
 * The shared CLI helpers: the output preflight (an input is never an output, whatever path names
 * it; an unwritable output is refused before any work), atomic writes, Ctrl-C handling, the
 * version, and the parsers every command's flags go through.
 */
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  checkOutputs,
  ensureDir,
  interruptible,
  outDir,
  parseChoice,
  parseIntIn,
  parseIntList,
  parseRatio,
  parseSize,
  UserError,
  writeFileAtomic,
} from './io.js';
import { faultlineVersion } from './version.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-io-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The UserError message `p` rejects with, or null when it resolves. */
async function refusal(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e: unknown) => {
      expect(e).toBeInstanceOf(UserError);
      return (e as UserError).message;
    },
  );
}

describe('checkOutputs', () => {
  const dir = mkdtempSync(join(tmp, 'check-'));
  const input = join(dir, 'trace.txt');
  writeFileSync(input, 'I  0400d7d4,8\n');

  it('refuses an output that is an input, however it is named', async () => {
    const link = join(dir, 'link.txt');
    symlinkSync(input, link);
    const hard = join(dir, 'hard.txt');
    linkSync(input, hard);
    const dotted = join(dir, '.', 'sub', '..', 'trace.txt');
    mkdirSync(join(dir, 'sub'));
    const rel = relative(process.cwd(), input);
    for (const path of [input, link, hard, dotted, rel]) {
      expect(await refusal(checkOutputs([{ flag: '--timeline', path }], [input]))).toMatch(
        /^--timeline: .* is (the input file|the same file as the input .*trace\.txt); write the output somewhere else$/,
      );
    }
    // An input given through the link is caught the same way.
    expect(await refusal(checkOutputs([{ flag: '--report', path: input }], [link]))).toMatch(/^--report: /);
    expect(readFileSync(input, 'utf8')).toBe('I  0400d7d4,8\n');
  });

  it('refuses two outputs that are one file', async () => {
    const a = join(dir, 'a.json');
    expect(
      await refusal(
        checkOutputs([
          { flag: '--timeline', path: a },
          { flag: '--report', path: join(dir, 'sub', '..', 'a.json') },
        ]),
      ),
    ).toMatch(/^--report: .* is also the --timeline output/);
  });

  it('refuses what cannot be written: under a file, a directory, a device, a read-only file', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(input, 'x.json'), /is not a directory$/],
      [join(input, 'deeper', 'x.json'), /trace\.txt is not a directory$/],
      [dir, /it is a directory$/],
      ['/dev/null', /it is not a regular file$/],
      ['/proc/faultline/x.json', /cannot create files in \/proc|not writable/],
    ];
    for (const [path, why] of cases) {
      const m = await refusal(checkOutputs([{ flag: '--out', path }]));
      expect(m).toMatch(/^--out: cannot write /);
      expect(m).toMatch(why);
    }
    const ro = join(dir, 'ro.json');
    writeFileSync(ro, '{}');
    chmodSync(ro, 0o444);
    const m = await refusal(checkOutputs([{ flag: '--timeline', path: ro }]));
    // root may write anything: then the check rightly lets it through.
    if (process.getuid?.() !== 0) expect(m).toMatch(/the file is not writable$/);
    else expect(m).toBeNull();
  });

  it('refuses an empty file or directory name instead of writing to the current directory', async () => {
    expect(await refusal(checkOutputs([{ flag: '--timeline', path: '' }]))).toBe(
      "--timeline: '' is not a file name",
    );
    expect(() => outDir('')).toThrow("--out: '' is not a directory name (use . for the current directory)");
    expect(outDir('.')).toBe('.');
  });

  it('accepts new files in new directories and leaves nothing behind', async () => {
    const out = join(dir, 'new', 'deep', 'x.json');
    expect(await refusal(checkOutputs([{ flag: '--out', path: out }], [input]))).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(['hard.txt', 'link.txt', 'ro.json', 'sub', 'trace.txt']);
  });
});

describe('writeFileAtomic and ensureDir', () => {
  it('replaces a file whole and creates missing directories', async () => {
    const d = mkdtempSync(join(tmp, 'atomic-'));
    const p = join(d, 'a', 'b', 'out.txt');
    await writeFileAtomic(p, 'first');
    await writeFileAtomic(p, 'second');
    expect(readFileSync(p, 'utf8')).toBe('second');
    expect(readdirSync(join(d, 'a', 'b'))).toEqual(['out.txt']);
    await ensureDir(join(d, 'a', 'b'));
    await ensureDir(join(d, 'c', 'd'));
    expect(readdirSync(d).sort()).toEqual(['a', 'c']);
  });

  it('keeps the earlier output when the write fails, and leaves no temporary file', async () => {
    const d = mkdtempSync(join(tmp, 'atomic-'));
    const p = join(d, 'out.txt');
    await writeFileAtomic(p, 'kept');
    // A directory where the temporary file should go makes the write fail.
    mkdirSync(`${p}.tmp-${process.pid}`);
    writeFileSync(join(`${p}.tmp-${process.pid}`, 'x'), '');
    expect(await refusal(writeFileAtomic(p, 'lost'))).toMatch(/^cannot write .*out\.txt: /);
    expect(readFileSync(p, 'utf8')).toBe('kept');
  });
});

describe('interruptible', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('turns the first SIGINT into a stop request and the exit status into 130', async () => {
    const before = process.listenerCount('SIGINT');
    const seen = await interruptible(async (stop) => {
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
      const was = stop.requested;
      process.emit('SIGINT', 'SIGINT');
      return [was, stop.requested];
    });
    expect(seen).toEqual([false, true]);
    expect(process.exitCode).toBe(130);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('leaves the exit status alone when nobody pressed Ctrl-C', async () => {
    expect(await interruptible(async (stop) => stop.requested)).toBe(false);
    expect(process.exitCode).toBeUndefined();
  });
});

describe('faultlineVersion', () => {
  it('is the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(faultlineVersion()).toBe(pkg.version);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('the parsers of flag values', () => {
  const msg = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as UserError).message;
    }
    return null;
  };

  it('sizes: units, hex, zero only when allowed, never an empty value', () => {
    expect(parseSize('4K', '--x')).toBe(4096);
    expect(parseSize('0x1000', '--x')).toBe(4096);
    expect(parseSize('2MiB', '--x')).toBe(2 ** 21);
    expect(parseSize('0', '--x', { allowZero: true })).toBe(0);
    expect(msg(() => parseSize('0', '--x'))).toMatch(/^--x: '0' is out of range/);
    expect(msg(() => parseSize('', '--x'))).toMatch(/^--x: '' is not a size/);
    expect(msg(() => parseSize('1.5M', '--x'))).toMatch(/is not a size/);
  });

  it('integers: the range is checked and stated', () => {
    expect(parseIntIn('7', '--n', 0, 9)).toBe(7);
    for (const bad of ['', ' ', '-1', '1.5', '1e3', '10', 'x', '0x10']) {
      expect(msg(() => parseIntIn(bad, '--n', 0, 9, 'cycles'))).toBe(
        `--n: '${bad}' is not an integer from 0 to 9 cycles`,
      );
    }
  });

  it('lists, ratios and choices', () => {
    expect(parseIntList('1, 2,8', '--cpus', 64, { increasing: true })).toEqual([1, 2, 8]);
    expect(msg(() => parseIntList('1,,2', '--cpus', 64))).toMatch(/not a comma-separated list/);
    expect(msg(() => parseIntList('', '--cpus', 64))).toMatch(/not a comma-separated list/);
    expect(msg(() => parseIntList('2,1', '--cpus', 64, { increasing: true }))).toMatch(/strictly increasing/);
    expect(msg(() => parseIntList('1,65', '--cpus', 64))).toMatch(/'65' is not an integer from 1 to 64/);
    expect(parseRatio('0.25', '--share')).toBe(0.25);
    expect(parseRatio('1', '--share')).toBe(1);
    for (const bad of ['', ' ', '1.5', '-0.1', 'half', '0x1']) {
      expect(msg(() => parseRatio(bad, '--share'))).toBe(`--share: '${bad}' is not a number from 0 to 1`);
    }
    expect(parseChoice('b', '--c', ['a', 'b'])).toBe('b');
    expect(msg(() => parseChoice('', '--c', ['a', 'b']))).toBe("--c: '' is not one of a, b");
  });
});
