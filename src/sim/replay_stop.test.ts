import { describe, expect, it } from 'vitest';
import { type ArchName, arch } from '../hw/arch.js';
import { unwrap } from '../util/result.js';
import { designOptions } from './designs.js';
import { buildTracedSystem, summarize, type TracedSystemOptions } from './replay.js';
import { addressCause, settle, stopText } from './replay_stop.js';
import { PushSource } from './sim_thread.js';
import { INSTR, LOAD, STORE, TraceBatch } from './trace_batch.js';

/**
 * Replays `addrs` (loads of 8 bytes, then `after` more loads of mapped memory) pushed in batches
 * of `cap` records, as `faultline replay` streams a trace, and returns the summary.
 */
function replayLoads(addrs: readonly number[], opts: TracedSystemOptions = {}, cap = 4, after = 10) {
  const src = new PushSource();
  const sys = buildTracedSystem([src], opts);
  const t = sys.threads[0]!;
  const all = [...addrs, ...Array.from({ length: after }, (_, i) => 0x500000 + 8 * i)];
  const batch = new TraceBatch(cap);
  let pushed = 0;
  const push = () => {
    pushed++;
    if (t.fatal) return; // a stopped thread is handed nothing more (as replay_run does)
    src.push(batch);
    sys.machine.kick(t);
    sys.machine.run();
    if (settle(t, sys.machine.errors, sys.machine.faults.lostFaults)) src.take();
    expect(src.hasPending).toBe(false);
  };
  for (const a of all) {
    batch.push(LOAD, a, 8);
    if (batch.full) {
      push();
      batch.clear();
    }
  }
  if (batch.length > 0) push();
  src.end();
  sys.machine.kick(t);
  sys.machine.run();
  settle(t, sys.machine.errors, sys.machine.faults.lostFaults);
  return { r: summarize(sys, 'genode'), total: all.length, pushed };
}

describe('addressCause', () => {
  const at = (name: ArchName, va: number) => {
    const a = arch(name);
    const userTop = a.vaBits >= 39 ? 2 ** (a.vaBits - 1) : 2 ** a.vaBits;
    return addressCause(a, userTop, 4096, va);
  };

  it('classifies x86_64 addresses: null page, kernel half, non-canonical', () => {
    expect(at('x86_64', 0)).toBe('null-page');
    expect(at('x86_64', 4095)).toBe('null-page');
    expect(at('x86_64', -0xa00000)).toBe('kernel-half'); // vsyscall 0xffffffffff600000
    expect(at('x86_64', -(2 ** 47))).toBe('kernel-half'); // 0xffff800000000000
    expect(at('x86_64', -(2 ** 47) - 1)).toBe('non-canonical'); // 0xffff7fffffffffff
    expect(at('x86_64', 2 ** 47)).toBe('non-canonical'); // 0x0000800000000000
    expect(at('x86_64', 2 ** 47 - 1)).toBe('unresolved'); // the top user byte is fine
    expect(at('x86_64', 0x400000)).toBe('unresolved');
  });

  it('uses the architecture width: riscv-sv39 has 39 bits, 32-bit ones have 4G and no upper half', () => {
    expect(at('riscv-sv39', 2 ** 38)).toBe('non-canonical');
    expect(at('riscv-sv39', -(2 ** 38))).toBe('kernel-half');
    expect(at('x86_32', 2 ** 32)).toBe('beyond-address-space');
    expect(at('x86_32', -1)).toBe('beyond-address-space');
    expect(at('x86_32', 2 ** 32 - 1)).toBe('unresolved');
    expect(at('armv7', 0)).toBe('null-page');
  });

  it('calls an in-range address above the program memory above-user-space', () => {
    expect(addressCause(arch('x86_64'), 2 ** 40, 4096, 2 ** 41)).toBe('above-user-space');
  });
});

