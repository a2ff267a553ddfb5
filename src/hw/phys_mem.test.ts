import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './phys_mem.js';

describe('PhysicalMemory contents by range', () => {
  it('reads back what was written byte by byte or as a range, and null for all zeros', () => {
    const writes = fc.array(
      fc.record({ at: fc.integer({ min: 0, max: 63 }), v: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(writes, fc.integer({ min: 0, max: 48 }), fc.boolean(), (list, from, asRange) => {
        const m = new PhysicalMemory([{ base: 0, size: 1 << 20 }], 12);
        const ref = new Uint8Array(64);
        for (const { at, v } of list) {
          m.write(at, v);
          ref[at] = v;
        }
        const got = m.readBytes(from, 16);
        const want = ref.slice(from, from + 16);
        if (want.every((b) => b === 0)) expect(got).toBeNull();
        else expect(got).toEqual(want);
        // Moving the range elsewhere keeps it, and overwrites what was there.
        m.write(4096 + 3, 9);
        m.writeBytes(4096, 16, asRange ? want : null);
        for (let i = 0; i < 16; i++) expect(m.read(4096 + i)).toBe(asRange ? want[i] : 0);
      }),
    );
  });
});
