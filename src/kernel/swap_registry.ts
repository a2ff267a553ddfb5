/**
 * The kernel's registry of user-level swap providers (seed 003, Brendan): each provider registers
 * its size, free blocks and the port (IPC endpoint id) the kernel sends requests to. The kernel
 * picks a provider for every swap-out by a policy and hands out one of its blocks.
 *
 * Block numbers. A not-present PTE holds only a block number, so all providers share one
 * block-number space: a provider gets a contiguous range [base, base + blocks) at registration,
 * and the global number base + block is what goes into the PTE. The space is the PTE's budget
 * (2^30 blocks on x86_32, `hw/pte.ts`): a provider that does not fit is refused, naming the
 * budget. (Linux instead spends 5 bits of its swap entry on the area's index.)
 *
 * Policies:
 * - `priority` (default, Linux's `swapon -p`): the highest priority with a free block wins;
 *   providers of equal priority take turns (round robin), as Linux stripes equal-priority areas.
 * - `round-robin`: every provider takes its turn whatever its priority.
 * - `most-free`: the provider with the most free blocks (ties: the first registered).
 * Within a provider the lowest free block is used, which keeps a disk's swap traffic together.
 */
import { RangeAllocator } from '../hw/range_allocator.js';
import { LowestFreeAllocator } from '../util/lowest_free.js';
import { err, ok, type Result } from '../util/result.js';

/** How the registry chooses a provider for a new swap block. */
export type SwapPolicy = 'priority' | 'round-robin' | 'most-free';

/** Every policy name. */
export const SWAP_POLICIES: readonly SwapPolicy[] = ['priority', 'round-robin', 'most-free'];

/** What a provider tells the kernel when it registers. */
export interface SwapProviderSpec {
  /** Unique name, for messages and reports. */
  readonly name: string;
  /** Size in blocks (4 KiB pages). */
  readonly blocks: number;
  /** IPC endpoint id the kernel sends swap requests to. */
  readonly port: number;
  /** Higher is used first (default 0). */
  readonly priority?: number;
  /** Blocks the provider keeps for itself (a header, bad blocks); the rest are its free blocks. */
  readonly reserved?: readonly number[];
}

/** A registered provider as the registry reports it. */
export interface SwapProviderInfo {
  readonly id: number;
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly blocks: number;
  /** First global block number of its range. */
  readonly base: number;
  readonly free: number;
  readonly used: number;
  /** Dead providers get no new blocks; their used blocks stay until freed. */
  readonly dead: boolean;
}

/** A swap block: the global number for the PTE, and where it lives. */
export interface SwapSlot {
  readonly global: number;
  readonly provider: number;
  readonly block: number;
  readonly port: number;
}

/** Error codes of the registry. */
export type SwapErrorCode =
  | 'SWAP_TOO_LARGE'
  | 'SWAP_FULL'
  | 'INVALID_ARGUMENT'
  | 'DUPLICATE_PROVIDER'
  | 'NO_SUCH_PROVIDER'
  | 'PROVIDER_BUSY'
  | 'NOT_ALLOCATED';

/** Options of a registry. */
export interface SwapRegistryOptions {
  /** Blocks a not-present PTE can name (`swapBudgetBlocks` of `hw/pte.ts`); clamped to 2^53 - 1. */
  readonly budgetBlocks: number;
  /** Says where the budget comes from in messages, e.g. `x86_32 not-present PTE, 30-bit block numbers`. */
  readonly budgetSource?: string;
  readonly policy?: SwapPolicy;
}

interface Provider {
  readonly id: number;
  readonly spec: SwapProviderSpec;
  readonly priority: number;
  readonly base: number;
  readonly blocks: LowestFreeAllocator;
  dead: boolean;
}

/** The kernel's swap providers and their blocks. */
export class SwapRegistry {
  readonly policy: SwapPolicy;
  readonly budgetBlocks: number;
  private readonly budgetSource: string;
  private readonly space = new RangeAllocator();
  /** Live providers by base, ascending (for `locate`). */
  private byBase: Provider[] = [];
  /** Live providers in registration order. */
  private order: Provider[] = [];
  private nextId = 1;
  /** Last provider that got a block, per priority (policy `priority`) or overall (key 0 of `round-robin`). */
  private readonly last = new Map<number, number>();

