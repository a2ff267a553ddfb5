/**
 * A simulated block device for swap providers and file systems (DESIGN.md §2 "Swap"): 4 KiB
 * blocks with contents, deterministic service times in cycles, a queue, injected errors.
 *
 * Timing model (docs/COST_MODEL.md "Block devices"):
 * - A request occupies one of `queueDepth` service slots (NCQ tags, NVMe commands in flight, one
 *   actuator for a disk) from its start to its completion; requests beyond the depth wait FIFO,
 *   so requests start in submission order.
 * - After its access latency (seek and rotation, or flash read/program time) the request
 *   transfers `count × 4096` bytes over the device's one data channel at its bandwidth. The
 *   channel serves one transfer at a time, in the earliest gap after the request is ready; a
 *   busy device is therefore bandwidth bound, an idle one latency bound.
 * - A request that starts the moment the previous one ends, at the block where that one ended,
 *   pays `sequentialLatencyUs` instead (a disk head already in place streams on).
 *
 * Data takes effect at completion: a write changes the contents when it completes, a read sees
 * the contents at its completion (writes completing at the same cycle first, in submission
 * order). Requests in flight together are unordered, as on real devices. A failed request
 * changes nothing. After `kill`, nothing completes any more: the driver's timeout must notice.
 *
 * The device knows no engine: callers pass the time (`now`, never decreasing) and poll for
 * completions at `nextCompletionAt()`. The clock is a parameter because hw/ sits below sim/.
 */
import { err, invariant, ok, type Result } from '../util/result.js';

/** Bytes per block. */
export const BLOCK_SIZE = 4096;

/** Performance and capacity of a block device. Bandwidths are in MB/s (10^6 bytes per second). */
export interface BlockDeviceSpec {
  /** Display name (a preset's name or the user's). */
  readonly name: string;
  /** Capacity in blocks. */
  readonly blocks: number;
  /** Access time of a read before its transfer, µs. */
  readonly readLatencyUs: number;
  /** Access time of a write before its transfer, µs. */
  readonly writeLatencyUs: number;
  readonly readMBps: number;
  readonly writeMBps: number;
  /** Requests serviced at once; more wait FIFO. */
  readonly queueDepth: number;
  /** Access time of a request that continues the previous one back to back (default: no discount). */
  readonly sequentialLatencyUs?: number;
}

/**
 * A request: `count` blocks (default 1) from `block`; a write carries `count × 4096` bytes, or
 * `zeros: true` and no data for blocks of zeros (a page never written moves without a buffer).
 */
export interface BlockRequest {
  readonly op: 'read' | 'write';
  readonly block: number;
  readonly count?: number;
  readonly data?: Uint8Array;
  readonly zeros?: boolean;
}

/** What `submit` promises: when the request starts and, unless the device dies first, completes. */
export interface BlockTicket {
  /** Submission number, from 0. */
  readonly seq: number;
  readonly op: 'read' | 'write';
  readonly block: number;
  readonly count: number;
  readonly submittedAt: number;
  readonly startAt: number;
  /** Completion cycle; `Infinity` when the device is dead at submission. */
  readonly completeAt: number;
}

/** A completed request; `data` holds a read's bytes when `status` is `ok`. */
export interface BlockCompletion extends BlockTicket {
  readonly status: 'ok' | 'IO_ERROR';
  readonly data?: Uint8Array;
}

/** Counters of a device. */
export interface BlockDeviceStats {
  requests: number;
  reads: number;
  writes: number;
  blocksRead: number;
  blocksWritten: number;
  ioErrors: number;
  /** Cycles requests waited for a slot, summed. */
  queueWaitCycles: number;
  /** Cycles the data channel was transferring. */
  transferCycles: number;
}

/** Error codes of the block device. */
export type BlockDeviceErrorCode = 'INVALID_DEVICE' | 'INVALID_REQUEST';

interface Pending {
  readonly ticket: BlockTicket;
  readonly data: Uint8Array | null;
}

const MAX_DEPTH = 4096;

function positive(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}

/** Checks a spec; the message names the field and what was expected. */
export function checkBlockDeviceSpec(s: BlockDeviceSpec): Result<BlockDeviceSpec, 'INVALID_DEVICE'> {
  const bad = (what: string) => err('INVALID_DEVICE' as const, `block device '${s.name}': ${what}`);
  if (!Number.isSafeInteger(s.blocks) || s.blocks < 1)
    return bad(`blocks ${s.blocks}: expected an integer >= 1`);
  for (const k of ['readLatencyUs', 'writeLatencyUs'] as const) {
    if (!Number.isFinite(s[k]) || s[k] < 0) return bad(`${k} ${s[k]}: expected a finite number >= 0`);
  }
  if (
    s.sequentialLatencyUs !== undefined &&
    !(Number.isFinite(s.sequentialLatencyUs) && s.sequentialLatencyUs >= 0)
  )
    return bad(`sequentialLatencyUs ${s.sequentialLatencyUs}: expected a finite number >= 0`);
  for (const k of ['readMBps', 'writeMBps'] as const) {
    if (!positive(s[k])) return bad(`${k} ${s[k]}: expected a finite number > 0`);
  }
  if (!Number.isSafeInteger(s.queueDepth) || s.queueDepth < 1 || s.queueDepth > MAX_DEPTH)
    return bad(`queueDepth ${s.queueDepth}: expected an integer from 1 to ${MAX_DEPTH}`);
  return ok(s);
}

