/**
 * The visualizer's web server: serves the prebuilt app (dist/web) and the file it opens with
 * (`/initial.json`) on 127.0.0.1 only. It answers GET and HEAD, refuses any path that would leave
 * the app's directory (`..` in any spelling, encoded slashes, symbolic links pointing out) and
 * requests naming another host (DNS rebinding), and closes every connection when stopped.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { UserError } from './io.js';

/** The only address the server listens on. */
export const VIEW_HOST = '127.0.0.1';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** A running server. */
export interface ViewServer {
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/**
 * The file under `root` a request path names, or null when it names nothing there: `..`, `.`
 * (hidden files), empty segments, encoded `/` or `\`, NUL, undecodable escapes. Pure; the caller
 * still checks symbolic links.
 */
export function resolveRequestPath(root: string, rawPath: string): string | null {
  const q = rawPath.search(/[?#]/);
  const path = q >= 0 ? rawPath.slice(0, q) : rawPath;
  if (!path.startsWith('/')) return null;
  const parts = path.slice(1).split('/');
  if (parts.length === 1 && parts[0] === '') return join(root, 'index.html');
  const safe: string[] = [];
  for (const raw of parts) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s === '' || s.startsWith('.') || /[/\\\0]/.test(s) || s.includes(':')) return null;
    safe.push(s);
  }
  const full = join(root, ...safe);
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, head: boolean): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** Starts the server on 127.0.0.1:`port` (0: any free port). */
export async function startViewServer(opts: {
  readonly root: string;
  readonly initial: string;
  readonly port: number;
}): Promise<ViewServer> {
  const root = await realpath(opts.root).catch(() => {
    throw new UserError(`the viewer is not built (${opts.root} is missing): run npm run build`);
  });
  let port = opts.port;
  const allowedHosts = () => new Set([`${VIEW_HOST}:${port}`, `localhost:${port}`]);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n', TYPES['.txt']!, false);
    }
    if (!allowedHosts().has(req.headers.host ?? ''))
      return send(res, 421, 'wrong host\n', TYPES['.txt']!, head);
    const url = req.url ?? '/';
    if (url === '/initial.json' || url.startsWith('/initial.json?'))
      return send(res, 200, opts.initial, TYPES['.json']!, head);
    const file = resolveRequestPath(root, url);
    if (!file) return send(res, 403, 'outside what this server serves\n', TYPES['.txt']!, head);
    try {
      // A symbolic link inside the app's directory must not lead out of it.
      const real = await realpath(file);
      if (!real.startsWith(root + sep))
        return send(res, 403, 'outside what this server serves\n', TYPES['.txt']!, head);
      if (!(await stat(real)).isFile()) return send(res, 404, 'not found\n', TYPES['.txt']!, head);
      const body = await readFile(real);
      return send(res, 200, body, TYPES[extname(real)] ?? 'application/octet-stream', head);
    } catch {
      return send(res, 404, 'not found\n', TYPES['.txt']!, head);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n', TYPES['.txt']!, false);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        new UserError(
          e.code === 'EADDRINUSE'
            ? `port ${opts.port} is in use on ${VIEW_HOST}; pick another with --port (0 picks a free one)`
            : `cannot listen on ${VIEW_HOST}:${opts.port}: ${e.message}`,
        ),
      );
    });
    server.listen(opts.port, VIEW_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${VIEW_HOST}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
