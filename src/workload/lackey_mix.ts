/**
 * A deterministic lackey text with a realistic mix, for benchmarks and golden tests: sequential
 * instruction fetches (1..15 bytes) in a 256K code range with a branch every ~8 instructions, and
 * after ~40% of them a load, store or modify: half into a 4M heap (a sweep and random hits), half
 * into a 64K stack window. Written byte by byte into chunks (no string per line).
 */

/** A small deterministic generator (an LCG; not the simulator's PRNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const CHUNK = 1 << 20;

/** Appends lackey lines into fixed-size chunks handed to `out` (which may keep them). */
class LackeyLines {
  private buf = new Uint8Array(CHUNK);
  private pos = 0;
  constructor(private readonly out: (chunk: Uint8Array) => void) {}

  line(kind: string, addr: number, size: number): void {
    if (this.pos > CHUNK - 64) this.flush();
    const b = this.buf;
    if (kind === 'I') {
      b[this.pos++] = 73;
      b[this.pos++] = 32;
    } else {
      b[this.pos++] = 32;
      b[this.pos++] = kind.charCodeAt(0);
    }
    b[this.pos++] = 32;
    const digits = Math.max(8, Math.ceil(Math.log2(addr + 1) / 4));
    for (let d = digits - 1; d >= 0; d--) {
      const v = Math.floor(addr / 16 ** d) % 16;
      b[this.pos++] = v < 10 ? 48 + v : 87 + v;
    }
    b[this.pos++] = 44;
    if (size >= 10) b[this.pos++] = 48 + Math.floor(size / 10);
    b[this.pos++] = 48 + (size % 10);
    b[this.pos++] = 10;
  }

  text(s: string): void {
    this.flush();
    this.out(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  }

  flush(): void {
    if (this.pos > 0) this.out(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(CHUNK);
    this.pos = 0;
  }
}

/** Writes `lines` record lines of the mix (after three Valgrind banner lines) to `out`, in chunks. */
export function writeLackeyMix(lines: number, out: (chunk: Uint8Array) => void, seed = 2024): void {
  const w = new LackeyLines(out);
  w.text('==4242== Lackey, an example Valgrind tool\n==4242== Command: ./bench\n==4242== \n');
  const rnd = lcg(seed);
  const code = 0x400000;
  const heap = 0x4a2c000;
  const stack = 0x1ffeff0000;
  let pc = code;
  let sweep = 0;
  let n = 0;
  while (n < lines) {
    const len = 1 + Math.floor(rnd() * rnd() * 15);
    w.line('I', pc, len);
    n++;
    pc = rnd() < 0.12 ? code + Math.floor(rnd() * 65536) * 4 : pc + len;
    if (pc >= code + 256 * 1024) pc = code;
    if (n < lines && rnd() < 0.4) {
      const u = rnd();
      const kind = u < 0.6 ? 'L' : u < 0.9 ? 'S' : 'M';
      const size = [8, 8, 8, 4, 4, 2, 1, 8][Math.floor(rnd() * 8)]!;
      let addr: number;
      const v = rnd();
      if (v < 0.25) {
        addr = heap + sweep;
        sweep = (sweep + 8) % (4 << 20);
      } else if (v < 0.5) addr = heap + Math.floor(rnd() * (4 << 20));
      else addr = stack + Math.floor(rnd() * 65536);
      w.line(kind, addr - (addr % size), size);
      n++;
    }
  }
  w.flush();
}
