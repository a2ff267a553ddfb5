/**
 * User-level block servers (issue 16, seed 003): a **swap provider** that owns a block device and
 * stores pages in its blocks, and a **file server** (VFS-like) that keeps files in a
 * {@link FileProvider} and reads and writes their pages through a block device of its own. Both
 * take page-sized read and write requests and complete them when their device does.
 *
 * A swap provider keeps the data of writes still in flight (its write-back cache): requests in
 * flight together are unordered on a device, so a read of a block being written is answered from
 * the cache, never with the old contents.
 *
 * Timeless like the device: callers pass the time and poll at `nextCompletionAt()`.
 */
import { BLOCK_SIZE, type BlockDevice } from '../hw/block_device.js';
import { err, ok, type Result } from '../util/result.js';
import type { FileProvider } from './file_provider.js';

/** What a request reads or writes: a block of the provider, or a page of a file. */
export type BlockTarget =
  | { readonly kind: 'swap'; readonly block: number }
  | { readonly kind: 'file'; readonly file: number; readonly offset: number };

/** A page-sized request; a write carries its bytes (null: zeros). */
export interface ServerRequest {
  /** The caller's id, returned with the completion. */
  readonly id: number;
  readonly op: 'read' | 'write';
  readonly target: BlockTarget;
  readonly data: Uint8Array | null;
}

/** A finished request; a read's bytes (null: zeros) when `ok`. */
export interface ServerCompletion {
  readonly id: number;
  readonly op: 'read' | 'write';
  readonly status: 'ok' | 'IO_ERROR';
  readonly data: Uint8Array | null;
  /** Device timing of the request, for reports and timelines (equal when served from the cache). */
  readonly submittedAt: number;
  readonly startAt: number;
  readonly completeAt: number;
  /** Answered from the write-back cache, without device I/O. */
  readonly cached: boolean;
  /** The device block it used (for timelines). */
  readonly block: number;
}

/** Counters of a server. */
export interface BlockServerStats {
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  /** Reads answered from the write-back cache. */
  cacheHits: number;
  ioErrors: number;
}

/** A server that takes page requests and completes them when its device does. */
export interface BlockServer {
  readonly name: string;
  readonly device: BlockDevice;
  readonly stats: BlockServerStats;
  /** Queues a request at `now`; INVALID_REQUEST (nothing changes) when it names no block of the device. */
  submit(now: number, req: ServerRequest): Result<void, 'INVALID_REQUEST'>;
  /** Earliest time `poll` delivers something; Infinity if nothing will complete. */
  nextCompletionAt(): number;
  /** Requests completed by `now`, in completion order. */
  poll(now: number): ServerCompletion[];
}

interface InFlight {
  readonly req: ServerRequest;
  readonly block: number;
}

function newStats(): BlockServerStats {
  return { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, cacheHits: 0, ioErrors: 0 };
}

/** Shared request plumbing: device submission, cached answers, completion order. */
abstract class DeviceServer implements BlockServer {
  readonly stats = newStats();
  private readonly bySeq = new Map<number, InFlight>();
  /** Answers ready without I/O, delivered at their time by the next poll. */
  private ready: ServerCompletion[] = [];

  constructor(
    readonly name: string,
    readonly device: BlockDevice,
  ) {}

  /** Blocks with writes in flight: the newest data and how many writes are pending. */
  private readonly inFlight = new Map<number, { data: Uint8Array | null; writes: number }>();

  /** The device block of a target, or an error text. */
  protected abstract blockOf(t: BlockTarget): number | string;
  /** The bytes a successful read returns (`device`: what the device read). */
  protected abstract readData(req: ServerRequest, device: Uint8Array | null): Uint8Array | null;
  /** A successful write of `req` completed. */
  protected wrote(_req: ServerRequest): void {}

  /** A read of a block being written is answered from the write-back cache (undefined: not cached). */
  private cached(block: number): Uint8Array | null | undefined {
    const w = this.inFlight.get(block);
    return w === undefined ? undefined : w.data && new Uint8Array(w.data);
  }

  private writing(block: number, data: Uint8Array | null): void {
    const w = this.inFlight.get(block);
    const copy = data === null ? null : new Uint8Array(data);
    if (w) {
      w.data = copy;
      w.writes++;
    } else this.inFlight.set(block, { data: copy, writes: 1 });
  }

  private written(block: number): void {
    const w = this.inFlight.get(block);
    if (w && --w.writes === 0) this.inFlight.delete(block);
  }

