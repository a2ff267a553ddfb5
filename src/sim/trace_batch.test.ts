import { describe, expect, it } from 'vitest';
import {
  INSTR,
  LOAD,
  MODIFY,
  plainBytes,
  recordToString,
  STORE,
  TraceBatch,
  TraceInfo,
  TraceInfoCollector,
} from './trace_batch.js';

describe('TraceBatch', () => {
  it('fills up to capacity, reports full and clears without losing storage', () => {
    const b = new TraceBatch(2);
    expect(b.full).toBe(false);
    b.push(LOAD, 0x1000, 8);
    b.push(STORE, 0x2000, 4);
    expect(b.full).toBe(true);
    expect(b.toRecords()).toEqual([
      { kind: LOAD, addr: 0x1000, size: 8 },
      { kind: STORE, addr: 0x2000, size: 4 },
    ]);
    const storage = b.addr;
    b.clear();
    expect(b.length).toBe(0);
    expect(b.addr).toBe(storage);
  });

  it('copies exactly its records into storage of their own', () => {
    const b = new TraceBatch(8);
    b.push(LOAD, 0x1000, 8);
    b.push(STORE, -0xa00000, 4);
    const c = b.copy();
    expect(c.length).toBe(2);
    expect(c.capacity).toBe(2);
    expect(c.toRecords()).toEqual(b.toRecords());
    b.clear();
    b.push(MODIFY, 0x2000, 1);
    expect(c.toRecords()).toEqual([
      { kind: LOAD, addr: 0x1000, size: 8 },
      { kind: STORE, addr: -0xa00000, size: 4 },
    ]);
  });

  it('keeps addresses exact up to 2^53-1', () => {
    const b = new TraceBatch(1);
    b.push(INSTR, 2 ** 53 - 1, 1);
    expect(b.get(0).addr).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('prints records in hex', () => {
    const b = new TraceBatch(8);
    for (let i = 0; i < 5; i++) b.push(MODIFY, 0x421fb40 + i, 4);
    expect(recordToString(INSTR, 0x400d7d4, 8)).toBe('I  0x400d7d4,8');
    expect(recordToString(LOAD, 0x10, 2)).toBe(' L 0x10,2');
    expect(b.toString()).toBe(
      'TraceBatch(5/8: M 0x421fb40,4; M 0x421fb41,4; M 0x421fb42,4; M 0x421fb43,4, ... 1 more)',
    );
  });
});

describe('TraceInfoCollector', () => {
  it('counts kinds, distinct 4K pages (both pages of a crossing access) and the address range', () => {
    const c = new TraceInfoCollector();
    const b = new TraceBatch(16);
    b.push(INSTR, 0x400000, 4);
    b.push(INSTR, 0x400004, 4);
    b.push(LOAD, 0x10000ffc, 8); // crosses into 0x10001000
    b.push(STORE, 0x10001000, 8);
    b.push(MODIFY, 0x7ff000398, 8);
    c.add(b);
    b.clear();
    b.push(LOAD, 0x400ff8, 8);
    c.sink(b);
    const info = c.result();
    expect(info.records).toBe(6);
    expect(info.perKind).toEqual([2, 2, 1, 1]);
    expect(info.pages).toBe(4); // 0x400000, 0x10000000, 0x10001000, 0x7ff000000
    expect(info.footprint).toBe(4 * 4096);
    expect(info.lowest).toBe(0x400000);
    expect(info.highest).toBe(0x7ff000398 + 7);
    expect(info.toString()).toBe(
      '6 records (I 2, L 2, S 1, M 1), 4 distinct 4K pages (16K footprint), addresses 0x400000..0x7ff00039f',
    );
  });

  it('summarises upper-half (negative, sign-extended) addresses: the top page is page -1', () => {
    const c = new TraceInfoCollector();
    const b = new TraceBatch(4);
    b.push(LOAD, -0x1000, 8); // 0xfffffffffffff000: page -1
    b.push(LOAD, -0xa00000, 8); // the vsyscall page
    b.push(LOAD, -0x1000 + 8, 8); // page -1 again
    c.add(b);
    const info = c.result();
    expect(info.pages).toBe(2);
    expect(info.lowest).toBe(-0xa00000);
    expect(info.highest).toBe(-0x1000 + 15);
    expect(info.toString()).toContain('addresses 0xffffffffff600000..0xfffffffffffff00f');
  });

  it('summarises nothing as nothing', () => {
    const info = new TraceInfoCollector().result();
    expect(info).toEqual(new TraceInfo(0, [0, 0, 0, 0], 0, 0, -1));
    expect(info.toString()).toContain('no addresses');
  });
});

describe('plainBytes', () => {
  it('views a Buffer as a plain Uint8Array over the same memory', () => {
    const buf = Buffer.from('abcdef').subarray(2, 5);
    const v = plainBytes(buf);
    expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
    expect([...v]).toEqual([...buf]);
    v[0] = 0x7a;
    expect(buf.toString()).toBe('zde');
    const plain = new Uint8Array(3);
    expect(plainBytes(plain)).toBe(plain);
  });
});
