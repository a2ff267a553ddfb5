/**
 * The second pass for the simulated parts of a scenario: design and overrides, the TLB spec,
 * behaviours (a synthetic workload's parameters, on_demand chunks and maps, one behaviour per
 * thread, one NIC), the `simulate` step (top level, once), `irq` steps (their options, unique run names)
 * and `expect_metrics` (every metric name and bound known where the step sits).
 */
import { arch as archOf } from '../hw/arch.js';
import { parseTlbSpec } from '../hw/tlb_spec.js';
import { DESIGNS, designOptions } from '../sim/designs.js';
import { checkIrqOptions } from '../sim/irq_model.js';
import { nicTrafficProblem } from '../sim/nic_traffic.js';
import { isPow2 } from '../util/bits.js';
import { hex, sizeName } from '../util/hex.js';
import { createWorkload } from '../workload/synthetic.js';
import type { Site } from './expand.js';
import type { LoadedScenario } from './load.js';
import { metricProblem } from './metrics.js';
import type { Path, Position } from './problem.js';
import {
  type BehaviourSite,
  behaviours,
  irqSimOptions,
  isSimulated,
  KERNEL_WITH_SIMULATOR,
  type NicArgs,
  nicTraffic,
  type SimStep,
  workloadSpec,
} from './sim_spec.js';

/** Priorities the kernel's scheduler accepts (0..255). */
const PRIORITY_LEVELS = 256;

/** What the simulator checks need from the main checker. */
export interface CheckContext {
  report(path: Path, message: string, position?: Position): void;
  /** A number outside steps (no placeholders); undefined after reporting. */
  fixed(v: number | string, path: Path): number | undefined;
  /** Checks that a region map name is defined by now. */
  map(name: string, path: Path): void;
  cpu(n: number, path: Path): void;
}

/** The paging arguments of an on_demand behaviour. */
interface OnDemandPaging {
  readonly ram: number | string;
  readonly swap?: readonly { readonly size: number | string }[];
  readonly misbehave?: string;
}

/** Checks of the simulated parts, called by the main checker in file order. */
export class SimChecker {
  private readonly simulated: boolean;
  private readonly list: BehaviourSite[];
  private readonly page: number;
  private readonly irqDelivery: string;
  private simulateLine = 0;
  /** Line of the nic behaviour, 0 without one. */
  private nicLine = 0;
  private readonly irqRuns = new Set<string>();

  constructor(
    private readonly s: LoadedScenario,
    private readonly ctx: CheckContext,
  ) {
    this.simulated = isSimulated(s.data);
    this.list = behaviours(s.data);
    this.page = 2 ** archOf(s.data.machine.arch).pageSizesLog2[0]!;
    const d = designOptions(s.data.design, s.data.overrides);
    this.irqDelivery = d.ok ? d.value.irqDelivery : 'direct';
  }

  /** Design, overrides, TLB and the kernel clamp (before the components). */
  machine(): void {
    const d = this.s.data;
    const known = DESIGNS.some((x) => x.name === d.design);
    const design = designOptions(d.design);
    if (!design.ok) this.ctx.report(['design'], design.message);
    for (const [k, v] of Object.entries(d.overrides)) {
      const r = designOptions(known ? d.design : 'genode', { [k]: v });
      if (!r.ok) this.ctx.report(['overrides', k], r.message);
    }
    if (d.machine.tlb !== undefined) {
      const t = parseTlbSpec(d.machine.tlb, archOf(d.machine.arch).pageSizesLog2);
      if (!t.ok) this.ctx.report(['machine', 'tlb'], t.message);
    }
    if (this.simulated && d.machine.kernel) this.ctx.report(['machine', 'kernel'], KERNEL_WITH_SIMULATOR);
  }

