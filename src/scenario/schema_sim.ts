/**
 * The simulated part of the scenario format: built-in component behaviours (run by the simulator's
 * `Machine`) and the steps that run simulations and check what they measured:
 * `simulate` (runs the machine with every behaviour), `irq` (one run of the IRQ simulation) and
 * `expect_metrics` (checks metrics by name, as docs/OUTPUT.md spells them).
 */
import { z } from 'zod';
import { Count, Flag, Ident, MapRef, Num, ThreadRef } from './schema_base.js';

/** Built-in behaviours, executed by the simulator. */
export const BEHAVIOURS = ['on_demand', 'trace_player', 'synthetic', 'nic'] as const;

/** Workload patterns of the synthetic behaviour. */
export const PATTERNS = ['sequential', 'strided', 'uniform', 'zipf', 'phased'] as const;

const Positive = z.number().positive();

/** Initial routes of a NIC's queues. */
const Routing = z
  .union(
    [
      z.literal('spread'),
      z.strictObject({ cpu: Count.describe('the CPU every queue is routed to') }),
      z.array(Count).min(1).describe('one CPU per queue, in queue order'),
    ],
    { error: "expected 'spread', { cpu: N } or a list of CPUs, one per queue" },
  )
  .optional()
  .describe(
    "where each queue's vector and handler thread start: spread (queue q on CPU q mod cpus, the default), all on one CPU, or a CPU per queue",
  );

/** Static routes or rebalancing. */
const Balance = z
  .enum(['static', 'irqbalance'])
  .optional()
  .describe(
    "static routes (the default), or irqbalance-style rebalancing: every interval the busiest CPU's heaviest queue moves to the idlest CPU, each move costing irqMigration plus an IPI",
  );

const BalanceInterval = Positive.optional().describe(
  'irqbalance: microseconds between decisions (default: a twentieth of duration_us)',
);

/** A multi-queue NIC driven by this component (its driver): traffic on the scenario's own machine. */
const Nic = z
  .strictObject({
    rate_pps: Positive.max(1e10).describe('offered packets per second (Poisson arrivals)'),
    duration_us: Positive.max(10_000_000).describe(
      'simulated microseconds of arrivals from the start of the simulation (the drivers drain their rings after it)',
    ),
    queues: z.number().int().min(1).max(4096).optional().describe('receive queues (default: one per CPU)'),
    routing: Routing,
    packet_cycles: z
      .number()
      .min(0)
      .optional()
      .describe('driver cycles per packet besides its ring accesses (default 2000)'),
    ring: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .optional()
      .describe('descriptors per receive ring (default 256)'),
    flows: z.number().int().min(1).optional().describe('flows spread by RSS (default 1024)'),
    seed: Count.optional().describe('seed of arrivals and flows (default 1)'),
    rings: z
      .enum(['ram', 'managed', 'none'])
      .optional()
      .describe(
        "where the driver's descriptor rings and packet buffers live, at 0x40000000 of its address space: a RAM dataspace (the default; paid from the component's quota), a managed dataspace a ring pager thread of the component pages on demand (the driver faults while packets arrive), or none (packet work touches no memory)",
      ),
    ring_chunk: Num.optional().describe(
      'managed rings: bytes the ring pager attaches per fault (default 64K)',
    ),
    ring_pager_cpu: Count.optional().describe("managed rings: the ring pager's CPU (default 0)"),
    balance: Balance,
    balance_interval_us: BalanceInterval,
  })
  .describe(
    "a multi-queue NIC on this scenario's machine whose interrupts reach one handler thread per queue in this component (the driver), next to the other behaviours; expect_metrics names its figures nic.…",
  );

