/**
 * The vocabulary of the interrupt controller (`irq_controller.ts`): trigger modes, polarities,
 * line and controller specs, per-IRQ and per-CPU counters, the state snapshot, the delivery
 * listener and the error code. Kept apart so that `irq_controller.ts` holds the controller's
 * semantics; everything here is re-exported from there.
 */

/** Trigger mode of a wired line. */
export type TriggerMode = 'level' | 'edge';

/** Active level of a wired line. */
export type Polarity = 'high' | 'low';

/** Configuration of one wired line. */
export interface LineSpec {
  readonly trigger: TriggerMode;
  readonly polarity: Polarity;
  /** Initial target CPU (default 0). */
  readonly cpu?: number;
}

/** Geometry of an interrupt controller. */
export interface InterruptControllerSpec {
  /** Number of CPUs IRQs can be routed to (>= 1). */
  readonly cpus: number;
  /** Line configurations, or a count of lines that all use `defaults`. */
  readonly lines: number | readonly LineSpec[];
  /** Configuration for a line count (default level, active-high, CPU 0). */
  readonly defaults?: LineSpec;
  /** Number of MSI/MSI-X vectors (default 0). */
  readonly msiVectors?: number;
}

/** Counters of one IRQ or one CPU. */
export interface IrqStats {
  /** Level assertions (inactive→active), edges and MSI messages raised by devices. */
  raised: number;
  /** Deliveries to the listener. */
  delivered: number;
  /** Edges/MSI messages that arrived while one was already latched: lost, as on hardware. */
  coalesced: number;
  /** Queued deliveries whose source was gone when their turn came. */
  spurious: number;
}

/** A snapshot of one IRQ's state. */
export interface IrqState {
  readonly irq: number;
  readonly kind: 'line' | 'msi';
  /** `edge` for MSI vectors. */
  readonly trigger: TriggerMode;
  /** `high` for MSI vectors. */
  readonly polarity: Polarity;
  /** Electrical wire level (false for MSI vectors). */
  readonly wireHigh: boolean;
  /** Wire at its active level (false for MSI vectors). */
  readonly asserted: boolean;
  /** An edge is latched. */
  readonly latched: boolean;
  /** Level asserted or edge latched. */
  readonly pending: boolean;
  readonly masked: boolean;
  /** Target CPU. */
  readonly cpu: number;
}

/** The callback the kernel layer installs: IRQ `irq` is delivered to CPU `cpu`. */
export type DeliveryListener = (cpu: number, irq: number) => void;

/** Error code of the controller. */
export type IrqControllerError = 'INVALID_IRQ';