  constructor(opts: SwapRegistryOptions) {
    this.policy = opts.policy ?? 'priority';
    this.budgetBlocks = Math.min(Math.floor(opts.budgetBlocks), Number.MAX_SAFE_INTEGER);
    this.budgetSource = opts.budgetSource ?? 'the not-present PTE';
    if (this.budgetBlocks > 0) this.space.addRange(0, this.budgetBlocks);
  }

  /** Registers a provider; refuses (changing nothing) one that does not fit the PTE budget. */
  register(spec: SwapProviderSpec): Result<SwapProviderInfo, SwapErrorCode> {
    const priority = spec.priority ?? 0;
    if (spec.name === '') return err('INVALID_ARGUMENT', 'a swap provider needs a name');
    if (!Number.isSafeInteger(spec.blocks) || spec.blocks < 1)
      return err(
        'INVALID_ARGUMENT',
        `swap provider '${spec.name}': blocks ${spec.blocks}, expected an integer >= 1`,
      );
    if (!Number.isSafeInteger(spec.port) || spec.port < 0)
      return err(
        'INVALID_ARGUMENT',
        `swap provider '${spec.name}': port ${spec.port}, expected an endpoint id >= 0`,
      );
    if (!Number.isSafeInteger(priority))
      return err(
        'INVALID_ARGUMENT',
        `swap provider '${spec.name}': priority ${priority}, expected an integer`,
      );
    const bad = (spec.reserved ?? []).find((b) => !Number.isSafeInteger(b) || b < 0 || b >= spec.blocks);
    if (bad !== undefined)
      return err(
        'INVALID_ARGUMENT',
        `swap provider '${spec.name}': reserved block ${bad} outside 0..${spec.blocks - 1}`,
      );
    if (this.order.some((p) => p.spec.name === spec.name))
      return err('DUPLICATE_PROVIDER', `a swap provider named '${spec.name}' is already registered`);
    if (spec.blocks > this.budgetBlocks) {
      return err(
        'SWAP_TOO_LARGE',
        `swap provider '${spec.name}' has ${spec.blocks} blocks, but ${this.budgetSource} names at most ${this.budgetBlocks}`,
      );
    }
    const base = this.space.allocAligned(spec.blocks, 0);
    if (base < 0) {
      return err(
        'SWAP_TOO_LARGE',
        `swap provider '${spec.name}' has ${spec.blocks} blocks, but only ${this.space.available} of the ${this.budgetBlocks} blocks ${this.budgetSource} names are left unclaimed (in ranges of at most ${this.largestFree()})`,
      );
    }
    const p: Provider = {
      id: this.nextId++,
      spec,
      priority,
      base,
      blocks: new LowestFreeAllocator(0, spec.blocks, spec.reserved ?? []),
      dead: false,
    };
    this.order.push(p);
    this.byBase.push(p);
    this.byBase.sort((a, b) => a.base - b.base);
    return ok(this.info(p));
  }

  /** Removes a provider whose blocks are all free again (swapoff); its range returns to the budget. */
  unregister(id: number): Result<void, 'NO_SUCH_PROVIDER' | 'PROVIDER_BUSY'> {
    const p = this.find(id);
    if (!p) return err('NO_SUCH_PROVIDER', `no swap provider with id ${id}`);
    if (p.blocks.allocated > 0)
      return err(
        'PROVIDER_BUSY',
        `swap provider '${p.spec.name}' still holds ${p.blocks.allocated} swapped pages`,
      );
    this.order = this.order.filter((q) => q !== p);
    this.byBase = this.byBase.filter((q) => q !== p);
    this.space.free(p.base, p.spec.blocks);
    return ok(undefined);
  }

