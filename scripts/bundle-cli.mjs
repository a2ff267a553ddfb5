// Bundles the command line (tsc's dist/cli/main.js and what it imports, zod, yaml and commander
// included) into dist/cli/main.js and lazily loaded chunks beside it. Node loads one file per
// chunk instead of some 300 modules, which halves the start-up of `validate` and `run`
// (docs/BENCHMARKS.md, start-up). The chunks stay in dist/cli, so paths the CLI resolves from its
// own location (the worker scripts, dist/web, package.json, the bundled trace) do not change; the
// worker threads load tsc's unbundled modules. vega and playwright load from node_modules when used.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunks of an earlier build go first: their names change with their contents.
for (const f of readdirSync('dist/cli')) if (/^bundle-[A-Z0-9]+\.js$/.test(f)) rmSync(`dist/cli/${f}`);

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
  outdir: 'dist/cli',
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'bundle-[hash]',
  external: ['vega', 'vega-lite', 'playwright-core'],
  // CommonJS packages in an ES module bundle call require: give them Node's.
  banner: {
    js: "import { createRequire as __faultlineRequire } from 'node:module'; const require = __faultlineRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [englishOnlyZod],
  logLevel: 'warning',
});
