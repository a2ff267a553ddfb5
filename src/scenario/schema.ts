/**
 * The scenario file format (a Genode run script for faultline), as a zod schema. Objects are
 * strict: an unknown key is an error. The committed JSON Schema (`schema/scenario.schema.json`,
 * draft-07) is generated from it by {@link scenarioJsonSchemaText} (`faultline schema`), so editors
 * complete and check YAML that starts with
 * `# yaml-language-server: $schema=../schema/scenario.schema.json`.
 *
 * Numbers (addresses, sizes, offsets) are YAML integers, hex strings (`'0x40000000'`) or sizes
 * (`'64K'`); in steps any string may hold `${expr}` placeholders over loop variables and the
 * addresses earlier attaches chose (`var`; see `expr.ts`).
 * Names (`name`, `map`, `dataspace`, …) are checked in order by a second pass (`check.ts`).
 * Component behaviours and the simulator's steps (`simulate`, `irq`, `expect_metrics`) are in
 * `schema_sim.ts`; a scenario that uses behaviours, a design other than genode, design overrides
 * or a `simulate` step runs on the simulator (`simulation.ts`).
 */
import { z } from 'zod';
import { ARCH_NAMES, type ArchName } from '../hw/arch.js';
import type { ThreadState } from '../kernel/thread.js';
import { Count, DsRef, Flag, Ident, MapRef, Name, Num, ThreadRef } from './schema_base.js';
import { Behaviour, SIM_STEP_ARGS } from './schema_sim.js';

export { Num } from './schema_base.js';
export { BEHAVIOURS } from './schema_sim.js';

/** Every thread state, as expectations spell them. */
export const THREAD_STATES = [
  'ready',
  'running',
  'blocked-fault',
  'waiting-signal',
  'in-ipc',
  'waiting-disk',
  'dead-fault',
  'destroyed',
] as const satisfies readonly ThreadState[];
type MissingState = Exclude<ThreadState, (typeof THREAD_STATES)[number]>;
const _allStates: MissingState extends never ? true : MissingState = true;
void _allStates;

/** Error codes an operation may be expected to fail with. */
export const ERROR_CODES = [
  'REGION_CONFLICT',
  'INVALID_DATASPACE',
  'INVALID_ARGUMENT',
  'OUT_OF_RAM',
  'OUT_OF_CAPS',
  'OUT_OF_PHYSICAL_MEMORY',
  'DESTROYED',
] as const;
const ExpectError = z
  .enum(ERROR_CODES)
  .describe('the operation must fail with this error code (a failed operation changes nothing)');

const Machine = z
  .strictObject({
    arch: z.enum(ARCH_NAMES as [ArchName, ...ArchName[]]).describe('architecture profile'),
    cpus: z.number().int().min(1).max(1024).default(1).describe('number of CPUs'),
    ram: Num.describe('physical RAM in bytes, placed at 0x40000000 (e.g. 4G)'),
    tlb: z
      .string()
      .optional()
      .describe("TLB geometry for the simulator (as replay --tlb), e.g. 'unified:64'"),
    kernel: z
      .strictObject({
        name: z.string().optional().describe('display name of the kernel profile'),
        mapSizes: z.array(Num).min(1).describe('the only mapping sizes the kernel installs, e.g. [4K, 1M]'),
      })
      .optional()
      .describe('a kernel that clamps mapping sizes further than the architecture (core runner only)'),
  })
  .describe('the simulated machine');

const threadFields = {
  name: Ident.describe("the thread's name, as core's messages print it; several threads may share one"),
  as: Ident.optional().describe(
    "how steps refer to the thread ('component.AS'; default its name): needed when names repeat",
  ),
  cpu: Count.optional().describe('CPU the thread is pinned to (default 0)'),
  priority: z.number().int().optional().describe('scheduling priority (for the simulator)'),
  ip: Num.optional().describe('instruction pointer reported in fault messages (default 0)'),
};
const Thread = z.strictObject(threadFields);

const componentFields = {
  name: Ident.describe(
    "component name; its PD is labelled 'init -> NAME' and its address space is the map NAME",
  ),
  ram: Num.describe('RAM quota in bytes'),
  caps: Count.describe('capability quota'),
  threads: z.array(Thread).default([]),
  areas: Flag.optional().describe(
    "Genode's stack and linker areas: region maps attached at 0x40000000 and 0x50000000 of the address space, named NAME.stack_area and NAME.linker_area",
  ),
};
const Component = z.strictObject({
  ...componentFields,
  behaviours: z
    .array(Behaviour)
    .optional()
    .describe('built-in behaviours: the scenario then runs on the simulator'),
});

const OwnerOnlyExpect = z
  .strictObject({
    outcome: z
      .enum(['done', 'ignored'])
      .describe('done, or ignored: core changed nothing (the caller does not own it; seal: it is not RAM)'),
  })
  .describe('what the call must lead to; as in Genode, an ignored call is no error');

const BackedBy = z
  .strictObject({ dataspace: DsRef, offset: Num.default(0) })
  .describe('the address translates to this byte of the dataspace');