/** A built-in behaviour of a component. */
export const Behaviour = z
  .union([
    z.strictObject({
      on_demand: z
        .strictObject({
          map: MapRef.describe(
            'the region map to page: a created region map or a component (its address space)',
          ),
          chunk: Num.describe('bytes of RAM attached per fault: a power of two of at least one page'),
          cpu: Count.optional().describe(
            'CPU of the handler thread, whose memory partition it allocates from (default 0)',
          ),
          ram: Num.optional().describe(
            'RAM limit for the map (issue 16): beyond it the handler swaps, evicting chunks by detaching them and paging them back in on the reflected fault',
          ),
          replacement: z
            .enum(['clock', 'lru', 'fifo'])
            .optional()
            .describe('page replacement under ram (default clock)'),
          swap: z
            .array(
              z.strictObject({
                device: z.enum(['hdd', 'sata-ssd', 'nvme']),
                size: Num.describe('bytes of swap, a multiple of 4K'),
                priority: z.number().int().optional(),
              }),
            )
            .min(1)
            .optional()
            .describe('swap providers, each with its own block device (default one nvme of 1G)'),
          misbehave: z
            .string()
            .regex(
              /^(never-replies|replies-late:[1-9][0-9]*|dies|faults-itself|wrong-mapping)$/,
              'expected never-replies, replies-late:N (N cycles > 0), dies, faults-itself or wrong-mapping',
            )
            .optional()
            .describe(
              'how the handler misbehaves: never-replies, replies-late:N (N cycles), dies (in its first fault), faults-itself (touches the memory it manages), wrong-mapping (answers with the wrong memory)',
            ),
        })
        .describe(
          "a handler thread of this component that backs each touched chunk of a region map with RAM on demand (installs itself as the map's fault handler when the simulation starts)",
        ),
    }),
    z.strictObject({
      trace_player: z
        .strictObject({
          thread: ThreadRef.describe("a thread of this component, as 'component.thread'"),
          trace: z
            .string()
            .min(1, 'expected a trace file name')
            .describe(
              'trace file (lackey text or faultline binary, optionally gzip), relative to the scenario',
            ),
        })
        .describe('the thread replays a memory-access trace'),
    }),
    z.strictObject({
      synthetic: z
        .strictObject({
          thread: ThreadRef.describe("a thread of this component, as 'component.thread'"),
          pattern: z.enum(PATTERNS),
          records: z.number().int().min(1).describe('records to generate, instruction fetches included'),
          footprint: Num.describe('bytes of the data region'),
          seed: Count,
          base: Num.optional().describe('first address of the data region (default 0x10000000)'),
          accessSize: Num.optional().describe('bytes per data access, a power of two (default 8)'),
          writeRatio: z.number().min(0).max(1).optional(),
          modifyRatio: z.number().min(0).max(1).optional(),
          instrPerAccess: Count.optional().describe(
            'instruction fetches before each data access (default 0)',
          ),
          codeBase: Num.optional().describe('first address of the code region (default 0x400000)'),
          codeFootprint: Num.optional().describe('bytes of the code region (default 16K)'),
          stride: Num.optional().describe('strided: bytes between accesses'),
          skew: z.number().min(0).max(10).optional().describe('zipf: exponent'),
          granule: Num.optional().describe('zipf: item size (default 4K)'),
          scatter: Flag.optional().describe('zipf: spread hot items over the region'),
          phases: z.number().int().min(1).optional().describe('phased: number of working sets'),
          workingSet: Num.optional().describe('phased: bytes of each working set'),
          phaseLength: z.number().int().min(1).optional().describe('phased: data accesses per phase'),
        })
        .describe('the thread runs a seeded synthetic workload'),
    }),
    z.strictObject({ nic: Nic }),
  ])
  .describe('a built-in behaviour, run by the simulator');

/** What a metric bound may be. */
export const METRIC_BOUND_HELP = 'a number or the name of another metric';
const Bound = z.union([z.number(), z.string().min(1)], { error: `expected ${METRIC_BOUND_HELP}` });
const MetricExpect = z
  .union(
    [
      z.number(),
      z.strictObject({
        min: Bound.optional().describe('the metric must be >= this'),
        max: Bound.optional().describe('the metric must be <= this'),
      }),
    ],
    { error: 'expected a number or {min, max}' },
  )
  .describe(`the exact value, or {min, max} bounds (inclusive), each ${METRIC_BOUND_HELP}`);

/** Argument schemas of the simulator's step kinds (merged into `STEP_ARGS`). */
export const SIM_STEP_ARGS = {
  simulate: z
    .strictObject({})
    .describe(
      'runs the simulated machine: starts the on_demand handlers and runs every behaviour to its end (implicit after the last step when absent)',
    ),
  irq: z
    .strictObject({
      name: Ident.optional().describe(
        'names the run in metric names irq.NAME.… (default: the delivery design)',
      ),
      delivery: z
        .enum(['direct', 'core-thread'])
        .optional()
        .describe("how IRQs reach their handlers (default: the design's irqDelivery)"),
      cpus: z.number().int().min(1).max(1024).optional().describe("CPUs (default: the machine's)"),
      queues: z.number().int().min(1).max(4096).optional().describe('NIC queues (default: one per CPU)'),
      rate_pps: Positive.max(1e10).describe('offered packets per second (Poisson arrivals)'),
      duration_us: Positive.max(10_000_000).describe('simulated microseconds of arrivals'),
      packet_cycles: z.number().min(0).optional().describe('handler cycles per packet (default 2000)'),
      ring: z.number().int().min(1).optional().describe('descriptors per receive ring (default 256)'),
      flows: z.number().int().min(1).optional().describe('flows spread by RSS (default 1024)'),
      seed: Count.optional().describe('seed of arrivals and flows (default 1)'),
      routing: Routing,
      balance: Balance,
      balance_interval_us: BalanceInterval,
      timer: z
        .strictObject({
          period_us: Positive.describe('timer period in microseconds'),
          trigger: z.enum(['level', 'edge']).optional(),
          cpu: Count.optional(),
          work_cycles: z.number().min(0).optional().describe('timer thread cycles per signal (default 500)'),
        })
        .optional()
        .describe('a periodic timer on line 0 with its own handler thread'),
    })
    .describe('runs the IRQ simulation: a multi-queue NIC whose interrupts reach handler threads'),
  expect_metrics: z
    .record(z.string().min(1), MetricExpect)
    .describe(
      "checks metrics of the simulation (after simulate) or of an irq run ('irq.NAME.…'), e.g. { faults.reflected: 8, tlb.hitRate: { min: 0.99 } }",
    ),
} as const;
