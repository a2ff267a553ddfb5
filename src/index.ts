/**
 * faultline's public API: the memory model (core), the machine parts it runs on (hw, kernel),
 * and the simulator, workloads and reports built on top.
 *
 * @packageDocumentation
 */

// Swap and memory-mapped files (issue 16): block servers (swap providers, the file server), the
// file provider, block devices, not-present PTEs, the kernel's swap registry, message queues,
// memory-mapped range lists, page replacement, the paged memory and the swapping manager; the
// machine's paging (SwapSystem, KernelPager, mmap/msync/munmap) with the simulator below.
export {
  type BlockServer,
  type BlockServerStats,
  type BlockTarget,
  FileServer,
  type ServerCompletion,
  type ServerRequest,
  SwapProvider,
} from './components/block_server.js';
export { type FileErrorCode, FileProvider, type FileProviderStats } from './components/file_provider.js';
export {
  OnDemandHandler,
  type OnDemandOptions,
  type ResolveRequest,
} from './components/on_demand_handler.js';
export {
  type Action,
  type CallOutcome,
  type CoreRpcName,
  call,
  compute,
  coreRpc,
  type Port,
  type Program,
  type Received,
  receive,
  reply,
  sleep,
  waitSignal,
  zero,
} from './components/program.js';
export {
  type PageWait,
  SwapManager,
  type SwapManagerEnv,
  type SwapManagerOptions,
} from './components/swap_manager.js';
export {
  type AccessOutcome,
  Core,
  type CoreConfig,
  type CoreErrorCode,
  type FaultOutcome,
  LINKER_AREA,
  type OwnerOnlyOutcome,
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
export { IrqService, IrqSession } from './core/irq_session.js';
export { SharedIrq } from './core/irq_shared.js';
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
export {
  BLOCK_SIZE,
  type BlockCompletion,
  BlockDevice,
  type BlockDeviceErrorCode,
  type BlockDeviceSpec,
  type BlockDeviceStats,
  type BlockRequest,
  type BlockTicket,
  checkBlockDeviceSpec,
} from './hw/block_device.js';
export {
  BLOCK_DEVICE_PRESET_NAMES,
  type BlockDevicePreset,
  type BlockDevicePresetName,
  blockDevicePreset,
  latencyFromQd1Iops,
  presetSpec,
} from './hw/block_device_presets.js';
export { InterruptController, type InterruptControllerSpec, type LineSpec } from './hw/irq_controller.js';
export { Mapping, PageTable } from './hw/page_table.js';
export { type PhysAllocation, PhysicalMemory, type RamRange } from './hw/phys_mem.js';
export {
  checkSwapBudget,
  decodePte,
  encodeMmapPte,
  encodeSwapPte,
  formatBinaryBytes,
  maxRangeIndex,
  PTE_FORMATS,
  type PteBudget,
  type PteErrorCode,
  type PteFormat,
  type PteMeaning,
  pteBudget,
  pteFormat,
  swapBudgetBlocks,
} from './hw/pte.js';
export { RangeAllocator } from './hw/range_allocator.js';
// The machine parts: TLBs and the interrupt controller; the kernel's scheduler, IPC and capabilities.
export { Tlb, type TlbAccess, type TlbMapping } from './hw/tlb.js';
export { formatTlbSpec, parseTlbSpec, TLB_SPEC_HELP } from './hw/tlb_spec.js';
export { CapRegistry, CapSpace, type Right, Rights } from './kernel/capability.js';
// The in-kernel mapping database of the local-rm design (issue 15): flexpages, map items, revocation.
export {
  Flexpage,
  type FlexpageErrorCode,
  MAX_FPAGE_LOG2,
  MapItem,
  MemRights,
  type MemRightsMask,
  MIN_FPAGE_LOG2,
  memRightsName,
  reconcile,
  type Transfer,
} from './kernel/flexpage.js';
export { FrameTable } from './kernel/frame_table.js';
export { Endpoint } from './kernel/ipc.js';
export {
  MappingDb,
  type MappingDbOptions,
  MDB_NODE_BYTES,
  type MdbErrorCode,
  type UnmapOptions,
} from './kernel/mapping_db.js';
export {
  type KernelMemory,
  type KernelMemoryErrorCode,
  KernelMemoryPool,
} from './kernel/mapping_db_memory.js';
export {
  MdbChange,
  type MdbChangeKind,
  MdbChanges,
  type MdbMapping,
  type SpaceId,
} from './kernel/mapping_db_node.js';
export {
  planTransfer,
  type TransferErrorCode,
  type TransferPiece,
  transferMapItem,
} from './kernel/mapping_db_transfer.js';
export {
  type Delivery,
  MessageQueue,
  type MessageQueueStats,
  type QueuedMessage,
} from './kernel/message_queue.js';
export {
  type MmapErrorCode,
  type MmapRange,
  MmapRangeList,
  type MmapRangeSpec,
} from './kernel/mmap_ranges.js';
export {
  type Eviction,
  NONE,
  PagedMemory,
  type PagedMemoryErrorCode,
  type PagedMemoryOptions,
  type PagedMemoryStats,
  type PageIn,
  type PageSource,
  type PageTarget,
  type PageWrite,
} from './kernel/paged_memory.js';
export { ProtectionDomain } from './kernel/protection_domain.js';
export {
  AccessedBitmap,
  type AccessedBits,
  ClockPolicy,
  createReplacement,
  FifoPolicy,
  LruPolicy,
  parseReplacement,
  REPLACEMENT_NAMES,
  type ReplacementName,
  type ReplacementPolicy,
} from './kernel/replacement.js';
export { Scheduler } from './kernel/scheduler.js';
export {
  SWAP_POLICIES,
  type SwapErrorCode,
  type SwapPolicy,
  type SwapProviderInfo,
  type SwapProviderSpec,
  SwapRegistry,
  type SwapRegistryOptions,
  type SwapSlot,
} from './kernel/swap_registry.js';
export { Thread, type ThreadState } from './kernel/thread.js';
export { walkthrough } from './report/walkthrough.js';
export { Attribution, type TopLists } from './sim/attribution.js';
// The simulator.
export { type CostModel, DEFAULT_COSTS, NOMINAL_CLOCK_HZ, overrideCosts } from './sim/cost.js';
export { DESIGNS, type Design, type DesignOptions, designOptions } from './sim/designs.js';
export { EventEngine } from './sim/engine.js';
export { type IrqSimOptions, type IrqSimResult, runIrqSim } from './sim/irq_run.js';
export { Machine, type MachineConfig } from './sim/machine.js';
export { Metrics } from './sim/metrics.js';
export { Prng } from './sim/prng.js';
export {
  buildTracedSystem,
  type IntervalResult,
  type RunResult,
  resetStatistics,
  summarize,
  type TlbLevelResult,
  type TlbStageResult,
  type TracedSystem,
} from './sim/replay.js';
export { addressCause, type ReplayStop, type StopCause } from './sim/replay_stop.js';
export { machineLine, type RunConfig, runConfig, type WindowConfig } from './sim/run_config.js';
export { RecordWindow } from './sim/run_window.js';
export { buildScaleSystem, type ScalePoint, scalePoint } from './sim/scale.js';
export { type AccessSource, PushSource, SimThread, type ThreadStop } from './sim/sim_thread.js';
export { type MmapRequest, mmap, msync, munmap, type SyncWait } from './sim/swap_files.js';
export { KernelPager } from './sim/swap_kernel.js';
export {
  checkPaging,
  DEFAULT_SWAP,
  type LatencyResult,
  type PagingOptions,
  type SwapProviderOptions,
  type SwapProviderResult,
  type SwapResult,
} from './sim/swap_options.js';
export {
  type PagedSystemParts,
  type PageTransfer,
  SwapSystem,
  type TransferStatus,
} from './sim/swap_system.js';
export { Timeline } from './sim/timeline.js';
export { checkTimeline } from './sim/timeline_check.js';
export {
  INSTR,
  LOAD,
  MAX_TRACE_ADDRESS,
  MIN_TRACE_ADDRESS,
  MODIFY,
  STORE,
  TraceBatch,
} from './sim/trace_batch.js';
export { hex, sizeName } from './util/hex.js';
export { type Err, err, InvariantError, type Ok, ok, type Result, unwrap } from './util/result.js';
// Decoding a binary trace's blocks apart, on several threads: the block index and the per-block decoder.
export { BinaryBlockDecoder, type BinaryBlockIndex, indexBinaryBlocks } from './workload/binary_blocks.js';
export { BinaryTraceWriter } from './workload/binary_trace.js';
export { BinaryTraceReader } from './workload/binary_trace_reader.js';
// Workloads.
export { LackeyParser, parseLackey } from './workload/lackey.js';
export { createThreadedWorkload, createWorkload, type WorkloadSpec } from './workload/synthetic.js';