  /** Marks a provider dead (its server or device is gone): no new blocks go there. */
  markDead(id: number): Result<void, 'NO_SUCH_PROVIDER'> {
    const p = this.find(id);
    if (!p) return err('NO_SUCH_PROVIDER', `no swap provider with id ${id}`);
    p.dead = true;
    return ok(undefined);
  }

  /** A free block chosen by the policy; `SWAP_FULL` (changing nothing) when no live provider has one. */
  allocate(): Result<SwapSlot, 'SWAP_FULL'> {
    const p = this.choose();
    if (!p) {
      const live = this.order.filter((q) => !q.dead).length;
      return err(
        'SWAP_FULL',
        live === 0
          ? 'no live swap provider is registered'
          : `every live swap provider is full (${live} provider${live === 1 ? '' : 's'}, ${this.totalBlocks(true)} blocks)`,
      );
    }
    const block = p.blocks.alloc();
    this.last.set(this.policy === 'priority' ? p.priority : 0, p.id);
    return ok({ global: p.base + block, provider: p.id, block, port: p.spec.port });
  }

  /** Frees a block by its global number. */
  free(global: number): Result<void, 'NOT_ALLOCATED'> {
    const s = this.locate(global);
    if (!s || !this.providerAt(global)!.blocks.free(s.block))
      return err('NOT_ALLOCATED', `swap block ${global} is not allocated`);
    return ok(undefined);
  }

  /** Where an allocated global block number lives, or undefined if it is not allocated. */
  locate(global: number): SwapSlot | undefined {
    const p = this.providerAt(global);
    if (!p) return undefined;
    const block = global - p.base;
    if (!p.blocks.isAllocated(block)) return undefined;
    return { global, provider: p.id, block, port: p.spec.port };
  }

  /** A provider's current figures. */
  provider(id: number): SwapProviderInfo | undefined {
    const p = this.find(id);
    return p && this.info(p);
  }

  /** Every registered provider, in registration order. */
  providers(): SwapProviderInfo[] {
    return this.order.map((p) => this.info(p));
  }

  /** Free blocks over all providers (live ones only with `liveOnly`). */
  freeBlocks(liveOnly = false): number {
    let n = 0;
    for (const p of this.order) if (!liveOnly || !p.dead) n += p.blocks.available;
    return n;
  }

  private totalBlocks(liveOnly: boolean): number {
    let n = 0;
    for (const p of this.order) if (!liveOnly || !p.dead) n += p.spec.blocks;
    return n;
  }

  private info(p: Provider): SwapProviderInfo {
    return {
      id: p.id,
      name: p.spec.name,
      port: p.spec.port,
      priority: p.priority,
      blocks: p.spec.blocks,
      base: p.base,
      free: p.blocks.available,
      used: p.blocks.allocated,
      dead: p.dead,
    };
  }

  private find(id: number): Provider | undefined {
    return this.order.find((p) => p.id === id);
  }

  private largestFree(): number {
    let m = 0;
    this.space.forEachFree((_, size) => {
      m = Math.max(m, size);
    });
    return m;
  }

  private providerAt(global: number): Provider | undefined {
    const a = this.byBase;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]!.base <= global) lo = mid + 1;
      else hi = mid;
    }
    const p = a[lo - 1];
    return p && Number.isSafeInteger(global) && global < p.base + p.spec.blocks ? p : undefined;
  }

  private usable(p: Provider): boolean {
    return !p.dead && p.blocks.available > 0;
  }

  private choose(): Provider | undefined {
    const cands = this.order.filter((p) => this.usable(p));
    if (cands.length === 0) return undefined;
    if (this.policy === 'most-free') {
      return cands.reduce((best, p) => (p.blocks.available > best.blocks.available ? p : best));
    }
    let group = cands;
    let key = 0;
    if (this.policy === 'priority') {
      key = Math.max(...cands.map((p) => p.priority));
      group = cands.filter((p) => p.priority === key);
    }
    // The next one after the group's last pick, in registration order, wrapping around.
    const last = this.last.get(key);
    return (last === undefined ? undefined : group.find((p) => p.id > last)) ?? group[0];
  }
}