/** A block device with FIFO queueing, a shared data channel, sparse contents and injected faults. */
export class BlockDevice {
  readonly stats: BlockDeviceStats = {
    requests: 0,
    reads: 0,
    writes: 0,
    blocksRead: 0,
    blocksWritten: 0,
    ioErrors: 0,
    queueWaitCycles: 0,
    transferCycles: 0,
  };
  /** Latencies in cycles. */
  readonly readLatency: number;
  readonly writeLatency: number;
  readonly sequentialLatency: number | null;
  private readonly contents = new Map<number, Uint8Array>();
  /** When each service slot is free again. */
  private readonly slotFree: Float64Array;
  /** Reserved data-channel intervals [start, end), sorted by start, none ending before `now`. */
  private channel: number[] = [];
  private pending: Pending[] = [];
  private seq = 0;
  private now = 0;
  private deadAt = Number.POSITIVE_INFINITY;
  private prevEnd = -1;
  private prevComplete = Number.NEGATIVE_INFINITY;
  private readonly failSeqs = new Set<number>();
  private readonly badBlocks = new Set<number>();

  private constructor(
    readonly spec: BlockDeviceSpec,
    readonly clockHz: number,
  ) {
    this.slotFree = new Float64Array(spec.queueDepth);
    this.readLatency = this.usToCycles(spec.readLatencyUs);
    this.writeLatency = this.usToCycles(spec.writeLatencyUs);
    this.sequentialLatency =
      spec.sequentialLatencyUs === undefined ? null : this.usToCycles(spec.sequentialLatencyUs);
  }

  /** Builds a device after checking the spec and the clock (Hz). */
  static create(spec: BlockDeviceSpec, clockHz: number): Result<BlockDevice, 'INVALID_DEVICE'> {
    const s = checkBlockDeviceSpec(spec);
    if (!s.ok) return s;
    if (!positive(clockHz)) return err('INVALID_DEVICE', `clock ${clockHz} Hz: expected a finite number > 0`);
    return ok(new BlockDevice(spec, clockHz));
  }

  /** Cycles to move `count` blocks over the data channel. */
  transferCycles(op: 'read' | 'write', count = 1): number {
    const mbps = op === 'read' ? this.spec.readMBps : this.spec.writeMBps;
    return Math.ceil((count * BLOCK_SIZE * this.clockHz) / (mbps * 1e6));
  }

  /** Cycles of an isolated request: latency plus transfer, no queueing. */
  serviceCycles(op: 'read' | 'write', count = 1): number {
    return (op === 'read' ? this.readLatency : this.writeLatency) + this.transferCycles(op, count);
  }

  /** True once `kill` took effect at or before the last time seen. */
  get dead(): boolean {
    return this.now >= this.deadAt;
  }

  /** Requests submitted and not yet delivered by `poll` (including those a death will swallow). */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Queues a request at time `now`; errors (and changes nothing) if it is malformed. */
  submit(now: number, req: BlockRequest): Result<BlockTicket, 'INVALID_REQUEST'> {
    const count = req.count ?? 1;
    const bad = (what: string) => err('INVALID_REQUEST' as const, `${this.spec.name}: ${what}`);
    if (!Number.isSafeInteger(count) || count < 1) return bad(`count ${count}: expected an integer >= 1`);
    if (!Number.isSafeInteger(req.block) || req.block < 0 || req.block + count > this.spec.blocks)
      return bad(`blocks ${req.block}..${req.block + count - 1} outside 0..${this.spec.blocks - 1}`);
    if (
      req.op === 'write' &&
      !(req.zeros === true && req.data === undefined) &&
      req.data?.length !== count * BLOCK_SIZE
    )
      return bad(
        `a write of ${count} blocks needs ${count * BLOCK_SIZE} bytes, got ${req.data?.length ?? 'none'}`,
      );
    this.advance(now);
    const seq = this.seq++;
    this.stats.requests++;
    const base = { seq, op: req.op, block: req.block, count, submittedAt: now };
    const data = req.op === 'write' && req.data !== undefined ? new Uint8Array(req.data) : null;
    if (this.dead) {
      const ticket = { ...base, startAt: Number.POSITIVE_INFINITY, completeAt: Number.POSITIVE_INFINITY };
      this.pending.push({ ticket, data });
      return ok(ticket);
    }
    let slot = 0;
    for (let i = 1; i < this.slotFree.length; i++) if (this.slotFree[i]! < this.slotFree[slot]!) slot = i;
    const startAt = Math.max(now, this.slotFree[slot]!);
    const sequential =
      this.sequentialLatency !== null && req.block === this.prevEnd && startAt <= this.prevComplete;
    const latency = sequential
      ? this.sequentialLatency!
      : req.op === 'read'
        ? this.readLatency
        : this.writeLatency;
    const xfer = this.transferCycles(req.op, count);
    const completeAt = this.reserveChannel(startAt + latency, xfer);
    this.slotFree[slot] = completeAt;
    this.prevEnd = req.block + count;
    this.prevComplete = completeAt;
    this.stats.queueWaitCycles += startAt - now;
    this.stats.transferCycles += xfer;
    const ticket = { ...base, startAt, completeAt };
    this.pending.push({ ticket, data });
    return ok(ticket);
  }