  submit(now: number, req: ServerRequest): Result<void, 'INVALID_REQUEST'> {
    const block = this.blockOf(req.target);
    if (typeof block === 'string') return err('INVALID_REQUEST', `${this.name}: ${block}`);
    if (req.op === 'read') {
      const hit = this.cached(block);
      if (hit !== undefined) {
        this.stats.cacheHits++;
        this.stats.reads++;
        this.stats.bytesRead += BLOCK_SIZE;
        const c = { id: req.id, op: req.op, status: 'ok' as const, data: hit, cached: true, block };
        this.ready.push({ ...c, submittedAt: now, startAt: now, completeAt: now });
        return ok(undefined);
      }
    }
    const t = this.device.submit(now, {
      op: req.op,
      block,
      ...(req.op === 'write' ? (req.data === null ? { zeros: true } : { data: req.data }) : {}),
    });
    if (!t.ok) return t;
    if (req.op === 'write') this.writing(block, req.data);
    this.bySeq.set(t.value.seq, { req, block });
    return ok(undefined);
  }

  nextCompletionAt(): number {
    const r = this.ready.length > 0 ? this.ready[0]!.completeAt : Number.POSITIVE_INFINITY;
    return Math.min(r, this.device.nextCompletionAt());
  }

  poll(now: number): ServerCompletion[] {
    const out = this.ready;
    this.ready = [];
    for (const c of this.device.poll(now)) {
      const f = this.bySeq.get(c.seq)!;
      this.bySeq.delete(c.seq);
      const base = { id: f.req.id, op: f.req.op, submittedAt: c.submittedAt, startAt: c.startAt };
      const done = { ...base, completeAt: c.completeAt, cached: false, block: f.block };
      if (f.req.op === 'write') this.written(f.block);
      if (c.status !== 'ok') {
        this.stats.ioErrors++;
        out.push({ ...done, status: 'IO_ERROR', data: null });
        continue;
      }
      if (f.req.op === 'write') {
        this.stats.writes++;
        this.stats.bytesWritten += BLOCK_SIZE;
        this.wrote(f.req);
        out.push({ ...done, status: 'ok', data: null });
      } else {
        this.stats.reads++;
        this.stats.bytesRead += BLOCK_SIZE;
        out.push({ ...done, status: 'ok', data: this.readData(f.req, c.data ?? null) });
      }
    }
    return out;
  }
}

/** True when a page holds nothing but zeros (it is then passed on as null). */
function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** A swap provider: pages in the blocks of its device. */
export class SwapProvider extends DeviceServer {
  protected blockOf(t: BlockTarget): number | string {
    if (t.kind !== 'swap') return 'a swap provider serves swap blocks, not files';
    if (!Number.isSafeInteger(t.block) || t.block < 0 || t.block >= this.device.spec.blocks)
      return `block ${t.block} outside 0..${this.device.spec.blocks - 1}`;
    return t.block;
  }

  protected readData(_req: ServerRequest, device: Uint8Array | null): Uint8Array | null {
    return device === null || allZero(device) ? null : device;
  }
}

/**
 * A file server: files in a {@link FileProvider}, each page stored at a block of the device
 * (files laid out one after another in the order first touched, so a file's pages are
 * contiguous). The device gives the timing; the provider holds the bytes.
 */
export class FileServer extends DeviceServer {
  /** First device block of each file touched, and the next free one. */
  private readonly extent = new Map<number, number>();
  private nextBlock = 0;

  constructor(
    name: string,
    device: BlockDevice,
    readonly files: FileProvider,
  ) {
    super(name, device);
  }

  protected blockOf(t: BlockTarget): number | string {
    if (t.kind !== 'file') return 'a file server serves file pages, not swap blocks';
    const size = this.files.size(t.file);
    if (!size.ok) return size.message;
    if (!Number.isSafeInteger(t.offset) || t.offset < 0 || t.offset % BLOCK_SIZE !== 0)
      return `file offset ${t.offset} is not a multiple of ${BLOCK_SIZE}`;
    let base = this.extent.get(t.file);
    if (base === undefined) {
      base = this.nextBlock;
      this.extent.set(t.file, base);
      this.nextBlock += Math.max(1, Math.ceil(size.value / BLOCK_SIZE));
    }
    return (base + t.offset / BLOCK_SIZE) % this.device.spec.blocks;
  }

  protected readData(req: ServerRequest, _device: Uint8Array | null): Uint8Array | null {
    const t = req.target as { file: number; offset: number };
    const r = this.files.read(t.file, t.offset, BLOCK_SIZE);
    return r.ok && !allZero(r.value) ? r.value : null;
  }

  protected override wrote(req: ServerRequest): void {
    const t = req.target as { file: number; offset: number };
    this.files.writeBack(t.file, t.offset, req.data ?? new Uint8Array(BLOCK_SIZE));
  }
}