const AccessExpect = z
  .strictObject({
    outcome: z
      .enum(['hit', 'mapped', 'reflected', 'error', 'blocked'])
      .optional()
      .describe(
        'hit: the page table already mapped it; mapped: core resolved the fault; reflected: queued at a handler; error: a segmentation fault; blocked: the thread cannot run',
      ),
    mapping_size: Num.optional().describe('size of the mapping used or installed, e.g. 2M'),
    value: Num.optional().describe('the byte read (read only)'),
    error: z
      .union([z.string(), z.strictObject({ match: z.string().describe('a regular expression') })], {
        error: "expected core's error text or {match: regex}",
      })
      .optional()
      .describe("core's error text, exact or {match: regex}"),
    map: MapRef.optional().describe('the region map the fault was reflected to'),
    address: Num.optional().describe("the fault address in that map's coordinates"),
    depth: z.number().int().min(1).optional().describe('region maps walked to resolve the fault'),
    backed_by: BackedBy.optional(),
  })
  .describe('what the access must lead to');

const access = (what: string, value: boolean) =>
  z
    .strictObject({
      thread: ThreadRef,
      address: Num,
      ...(value ? { value: Num.default(0).describe('the byte written (0..255)') } : {}),
      expect: AccessExpect.optional(),
    })
    .describe(what);

const StepRef: z.ZodType<unknown> = z.lazy(() => Step);

/** The argument schema of every step kind, keyed by the step's single key. */
export const STEP_ARGS = {
  create_region_map: z
    .strictObject({ name: Name, owner: Name, size: Num, expect_error: ExpectError.optional() })
    .describe('creates a region map (usable as a managed dataspace), paid by the owner'),
  destroy_region_map: z.strictObject({ map: MapRef }).describe('destroys a created region map'),
  alloc_ram: z
    .strictObject({
      name: Name,
      owner: Name,
      size: Num,
      cpu: Count.optional().describe('CPU whose memory partition to use'),
      expect_error: ExpectError.optional(),
    })
    .describe('allocates a zero-filled RAM dataspace'),
  alloc_rom: z
    .strictObject({ name: Name, owner: Name, size: Num, expect_error: ExpectError.optional() })
    .describe('allocates a read-only ROM dataspace'),
  alloc_io_mem: z
    .strictObject({ name: Name, owner: Name, base: Num, size: Num, expect_error: ExpectError.optional() })
    .describe('creates an I/O memory dataspace for a device range'),
  free: z
    .strictObject({
      dataspace: DsRef,
      by: Name,
      expect_error: ExpectError.optional(),
      expect: OwnerOnlyExpect.optional(),
    })
    .describe("frees a dataspace; only the owner's free counts (a foreign free silently does nothing)"),
  seal: z
    .strictObject({
      dataspace: DsRef,
      by: Name,
      expect_error: ExpectError.optional(),
      expect: OwnerOnlyExpect.optional(),
    })
    .describe(
      "seals a RAM dataspace (Genode's seal_ram): later attachments are read-only, existing ones keep their rights",
    ),
  attach: z
    .strictObject({
      map: MapRef,
      dataspace: DsRef,
      at: Num.optional().describe('where to attach; absent lets the map choose'),
      size: Num.optional().describe('bytes to attach; 0 or absent: the rest of the dataspace'),
      offset: Num.optional().describe('offset into the dataspace (page aligned)'),
      writeable: Flag.optional(),
      executable: Flag.optional(),
      name: Name.optional().describe('names the region (for detach and the log)'),
      var: Ident.optional().describe(
        `binds the address where the region landed to this variable, for \${…} in later steps (a later attach may rebind it)`,
      ),
      expect_error: ExpectError.optional(),
      expect: z
        .strictObject({ at: Num.optional(), size: Num.optional() })
        .optional()
        .describe('where the region must land and its size after rounding'),
    })
    .describe('attaches a window of a dataspace to a region map'),
  detach: z
    .strictObject({
      map: MapRef.optional(),
      at: Num.optional().describe('any address inside the region'),
      region: Name.optional().describe('a named region (instead of map and at)'),
      expect_error: ExpectError.optional(),
    })
    .describe(
      'detaches the whole region containing an address (map and at), or a named region; where there is none it does nothing',
    ),
  fault_handler: z
    .strictObject({
      map: MapRef,
      signal: Name.optional().describe("signal context; created on first use, owned by the map's owner"),
      remove: z.literal(true).optional().describe('removes the fault handler'),
      expect_error: ExpectError.optional(),
    })
    .describe('installs (or removes) the fault handler of a region map'),
  read: access('a thread reads the byte at an address', false),
  write: access('a thread writes a byte at an address', true),
  exec: access('a thread fetches an instruction at an address', false),
  expect_fault: z
    .strictObject({
      map: MapRef,
      type: z.enum(['READ', 'WRITE', 'EXEC', 'NONE']),
      address: Num.optional().describe("in the map's coordinates"),
    })
    .describe("checks the map's fault(): its head faulter, or NONE"),
  expect_thread: z
    .strictObject({ thread: ThreadRef, state: z.enum(THREAD_STATES) })
    .describe("checks a thread's state"),
  expect_signal: z
    .strictObject({ signal: Name, count: Count })
    .describe('delivers a signal context: takes the coalesced count and checks it'),
  expect_mapping: z
    .strictObject({
      thread: ThreadRef,
      address: Num,
      size: Num.optional(),
      none: z.literal(true).optional().describe('nothing is mapped there'),
      writeable: Flag.optional(),
      executable: Flag.optional(),
      backed_by: BackedBy.optional(),
    })
    .describe("checks the thread's page table at an address (no access, no fault)"),
  expect_regions: z
    .strictObject({
      map: MapRef,
      count: Count.optional().describe('regions, reserved holes included'),
      at: z.array(Num).optional().describe('base addresses of all regions, ascending'),
    })
    .describe("checks a region map's regions"),
  expect_quota: z
    .strictObject({ component: Name, ram_used: Num.optional(), caps_used: Count.optional() })
    .describe("checks a component's quota use"),
  expect_errors: z
    .strictObject({
      count: Count.describe('exactly this many error lines not checked yet (that match, with match)'),
      match: z.string().optional().describe('a regular expression; absent: every error line counts'),
    })
    .describe(
      "checks core's error lines not checked yet (by an earlier expect_errors or an access's expect.error) and marks them checked; count 0 without match: no other errors",
    ),
  create_component: z
    .strictObject({ ...componentFields, expect_error: ExpectError.optional() })
    .describe('creates a component during the run (a PD session with its address space and threads)'),
  create_thread: z
    .strictObject({ component: Name, ...threadFields, expect_error: ExpectError.optional() })
    .describe("creates a thread in a component's PD during the run"),
  destroy_thread: z
    .strictObject({ thread: ThreadRef })
    .describe('destroys a thread (dequeuing it if it waits)'),
  destroy_component: z
    .strictObject({ component: Name })
    .describe('destroys a component and everything it owns'),
  explain: z
    .strictObject({
      thread: ThreadRef,
      address: Num,
      access: z.enum(['read', 'write', 'exec']).default('read'),
    })
    .describe('records in the run log why a fault there gets the mapping size it gets (changes nothing)'),
  log: z.string().describe('a note in the run log'),
  repeat: z
    .strictObject({
      times: Num.describe('iterations'),
      var: Ident.default('i').describe(`loop variable (0, 1, …) for \${…} placeholders`),
      log: z
        .union([Count, z.literal('all')], { error: "expected a number of iterations or 'all'" })
        .default(10)
        .describe('iterations written to the run log in full (default 10)'),
      steps: z.array(StepRef),
    })
    .describe(`runs steps several times; strings in them may use \${expr} with the loop variable`),
  ...SIM_STEP_ARGS,
} as const;

