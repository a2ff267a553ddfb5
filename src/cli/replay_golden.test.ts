/**
 * Byte-identical replay results for every trace format, reader and design: the bundled real trace
 * and two synthetic mixes, each as lackey text, gzip lackey, binary and gzip binary, read inline
 * and on the reader thread, replayed through every built-in design at once. Every combination
 * must print exactly the golden results (recorded before the replay path was optimised), apart
 * from the description of the input file itself.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DESIGNS } from '../sim/designs.js';
import { recordToString, TraceBatch } from '../sim/trace_batch.js';
import { unwrap } from '../util/result.js';
import { encodeBinaryTrace } from '../workload/binary_trace.js';
import { parseLackey } from '../workload/lackey.js';
import { writeLackeyMix } from '../workload/lackey_mix.js';
import { createWorkload } from '../workload/synthetic.js';
import { BUNDLED_TRACE } from './demo.js';
import { replay } from './replay_run.js';
import { runOptions } from './run_options.js';
import type { ReaderMode } from './trace_thread.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(ROOT, 'test', 'golden');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-golden-'));

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Lackey text of a zipf workload (hot pages over 64 MiB, two fetches per access). */
function zipfText(records: number): Uint8Array {
  const trace = unwrap(
    createWorkload({
      pattern: 'zipf',
      skew: 0.9,
      records,
      footprint: 64 << 20,
      instrPerAccess: 2,
      codeFootprint: 1 << 20,
      seed: 7,
    }),
  );
  const lines: string[] = [];
  const b = new TraceBatch();
  for (;;) {
    b.length = 0;
    if (trace.fill(b) === 0) break;
    for (let i = 0; i < b.length; i++) {
      lines.push(recordToString(b.kind[i]!, b.addr[i]!, b.size[i]!).replace(' 0x', ' '));
    }
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

function mixText(lines: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  writeLackeyMix(lines, (c) => chunks.push(c.slice()));
  return concat(chunks);
}

/** Writes the four forms of one lackey text; returns their paths. */
function forms(name: string, text: Uint8Array): Record<string, string> {
  const batches: TraceBatch[] = [];
  unwrap(
    parseLackey(text, (b) => {
      batches.push(b.copy());
    }),
  );
  const bin = encodeBinaryTrace(batches);
  const files: Record<string, Uint8Array> = {
    lackey: text,
    'lackey.gz': gzipSync(text),
    binary: bin,
    'binary.gz': gzipSync(bin),
  };
  const paths: Record<string, string> = {};
  for (const [form, bytes] of Object.entries(files)) {
    paths[form] = join(tmp, `${name}.${form}`);
    writeFileSync(paths[form], bytes);
  }
  return paths;
}

const TRACES: Array<[string, () => Uint8Array]> = [
  ['bundled', () => gunzipSync(readFileSync(BUNDLED_TRACE))],
  ['mix', () => mixText(300_000)],
  ['zipf', () => zipfText(200_000)],
];
const DESIGN_NAMES = DESIGNS.map((d) => d.name);

/** Every design's result without the description of the input file (which differs per form). */
async function results(path: string, reader: ReaderMode): Promise<string> {
  const out = await replay(path, runOptions(DESIGN_NAMES, {}), { reader });
  // Every design of a plain trace on threads: this thread and the partner decode it between them
  // (lackey text in blocks of whole lines, shorter than the streaming reader's batches).
  const plain = !path.endsWith('.gz');
  expect(out.reading).toBe(reader === 'inline' ? 'inline' : plain ? 'shared' : 'thread');
  const rs = out.results.map((r) => {
    const { trace: _t, ...config } = r.config!;
    expect(r.config!.trace.records).toBe(out.trace.records);
    return { ...r, config };
  });
  return `${JSON.stringify(rs, null, 1)}\n`;
}

describe('replay results are the golden ones for every format, reader and design', () => {
  for (const [name, make] of TRACES) {
    it(`${name}`, async () => {
      const paths = forms(name, make());
      const golden = join(GOLDEN, `replay_all_designs_${name}.json`);
      // Only the first combination may (re)write the golden file; every other one is compared.
      let first = true;
      for (const form of Object.keys(paths)) {
        for (const reader of ['inline', 'thread'] as const) {
          const actual = await results(paths[form]!, reader);
          if (first && (!existsSync(golden) || process.env.UPDATE_GOLDEN === '1'))
            writeFileSync(golden, actual);
          first = false;
          expect(actual, `${form}, --reader ${reader}`).toBe(readFileSync(golden, 'utf8'));
        }
      }
    }, 300_000);
  }
});
