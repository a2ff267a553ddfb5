/**
 * The command line users run is a bundle (`npm run build`: tsc, then scripts/bundle-cli.mjs), while
 * every other test runs the sources. Here the bundle and the sources run the same commands, and
 * their exit status, output and files must agree byte for byte: the paths the CLI resolves from
 * its own location (workers, the bundled trace, package.json), the parts it loads only when used
 * (the simulator, the trace readers, vega) and the error paths.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TSX } from '../../src/cli/cli.testutil.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'cli', 'main.js');
const SOURCES = join(ROOT, 'src', 'cli', 'main.ts');

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function spawned(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** The code caches beside the bundle (scripts/cli-main.mjs names them after the bundle's hash). */
const cacheFiles = () =>
  readdirSync(join(ROOT, 'dist', 'cli'))
    .filter((f) => /^faultline\.cjs\.[0-9a-f]+\.cache$/.test(f))
    .map((f) => join(ROOT, 'dist', 'cli', f));

const bundle = (args: readonly string[], env: Record<string, string> = {}) =>
  spawned(process.execPath, [BUNDLE, ...args], env);
const sources = (args: readonly string[]) => spawned(process.execPath, ['--import', TSX, SOURCES, ...args]);

describe('the built command line (a bundle) does what the sources do', () => {
  it('is built, as bundles with their code caches (the CLI and its two worker threads)', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build`).toBe(true);
    for (const [entry, bundled] of [
      ['main.js', 'faultline.cjs'],
      ['trace_worker.js', 'faultline-trace-worker.cjs'],
      ['sim_worker.js', 'faultline-sim-worker.cjs'],
    ]) {
      expect(readFileSync(join(ROOT, 'dist', 'cli', entry!), 'utf8')).toContain(
        `const BUNDLE = './${bundled}';`,
      );
      expect(existsSync(join(ROOT, 'dist', 'cli', bundled!))).toBe(true);
    }
    expect(cacheFiles()).toHaveLength(1);
    expect(
      readdirSync(join(ROOT, 'dist', 'cli')).filter((f) => /worker\.cjs\.[0-9a-f]+\.cache$/.test(f)),
    ).toHaveLength(2);
  });

  const dir = mkdtempSync(join(tmpdir(), 'faultline-bundle-'));
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'name: broken\nmachine: {cpus: "abc"}\nsteps: []\n');
  // What each command does, with the exit status it must end with.
  const cases: Array<[string, string[], number]> = [
    ['help', ['--help'], 0],
    ['designs', ['designs'], 0],
    ['validate', ['validate', 'scenarios/rm_nested.yaml'], 0],
    ['a run on a bare core, with its log', ['run', 'scenarios/rm_nested.yaml', '--log'], 0],
    ['a simulated run (the simulator loads)', ['run', 'scenarios/ondemand_genode.yaml', '--log'], 0],
    ['a run that replays a trace (the trace readers load)', ['run', 'scenarios/trace_player.yaml'], 0],
    ['a broken scenario (line and column)', ['validate', broken], 2],
    [
      'a replay on the reader thread (the worker script)',
      ['replay', 'test/fixtures/lackey_small.txt', '--json', '--reader', 'thread'],
      0,
    ],
    ['an unknown command', ['nonsense'], 2],
  ];
  for (const [what, args, code] of cases)
    it(what, async () => {
      const [b, s] = await Promise.all([bundle(args), sources(args)]);
      expect(b.code).toBe(code);
      expect(b).toEqual(s);
    }, 60_000);

  it('draws its progress bar on a terminal (cli-progress loads in the bundle)', async () => {
    // script(1) gives the command a pseudo-terminal, so stderr is a TTY as a user's would be.
    const r = await spawned('script', ['-qec', `${process.execPath} ${BUNDLE} timeouts`, '/dev/null']);
    expect(r.out).not.toMatch(/internal error/);
    expect(r.out).toMatch(/timeouts \S+ 42\/42 points/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('replaces a code cache V8 rejects, and answers the same with it', async () => {
    const [cache] = cacheFiles();
    const good = readFileSync(cache!);
    const args = ['validate', 'scenarios/rm_nested.yaml'];
    const want = await sources(args);
    try {
      // Same length, other bytes: V8's checks (version, flags, source, checksum) refuse it.
      writeFileSync(cache!, Buffer.alloc(good.length, 7));
      // FAULTLINE_CODE_CACHE=off neither reads nor writes it.
      expect(await bundle(args, { FAULTLINE_CODE_CACHE: 'off' })).toEqual(want);
      expect(readFileSync(cache!).equals(Buffer.alloc(good.length, 7))).toBe(true);
      expect(await bundle(args)).toEqual(want);
      const rewritten = readFileSync(cache!);
      expect(rewritten.equals(Buffer.alloc(good.length, 7))).toBe(false);
      expect(rewritten.length).toBeGreaterThan(100_000);
      // V8 takes the new cache: the next run leaves it alone (a rejected one would be replaced).
      const ino = statSync(cache!).ino;
      expect(await bundle(args)).toEqual(want);
      expect(statSync(cache!).ino).toBe(ino);
    } finally {
      writeFileSync(cache!, good);
    }
  }, 60_000);

  it('a worker thread replaces a code cache V8 rejects once its bundle has loaded', async () => {
    const [cache] = readdirSync(join(ROOT, 'dist', 'cli'))
      .filter((f) => /^faultline-trace-worker\.cjs\.[0-9a-f]+\.cache$/.test(f))
      .map((f) => join(ROOT, 'dist', 'cli', f));
    const good = readFileSync(cache!);
    const args = ['replay', 'test/fixtures/lackey_small.txt', '--json', '--reader', 'thread'];
    const want = await sources(args);
    try {
      writeFileSync(cache!, Buffer.alloc(good.length, 7));
      expect(await bundle(args)).toEqual(want);
      const rewritten = readFileSync(cache!);
      expect(rewritten.equals(Buffer.alloc(good.length, 7))).toBe(false);
      expect(rewritten.length).toBeGreaterThan(10_000);
    } finally {
      writeFileSync(cache!, good);
    }
  }, 60_000);

  it('a compare on the reader and partner threads, with its plot and report (vega loads)', async () => {
    // Plain text: the two replaying threads parse it. Gzip text of three designs: the reader thread
    // parses it and a partner replays some designs.
    const gz = join(dir, 'gz-small.txt.gz');
    writeFileSync(gz, gzipSync(readFileSync('test/fixtures/lackey_small.txt')));
    for (const [input, designs] of [
      ['test/fixtures/lackey_small.txt', ['genode', '4k-only']],
      [gz, ['genode', '4k-only', 'partitioned']],
    ] as const) {
      const args = (out: string) => [
        'compare',
        input,
        '--reader',
        'thread',
        ...designs.flatMap((d) => ['--design', d]),
        '--out',
        join(dir, out),
      ];
      const [b, s] = await Promise.all([bundle(args('b')), sources(args('s'))]);
      expect(b.code).toBe(0);
      expect(b.out.replaceAll(join(dir, 'b'), 'OUT')).toEqual(s.out.replaceAll(join(dir, 's'), 'OUT'));
      expect(readFileSync(join(dir, 'b', 'compare.svg'), 'utf8')).toEqual(
        readFileSync(join(dir, 's', 'compare.svg'), 'utf8'),
      );
    }
  }, 60_000);
});