/** Names of the step kinds, in schema order. */
export type StepKind = keyof typeof STEP_ARGS;
/** Every step kind. */
export const STEP_KINDS = Object.keys(STEP_ARGS) as StepKind[];

const one = <K extends StepKind>(k: K) =>
  z.strictObject({ [k]: STEP_ARGS[k] } as { [P in K]: (typeof STEP_ARGS)[K] });
const Step = z
  .union(STEP_KINDS.map(one) as unknown as [ReturnType<typeof one>, ...ReturnType<typeof one>[]])
  .meta({
    id: 'step',
    description: 'one scripted step: an object with exactly one key naming what it does',
  });

/** The whole scenario file. */
export const Scenario = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    machine: Machine,
    design: z
      .string()
      .default('genode')
      .describe(
        'memory-management design (faultline designs); any other than genode, overrides, behaviours or a simulate step run the scenario on the simulator',
      ),
    overrides: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe("design options over the design's, e.g. { mapping: smallest }"),
    costs: z.record(z.string(), z.number()).default({}).describe('cost-model overrides in cycles'),
    components: z.array(Component).default([]),
    steps: z.array(Step).default([]),
  })
  .describe('a faultline scenario: a machine, components and scripted steps with expectations');

/** Numbers after placeholders are filled in: what a step's arguments look like when it runs. */
export type Resolved<T> = string extends T
  ? number extends T
    ? number | Extract<T, undefined>
    : T
  : T extends readonly (infer U)[]
    ? Resolved<U>[]
    : T extends object
      ? { [K in keyof T]: Resolved<T[K]> }
      : T;

/** Arguments of a step kind with every number resolved. */
export type StepArgs<K extends StepKind> = Resolved<z.output<(typeof STEP_ARGS)[K]>>;

/** A validated scenario (numbers still raw inside repeat bodies). */
export type ScenarioData = z.output<typeof Scenario>;
/** A validated component. */
export type ComponentData = ScenarioData['components'][number];

/** The JSON Schema (draft-07) of scenario files. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Scenario, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
}

/** The committed text of `schema/scenario.schema.json`: `faultline schema > schema/scenario.schema.json`. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
