#!/usr/bin/env node
// The command line's entry, dist/cli/main.js (scripts/bundle-cli.mjs puts it there). It runs the
// bundled CLI, dist/cli/faultline.cjs, through V8's code cache: compiling the bundle's 1.2 MB is
// a third of the start-up of `validate` and `run`, and a cache written by an earlier run saves it
// (docs/BENCHMARKS.md, start-up). Node 20 offers no code cache for ES modules, hence a CommonJS
// bundle run as a vm.Script. A cache that is missing, or that V8 rejects (another Node version, a
// changed bundle), is written when the command ends; where it cannot be written, nothing changes.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

// The bundle's content hash, set by scripts/bundle-cli.mjs: a cache names the bundle it belongs to,
// since V8 checks only the source's length.
const BUILD = 'unbuilt';
const bundle = fileURLToPath(new URL('./faultline.cjs', import.meta.url));
const cacheFile = `${bundle}.${BUILD}.cache`;
const source = readFileSync(bundle, 'utf8');
// FAULTLINE_CODE_CACHE=off compiles without reading or writing a cache (the bench measures that).
const useCache = process.env.FAULTLINE_CODE_CACHE !== 'off';
let cachedData;
try {
  cachedData = useCache ? readFileSync(cacheFile) : undefined;
} catch {
  cachedData = undefined;
}
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname, __faultlineImport) {${source}\n})`,
  { filename: bundle, cachedData },
);
if (useCache && (cachedData === undefined || script.cachedDataRejected)) process.once('exit', writeCache);
const module = { exports: {} };
const dirname = fileURLToPath(new URL('.', import.meta.url));
// The bundle's import() of what it leaves out (vega), made from here: see scripts/bundle-cli.mjs.
const importExternal = (specifier) => import(specifier);
script
  .runInThisContext()
  .call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname, importExternal);

/** Writes the code V8 compiled during this run beside the bundle, atomically (runs may overlap). */
function writeCache() {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true });
  }
}
