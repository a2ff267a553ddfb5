/**
 * The cost model: how many virtual cycles each modelled operation takes. Defaults describe a
 * contemporary x86_64 core at a nominal {@link NOMINAL_CLOCK_HZ} (3 GHz), so 3000 cycles = 1 µs.
 * Every default names its source; values marked `estimate` are judgement calls within the range
 * the source reports, not measurements. docs/COST_MODEL.md is the table for humans.
 *
 * Overrides come from the CLI (`--cost key=value`) and scenario files (`costs:` map) and go
 * through {@link overrideCosts}, which rejects unknown keys and negative or non-finite values.
 */
import { err, ok, type Result } from '../util/result.js';

/** Nominal core clock used to convert cycles to time (3 GHz). */
export const NOMINAL_CLOCK_HZ = 3_000_000_000;

/** Cycles to microseconds at a clock (default {@link NOMINAL_CLOCK_HZ}). */
export function cyclesToMicros(cycles: number, clockHz: number = NOMINAL_CLOCK_HZ): number {
  return (cycles * 1e6) / clockHz;
}

/** Microseconds to cycles at a clock (default {@link NOMINAL_CLOCK_HZ}). */
export function microsToCycles(micros: number, clockHz: number = NOMINAL_CLOCK_HZ): number {
  return (micros * clockHz) / 1e6;
}

/** Every cost, in cycles. See {@link COST_INFO} for what each one covers and where it comes from. */
export interface CostModel {
  readonly ipcRoundTrip: number;
  readonly kernelEntryExit: number;
  readonly exceptionEntryExit: number;
  readonly irqEntry: number;
  readonly irqAck: number;
  readonly signalDelivery: number;
  readonly pageWalkStep: number;
  readonly pageWalkStepMiss: number;
  readonly stlbHit: number;
  readonly tlbFill: number;
  readonly tlbRefillSoftware: number;
  readonly invlpg: number;
  readonly ipi: number;
  readonly tlbShootdown: number;
  readonly asSwitch: number;
  readonly asSwitchPcid: number;
  readonly asSwitchRefill: number;
  readonly pagerLookup: number;
  readonly mapInstall: number;
  readonly pageZeroPerKiB: number;
  readonly lockAcquire: number;
  readonly lockHandoff: number;
  readonly diskRead: number;
  readonly accessCycles: number;
  readonly ramAlloc: number;
  readonly irqMigration: number;
  readonly pageCopyPerKiB: number;
  readonly blockSubmit: number;
}

/** Name of one cost. */
export type CostKey = keyof CostModel;

/** Documentation of one cost. */
export interface CostInfo {
  /** Default in cycles at the nominal clock. */
  readonly cycles: number;
  /** What the cost covers. */
  readonly what: string;
  /** Where the number comes from. */
  readonly source: string;
  /** True when the default is a judgement call rather than a published measurement. */
  readonly estimate: boolean;
}

const SDM = 'Intel 64 and IA-32 Architectures Software Developer’s Manual (Intel SDM), Vol. 3';
const DREPPER = 'Drepper, "What Every Programmer Should Know About Memory" (2007), Table 3.1';
const L4RE = 'L4Re/Fiasco.OC IPC and syscall benchmarks, x86_64 (l4re.org/performance.html)';
const SEL4 = 'seL4 SOSP’13 one-way IPC 301 cycles on Haswell (trustworthy.systems comparative_performance)';
const AMIT = 'Amit, "Optimizing the TLB Shootdown Algorithm with Page Access Tracking", USENIX ATC’17';

