/**
 * `faultline view`'s server and files: it listens on 127.0.0.1 only, serves the app and the
 * initial file, refuses every spelling of a path outside its directory (probed with raw requests,
 * which clients would normalise away) and requests for another host, and stops cleanly on SIGINT
 * even with a connection open. The payload and the export are checked as files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportView, parsePort, viewPayload, WEB_ROOT } from './view_cmd.js';
import { resolveRequestPath, startViewServer, VIEW_HOST, type ViewServer } from './view_server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-view-'));
const site = join(tmp, 'site');
const SECRET = 'TOP SECRET, outside the site';

/** One raw HTTP/1.1 request; resolves with the status and body. */
function raw(port: number, request: string, host = VIEW_HOST): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.write(request));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      data += d;
    });
    s.on('error', reject);
    s.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const get = (port: number, path: string, host = `${VIEW_HOST}:${port}`) =>
  raw(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('the view server', () => {
  let server: ViewServer;
  beforeAll(async () => {
    mkdirSync(join(site, 'assets'), { recursive: true });
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(site, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(tmp, 'secret.txt'), SECRET);
    symlinkSync(join(tmp, 'secret.txt'), join(site, 'link.txt'));
    server = await startViewServer({ root: site, initial: '{"kind":"none"}', port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 only and prints that URL', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect((await get(server.port, '/')).status).toBe(200);
    // Another loopback address of the same machine is not listened on.
    await expect(raw(server.port, 'GET / HTTP/1.1\r\n\r\n', '127.0.0.2')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves the app, its assets and the initial file', async () => {
    const index = await get(server.port, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>app</title>');
    expect((await get(server.port, '/assets/app.js')).body).toBe('console.log(1)');
    expect(JSON.parse((await get(server.port, '/initial.json')).body)).toEqual({ kind: 'none' });
    expect((await get(server.port, '/nope.js')).status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '//etc/passwd',
    '/%2fetc/passwd',
    '/link.txt',
    '/.hidden',
    '/index.html%00.js',
    '/%c0%ae%c0%ae/secret.txt',
    '/%',
    'http://127.0.0.1/../secret.txt',
    '*',
  ])('refuses %s', async (path) => {
    const r = await get(server.port, path);
    expect([400, 403, 404]).toContain(r.status);
    expect(r.body).not.toContain(SECRET);
    expect(r.body).not.toContain('root:');
  });

  it('refuses requests naming another host, and anything but GET and HEAD', async () => {
    expect((await get(server.port, '/', `evil.example:${server.port}`)).status).toBe(421);
    expect((await get(server.port, '/', `localhost:${server.port}`)).status).toBe(200);
    const post = await raw(
      server.port,
      `POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(post.status).toBe(405);
    const head = await raw(
      server.port,
      `HEAD / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
    );
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('says when the port is taken', async () => {
    await expect(startViewServer({ root: site, initial: '{}', port: server.port })).rejects.toThrow(
      /port \d+ is in use/,
    );
  });
});

describe('resolveRequestPath', () => {
  it('never names a file outside the root', () => {
    const seg = fc.oneof(
      fc.constantFrom('..', '.', '', '%2e%2e', '%2f', '%5c', 'a', 'assets', '..%2f', '%00', '%', '~', 'x:y'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 6 }), (parts) => {
        const p = resolveRequestPath('/srv/site', `/${parts.join('/')}`);
        if (p !== null) expect(p.startsWith('/srv/site/')).toBe(true);
      }),
    );
  });

  it('maps / to index.html and plain paths under the root', () => {
    expect(resolveRequestPath('/srv/site', '/')).toBe('/srv/site/index.html');
    expect(resolveRequestPath('/srv/site', '/assets/a%20b.js?x=1')).toBe('/srv/site/assets/a b.js');
    expect(resolveRequestPath('/srv/site', '/a/../b')).toBeNull();
  });
});

describe('faultline view from the command line', () => {
  it('prints the URL, serves, and stops cleanly on SIGINT with a connection open', async () => {
    expect(existsSync(join(WEB_ROOT, 'index.html')), `${WEB_ROOT} is missing: run npm run build`).toBe(true);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'view', '--port', '0', 'scenarios/rm_nested.yaml'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /serving (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
        if (m) {
          clearInterval(t);
          resolve(m[1]!);
        }
      }, 50);
      child.on('exit', () => reject(new Error(`exited early: ${err}`)));
    });
    const port = Number(new URL(url).port);
    const initial = JSON.parse((await get(port, '/initial.json')).body);
    expect(initial).toMatchObject({ kind: 'scenario', file: 'scenarios/rm_nested.yaml' });
    expect(initial.text).toBe(readFileSync(join(ROOT, 'scenarios/rm_nested.yaml'), 'utf8'));
    // A keep-alive connection stays open while Ctrl-C arrives.
    const idle = connect(port, VIEW_HOST);
    // The server resets it on the way down: that is the point, not an error of the test.
    const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
    idle.on('error', () => {});
    await new Promise<void>((r) => idle.on('connect', () => r()));
    idle.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000)),
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/faultline view: stopped\n$/);
    expect(err).toBe('');
    await expect(raw(port, 'GET / HTTP/1.1\r\n\r\n')).rejects.toThrow(/ECONNREFUSED/);
    await idleClosed;
  });
});

describe('view payload and export', () => {
  it('sends a scenario with the records of its trace players', async () => {
    const p = await viewPayload(join(ROOT, 'scenarios/trace_player.yaml'));
    if (p.kind !== 'scenario') throw new Error(p.kind);
    const t = p.traces['../test/fixtures/lackey_small.txt']!;
    expect(t.kind).toHaveLength(9);
    expect(t.addr).toHaveLength(9);
  });

  it('sends replay and compare JSON, and names what is wrong with other files', async () => {
    const golden = join(ROOT, 'test/golden/replay_small.json');
    expect(await viewPayload(golden)).toMatchObject({ kind: 'run', file: 'replay_small.json' });
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    await expect(viewPayload(bad)).rejects.toThrow(/bad\.json: expected the JSON of faultline replay --json/);
    writeFileSync(bad, '{');
    await expect(viewPayload(bad)).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(viewPayload(join(tmp, 'missing.yaml'))).rejects.toThrow(
      /missing\.yaml: cannot read it: no such file/,
    );
    expect(await viewPayload(undefined)).toEqual({ kind: 'none' });
  });

  it('exports the app with its initial file, and refuses a file as the directory', async () => {
    const dir = join(tmp, 'export');
    const n = await exportView(dir, { kind: 'none' }, site);
    expect(n).toBe(4);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('<title>app</title>');
    expect(JSON.parse(readFileSync(join(dir, 'initial.json'), 'utf8'))).toEqual({ kind: 'none' });
    await expect(exportView(join(tmp, 'secret.txt'), { kind: 'none' }, site)).rejects.toThrow(
      /exists and is not a directory/,
    );
    await expect(exportView(dir, { kind: 'none' }, join(tmp, 'nothing'))).rejects.toThrow(/not built/);
  });

  it('checks --port', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8080')).toBe(8080);
    expect(() => parsePort('65536')).toThrow(/not a port/);
    expect(() => parsePort('-1')).toThrow(/not a port/);
    expect(() => parsePort('http')).toThrow(/not a port/);
  });
});
