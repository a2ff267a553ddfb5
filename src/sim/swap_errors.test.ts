/**
 * Errors of the paging path (issue 16, seed 003: "if the status is bad ... the thread is
 * terminated"): an I/O error, a timeout (the device died) and a dead provider terminate the
 * faulting thread with a clear error and lose nothing else; a full swap makes eviction fail
 * cleanly (out of memory) with every page still where it was.
 */
import { describe, expect, it } from 'vitest';
import { decodePte } from '../hw/pte.js';
import { unwrap } from '../util/result.js';
import { PagedDriver } from './swap.testutil.js';

const P = 4096;
const A = 0x100000;

/** A driver whose first two pages were written (1, 2) and pushed to swap by touching two more. */
function swapped(design: string, providers = [{ device: 'nvme' as const, blocks: 64 }]) {
  const d = new PagedDriver(design, { ram: 2 * P, replacement: 'fifo', providers }, { chunk: P });
  d.write(A, 1);
  d.write(A + P, 2);
  d.read(A + 2 * P);
  d.read(A + 3 * P);
  return d;
}

/** The provider's device block holding the page at `va` (from its not-present PTE). */
function blockOf(d: PagedDriver, va: number): number {
  const e = unwrap(decodePte(d.swap.mem.options.pte, d.swap.mem.pteOf(va)));
  if (e.kind !== 'swap') throw new Error(`0x${va.toString(16)} is not in swap`);
  return d.swap.registry.locate(Number(e.block))!.block;
}

for (const design of ['kernel-swap', '4k-only']) {
  describe(`paging errors (${design})`, () => {
    it('an I/O error on swap-in terminates the faulting thread; the other swapped page is intact', () => {
      const d = swapped(design);
      const dev = d.swap.provider('swap0')!.server.device;
      dev.failBlock(blockOf(d, A));
      expect(d.read(A)).toBeNaN();
      const stop = d.thread.fatal!;
      expect(stop.how).toBe('died');
      expect(stop.error).toMatch(/thread 'main' terminated: .*0x100000.*I\/O error/);
      expect(d.sys.machine.errors).toContain(stop.error);
      // Nothing else is lost: the other page is still in its block, the failed one still in its own.
      expect(dev.peek(blockOf(d, A + P))[0]).toBe(2);
      expect(blockOf(d, A)).toBeGreaterThanOrEqual(0);
      expect(d.swap.result()).toMatchObject({ terminated: 1, providers: [{ ioErrors: 1 }] });
    });

    it('a device that stops answering: the fault times out after 30 s and terminates the thread', () => {
      const d = swapped(design);
      d.swap.provider('swap0')!.server.device.kill(d.sys.machine.engine.now);
      const before = d.sys.machine.engine.now;
      expect(d.read(A)).toBeNaN();
      expect(d.thread.fatal!.error).toMatch(
        /terminated: swap-in of the page at 0x100000 failed: 'swap0' did not answer within 30 s/,
      );
      expect(d.sys.machine.engine.now - before).toBeGreaterThanOrEqual(30 * 3e9);
      expect(d.swap.result().providers[0]!.timeouts).toBe(1);
    });

    it('a dead provider: its pages cannot come back, the fault terminates the thread at once', () => {
      const d = swapped(design);
      const before = d.sys.machine.engine.now;
      expect(d.swap.killProvider('swap0')).toBe(true);
      expect(d.read(A)).toBeNaN();
      expect(d.thread.fatal!.error).toMatch(/terminated: .*dead/);
      expect(d.sys.machine.engine.now - before).toBeLessThan(3e6);
      expect(d.swap.result().providers[0]!.dead).toBe(true);
    });

    it('a full swap makes eviction fail cleanly: a clean victim goes instead, else out of memory and nothing moved', () => {
      const swap = {
        ram: 2 * P,
        replacement: 'fifo' as const,
        providers: [{ device: 'nvme' as const, blocks: 1 }],
      };
      const d = new PagedDriver(design, swap, { chunk: P });
      d.write(A, 1);
      d.write(A + P, 2);
      d.read(A + 2 * P); // page 0 takes the only block
      // The next victim, page 1, is dirty and finds no block: clean page 2 goes instead.
      expect(d.write(A + 3 * P, 4)).toBe(true);
      // Now both resident pages are dirty and swap is full.
      expect(d.read(A + 4 * P)).toBeNaN();
      expect(d.thread.fatal!.error).toMatch(/terminated: out of memory: .*swap provider is full/);
      const phys = d.sys.machine.core.phys;
      expect([phys.read(d.swap.physOf(A + P)), phys.read(d.swap.physOf(A + 3 * P))]).toEqual([2, 4]);
      expect(d.swap.provider('swap0')!.server.device.peek(blockOf(d, A))[0]).toBe(1);
    });
  });
}
