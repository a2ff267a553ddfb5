/**
 * faultline's public API: the memory model (core), the machine parts it runs on (hw, kernel),
 * and the simulator, workloads and reports built on top.
 *
 * @packageDocumentation
 */

export {
  type AccessOutcome,
  Core,
  type CoreConfig,
  type CoreErrorCode,
  type FaultOutcome,
  LINKER_AREA,
  type PdOptions,
  STACK_AREA,
} from './core/core.js';
export { type CacheAttr, Dataspace, type DataspaceKind } from './core/dataspace.js';
export {
  type AccessType,
  type CoreEvent,
  type CoreEventListener,
  describeEvent,
  faultTypeName,
  illegalAccessText,
  TOO_DEEP_TEXT,
  violationText,
} from './core/events.js';
export { PdSession } from './core/pd_session.js';
export { COSTS, type Cost, Quota, type QuotaErrorCode } from './core/quota.js';
export {
  type AttachAttr,
  type AttachErrorCode,
  type Faulter,
  type FaultState,
  Region,
  RegionMap,
} from './core/region_map.js';
export {
  bestSizeLog2,
  formatExplanation,
  MAX_DEPTH,
  type Resolution,
  resolve,
  type SizeConstraint,
  type SizeExplanation,
  type SizePolicy,
  type UnresolvedReason,
  type WalkStep,
} from './core/resolve.js';
export { revokeRange } from './core/revoke.js';
export { SignalContext, type SignalListener } from './core/signal.js';
export {
  ARCH_NAMES,
  type Arch,
  type ArchName,
  arch,
  archByName,
  type KernelProfile,
  mappingSizesLog2,
  pageSize,
  type TlbLevelSpec,
} from './hw/arch.js';
export { Mapping, PageTable } from './hw/page_table.js';
export { type PhysAllocation, PhysicalMemory, type RamRange } from './hw/phys_mem.js';
export { RangeAllocator } from './hw/range_allocator.js';
export { ProtectionDomain } from './kernel/protection_domain.js';
export { Thread, type ThreadState } from './kernel/thread.js';
export { walkthrough } from './report/walkthrough.js';
export { hex, sizeName } from './util/hex.js';
export { type Err, err, InvariantError, type Ok, ok, type Result, unwrap } from './util/result.js';
