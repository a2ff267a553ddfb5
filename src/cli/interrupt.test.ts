/**
 * Ctrl-C on the long commands (replay, compare, scale, irq, capture --replay): the command stops
 * soon, prints what it has as a partial result marked `interrupted`, writes its files, and exits
 * with status 130, without a stack trace. Each run is its own CLI process, pressed with SIGINT as
 * soon as it listens for it (cli.testutil.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRun } from './cli.testutil.js';
import { traceInfo } from './trace_cmd.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-interrupt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A lackey trace of `n` reads over 262144 distinct 4K pages in 512 2M chunks: under 4k-only
 * every record misses the TLB and one in eight faults, so it replays for seconds, not
 * milliseconds.
 */
function bigTrace(n: number): string {
  const path = join(tmp, `big-${n}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const chunk = (i * 7919) % 512;
    const page = Math.floor(i / 512) % 512;
    lines.push(` L ${(0x10000000 + chunk * 2 ** 21 + page * 4096).toString(16)},8`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const RECORDS = 1_000_000;
const trace = bigTrace(RECORDS);
const noStack = /\n\s+at /;

describe.concurrent('Ctrl-C keeps the partial result and exits 130', () => {
  it('replay --json: the records replayed so far, interrupted: true', async () => {
    const r = await cliRun(['replay', trace, '--design', '4k-only', '--json'], { interrupt: {} });
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(true);
    expect(j.records).toBeGreaterThan(0);
    expect(j.records).toBeLessThan(RECORDS);
    expect(j.trace.records).toBe(j.records);
  });

  it('compare: the table marked partial, and its plot and report written', async () => {
    const out = join(tmp, 'compare');
    const r = await cliRun(['compare', trace, '--design', '4k-only', '--design', 'genode', '--out', out], {
      interrupt: {},
    });
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^interrupted: partial result\n/);
    expect(r.out).toMatch(/4k-only\s+genode/);
    expect(readFileSync(join(out, 'compare.svg'), 'utf8')).toMatch(/^<svg/);
    expect(existsSync(join(out, 'compare.html'))).toBe(true);
  });

  it('scale --json: the points done, the one in progress with its accesses so far', async () => {
    const out = join(tmp, 'scale');
    const records = 50_000_000;
    const r = await cliRun(['scale', '--cpus', '1,2', '--records', String(records), '--json', '--out', out], {
      interrupt: {},
    });
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(true);
    expect(j.points.length).toBeGreaterThanOrEqual(1);
    expect(j.points.length).toBeLessThan(6);
    expect(j.points.at(-1).records).toBeLessThan(records);
    expect(readFileSync(join(out, 'scale-throughput.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('irq --json: the runs done before the signal', async () => {
    const out = join(tmp, 'irq');
    const cpus = Array.from({ length: 16 }, (_, i) => i + 1).join(',');
    const r = await cliRun(['irq', '--cpus', cpus, '--duration', '20', '--json', '--out', out], {
      interrupt: {},
    });
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(true);
    expect(j.runs.length).toBeLessThan(32);
  });

  it('capture --replay: valgrind is stopped, the trace so far replayed and kept whole', async () => {
    const cwd = mkdtempSync(join(tmp, 'capture-'));
    const out = join(cwd, 'loop.lackey');
    const r = await cliRun(
      [
        'capture',
        '--replay',
        '--json',
        '--no-gzip',
        '--out',
        out,
        '--',
        '/bin/sh',
        '-c',
        'while :; do :; done',
      ],
      {
        cwd,
        // Press once the trace has started to flow into the (temporary) output file.
        interrupt: {
          ready: (pid) => existsSync(`${out}.tmp-${pid}`) && statSync(`${out}.tmp-${pid}`).size > 0,
        },
      },
    );
    expect(r.err).not.toMatch(noStack);
    expect(r.code).toBe(130);
    const j = JSON.parse(r.out);
    expect(j.interrupted).toBe(true);
    expect(j.records).toBeGreaterThan(0);
    expect(j.capture.problem).toBeNull();
    // The file holds whole lines only: it reads back as a valid trace.
    const info = await traceInfo(out);
    expect(info.records).toBeGreaterThan(0);
  });
});
