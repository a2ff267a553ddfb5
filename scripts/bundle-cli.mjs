// Bundles the command line (tsc's dist/cli/main.js and what it imports, zod, yaml and commander
// included) into one CommonJS file, dist/cli/faultline.cjs, and puts the entry that runs it through
// V8's code cache (scripts/cli-main.mjs) in place of dist/cli/main.js; the same for the two worker
// threads' scripts (trace_worker.js, sim_worker.js). Node then compiles one file, or nothing at all
// once the cache exists, instead of some 300 modules (docs/BENCHMARKS.md, start-up;
// docs/ARCHITECTURE.md, "the command line is a bundle"). The bundles stay in dist/cli, so paths the
// CLI resolves from its own location (the worker scripts, dist/web, package.json, the bundled
// trace) do not change. vega and playwright load from node_modules when used. Last, a scenario run
// and a comparison on both threads write the code caches.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

if (readFileSync('dist/cli/main.js', 'utf8').includes('faultline.cjs')) {
  throw new Error('dist/cli/main.js is the entry of an earlier bundle, not tsc output: run npm run build');
}

// What earlier builds left: ES module chunks (before the CommonJS bundle) and code caches.
for (const f of readdirSync('dist/cli')) {
  if (/^bundle-[A-Z0-9]+\.js$/.test(f) || /^faultline.*\.cjs\..*cache/.test(f)) rmSync(`dist/cli/${f}`);
}

// zod re-exports its error messages in some 50 languages as `locales`; faultline speaks English
// only (its own messages), and the other 49 are 300 KB that every scenario command would parse.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/')
        ? { path: 'zod-locales', namespace: 'english-only-zod' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'english-only-zod' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
    }));
  },
};

/**
 * Bundles tsc's `dist/cli/<name>.js` into `dist/cli/<bundle>` and puts the entry that runs it
 * (scripts/cli-main.mjs, told the bundle's name, hash and when to write its cache) in its place.
 */
async function bundleEntry(name, bundle, cacheAtExit) {
  const out = `dist/cli/${bundle}`;
  await build({
    entryPoints: [`dist/cli/${name}.js`],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vega', 'vega-lite', 'playwright-core'],
    // The sources are ES modules: strict, and resolving files from import.meta.url, which a CommonJS
    // file spells with __filename (the bundle sits where tsc's module was).
    define: { 'import.meta.url': '__faultlineUrl' },
    banner: { js: '"use strict";const __faultlineUrl=require("node:url").pathToFileURL(__filename).href;' },
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [englishOnlyZod],
    logLevel: 'warning',
  });
  // The entry wraps the bundle in a function, where a #! line is a syntax error. Code V8 restores
  // from a cache has lost the vm.Script's dynamic import callback (Node 20), so the bundle imports
  // vega through a function the entry passes in.
  const bundled = readFileSync(out, 'utf8')
    .replace(/^#!.*\n/, '')
    .replace(/\bimport\("(vega|vega-lite|playwright-core)"\)/g, '__faultlineImport("$1")');
  if (/\bimport\(/.test(bundled)) throw new Error(`${out}: an import() the entry does not provide`);
  writeFileSync(out, bundled);
  const id = createHash('sha256').update(bundled).digest('hex').slice(0, 16);
  const template = readFileSync('scripts/cli-main.mjs', 'utf8');
  const entry = template
    .replace("const BUNDLE = './faultline.cjs';", `const BUNDLE = './${bundle}';`)
    .replace("const BUILD = 'unbuilt';", `const BUILD = '${id}';`)
    .replace('const CACHE_AT_EXIT = true;', `const CACHE_AT_EXIT = ${cacheAtExit};`);
  if (
    !entry.includes(id) ||
    !entry.includes(`'./${bundle}'`) ||
    !entry.includes(`CACHE_AT_EXIT = ${cacheAtExit};`)
  ) {
    throw new Error('scripts/cli-main.mjs: its BUNDLE, BUILD and CACHE_AT_EXIT constants changed');
  }
  writeFileSync(`dist/cli/${name}.js`, entry);
  // tsc's source map describes the module the entry replaced.
  rmSync(`dist/cli/${name}.js.map`, { force: true });
}

await bundleEntry('main', 'faultline.cjs', true);
chmodSync('dist/cli/main.js', 0o755);
// The worker threads (reader, partner): a thread that runs on has no exit to write its cache at,
// so it writes it once its bundle has loaded.
await bundleEntry('trace_worker', 'faultline-trace-worker.cjs', false);
await bundleEntry('sim_worker', 'faultline-sim-worker.cjs', false);

// The first runs write the code caches: a scenario run compiles what validate and run need, a
// replay on the reader thread starts the reader, a comparison with threads the partner (plain text
// needs no reader there: both replaying threads parse it).
const out = mkdtempSync(join(tmpdir(), 'faultline-build-'));
try {
  for (const args of [
    ['run', 'scenarios/rm_nested.yaml'],
    ['replay', 'test/fixtures/lackey_small.txt', '--reader', 'thread', '--json'],
    [
      'compare',
      'test/fixtures/lackey_small.txt',
      '--reader',
      'thread',
      '--design',
      'genode',
      '--design',
      '4k-only',
      '--out',
      out,
    ],
  ]) {
    const warm = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
    if (warm.status !== 0)
      throw new Error(`the built CLI failed its first run (${args.join(' ')}):\n${warm.stderr}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
