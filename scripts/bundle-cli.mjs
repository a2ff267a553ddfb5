// Bundles the command line (tsc's dist/cli/main.js and what it imports, zod, yaml and commander
// included) into one CommonJS file, dist/cli/faultline.cjs, and puts the entry that runs it through
// V8's code cache (scripts/cli-main.mjs) in place of dist/cli/main.js. Node then compiles one file,
// or nothing at all once the cache exists, instead of some 300 modules (docs/BENCHMARKS.md,
// start-up; docs/ARCHITECTURE.md, "the command line is a bundle"). The bundle stays in dist/cli, so paths
// the CLI resolves from its own location (the worker scripts, dist/web, package.json, the bundled
// trace) do not change; the worker threads load tsc's unbundled modules. vega and playwright load
// from node_modules when used. Last, one run of a scenario writes the code cache.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const OUT = 'dist/cli/faultline.cjs';
if (readFileSync('dist/cli/main.js', 'utf8').includes('faultline.cjs')) {
  throw new Error('dist/cli/main.js is the entry of an earlier bundle, not tsc output: run npm run build');
}

// What earlier builds left: ES module chunks (before the CommonJS bundle) and code caches.
for (const f of readdirSync('dist/cli')) {
  if (/^bundle-[A-Z0-9]+\.js$/.test(f) || /^faultline\.cjs\..*cache/.test(f)) rmSync(`dist/cli/${f}`);
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

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: OUT,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vega', 'vega-lite', 'playwright-core'],
  // The sources are ES modules: strict, and resolving files from import.meta.url, which a CommonJS
  // file spells with __filename (the bundle sits where tsc's main.js was).
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
const EXTERNAL = /\bimport\("(vega|vega-lite|playwright-core)"\)/g;
const bundled = readFileSync(OUT, 'utf8')
  .replace(/^#!.*\n/, '')
  .replace(EXTERNAL, '__faultlineImport("$1")');
if (/\bimport\(/.test(bundled)) throw new Error(`${OUT}: an import() the entry does not provide`);
writeFileSync(OUT, bundled);
const id = createHash('sha256').update(bundled).digest('hex').slice(0, 16);
const entry = readFileSync('scripts/cli-main.mjs', 'utf8').replace(
  "const BUILD = 'unbuilt';",
  `const BUILD = '${id}';`,
);
if (!entry.includes(id)) throw new Error('scripts/cli-main.mjs: no BUILD constant to set');
writeFileSync('dist/cli/main.js', entry);
// tsc's source map describes the main.js the entry replaced.
rmSync('dist/cli/main.js.map', { force: true });
chmodSync('dist/cli/main.js', 0o755);

// The first run writes the code cache; a scenario run compiles what validate and run need.
const warm = spawnSync(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/rm_nested.yaml'], {
  encoding: 'utf8',
});
if (warm.status !== 0) throw new Error(`the built CLI failed its first run:\n${warm.stderr}`);