/** Description, source and default of every cost, in declaration order. */
export const COST_INFO: Readonly<Record<CostKey, CostInfo>> = {
  ipcRoundTrip: {
    cycles: 1000,
    what: 'synchronous IPC call + reply between two address spaces (two one-way IPCs incl. AS switches)',
    source: `estimate: ~2× one-way IPC, rounded up; ${SEL4}; ${L4RE} (inter-AS single IPC 390–1172 cycles)`,
    estimate: true,
  },
  kernelEntryExit: {
    cycles: 150,
    what: 'null system call: SYSCALL + minimal kernel path + SYSRET',
    source: `${L4RE} (null syscall 52–222 cycles); ${SDM} (SYSCALL/SYSRET)`,
    estimate: false,
  },
  exceptionEntryExit: {
    cycles: 400,
    what: 'CPU exception (e.g. page fault) delivery through the IDT to the kernel and IRET back',
    source: `estimate: IDT delivery + stack switch + IRET is costlier than SYSCALL/SYSRET (${SDM}, ch. 6)`,
    estimate: true,
  },
  irqEntry: {
    cycles: 400,
    what: 'hardware interrupt delivery to the kernel and dispatch to the IRQ object',
    source: 'estimate: exception-class entry plus dispatch; sel4bench `irq`/`irquser` measure this path',
    estimate: true,
  },
  irqAck: {
    cycles: 100,
    what: 'end-of-interrupt to the local APIC (x2APIC EOI MSR write) / unmask at the controller',
    source: `estimate: one serialising MSR or MMIO write (${SDM}, ch. 11 "Advanced Programmable Interrupt Controller")`,
    estimate: true,
  },
  signalDelivery: {
    cycles: 400,
    what: 'asynchronous notification (Genode signal): kernel submit + wake-up of the receiver',
    source: 'estimate: comparable to a one-way IPC; sel4bench `signal` measures the seL4 equivalent',
    estimate: true,
  },
  pageWalkStep: {
    cycles: 14,
    what: 'one level of a hardware page-table walk whose entry hits in the data cache (L2)',
    source: `${DREPPER}: L2 hit ~14 cycles; upper levels are usually cached or in paging-structure caches`,
    estimate: false,
  },
  pageWalkStepMiss: {
    cycles: 240,
    what: 'one level of a page-table walk whose entry comes from DRAM',
    source: `${DREPPER}: main memory ~240 cycles`,
    estimate: false,
  },
  stlbHit: {
    cycles: 9,
    what: 'L1 TLB miss that hits in the second-level (unified) TLB',
    source: 'Intel Skylake STLB hit latency ~9 cycles (Intel Optimization Reference Manual; 7-cpu.com)',
    estimate: false,
  },
  tlbFill: {
    cycles: 10,
    what: 'inserting a translation into the TLB after a hardware walk (beyond the walk steps)',
    source: 'estimate: small fixed overhead of the page-miss handler',
    estimate: true,
  },
  tlbRefillSoftware: {
    cycles: 100,
    what: 'software TLB refill exception (software-managed TLBs such as MicroBlaze): entry, lookup, write, return',
    source: 'estimate: ~20–40 instructions plus exception entry/return on an in-order core',
    estimate: true,
  },
  invlpg: {
    cycles: 200,
    what: 'invalidating one page in the local TLB (INVLPG or equivalent)',
    source: `estimate: a few hundred cycles is the commonly reported range; semantics per ${SDM}, §4.10.4`,
    estimate: true,
  },
  ipi: {
    cycles: 3000,
    what: 'inter-processor interrupt: send, delivery and handler entry on the target (~1 µs)',
    source: `estimate: IPI delivery on x86 is commonly reported at ~1–2 µs; context in ${AMIT}`,
    estimate: true,
  },
  tlbShootdown: {
    cycles: 6000,
    what: 'initiator-side TLB shootdown round: IPI to the targets, remote invalidation, wait for acks (~2 µs)',
    source: `estimate: "TLB shootdown can take microseconds" (${AMIT}); add invlpg per page`,
    estimate: true,
  },
  asSwitch: {
    cycles: 250,
    what: 'address-space switch without PCID: CR3 write that flushes non-global TLB entries',
    source: `estimate: serialising CR3 write; flush semantics per ${SDM}, §4.10.4.1`,
    estimate: true,
  },
  asSwitchPcid: {
    cycles: 100,
    what: 'address-space switch with PCID (CR3 write with the no-flush bit): TLB entries survive',
    source: `estimate: CR3 write without the flush; PCID per ${SDM}, §4.10.1`,
    estimate: true,
  },
  asSwitchRefill: {
    cycles: 2000,
    what: 'amortised TLB refill after a flushing switch; charge only when the TLB is not simulated',
    source: 'estimate: ~64 L1 dTLB entries × ~30 cycles (walk steps mostly cache hits)',
    estimate: true,
  },
  pagerLookup: {
    cycles: 300,
    what: 'pager work to resolve a fault: region-map lookup (balanced tree) and dataspace offset computation',
    source: 'estimate: a few dozen pointer-chasing loads, mostly cache hits; excludes the fault IPC',
    estimate: true,
  },
  mapInstall: {
    cycles: 500,
    what: 'kernel work to install one mapping: capability checks, page-table entry write, mapping-database node',
    source: 'estimate: kernel map path excluding entry/exit; order of a short IPC',
    estimate: true,
  },
  pageZeroPerKiB: {
    cycles: 128,
    what: 'zeroing 1 KiB of memory (512 cycles per 4 KiB page)',
    source: 'estimate: ~8 bytes/cycle (~24 GB/s at 3 GHz), between in-cache REP STOSB and DRAM bandwidth',
    estimate: true,
  },
  lockAcquire: {
    cycles: 20,
    what: 'uncontended lock acquire + release (one locked read-modify-write on a cached line)',
    source: 'Agner Fog, instruction tables: LOCK CMPXCHG ~18–25 cycles on recent Intel cores',
    estimate: false,
  },
  lockHandoff: {
    cycles: 250,
    what: 'contended hand-off: the lock cache line moves to another core',
    source: 'estimate: core-to-core cache-line transfer ~50–100 ns on one socket',
    estimate: true,
  },
  diskRead: {
    cycles: 300_000,
    what: 'reading one 4 KiB block from an NVMe flash SSD (~100 µs), for swap-in',
    source: 'estimate: typical NVMe TLC SSD 4 KiB random-read latency 80–100 µs (vendor datasheets)',
    estimate: true,
  },
  accessCycles: {
    cycles: 1,
    what: 'a replayed memory access or instruction fetch that hits in the L1 TLB (a nominal CPI of one)',
    source: 'estimate: traces carry no timing; one cycle per record keeps translation costs in proportion',
    estimate: true,
  },
  ramAlloc: {
    cycles: 2000,
    what: 'critical section of core’s RAM allocator (AVL search, split, quota and metadata), held under its lock',
    source:
      'estimate: a few hundred instructions with cache misses in the allocator tree (Genode Allocator_avl)',
    estimate: true,
  },
  irqMigration: {
    cycles: 6000,
    what: 'moving an IRQ and its handler thread to another CPU: reprogramming the MSI-X entry or IOAPIC redirection, migrating the thread, refilling its cache lines on the new CPU (plus one IPI to the old CPU, charged as ipi)',
    source:
      'estimate: an uncached MMIO write ~1 µs plus a thread migration and cold L1/L2 refill of a few KiB; irqbalance rebalances at most every 10 s for this reason (irqbalance(1))',
    estimate: true,
  },
  pageCopyPerKiB: {
    cycles: 256,
    what: 'copying 1 KiB between buffers (1,024 cycles per 4 KiB page): a page carried in a 4100-byte message, or taken out of one',
    source:
      'estimate: ~4 bytes/cycle, half the zeroing rate because a copy reads as well as writes (REP MOVSB, in-cache to DRAM)',
    estimate: true,
  },
  blockSubmit: {
    cycles: 3000,
    what: 'a block driver submitting one request: build the command, queue it, ring the doorbell (posted MMIO write)',
    source:
      'estimate: Linux block layer plus NVMe submission costs a few µs of CPU per I/O (Yang et al., "When Poll is Better than Interrupt", FAST’12)',
    estimate: true,
  },
};

