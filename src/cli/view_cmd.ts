/**
 * `faultline view [SCENARIO.yaml | RUN.json] [--port N] [--open]` serves the visualizer on
 * 127.0.0.1 until Ctrl-C; `faultline view --export DIR [FILE]` writes it as static files that
 * work from any static web server. The app is prebuilt into dist/web (`npm run build`), so
 * neither needs a build step. A scenario is sent with the records of its trace players (read
 * here, relative to the scenario); a JSON file must be what `replay --json` or `compare --json`
 * printed.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError, writeFileAtomic } from './io.js';
import { readScenarioTraces } from './scenario_cmd.js';
import type { TraceRecordsPayload, ViewPayload } from './view_payload.js';
import { startViewServer, VIEW_HOST, type ViewServer } from './view_server.js';

/** The prebuilt app: dist/web (this file is dist/cli/view_cmd.js, or src/cli/view_cmd.ts under tests). */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Default port (`--port 0` picks a free one). */
export const DEFAULT_PORT = 7433;

/** Trace records the viewer holds in memory (it runs the scenario in the browser). */
export const MAX_VIEW_RECORDS = 1 << 20;

/** What the app opens with, from the file given on the command line (or nothing). */
export async function viewPayload(file: string | undefined): Promise<ViewPayload> {
  if (file === undefined) return { kind: 'none' };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read it: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? e)}`,
    );
  }
  if (extname(file).toLowerCase() === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UserError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const j = json as Record<string, unknown> | null;
    const run =
      j !== null &&
      typeof j === 'object' &&
      (Array.isArray(j.results) || (typeof j.design === 'string' && typeof j.records === 'number'));
    if (!run)
      throw new UserError(
        `${file}: expected the JSON of faultline replay --json or faultline compare --json`,
      );
    return { kind: 'run', file: basename(file), json };
  }
  // A scenario that does not load is still sent: the app shows its problems at their lines.
  const traces: Record<string, TraceRecordsPayload> = {};
  const { loadScenario } = await import('../scenario/load.js');
  const s = loadScenario(text, file);
  if (s.ok) {
    const read = await readScenarioTraces(s.value, file);
    if ('exitCode' in read)
      throw new UserError(read.stderr.trim().split('\n')[0] ?? `${file}: cannot read its traces`);
    for (const [name, batches] of read) {
      const n = batches.reduce((a, b) => a + b.length, 0);
      if (n > MAX_VIEW_RECORDS) {
        throw new UserError(
          `${file}: trace '${name}' has ${n} records; the viewer runs scenarios in the browser and holds at most ${MAX_VIEW_RECORDS}: replay it with faultline replay --json --tlb-samples and view that`,
        );
      }
      const kind: number[] = [];
      const addr: number[] = [];
      const size: number[] = [];
      for (const b of batches) {
        for (let i = 0; i < b.length; i++) {
          kind.push(b.kind[i]!);
          addr.push(b.addr[i]!);
          size.push(b.size[i]!);
        }
      }
      traces[name] = { kind, addr, size };
    }
  }
  return { kind: 'scenario', file, text, traces };
}

/** Writes the app and its initial file into `dir`; returns the number of files written. */
export async function exportView(dir: string, payload: ViewPayload, root = WEB_ROOT): Promise<number> {
  const index = await stat(join(root, 'index.html')).catch(() => null);
  if (!index) throw new UserError(`the viewer is not built (${root} is missing): run npm run build`);
  const there = await stat(dir).catch(() => null);
  if (there && !there.isDirectory()) throw new UserError(`--export: ${dir} exists and is not a directory`);
  await mkdir(dir, { recursive: true });
  await cp(root, dir, { recursive: true, force: true });
  await writeFileAtomic(join(dir, 'initial.json'), JSON.stringify(payload));
  const count = async (d: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(d, { withFileTypes: true }))
      n += e.isDirectory() ? await count(join(d, e.name)) : 1;
    return n;
  };
  return count(dir);
}

/** Opens a URL in the desktop's browser; says so on stderr when it cannot. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', (e) =>
    process.stderr.write(`faultline view: cannot open a browser (${e.message}); open ${url} yourself\n`),
  );
  child.unref();
}

/** Serves until SIGINT or SIGTERM, then closes every connection and resolves. */
export async function serveUntilStopped(server: ViewServer): Promise<void> {
  await new Promise<void>((done) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      void server.close().then(() => {
        process.stdout.write('faultline view: stopped\n');
        done();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Parses `--port`. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535)
    throw new UserError(`--port: '${text}' is not a port (0 to 65535; 0 picks a free one)`);
  return n;
}

/** Registers `faultline view`. */
export function registerViewCommand(program: Command): void {
  program
    .command('view')
    .description(
      'the visualizer in a browser: address spaces and nested region maps, the fault path step by step, why each mapping has its size, replay and compare results',
    )
    .argument('[file]', 'a scenario (.yaml) or the JSON of replay --json / compare --json')
    .option('--port <n>', `port on ${VIEW_HOST} (0 picks a free one)`, String(DEFAULT_PORT))
    .option('--open', 'open the page in the desktop browser')
    .option('--export <dir>', 'write the app as static files into dir instead of serving it')
    .addHelpText(
      'after',
      `\nThe server listens on ${VIEW_HOST} only and stops on Ctrl-C. An export works from any static web\nserver (e.g. python3 -m http.server -d DIR); browsers do not run it from file:// URLs.\n`,
    )
    .action(async (file: string | undefined, opts: { port: string; open?: boolean; export?: string }) => {
      const port = parsePort(opts.port);
      const payload = await viewPayload(file);
      if (opts.export !== undefined) {
        const n = await exportView(resolve(opts.export), payload);
        process.stdout.write(
          `faultline view: wrote ${n} files to ${opts.export}; serve them from any static web server, e.g. python3 -m http.server -d ${opts.export}\n`,
        );
        return;
      }
      const server = await startViewServer({ root: WEB_ROOT, initial: JSON.stringify(payload), port });
      process.stdout.write(`faultline view: serving ${server.url} (Ctrl-C to stop)\n`);
      if (opts.open) openBrowser(server.url);
      await serveUntilStopped(server);
    });
}
