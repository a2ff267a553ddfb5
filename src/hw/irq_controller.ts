/**
 * The interrupt controller (DESIGN.md §2 "IRQs"): wired lines with trigger mode and polarity,
 * MSI/MSI-X vectors, per-IRQ masks and a routing table to CPUs, changeable at run time.
 *
 * IRQ numbers: wired lines are `0 .. lines-1`; MSI vector `v` is IRQ `lines + v` (`msiIrq(v)`),
 * so masks, routes, statistics and sessions use one number space, as Genode does on x86.
 *
 * Semantic choices (documented once, relied on by core's IRQ sessions):
 * - **Mask on delivery.** Delivering an IRQ masks it and clears its edge latch; only `unmask`
 *   (core's IRQ-session ack) enables it again, like an IOAPIC/GIC whose kernel masks the line
 *   before the user-level ack. Every IRQ starts masked.
 * - **Level lines** are pending while the wire is at its active level (`high` or `low`
 *   polarity). Unmasking a still-asserted level line delivers it again at once.
 * - **Edge lines and MSI vectors** latch one pending edge. An edge that arrives while masked is
 *   not lost: it stays latched and fires on unmask. An edge that arrives while one is already
 *   latched is *coalesced* — the hardware cannot count it — and counted as the only legitimate loss.
 * - **Delivery is synchronous** and goes to the CPU the IRQ is routed to *at delivery time*, so
 *   rerouting a pending IRQ delivers it to the new CPU. Operations called from inside the
 *   delivery listener queue further deliveries, which run (in order) before the outermost call
 *   returns; a queued IRQ whose source went away before its turn counts as *spurious*.
 * - Without a delivery listener nothing is delivered; pending IRQs wait and are delivered when
 *   one is installed.
 * Failed operations return `INVALID_IRQ` and change nothing.
 */
import { err, ok, type Result } from '../util/result.js';

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

const OK: Result<void, never> = ok(undefined);

function zeroStats(): IrqStats {
  return { raised: 0, delivered: 0, coalesced: 0, spurious: 0 };
}

/** An interrupt controller with wired lines, MSI vectors, masks and routing. */
export class InterruptController {
  /** Number of wired lines. */
  readonly lineCount: number;
  /** Number of MSI vectors. */
  readonly msiCount: number;
  /** Number of CPUs. */
  readonly cpuCount: number;

  private readonly edge: Uint8Array;
  private readonly activeLow: Uint8Array;
  private readonly wireHigh: Uint8Array;
  private readonly latched: Uint8Array;
  private readonly masked: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly routes: Int32Array;
  private readonly irqStats: IrqStats[];
  private readonly perCpu: IrqStats[];
  private listener: DeliveryListener | undefined;
  private readonly queue: number[] = [];
  private pumping = false;

  private constructor(lines: readonly LineSpec[], msiVectors: number, cpus: number) {
    this.lineCount = lines.length;
    this.msiCount = msiVectors;
    this.cpuCount = cpus;
    const n = lines.length + msiVectors;
    this.edge = new Uint8Array(n).fill(1);
    this.activeLow = new Uint8Array(n);
    this.wireHigh = new Uint8Array(n);
    this.latched = new Uint8Array(n);
    this.masked = new Uint8Array(n).fill(1);
    this.queued = new Uint8Array(n);
    this.routes = new Int32Array(n);
    lines.forEach((l, i) => {
      this.edge[i] = l.trigger === 'edge' ? 1 : 0;
      this.activeLow[i] = l.polarity === 'low' ? 1 : 0;
      this.wireHigh[i] = this.activeLow[i]!; // idle wire sits at the inactive level
      this.routes[i] = l.cpu ?? 0;
    });
    this.irqStats = Array.from({ length: n }, zeroStats);
    this.perCpu = Array.from({ length: cpus }, zeroStats);
  }

