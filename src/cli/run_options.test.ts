/**
 * The machine flags shared by replay, compare, capture, scale and irq: an empty value is an
 * error (never the default), numbers state their range, and each error names its own flag.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_COSTS } from '../sim/cost.js';
import { UserError } from './io.js';
import { MAX_COST_CYCLES, parseChunk, parseCostFlags, type RunFlags, runOptions } from './run_options.js';

/** The UserError message of runOptions(['genode'], flags). */
function error(flags: RunFlags, designs = ['genode']): string {
  try {
    runOptions(designs, flags);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error(`accepted ${JSON.stringify(flags)}`);
}

describe('runOptions', () => {
  it('takes the defaults when a flag is absent', () => {
    const [r] = runOptions(['genode'], {});
    expect(r).toMatchObject({
      design: 'genode',
      seed: 1,
      system: { arch: 'x86_64', cpus: 1, chunk: 2 ** 21 },
    });
    expect(r!.system.costs).toEqual(DEFAULT_COSTS);
  });

  it('rejects an empty value for every flag instead of falling back to the default', () => {
    expect(error({ tlb: '' })).toMatch(/^--tlb: invalid TLB spec '': it is empty/);
    expect(error({ cpus: '' })).toBe("--cpus: '' is not an integer from 1 to 256");
    expect(error({ seed: '' })).toMatch(/^--seed: '' is not an integer from 0 to /);
    expect(error({ chunk: '' })).toMatch(/^--chunk: '' is not a size/);
    expect(error({ arch: '' })).toMatch(/^--arch: '' is not one of x86_32, /);
    expect(error({ cost: [''] })).toMatch(/^--cost: cost assignment '': expected key=value/);
    expect(error({ set: [''] })).toMatch(/^--set: design override '' must look like option=value/);
  });

  it('--cost takes a whole number of cycles from 0 to 10^9 and says so', () => {
    expect(parseCostFlags(['ipcRoundTrip=900', 'pageZeroPerKiB = 0'])).toEqual({
      ipcRoundTrip: 900,
      pageZeroPerKiB: 0,
    });
    expect(
      runOptions(['genode'], { cost: [`ipcRoundTrip=${MAX_COST_CYCLES}`] })[0]!.system.costs.ipcRoundTrip,
    ).toBe(MAX_COST_CYCLES);
    for (const v of ['1.5', '-1', '1e3', '1000000001', '99999999999999999999', '', 'fast', 'Infinity']) {
      expect(error({ cost: [`ipcRoundTrip=${v}`] })).toBe(
        `--cost ipcRoundTrip: '${v}' is not an integer from 0 to 1000000000 cycles`,
      );
    }
    expect(error({ cost: ['ipcRoundtrip=5'] })).toMatch(/^--cost: unknown cost key 'ipcRoundtrip'/);
    expect(error({ cost: ['=5'] })).toMatch(/^--cost: cost assignment '=5': expected key=value/);
  });

  it('labels a bad design --design and a bad override --set', () => {
    expect(error({}, ['nonsense'])).toMatch(/^--design: unknown design 'nonsense'/);
    expect(error({ set: ['pagers=many'] })).toMatch(/^--set: design option pagers=many is not valid/);
    expect(error({ set: ['colour=blue'] })).toMatch(/^--set: unknown design option 'colour'/);
    expect(error({ set: ['pagers=single'] }, ['nonsense'])).toMatch(/^--design: /);
  });

  it('checks CPUs, seed and chunk against one range each', () => {
    expect(runOptions(['genode'], { cpus: '256', seed: '0', chunk: '64K' })[0]).toMatchObject({
      seed: 0,
      system: { cpus: 256, chunk: 65536 },
    });
    expect(error({ cpus: '257' })).toBe("--cpus: '257' is not an integer from 1 to 256");
    expect(error({ seed: '-1' })).toMatch(/^--seed: '-1' is not an integer/);
    expect(error({ chunk: '3K' })).toBe(
      "--chunk: '3K' is not a power of two of at least one page (4096 bytes)",
    );
    expect(error({ chunk: '2K' })).toMatch(/^--chunk: '2K' is not a power of two of at least one page/);
    expect(error({ chunk: '3G' })).toMatch(/^--chunk: '3G' is not a power of two/);
    expect(parseChunk('4G', 4096)).toBe(2 ** 32);
  });
});