  /** Every behaviour's own parameters (after the components, whose threads they drive). */
  behaviours(): void {
    const driven = new Map<string, number>();
    const paged = new Map<string, number>();
    const limited: number[] = [];
    const line = (path: Path) => this.s.source.at(path).line;
    for (const b of this.list) {
      const at = (...rest: string[]): Path => [...b.path, ...rest];
      if (b.kind === 'on_demand') {
        const chunk = this.ctx.fixed(b.args.chunk, at('chunk'));
        if (chunk !== undefined && (!isPow2(chunk) || chunk < this.page)) {
          this.ctx.report(
            at('chunk'),
            `an on_demand chunk is a power of two of at least one page (${sizeName(this.page)}), got ${hex(chunk)}`,
          );
        }
        if (b.args.cpu !== undefined) this.ctx.cpu(b.args.cpu, at('cpu'));
        if (b.args.ram !== undefined) this.ram(b.args as OnDemandPaging, chunk, at, limited);
        if (b.args.ram !== undefined) limited.push(line(b.path));
        const old = paged.get(b.args.map);
        if (old !== undefined)
          this.ctx.report(at('map'), `map '${b.args.map}' is already paged by the on_demand at line ${old}`);
        else paged.set(b.args.map, line(b.path));
        continue;
      }
      if (b.kind === 'nic') {
        this.nic(b.args, b.path, line);
        continue;
      }
      const ref = b.args.thread;
      const owner = ref.slice(0, ref.indexOf('.'));
      if (ref.includes('.') && owner !== b.component) {
        this.ctx.report(
          at('thread'),
          `a behaviour drives a thread of its own component: '${ref}' belongs to ${owner}, not ${b.component}`,
        );
      }
      const old = driven.get(ref);
      if (old !== undefined)
        this.ctx.report(at('thread'), `thread '${ref}' already runs the behaviour at line ${old}`);
      else driven.set(ref, line(b.path));
      this.priority(ref);
      if (b.kind === 'synthetic') {
        const a = b.args as unknown as Record<string, unknown>;
        const bad = Object.entries(a).some(
          ([k, v]) => typeof v === 'string' && k !== 'thread' && k !== 'pattern' && !this.fixedOk(v, at(k)),
        );
        if (bad) continue;
        const w = createWorkload(workloadSpec(b.args));
        if (!w.ok) this.ctx.report(b.path, `invalid synthetic workload: ${w.message}`);
      }
    }
  }

  /** A nic behaviour: one per machine, options that build a NIC on it. */
  private nic(a: NicArgs, path: Path, line: (p: Path) => number): void {
    if (this.nicLine > 0) {
      this.ctx.report(path, `the machine has one NIC: there is a nic behaviour at line ${this.nicLine}`);
      return;
    }
    this.nicLine = line(path);
    if (a.balance_interval_us !== undefined && a.balance !== 'irqbalance')
      this.ctx.report([...path, 'balance_interval_us'], 'balance_interval_us needs balance: irqbalance');
    const machineCpus = this.s.data.machine.cpus;
    let cpusOk = true;
    const cpu = (c: number, at: Path) => {
      this.ctx.cpu(c, at);
      cpusOk &&= c < machineCpus;
    };
    const r = a.routing;
    if (Array.isArray(r)) {
      for (const [i, c] of r.entries()) cpu(c, [...path, 'routing', i]);
    } else if (r !== undefined && r !== 'spread') cpu(r.cpu, [...path, 'routing', 'cpu']);
    if (a.ring_pager_cpu !== undefined) cpu(a.ring_pager_cpu, [...path, 'ring_pager_cpu']);
    const chunk =
      a.ring_chunk === undefined ? undefined : this.ctx.fixed(a.ring_chunk, [...path, 'ring_chunk']);
    if (a.ring_chunk !== undefined && chunk === undefined) return;
    if (chunk !== undefined && (!isPow2(chunk) || chunk < this.page)) {
      this.ctx.report(
        [...path, 'ring_chunk'],
        `a ring chunk is a power of two of at least one page (${sizeName(this.page)}), got ${hex(chunk)}`,
      );
      return;
    }
    if (!cpusOk) return;
    const bad = nicTrafficProblem({ ...nicTraffic(a), ringChunk: chunk }, machineCpus, this.page);
    if (bad)
      this.ctx.report(bad.startsWith('routing') ? [...path, 'routing'] : path, `the NIC cannot run: ${bad}`);
  }

  /**
   * An on_demand handler with a RAM limit (issue 16): the limit holds a chunk, swap sizes are whole
   * blocks, one paged map per machine, and the pager is a dataspace manager.
   */
  private ram(
    a: OnDemandPaging,
    chunk: number | undefined,
    at: (...rest: string[]) => Path,
    before: number[],
  ): void {
    const ram = this.ctx.fixed(a.ram, at('ram'));
    if (ram !== undefined && chunk !== undefined && ram < chunk)
      this.ctx.report(at('ram'), `a RAM limit of ${hex(ram)} holds no chunk of ${sizeName(chunk)}`);
    (a.swap ?? []).forEach((p, i) => {
      const size = this.ctx.fixed(p.size, at('swap', String(i), 'size'));
      if (size !== undefined && (size < 4096 || size % 4096 !== 0))
        this.ctx.report(
          at('swap', String(i), 'size'),
          `a swap size is a positive multiple of 4K, got ${hex(size)}`,
        );
    });
    if (before.length > 0)
      this.ctx.report(
        at('ram'),
        `only one on_demand handler may have a RAM limit (the one at line ${before[0]} has)`,
      );
    const d = designOptions(this.s.data.design, this.s.data.overrides);
    if (d.ok && d.value.swap === 'kernel')
      this.ctx.report(
        at('ram'),
        'in a scenario the on_demand handler swaps (a dataspace manager); the kernel pager (swap=kernel) runs with replay and compare',
      );
    if (d.ok && d.value.faultHandling !== 'async')
      this.ctx.report(
        at('ram'),
        `a swapping dataspace manager takes fault signals: it needs faultHandling=async (the design has ${d.value.faultHandling})`,
      );
    if (a.misbehave !== undefined)
      this.ctx.report(at('misbehave'), 'a swapping dataspace manager (ram:) does not misbehave');
  }