  /** Builds a controller; `INVALID_IRQ` for an empty CPU set, negative counts or a line routed to a missing CPU. */
  static create(spec: InterruptControllerSpec): Result<InterruptController, IrqControllerError> {
    const msi = spec.msiVectors ?? 0;
    if (!Number.isInteger(spec.cpus) || spec.cpus < 1) {
      return err(
        'INVALID_IRQ',
        `controller needs at least one CPU, got ${spec.cpus}; expected an integer >= 1`,
      );
    }
    const count = typeof spec.lines === 'number' ? spec.lines : spec.lines.length;
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(msi) || msi < 0) {
      return err(
        'INVALID_IRQ',
        `line and MSI vector counts must be non-negative integers, got ${count}/${msi}`,
      );
    }
    const def: LineSpec = spec.defaults ?? { trigger: 'level', polarity: 'high', cpu: 0 };
    const lines = typeof spec.lines === 'number' ? Array.from({ length: count }, () => def) : spec.lines;
    const bad = lines.findIndex(
      (l) => !Number.isInteger(l.cpu ?? 0) || (l.cpu ?? 0) < 0 || (l.cpu ?? 0) >= spec.cpus,
    );
    if (bad >= 0) {
      return err(
        'INVALID_IRQ',
        `line ${bad} is routed to CPU ${lines[bad]!.cpu}; expected 0..${spec.cpus - 1}`,
      );
    }
    return ok(new InterruptController(lines, msi, spec.cpus));
  }

  /** Total number of IRQ numbers (lines plus MSI vectors). */
  get irqCount(): number {
    return this.lineCount + this.msiCount;
  }

  /** The IRQ number of MSI vector `vector`. */
  msiIrq(vector: number): Result<number, IrqControllerError> {
    const e = this.checkMsi(vector);
    return e ?? ok(this.lineCount + vector);
  }

  /** True when `irq` is a valid IRQ number. */
  isValid(irq: number): boolean {
    return Number.isInteger(irq) && irq >= 0 && irq < this.irqCount;
  }

  /**
   * Installs (or, with undefined, removes) the delivery listener. IRQs that are pending and
   * unmasked are delivered to the new listener at once, in ascending IRQ order.
   */
  setDeliveryListener(listener: DeliveryListener | undefined): void {
    this.listener = listener;
    if (!listener) return;
    for (let irq = 0; irq < this.irqCount; irq++) this.kick(irq);
  }

  /** Device side: drives a level or edge line to its active level. */
  assert(line: number): Result<void, IrqControllerError> {
    const e = this.checkLine(line, 'assert');
    if (e) return e;
    this.drive(line, this.activeLow[line] === 0);
    return OK;
  }

  /** Device side: drives a line to its inactive level. */
  deassert(line: number): Result<void, IrqControllerError> {
    const e = this.checkLine(line, 'deassert');
    if (e) return e;
    this.drive(line, this.activeLow[line] === 1);
    return OK;
  }

  /** Device side: sets the electrical wire level directly (`high` is asserted only for active-high lines). */
  setWire(line: number, high: boolean): Result<void, IrqControllerError> {
    const e = this.checkLine(line, 'setWire');
    if (e) return e;
    this.drive(line, high);
    return OK;
  }

  /**
   * Device side: a short pulse. On an edge line it latches one edge and leaves the wire as it
   * was; on a level line it is an assertion immediately followed by a deassertion (delivered
   * only if the line is unmasked at that moment).
   */
  pulse(line: number): Result<void, IrqControllerError> {
    const e = this.checkLine(line, 'pulse');
    if (e) return e;
    if (this.edge[line] === 1) {
      this.latchEdge(line);
      this.kick(line);
    } else {
      this.drive(line, this.activeLow[line] === 0);
      this.drive(line, this.activeLow[line] === 1);
    }
    return OK;
  }

  /** Device side: one MSI/MSI-X message for `vector` (edge-like: one delivery per message). */
  raiseMsi(vector: number): Result<void, IrqControllerError> {
    const e = this.checkMsi(vector);
    if (e) return e;
    const irq = this.lineCount + vector;
    this.latchEdge(irq);
    this.kick(irq);
    return OK;
  }

  /** Masks an IRQ (line or MSI vector). Its pending state is kept. */
  mask(irq: number): Result<void, IrqControllerError> {
    const e = this.checkIrq(irq);
    if (e) return e;
    this.masked[irq] = 1;
    return OK;
  }

  /** Unmasks an IRQ; a still-asserted level line or a latched edge is delivered at once. */
  unmask(irq: number): Result<void, IrqControllerError> {
    const e = this.checkIrq(irq);
    if (e) return e;
    this.masked[irq] = 0;
    this.kick(irq);
    return OK;
  }

  /** Routes an IRQ to `cpu`; a pending delivery goes to the new CPU. */
  route(irq: number, cpu: number): Result<void, IrqControllerError> {
    const e = this.checkIrq(irq) ?? this.checkCpu(cpu);
    if (e) return e;
    this.routes[irq] = cpu;
    return OK;
  }

  /** Snapshot of one IRQ's state. */
  state(irq: number): Result<IrqState, IrqControllerError> {
    const e = this.checkIrq(irq);
    if (e) return e;
    const msi = irq >= this.lineCount;
    return ok({
      irq,
      kind: msi ? 'msi' : 'line',
      trigger: this.edge[irq] === 1 ? 'edge' : 'level',
      polarity: this.activeLow[irq] === 1 ? 'low' : 'high',
      wireHigh: this.wireHigh[irq] === 1,
      asserted: !msi && this.isAsserted(irq),
      latched: this.latched[irq] === 1,
      pending: this.isPending(irq),
      masked: this.masked[irq] === 1,
      cpu: this.routes[irq]!,
    });
  }

  /** Counters of one IRQ (a copy). */
  irqStatsOf(irq: number): Result<IrqStats, IrqControllerError> {
    const e = this.checkIrq(irq);
    return e ?? ok({ ...this.irqStats[irq]! });
  }

  /** Counters of one CPU (a copy), attributed by the route at the time of each event. */
  cpuStatsOf(cpu: number): Result<IrqStats, IrqControllerError> {
    const e = this.checkCpu(cpu);
    return e ?? ok({ ...this.perCpu[cpu]! });
  }

  /** Summary with the pending and unmasked IRQs. */
  toString(): string {
    const pending: number[] = [];
    const unmasked: number[] = [];
    for (let i = 0; i < this.irqCount; i++) {
      if (this.isPending(i)) pending.push(i);
      if (this.masked[i] === 0) unmasked.push(i);
    }
    return (
      `InterruptController(${this.lineCount} lines, ${this.msiCount} MSI, ${this.cpuCount} CPUs, ` +
      `pending [${pending.join(',')}], unmasked [${unmasked.join(',')}])`
    );
  }

  private isAsserted(irq: number): boolean {
    return this.wireHigh[irq] !== this.activeLow[irq];
  }

  private isPending(irq: number): boolean {
    return this.edge[irq] === 1 ? this.latched[irq] === 1 : this.isAsserted(irq);
  }

  private drive(line: number, high: boolean): void {
    const was = this.isAsserted(line);
    this.wireHigh[line] = high ? 1 : 0;
    if (was || !this.isAsserted(line)) return;
    if (this.edge[line] === 1) {
      this.latchEdge(line);
    } else {
      this.irqStats[line]!.raised++;
      this.perCpu[this.routes[line]!]!.raised++;
    }
    this.kick(line);
  }

  private latchEdge(irq: number): void {
    const cpu = this.perCpu[this.routes[irq]!]!;
    const s = this.irqStats[irq]!;
    s.raised++;
    cpu.raised++;
    if (this.latched[irq] === 1) {
      s.coalesced++;
      cpu.coalesced++;
    } else {
      this.latched[irq] = 1;
    }
  }

  /** Queues an IRQ for delivery if it is deliverable now, then runs the queue unless already running. */
  private kick(irq: number): void {
    if (!this.listener || this.masked[irq] === 1 || this.queued[irq] === 1 || !this.isPending(irq)) return;
    if (this.pumping) {
      this.queued[irq] = 1;
      this.queue.push(irq);
      return;
    }
    // Not delivering yet: this IRQ goes first, then whatever its listener queued, in order.
    this.pumping = true;
    try {
      this.deliver(irq);
      for (let head = 0; head < this.queue.length; head++) {
        const q = this.queue[head]!;
        this.queued[q] = 0;
        this.deliver(q);
      }
    } finally {
      const q = this.queue;
      if (q.length > 0) {
        for (let i = 0; i < q.length; i++) this.queued[q[i]!] = 0;
        q.length = 0;
      }
      this.pumping = false;
    }
  }

  /** Delivers a queued IRQ if it is still unmasked and pending (it masks and unlatches it). */
  private deliver(q: number): void {
    const listener = this.listener;
    if (!listener || this.masked[q] === 1) return;
    const cpu = this.routes[q]!;
    if (!this.isPending(q)) {
      this.irqStats[q]!.spurious++;
      this.perCpu[cpu]!.spurious++;
      return;
    }
    this.masked[q] = 1;
    this.latched[q] = 0;
    this.irqStats[q]!.delivered++;
    this.perCpu[cpu]!.delivered++;
    listener(cpu, q);
  }

  private checkIrq(irq: number): Result<never, IrqControllerError> | undefined {
    if (this.isValid(irq)) return undefined;
    return err('INVALID_IRQ', `IRQ ${irq} does not exist; expected 0..${this.irqCount - 1}`);
  }

  private checkLine(line: number, op: string): Result<never, IrqControllerError> | undefined {
    if (Number.isInteger(line) && line >= 0 && line < this.lineCount) return undefined;
    if (this.isValid(line)) {
      return err('INVALID_IRQ', `${op}: IRQ ${line} is an MSI vector without a wire; use raiseMsi`);
    }
    return err(
      'INVALID_IRQ',
      `${op}: line ${line} does not exist; expected a wired line 0..${this.lineCount - 1}`,
    );
  }

  private checkMsi(vector: number): Result<never, IrqControllerError> | undefined {
    if (Number.isInteger(vector) && vector >= 0 && vector < this.msiCount) return undefined;
    return err('INVALID_IRQ', `MSI vector ${vector} does not exist; expected 0..${this.msiCount - 1}`);
  }

  private checkCpu(cpu: number): Result<never, IrqControllerError> | undefined {
    if (Number.isInteger(cpu) && cpu >= 0 && cpu < this.cpuCount) return undefined;
    return err('INVALID_IRQ', `CPU ${cpu} does not exist; expected 0..${this.cpuCount - 1}`);
  }
}
