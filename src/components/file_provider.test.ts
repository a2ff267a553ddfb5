import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileProvider } from './file_provider.js';

function handle(r: { ok: boolean; value?: number; message?: string }): number {
  if (!r.ok || r.value === undefined) throw new Error(r.message);
  return r.value;
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe('FileProvider', () => {
  it('creates, lists, opens and removes files by path', () => {
    const fs = new FileProvider('vfs');
    const a = handle(fs.create('/a', 10));
    const b = handle(fs.create('/b'));
    expect(fs.list()).toEqual(['/a', '/b']);
    expect(fs.open('/b')).toEqual({ ok: true, value: b });
    expect(fs.size(a)).toEqual({ ok: true, value: 10 });
    const dup = fs.create('/a');
    expect(dup.ok || dup.code).toBe('FILE_EXISTS');
    expect(fs.remove('/a').ok).toBe(true);
    const stale = fs.read(a, 0, 1);
    expect(stale.ok || stale.code).toBe('BAD_HANDLE');
    const gone = fs.open('/a');
    expect(gone.ok || gone.code).toBe('NO_SUCH_FILE');
    for (const bad of [
      fs.create(''),
      fs.create('/c', -1),
      fs.read(b, -1, 1),
      fs.read(b, 0, -1),
      fs.write(b, 1.5, bytes(1)),
    ])
      expect(bad.ok || bad.code).toBe('INVALID_ARGUMENT');
  });

  it('reads zeros past the end, writes extend, write-back never does', () => {
    const fs = new FileProvider('vfs', 4);
    const f = handle(fs.create('/f'));
    expect(fs.write(f, 2, bytes(1, 2, 3, 4, 5)).ok).toBe(true);
    expect(fs.size(f)).toEqual({ ok: true, value: 7 });
    expect(fs.read(f, 0, 9)).toEqual({ ok: true, value: bytes(0, 0, 1, 2, 3, 4, 5, 0, 0) });
    // A mapped page of 4 bytes at offset 4 written back: only bytes 4..6 are in the file.
    expect(fs.writeBack(f, 4, bytes(9, 9, 9, 9))).toEqual({ ok: true, value: 3 });
    expect(fs.size(f)).toEqual({ ok: true, value: 7 });
    expect(fs.read(f, 4, 4)).toEqual({ ok: true, value: bytes(9, 9, 9, 0) });
    expect(fs.writeBack(f, 8, bytes(1))).toEqual({ ok: true, value: 0 });
    expect(fs.pagesStored(f)).toBe(2);
  });

  it('truncates: shrinking forgets the bytes, growing again reads zeros', () => {
    const fs = new FileProvider('vfs', 4);
    const f = handle(fs.create('/f'));
    fs.write(f, 0, bytes(1, 2, 3, 4, 5, 6, 7, 8, 9));
    expect(fs.truncate(f, 3).ok).toBe(true);
    expect(fs.pagesStored(f)).toBe(1);
    expect(fs.truncate(f, 9).ok).toBe(true);
    expect(fs.read(f, 0, 9)).toEqual({ ok: true, value: bytes(1, 2, 3, 0, 0, 0, 0, 0, 0) });
  });

  it('agrees with plain byte arrays on random operations', () => {
    type Op =
      | { k: 'write' | 'writeBack'; file: number; off: number; data: number[] }
      | { k: 'read'; file: number; off: number; len: number }
      | { k: 'truncate'; file: number; size: number };
    const file = fc.nat(1);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constantFrom('write' as const, 'writeBack' as const),
        file,
        off: fc.nat(20),
        data: fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 10 }),
      }),
      fc.record({ k: fc.constant('read' as const), file, off: fc.nat(30), len: fc.nat(20) }),
      fc.record({ k: fc.constant('truncate' as const), file, size: fc.nat(25) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 60 }), (page, ops) => {
        const fs = new FileProvider('vfs', page);
        const hs = [handle(fs.create('/0')), handle(fs.create('/1'))];
        const ref: number[][] = [[], []];
        for (const o of ops) {
          const h = hs[o.file]!;
          const r = ref[o.file]!;
          if (o.k === 'read') {
            const want = Array.from({ length: o.len }, (_, i) => r[o.off + i] ?? 0);
            expect(fs.read(h, o.off, o.len)).toEqual({ ok: true, value: new Uint8Array(want) });
          } else if (o.k === 'truncate') {
            fs.truncate(h, o.size);
            r.length = Math.min(r.length, o.size);
            while (r.length < o.size) r.push(0);
          } else {
            const n =
              o.k === 'write' ? o.data.length : Math.max(0, Math.min(o.data.length, r.length - o.off));
            if (o.k === 'write') fs.write(h, o.off, new Uint8Array(o.data));
            else expect(fs.writeBack(h, o.off, new Uint8Array(o.data))).toEqual({ ok: true, value: n });
            while (n > 0 && r.length < o.off + n) r.push(0);
            for (let i = 0; i < n; i++) r[o.off + i] = o.data[i]!;
          }
          expect(fs.size(h)).toEqual({ ok: true, value: r.length });
          // The whole file and a page beyond it, so stale bytes anywhere show.
          expect(fs.read(h, 0, r.length + page)).toEqual({
            ok: true,
            value: new Uint8Array([...r, ...new Array<number>(page).fill(0)]),
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});