  private fixedOk(v: string, path: Path): boolean {
    return this.ctx.fixed(v, path) !== undefined;
  }

  /** A thread the machine runs is admitted to the kernel's scheduler: its priority must fit. */
  private priority(ref: string): void {
    const dot = ref.indexOf('.');
    const ci = this.s.data.components.findIndex((c) => c.name === ref.slice(0, dot));
    const ti = this.s.data.components[ci]?.threads.findIndex((t) => t.name === ref.slice(dot + 1)) ?? -1;
    const p = ti < 0 ? undefined : this.s.data.components[ci]!.threads[ti]!.priority;
    if (p !== undefined && (p < 0 || p >= PRIORITY_LEVELS)) {
      this.ctx.report(
        ['components', ci, 'threads', ti, 'priority'],
        `the scheduler's priorities are 0..${PRIORITY_LEVELS - 1}, got ${p}`,
      );
    }
  }

  /** The maps on_demand handlers page exist when the simulation starts. */
  private handlerMaps(): void {
    for (const b of this.list) if (b.kind === 'on_demand') this.ctx.map(b.args.map, [...b.path, 'map']);
  }

  /** One of the simulator's steps. */
  step(step: SimStep, site: Site): void {
    const p = (...rest: (string | number)[]): Path => [...site.path, step.kind, ...rest];
    switch (step.kind) {
      case 'simulate': {
        if (site.depth > 0) {
          this.ctx.report(p(), 'simulate is a top-level step: the machine runs once, not inside repeat');
          return;
        }
        if (this.simulateLine > 0) {
          this.ctx.report(
            p(),
            `the machine runs once: there is a simulate step at line ${this.simulateLine}`,
          );
          return;
        }
        this.simulateLine = this.s.source.at(site.path).line;
        this.handlerMaps();
        return;
      }
      case 'irq':
        this.irq(step.args, p);
        return;
      case 'expect_metrics': {
        const ctx = { simulated: this.simulateLine > 0, irqRuns: this.irqRuns, nic: this.nicLine > 0 };
        const here = p();
        for (const [name, want] of Object.entries(step.args)) {
          const bad = metricProblem(name, ctx);
          if (bad) this.ctx.report(p(name), bad, this.s.source.keyAt(here, name));
          if (typeof want === 'number') continue;
          if (want.min === undefined && want.max === undefined)
            this.ctx.report(p(name), 'expected min, max or both');
          for (const k of ['min', 'max'] as const) {
            const b = want[k];
            if (typeof b !== 'string') continue;
            const why = metricProblem(b, ctx);
            if (why) this.ctx.report(p(name, k), why);
          }
          if (typeof want.min === 'number' && typeof want.max === 'number' && want.min > want.max)
            this.ctx.report(p(name), `min ${want.min} is above max ${want.max}`);
        }
        return;
      }
    }
  }

  private irq(a: Extract<SimStep, { kind: 'irq' }>['args'], p: (...rest: string[]) => Path): void {
    const design = a.delivery ?? this.irqDelivery;
    const name = a.name ?? design;
    if (this.irqRuns.has(name)) {
      this.ctx.report(
        a.name ? p('name') : p(),
        `IRQ run '${name}' is already defined: give each irq step its own name`,
      );
    }
    this.irqRuns.add(name);
    if (a.balance_interval_us !== undefined && a.balance !== 'irqbalance')
      this.ctx.report(p('balance_interval_us'), 'balance_interval_us needs balance: irqbalance');
    const cpus = a.cpus ?? this.s.data.machine.cpus;
    const sim = checkIrqOptions(irqSimOptions(a, design as 'direct', cpus));
    if (!sim.ok) this.ctx.report(p(), `the IRQ simulation cannot run: ${sim.message}`);
  }

  /** After the last step: the implicit simulation needs the handlers' maps too. */
  end(): void {
    if (this.simulated && this.simulateLine === 0 && this.list.length > 0) this.handlerMaps();
  }
}
