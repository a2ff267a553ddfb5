/**
 * `faultline scale`: its flags checked like every other command's, the sweep run in slices (with
 * progress and a way to stop) giving exactly the figures of one uninterrupted run, and its
 * defaults a sweep whose every thread faults its whole private memory in.
 */
import { describe, expect, it } from 'vitest';
import { UserError } from './io.js';
import { DEFAULTS, parseScaleFlags } from './scale_cmd.js';
import { runScale, runScalePoint } from './scale_run.js';

function error(f: Record<string, string>): string {
  try {
    parseScaleFlags(f);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error(`accepted ${JSON.stringify(f)}`);
}

const SMALL = { cpus: '1,2', records: '6000', private: '2M', chunk: '64K' };

describe('faultline scale flags', () => {
  it('defaults to a sweep of 1..64 CPUs in which each thread touches all of its private memory', () => {
    const spec = parseScaleFlags({});
    expect(spec).toMatchObject({
      designs: ['genode-single-pager', 'genode', 'partitioned'],
      cpus: [1, 2, 4, 8, 16, 32, 64],
      records: Number(DEFAULTS.records),
      sharedBytes: 0,
      share: 0,
      chunk: 65536,
      seed: 1,
    });
    // Uniform accesses over P pages leave about P * exp(-accesses / P) untouched: at 64 CPUs each
    // thread still makes six accesses per page of its memory, so under 0.3% stay untouched.
    const pages = spec.privateBytes / 4096;
    expect(spec.records / 64 / pages).toBeGreaterThan(6);
  });

  it('defaults within the work measured to finish in under 15 s on two cores (docs/OUTPUT.md)', () => {
    const spec = parseScaleFlags({});
    const points = spec.designs.length * spec.cpus.length;
    // Accesses and page faults of the whole sweep; the former defaults made 42M and 1.7M.
    const accesses = points * spec.records;
    const faults = spec.designs.length * spec.cpus.reduce((a, c) => a + c, 0) * (spec.privateBytes / 4096);
    expect(accesses).toBeLessThanOrEqual(10_000_000);
    expect(faults).toBeLessThanOrEqual(400_000);
  });

  it('rejects bad values with the flag, the value and what is expected', () => {
    expect(error({ share: '' })).toBe("--share: '' is not a number from 0 to 1");
    expect(error({ share: '1.5' })).toBe("--share: '1.5' is not a number from 0 to 1");
    expect(error({ share: '0.5' })).toBe('--share: a share above 0 needs --shared memory');
    expect(error({ chunk: '3K' })).toBe(
      "--chunk: '3K' is not a power of two of at least one page (4096 bytes)",
    );
    expect(error({ cpus: '2,1' })).toBe("--cpus: '2,1' must be strictly increasing, e.g. 1,2,4,8");
    expect(error({ cpus: '1,257' })).toBe("--cpus: '257' is not an integer from 1 to 256");
    expect(error({ cpus: '' })).toMatch(/^--cpus: '' is not a comma-separated list/);
    expect(error({ records: '0' })).toMatch(/^--records: '0' is not an integer from 1 to/);
    expect(error({ private: '3M' })).toMatch(/^--private: '3M' is not a multiple of 2M/);
    expect(error({ shared: '1M' })).toBe("--shared: '1M' is not a multiple of 2M");
    expect(error({ shared: '' })).toMatch(/^--shared: '' is not a size/);
    expect(error({ seed: 'x' })).toMatch(/^--seed: 'x' is not an integer from 0 to/);
    expect(parseScaleFlags({ shared: '0', seed: '0' })).toMatchObject({ sharedBytes: 0, seed: 0 });
  });
});

describe('runScale', () => {
  it('gives the figures of uninterrupted runs, reporting progress up to the total', async () => {
    const spec = parseScaleFlags({ ...SMALL });
    const seen: Array<[number, number]> = [];
    const r = await runScale(spec, { onProgress: (done, total) => seen.push([done, total]) });
    expect(r.interrupted).toBe(false);
    const whole = spec.designs.flatMap((d) => spec.cpus.map((c) => runScalePoint(spec, d, c)));
    expect(JSON.stringify(r.points)).toBe(JSON.stringify(whole));
    const total = spec.designs.length * (6000 + 2 * 3000);
    expect(seen.every(([, t]) => t === total)).toBe(true);
    expect(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0])).toBe(true);
    expect(seen.at(-1)![0]).toBe(total);
  });

  it('stops when asked, keeping the point in progress', async () => {
    const spec = parseScaleFlags({ ...SMALL, records: '2000000' });
    const r = await runScale(spec, { shouldStop: () => true });
    expect(r.interrupted).toBe(true);
    expect(r.points).toHaveLength(1);
    expect(r.points[0]).toMatchObject({ design: 'genode-single-pager', cpus: 1 });
    expect(r.points[0]!.records).toBeLessThan(2_000_000);
  });
});