/** Every cost key, in declaration order. */
export const COST_KEYS: readonly CostKey[] = Object.keys(COST_INFO) as CostKey[];

/** The default cost model. */
export const DEFAULT_COSTS: CostModel = Object.freeze(
  Object.fromEntries(COST_KEYS.map((k) => [k, COST_INFO[k].cycles])) as unknown as CostModel,
);

function isCostKey(k: string): k is CostKey {
  return Object.hasOwn(COST_INFO, k);
}

function unknownKey(k: string): string {
  const near = COST_KEYS.find((c) => c.toLowerCase() === k.toLowerCase());
  const hint = near ? ` (did you mean '${near}'?)` : '';
  return `unknown cost key '${k}'${hint}; expected one of ${COST_KEYS.join(', ')}`;
}

/**
 * A copy of `base` with the costs in `partial` replaced. Each value must be a finite number >= 0
 * (cycles). Any unknown key or bad value fails with `INVALID_COST` and nothing is applied.
 */
export function overrideCosts(
  base: CostModel,
  partial: Readonly<Record<string, unknown>>,
): Result<CostModel, 'INVALID_COST'> {
  const out: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(partial)) {
    if (!isCostKey(k)) return err('INVALID_COST', unknownKey(k));
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      return err('INVALID_COST', `cost '${k}' is ${String(v)}; expected a finite number of cycles >= 0`);
    }
    out[k] = v;
  }
  return ok(Object.freeze(out) as unknown as CostModel);
}

/**
 * Parses CLI assignments such as `ipcRoundTrip=900` into an override map for
 * {@link overrideCosts}. Fails with `INVALID_COST` on a malformed entry, unknown key or bad number.
 */
export function parseCostAssignments(
  items: readonly string[],
): Result<Record<string, number>, 'INVALID_COST'> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      return err('INVALID_COST', `cost assignment '${item}': expected key=value, e.g. ipcRoundTrip=900`);
    const k = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    if (!isCostKey(k)) return err('INVALID_COST', unknownKey(k));
    const v = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(v) || v < 0) {
      return err('INVALID_COST', `cost '${k}' is '${text}'; expected a finite number of cycles >= 0`);
    }
    out[k] = v;
  }
  return ok(out);
}

/** One line per cost: `key = cycles (µs)`, for reports and `--help`. */
export function describeCosts(costs: CostModel): string {
  return COST_KEYS.map((k) => `${k} = ${costs[k]} cycles (${cyclesToMicros(costs[k]).toFixed(3)} µs)`).join(
    '\n',
  );
}
