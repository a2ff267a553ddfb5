/**
 * Page replacement: which resident frame to evict when RAM is full (issue 16, `--replacement`).
 * Frames are indices 0..capacity-1 of the RAM the owner manages; the policies keep intrusive
 * doubly linked lists over them in typed arrays, so insert, touch, remove and victim are O(1)
 * (clock: O(1) amortized, each sweep step clears a bit some access set).
 *
 * - `lru`: exact least recently used; every access must `touch` its frame (a reference).
 * - `fifo`: evicts in the order frames became resident; accesses are ignored.
 * - `clock`: second chance. Frames sit on a ring in the order they became resident; the hand
 *   skips (and clears) frames whose accessed bit is set and evicts the first clear one. A new
 *   frame goes just behind the hand, so it is the last the hand reaches. Accessed bits come from
 *   the owner ({@link AccessedBits}): the model sets them on translation as hardware sets the PTE's
 *   A bit, so hits cost the policy nothing.
 *
 * Why kernel/: in Brendan's design the kernel evicts (it owns the not-present PTEs and the swap
 * registry); a Genode-style dataspace manager (components/) and the simulator can import it
 * from here too, which they could not from core/ if the kernel needed it.
 */
import { err, invariant, ok, type Result } from '../util/result.js';

/** Names of the replacement policies. */
export type ReplacementName = 'lru' | 'fifo' | 'clock';

/** Every policy name; `clock` is the default. */
export const REPLACEMENT_NAMES: readonly ReplacementName[] = ['clock', 'lru', 'fifo'];

/** Where `clock` reads and clears accessed bits; the owner sets them when a frame is accessed. */
export interface AccessedBits {
  accessed(frame: number): boolean;
  clearAccessed(frame: number): void;
}

/** A plain accessed bit per frame, for owners without page-table entries of their own. */
export class AccessedBitmap implements AccessedBits {
  readonly bits: Uint8Array;
  constructor(capacity: number) {
    this.bits = new Uint8Array(capacity);
  }
  /** Sets the bit, as hardware does on a translation through the frame's entry. */
  set(frame: number): void {
    this.bits[frame] = 1;
  }
  accessed(frame: number): boolean {
    return this.bits[frame] === 1;
  }
  clearAccessed(frame: number): void {
    this.bits[frame] = 0;
  }
}

/** A replacement policy over frames 0..capacity-1. */
export interface ReplacementPolicy {
  readonly name: ReplacementName;
  readonly capacity: number;
  /** Resident frames. */
  readonly size: number;
  has(frame: number): boolean;
  /** The frame became resident (after a fault filled it); it must not be resident already. */
  insert(frame: number): void;
  /** An access hit the frame (LRU orders by it; the others ignore it). */
  touch(frame: number): void;
  /** The frame stopped being resident other than by eviction (unmapped, freed). */
  remove(frame: number): void;
  /** Chooses a resident frame to evict and removes it; -1 when none is resident. */
  victim(): number;
}

/**
 * An intrusive circular doubly linked list over frame indices with a sentinel at index
 * `capacity`: membership, insert before any node and unlink in O(1), no allocation.
 */
class FrameList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  private readonly member: Uint8Array;
  readonly sentinel: number;
  size = 0;

  constructor(readonly capacity: number) {
    invariant(Number.isSafeInteger(capacity) && capacity >= 0, () => `bad frame count ${capacity}`);
    this.next = new Int32Array(capacity + 1);
    this.prev = new Int32Array(capacity + 1);
    this.member = new Uint8Array(capacity);
    this.sentinel = capacity;
    this.next[capacity] = capacity;
    this.prev[capacity] = capacity;
  }

  has(f: number): boolean {
    return this.member[f] === 1;
  }

  /** Links frame f just before node `at` (the sentinel: at the back). */
  insertBefore(at: number, f: number): void {
    invariant(f >= 0 && f < this.capacity && Number.isInteger(f), () => `frame ${f} out of range`);
    invariant(this.member[f] === 0, () => `frame ${f} is already resident`);
    const p = this.prev[at]!;
    this.next[p] = f;
    this.prev[f] = p;
    this.next[f] = at;
    this.prev[at] = f;
    this.member[f] = 1;
    this.size++;
  }

  unlink(f: number): void {
    invariant(this.member[f] === 1, () => `frame ${f} is not resident`);
    const p = this.prev[f]!;
    const n = this.next[f]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.member[f] = 0;
    this.size--;
  }

  /** The frame after f in ring order, skipping the sentinel (f's ring must not be empty). */
  after(f: number): number {
    const n = this.next[f]!;
    return n === this.sentinel ? this.next[n]! : n;
  }
}