  /** Earliest cycle at which `poll` will deliver something; `Infinity` if nothing will complete. */
  nextCompletionAt(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const p of this.pending)
      if (p.ticket.completeAt < t && p.ticket.completeAt <= this.deadAt) t = p.ticket.completeAt;
    return t;
  }

  /** Delivers every request completed by `now`, in completion order, applying their effects. */
  poll(now: number): BlockCompletion[] {
    this.advance(now);
    const limit = Math.min(now, this.deadAt);
    const done = this.pending.filter((p) => p.ticket.completeAt <= limit);
    if (done.length === 0) return [];
    this.pending = this.pending.filter((p) => p.ticket.completeAt > limit);
    done.sort((a, b) => a.ticket.completeAt - b.ticket.completeAt || a.ticket.seq - b.ticket.seq);
    return done.map((p) => this.complete(p));
  }

  /** The device stops answering at `now`: requests not completed by then never complete. */
  kill(now: number): void {
    this.advance(now);
    this.deadAt = Math.min(this.deadAt, now);
  }

  /** The request with submission number `seq` (past or future) completes with an I/O error. */
  injectIoError(seq: number): void {
    this.failSeqs.add(seq);
  }

  /** Every later request touching `block` completes with an I/O error (a bad sector). */
  failBlock(block: number): void {
    this.badBlocks.add(block);
  }

  /** The contents of one block now (zeros if never written), for checks; no timing. */
  peek(block: number): Uint8Array {
    invariant(
      Number.isSafeInteger(block) && block >= 0 && block < this.spec.blocks,
      () => `block ${block} out of range`,
    );
    const b = this.contents.get(block);
    return b ? new Uint8Array(b) : new Uint8Array(BLOCK_SIZE);
  }

  /** Blocks holding non-zero data. */
  get blocksStored(): number {
    return this.contents.size;
  }

  private usToCycles(us: number): number {
    return Math.round((us * this.clockHz) / 1e6);
  }

  private advance(now: number): void {
    invariant(now >= this.now, () => `${this.spec.name}: time went backwards (${now} < ${this.now})`);
    this.now = now;
    // Intervals ending by now can no longer constrain a request (every request is ready after now).
    let drop = 0;
    while (drop < this.channel.length && this.channel[drop + 1]! <= now) drop += 2;
    if (drop > 0) this.channel = this.channel.slice(drop);
  }

  /** Reserves the earliest gap of `len` cycles at or after `ready`; returns its end. */
  private reserveChannel(ready: number, len: number): number {
    const c = this.channel;
    let t = ready;
    // Ends are sorted too (the intervals are disjoint): skip those ending by `ready` in O(log n).
    let lo = 0;
    let hi = c.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[2 * mid + 1]! <= t) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 2 * lo; i < c.length; i += 2) {
      const s = c[i]!;
      const e = c[i + 1]!;
      if (e <= t) continue;
      if (s >= t + len) break;
      t = e;
    }
    // Keep the list sorted by start: the gap found lies before the first interval starting after it.
    let at = 2 * lo;
    while (at < c.length && c[at]! < t) at += 2;
    c.splice(at, 0, t, t + len);
    return t + len;
  }

  private complete(p: Pending): BlockCompletion {
    const t = p.ticket;
    let failed = this.failSeqs.has(t.seq);
    for (let b = t.block; b < t.block + t.count && !failed; b++) failed = this.badBlocks.has(b);
    if (failed) {
      this.stats.ioErrors++;
      return { ...t, status: 'IO_ERROR' };
    }
    if (t.op === 'write') {
      this.stats.writes++;
      this.stats.blocksWritten += t.count;
      for (let i = 0; i < t.count; i++) {
        if (p.data === null) {
          this.contents.delete(t.block + i);
          continue;
        }
        const bytes = p.data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
        // Sparse: a block of zeros is the same as a block never written.
        if (bytes.every((x) => x === 0)) this.contents.delete(t.block + i);
        else this.contents.set(t.block + i, new Uint8Array(bytes));
      }
      return { ...t, status: 'ok' };
    }
    this.stats.reads++;
    this.stats.blocksRead += t.count;
    const data = new Uint8Array(t.count * BLOCK_SIZE);
    for (let i = 0; i < t.count; i++) {
      const b = this.contents.get(t.block + i);
      if (b) data.set(b, i * BLOCK_SIZE);
    }
    return { ...t, status: 'ok', data };
  }
}
