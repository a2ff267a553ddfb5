#!/usr/bin/env node
// The command line's entry, dist/cli/main.js, and its worker threads' (trace_worker.js,
// sim_worker.js): scripts/bundle-cli.mjs puts a copy of this file in place of each, naming its
// bundle. It runs the bundle through V8's code cache: compiling the CLI's 1.2 MB is a third of the
// start-up of `validate` and `run`, and a worker thread took 80 ms to load its modules, 27 ms from
// its cache (docs/BENCHMARKS.md, start-up). Node 20 offers no code cache for ES modules, hence
// CommonJS bundles run as a vm.Script. A cache that is missing, or that V8 rejects (another Node
// version, a changed bundle), is written again; where it cannot be written, nothing changes.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

// Set by scripts/bundle-cli.mjs: the bundle; its content hash, since V8 checks only a source's
// length and a cache must name the bundle it belongs to; and when the cache is written: when the
// command ends, or (a worker thread, which runs until the process ends) once the bundle has loaded.
const BUNDLE = './faultline.cjs';
const BUILD = 'unbuilt';
const CACHE_AT_EXIT = true;
const bundle = fileURLToPath(new URL(BUNDLE, import.meta.url));
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
const writeNeeded = useCache && (cachedData === undefined || script.cachedDataRejected);
if (writeNeeded && CACHE_AT_EXIT) process.once('exit', writeCache);
const module = { exports: {} };
const dirname = fileURLToPath(new URL('.', import.meta.url));
// The bundle's import() of what it leaves out (vega), made from here: see scripts/bundle-cli.mjs.
const importExternal = (specifier) => import(specifier);
script
  .runInThisContext()
  .call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname, importExternal);
if (writeNeeded && !CACHE_AT_EXIT) writeCache();

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