/** Exact LRU: most recent at the front, the victim at the back. */
export class LruPolicy implements ReplacementPolicy {
  readonly name = 'lru';
  private readonly list: FrameList;
  constructor(readonly capacity: number) {
    this.list = new FrameList(capacity);
  }
  get size(): number {
    return this.list.size;
  }
  has(frame: number): boolean {
    return this.list.has(frame);
  }
  insert(frame: number): void {
    this.list.insertBefore(this.list.next[this.list.sentinel]!, frame);
  }
  touch(frame: number): void {
    const l = this.list;
    if (l.next[l.sentinel] === frame) return;
    l.unlink(frame);
    l.insertBefore(l.next[l.sentinel]!, frame);
  }
  remove(frame: number): void {
    this.list.unlink(frame);
  }
  victim(): number {
    const l = this.list;
    if (l.size === 0) return -1;
    const f = l.prev[l.sentinel]!;
    l.unlink(f);
    return f;
  }
}

/** FIFO: the oldest resident frame goes first, whatever its use. */
export class FifoPolicy implements ReplacementPolicy {
  readonly name = 'fifo';
  private readonly list: FrameList;
  constructor(readonly capacity: number) {
    this.list = new FrameList(capacity);
  }
  get size(): number {
    return this.list.size;
  }
  has(frame: number): boolean {
    return this.list.has(frame);
  }
  insert(frame: number): void {
    this.list.insertBefore(this.list.sentinel, frame);
  }
  touch(_frame: number): void {}
  remove(frame: number): void {
    this.list.unlink(frame);
  }
  victim(): number {
    const l = this.list;
    if (l.size === 0) return -1;
    const f = l.next[l.sentinel]!;
    l.unlink(f);
    return f;
  }
}

/** Clock (second chance) over the ring of resident frames, reading the owner's accessed bits. */
export class ClockPolicy implements ReplacementPolicy {
  readonly name = 'clock';
  private readonly list: FrameList;
  /** The frame the hand points at; -1 when the ring is empty. */
  private hand = -1;
  /** Frames the hand passed over (second chances given), for reports. */
  skipped = 0;

  constructor(
    readonly capacity: number,
    private readonly bits: AccessedBits,
  ) {
    this.list = new FrameList(capacity);
  }
  get size(): number {
    return this.list.size;
  }
  has(frame: number): boolean {
    return this.list.has(frame);
  }
  insert(frame: number): void {
    if (this.hand === -1) {
      this.list.insertBefore(this.list.sentinel, frame);
      this.hand = frame;
    } else {
      this.list.insertBefore(this.hand, frame);
    }
  }
  touch(_frame: number): void {}
  remove(frame: number): void {
    if (frame === this.hand) this.hand = this.list.size === 1 ? -1 : this.list.after(frame);
    this.list.unlink(frame);
  }
  victim(): number {
    if (this.hand === -1) return -1;
    let f = this.hand;
    while (this.bits.accessed(f)) {
      this.bits.clearAccessed(f);
      this.skipped++;
      f = this.list.after(f);
    }
    this.hand = f;
    this.remove(f);
    return f;
  }
}

/** Parses a policy name (`--replacement`). */
export function parseReplacement(name: string): Result<ReplacementName, 'UNKNOWN_REPLACEMENT'> {
  if ((REPLACEMENT_NAMES as readonly string[]).includes(name)) return ok(name as ReplacementName);
  return err(
    'UNKNOWN_REPLACEMENT',
    `unknown replacement policy '${name}'; expected one of ${REPLACEMENT_NAMES.join(', ')}`,
  );
}

/** Builds a policy over `capacity` frames; `clock` reads the accessed bits from `accessed`. */
export function createReplacement(
  name: ReplacementName,
  capacity: number,
  accessed?: AccessedBits,
): Result<ReplacementPolicy, 'INVALID_ARGUMENT'> {
  if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity >= 2 ** 31 - 1)
    return err(
      'INVALID_ARGUMENT',
      `replacement over ${capacity} frames: expected an integer from 1 to 2^31 - 2`,
    );
  if (name === 'lru') return ok(new LruPolicy(capacity));
  if (name === 'fifo') return ok(new FifoPolicy(capacity));
  if (!accessed) return err('INVALID_ARGUMENT', 'the clock policy needs a source of accessed bits');
  return ok(new ClockPolicy(capacity, accessed));
}