describe('a traced thread that stops for good', () => {
  it('dies on the null page: the rest of the trace is not replayed, whatever follows', () => {
    // Record 6 (1-based) is the null access; three more batches follow it.
    const { r, total } = replayLoads([0x400000, 0x400008, 0x401000, 0x402000, 0x403000, 0], {}, 4, 10);
    expect(total).toBe(16);
    expect(r.records).toBe(5);
    expect(r.stopped).toEqual({
      reason: 'thread-died',
      thread: 'main',
      record: 6,
      address: '0x0',
      access: 'read',
      cause: 'null-page',
      error: "illegal READ at address 0x0 by pager_object: pd='init -> traced' thread='main' ip=0x0",
    });
    expect(r.errors).toEqual([r.stopped!.error]);
  });

  it.each([
    ['x86_64', -0xa00000, 'kernel-half', '0xffffffffff600000'],
    ['x86_64', -(2 ** 53), 'non-canonical', '0xffe0000000000000'],
    ['x86_64', 2 ** 47, 'non-canonical', '0x800000000000'],
    ['x86_32', 2 ** 32, 'beyond-address-space', '0x100000000'],
    ['x86_32', -0xa00000, 'beyond-address-space', '0xffffffffff600000'],
    ['riscv-sv39', -(2 ** 38), 'kernel-half', '0xffffffc000000000'],
  ] as const)('on %s dies at %d (%s), neither crashing nor wrapping', (archName, va, cause, address) => {
    const { r } = replayLoads([0x400000, va], { arch: archName }, 1, 3);
    expect(r.records).toBe(1);
    expect(r.stopped).toMatchObject({ reason: 'thread-died', record: 2, address, cause });
    expect(r.errors[0]).toContain(`at address ${address}`);
  });

  it('dies at the second page of an access crossing into the kernel half', () => {
    const src = new PushSource();
    const sys = buildTracedSystem([src]);
    const b = new TraceBatch(2);
    b.push(INSTR, 0x400000, 4);
    b.push(STORE, 2 ** 47 - 4, 8); // the last user bytes, then 0x800000000000: not canonical
    src.push(b);
    sys.machine.kick(sys.threads[0]!);
    sys.machine.run();
    expect(settle(sys.threads[0]!, sys.machine.errors)).toBe(true);
    expect(summarize(sys, 'genode').stopped).toMatchObject({
      record: 2,
      address: '0x800000000000',
      access: 'write',
      cause: 'non-canonical',
    });
  });

  it('blocks for ever when its fault handler fails (RAM ran out), and says so', () => {
    // 8 MiB of RAM: 4 chunks of 2 MiB; the fifth chunk cannot be backed.
    const ram = [{ base: 0x40000000, size: 8 * 2 ** 20 }];
    const chunks = [1, 2, 3, 4, 5, 6].map((i) => 0x10000000 + i * 2 ** 21);
    const { r, total } = replayLoads(chunks, { ram }, 2, 5);
    expect(total).toBe(11);
    expect(r.records).toBe(4);
    expect(r.stopped).toMatchObject({
      reason: 'thread-blocked',
      record: 5,
      address: '0x10a00000',
      access: 'read',
      cause: 'handler-failed',
    });
    expect(r.stopped!.error).toMatch(/^on-demand handler cannot back 0x10a00000/);
    expect(stopText(r.stopped!, total, arch('x86_64'))).toBe(
      "stopped: thread 'main' blocked for ever at record 5 of 11 (read at 0x10a00000: its fault handler failed); the 7 records from there on were not replayed",
    );
  });

  it('blocks for ever when a synchronous design gives its fault up (the call timed out), and says so', () => {
    const design = unwrap(designOptions('sync-core-rpc', { ipcTimeout: '5ms' }));
    const misbehave = { kind: 'replies-late', cycles: 30_000_000 } as const;
    const { r, total } = replayLoads([0x400000, 0x10000000], { design, misbehave }, 2, 5);
    expect(r.stopped).toMatchObject({ reason: 'thread-blocked', record: 1, cause: 'fault-lost' });
    expect(r.stopped!.error).toMatch(/^fault of 'main' at 0x400000 lost: /);
    expect(stopText(r.stopped!, total, arch('x86_64'))).toContain(
      'its fault was given up: the call to its dataspace manager failed',
    );
  });

  it('does not stop a thread that completes', () => {
    const { r, total } = replayLoads([0x400000, 0x10000000], {}, 3, 10);
    expect(r.records).toBe(total);
    expect(r.stopped).toBeNull();
  });
});
