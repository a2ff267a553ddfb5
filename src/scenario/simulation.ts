/**
 * Simulated scenarios: a scenario that declares behaviours, a design other than genode, design
 * overrides or a `simulate` step runs on the simulator's `Machine` (DESIGN.md §3) instead of a
 * bare `Core`. Its steps act on the machine's core; threads with a `synthetic` or `trace_player`
 * behaviour become the machine's user threads from the start; the `simulate` step (implicitly
 * after the last step when absent) starts one handler thread per `on_demand` behaviour and runs
 * the machine until every thread is done or blocked for good.
 *
 * Pure like the rest of the scenario layer: trace files are read by the caller (`faultline run`
 * reads them relative to the scenario file) and handed over as record batches.
 */
import { parseMisbehaviour } from '../components/misbehaviour.js';
import { OnDemandHandler } from '../components/on_demand_handler.js';
import type { SwapManager } from '../components/swap_manager.js';
import type { PdSession } from '../core/pd_session.js';
import { COSTS } from '../core/quota.js';
import { arch as archOf, type TlbLevelSpec } from '../hw/arch.js';
import { formatTlbSpec, parseTlbSpec } from '../hw/tlb_spec.js';
import { type CostModel, NOMINAL_CLOCK_HZ } from '../sim/cost.js';
import { type DesignOptions, designOptions } from '../sim/designs.js';
import { Machine } from '../sim/machine.js';
import type { AccessSource, SimThread } from '../sim/sim_thread.js';
import type { SwapSystem } from '../sim/swap_system.js';
import type { Timeline } from '../sim/timeline.js';
import type { TraceBatch } from '../sim/trace_batch.js';
import { sizeName } from '../util/hex.js';
import { err, type Ok, ok, type Result, unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import type { LoadedScenario } from './load.js';
import type { MetricValues } from './metrics.js';
import { CannotProceed, type Names } from './names.js';
import { pagingMetrics, type ScenarioPaging, startPaging } from './paging.js';
import { type Problem, type ScenarioError, scenarioError } from './problem.js';
import { nicSummary, type StartedNic, startedNicMetrics, startNic } from './sim_nic.js';
import { behaviours, RAM_BASE, workloadSpec } from './sim_spec.js';

/** What a run needs besides the scenario file. */
export interface ScenarioInputs {
  /** Records of each trace_player's trace, by its `trace` text as written in the scenario. */
  readonly traces?: ReadonlyMap<string, readonly TraceBatch[]>;
  /** Cost overrides on top of the scenario's `costs` (`faultline run --cost`), already validated. */
  readonly costs?: Readonly<Record<string, number>>;
  /** Where the simulated machine records its run (`faultline run --timeline`), if anywhere. */
  readonly timeline?: Timeline;
}

/** Replays record batches held in memory (a trace file the caller read). */
class BatchSource implements AccessSource {
  private next = 0;
  constructor(private readonly batches: readonly TraceBatch[]) {}
  take(): TraceBatch | null {
    return this.next < this.batches.length ? this.batches[this.next++]! : null;
  }
  fill(): number {
    return 0;
  }
}

/** An on_demand handler started by the simulation. */
interface Handler {
  readonly name: string;
  readonly map: string;
  readonly cpu: number;
  readonly chunk: number;
  readonly handler: OnDemandHandler | SwapManager;
}

/** The machine of a simulated scenario and what runs on it. */
export class Simulation {
  /** User threads with a behaviour, by `component.thread`, with what they run. */
  readonly players = new Map<string, { readonly thread: SimThread; readonly what: string }>();
  private readonly handlers: Handler[] = [];
  /** The NIC of a nic behaviour, once the simulation started it. */
  private nic: StartedNic | null = null;
  /** The paged memory of the on_demand handler with a RAM limit, if one has. */
  private swap: SwapSystem | null = null;
  /** Core events during the run, by type. */
  readonly events = new Map<string, number>();
  ran = false;

  private constructor(
    readonly machine: Machine,
    readonly design: string,
    readonly options: DesignOptions,
    private readonly tlb: readonly TlbLevelSpec[],
    private readonly sources: ReadonlyMap<string, () => Result<{ source: AccessSource; what: string }>>,
  ) {}

  /**
   * Builds the machine. The second pass validated design, overrides and TLB; the trace records
   * must be among the inputs.
   */
  static create(s: LoadedScenario, costs: CostModel, inputs: ScenarioInputs): Ok<Simulation> | ScenarioError {
    const d = s.data;
    const problems: Problem[] = [];
    const design = designOptions(d.design, d.overrides);
    if (!design.ok) problems.push(s.source.problem(['design'], design.message));
    const m = d.machine;
    const arch = archOf(m.arch);
    let tlb: readonly TlbLevelSpec[] = arch.tlb;
    if (m.tlb !== undefined) {
      const t = parseTlbSpec(m.tlb, arch.pageSizesLog2);
      if (t.ok) tlb = t.value;
      else problems.push(s.source.problem(['machine', 'tlb'], t.message));
    }
    const sources = new Map<string, () => Result<{ source: AccessSource; what: string }>>();
    for (const b of behaviours(d)) {
      if (b.kind === 'synthetic') {
        sources.set(b.args.thread, () => {
          const w = createWorkload(workloadSpec(b.args));
          return w.ok
            ? ok({ source: w.value, what: `synthetic ${w.value.name}, ${w.value.total} records` })
            : w;
        });
      } else if (b.kind === 'trace_player') {
        const batches = inputs.traces?.get(b.args.trace);
        if (!batches) {
          problems.push(
            s.source.problem(
              [...b.path, 'trace'],
              `trace '${b.args.trace}' was not read: the caller supplies trace records (faultline run reads the file relative to the scenario)`,
            ),
          );
          continue;
        }
        const records = batches.reduce((n, x) => n + x.length, 0);
        sources.set(b.args.thread, () =>
          ok({ source: new BatchSource(batches), what: `trace ${b.args.trace}, ${records} records` }),
        );
      }
    }
    if (problems.length > 0 || !design.ok) return scenarioError(problems);
    const machine = new Machine({
      arch: m.arch,
      cpus: m.cpus,
      ram: [{ base: RAM_BASE, size: m.ram as number }],
      design: design.value,
      costs,
      tlb,
      timeline: inputs.timeline,
    });
    return ok(new Simulation(machine, d.design, design.value, tlb, sources));
  }

  /** One line describing the simulator's configuration. */
  describe(costs: readonly string[]): string {
    const o = Object.entries(this.options)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const tlb = formatTlbSpec(this.tlb, this.machine.arch.pageSizesLog2);
    return `simulator: design ${this.design} (${o}); TLB ${tlb}; costs ${costs.length ? costs.join(', ') : 'default'}`;
  }

  /** True when a behaviour drives this thread (`component.thread`). */
  drives(ref: string): boolean {
    return this.sources.has(ref);
  }

  /** Adds the machine thread of a player behaviour; errs when its source or quota fails. */
  addPlayer(ref: string, session: PdSession, name: string, cpu: number, priority: number): Result<SimThread> {
    const src = this.sources.get(ref)!();
    if (!src.ok) return src;
    const q = session.quota.check(COSTS.thread.ram, COSTS.thread.caps, `thread '${name}'`);
    if (!q.ok) return q;
    const t = this.machine.addThread(session, name, cpu, src.value.source, priority);
    this.players.set(ref, { thread: t, what: src.value.what });
    return ok(t);
  }

  /** Starts every on_demand handler and the NIC (at the simulate step); returns the log lines. */
  startHandlers(s: LoadedScenario, names: Names): string[] {
    const core = this.machine.core;
    const lines: string[] = [];
    for (const b of behaviours(s.data)) {
      if (b.kind !== 'on_demand') continue;
      const session = names.component(b.component);
      const map = names.map(b.args.map);
      const cpu = b.args.cpu ?? 0;
      const name = `${b.args.map} handler`;
      const why = (r: Result<unknown>) => {
        if (!r.ok)
          throw new CannotProceed(`cannot start the on_demand handler of ${b.args.map}: ${r.message}`);
      };
      why(
        map.destroyed
          ? err('DESTROYED', `region map #${map.id} was destroyed`)
          : session.destroyed
            ? err('DESTROYED', `component ${b.component} was destroyed`)
            : session.quota.check(
                COSTS.thread.ram + COSTS.signalContext.ram,
                COSTS.thread.caps + COSTS.signalContext.caps,
                `handler thread '${name}' and its signal context`,
              ),
      );
      const ctx = core.createSignalContext(session, `${b.args.map} on_demand`);
      why(ctx);
      if (!ctx.ok) continue;
      why(core.setFaultHandler(map, ctx.value));
      const chunk = b.args.chunk as number;
      const misbehave =
        b.args.misbehave === undefined ? undefined : unwrap(parseMisbehaviour(b.args.misbehave));
      // faults-itself: the handler uses the memory it manages, attached in its own address space.
      let selfAttach: number | undefined;
      if (misbehave?.kind === 'faults-itself') {
        const r = session.addressSpace.attach(map.dataspace, { writeable: true });
        why(r);
        if (r.ok) selfAttach = r.value.base - r.value.offset;
      }
      let handler: OnDemandHandler | SwapManager;
      if (b.args.ram !== undefined) {
        // A RAM limit makes the handler a swapping dataspace manager (which does not misbehave).
        if (misbehave) why(err('INVALID_SWAP', 'a swapping manager (ram:) cannot also misbehave'));
        const p = startPaging(this.machine, session, map, chunk, cpu, b.args as unknown as ScenarioPaging);
        why(p);
        if (!p.ok) continue;
        handler = p.value.handler;
        this.swap = p.value.swap;
        lines.push(`on_demand: ${p.value.line}`);
      } else handler = new OnDemandHandler(core, session, map, { chunk, cpu, misbehave, selfAttach });
      this.machine.addHandler(session, name, cpu, handler, ctx.value);
      this.handlers.push({ name: `${b.component}.'${name}'`, map: b.args.map, cpu, chunk, handler });
      lines.push(
        `on_demand: thread '${name}' of ${b.component} on cpu ${cpu} pages ${names.mapName(map)} in ${sizeName(chunk)} chunks${b.args.misbehave ? ` and misbehaves: ${b.args.misbehave}` : ''}`,
      );
    }
    for (const b of behaviours(s.data)) {
      if (b.kind !== 'nic') continue;
      const started = startNic(this.machine, b.component, b.args, names);
      this.nic = started.nic;
      lines.push(started.line);
    }
    return lines;
  }

  /** Runs the machine to the end. */
  run(): void {
    this.ran = true;
    this.machine.run();
  }

  /** Every machine metric now (mapping counts over the components' page tables). */
  metrics(components: Iterable<PdSession>): Record<string, number> {
    const m = this.machine;
    const threads = m.threads;
    const sum = (f: (t: SimThread) => number) => threads.reduce((a, t) => a + f(t), 0);
    const cpuSum = (f: (c: Machine['cpus'][number]) => number) => m.cpus.reduce((a, c) => a + f(c), 0);
    const hits = sum((t) => t.tlbHits);
    const misses = sum((t) => t.tlbMisses);
    const lat = m.faultLatency;
    const c = m.counters;
    const out: Record<string, number> = {
      records: sum((t) => t.records),
      translations: sum((t) => t.translations),
      'tlb.hits': hits,
      'tlb.misses': misses,
      'tlb.hitRate': hits + misses === 0 ? 0 : Number((hits / (hits + misses)).toFixed(6)),
      walks: sum((t) => t.walks),
      'faults.resolved': c.faultsResolved,
      'faults.reflected': c.faultsReflected,
      'faults.errors': c.errors,
      'faults.lost': c.faultsLost,
      'faults.latency.p50': lat.count ? lat.percentile(0.5) : 0,
      'faults.latency.p99': lat.count ? lat.percentile(0.99) : 0,
      'faults.latency.max': lat.count ? lat.max : 0,
      'faults.latency.count': lat.count,
      'pages.touched': sum((t) => t.pages.size),
      // Arrivals fall between cycles (exponential gaps): the run ends on a whole cycle.
      cycles: Math.round(m.elapsed),
      'cyclesBy.user': cpuSum((x) => x.userCycles),
      'cyclesBy.kernel': cpuSum((x) => x.kernelCycles),
      'cyclesBy.pager': cpuSum((x) => x.pagerCycles),
      'cyclesBy.handler': cpuSum((x) => x.handlerCycles),
      shootdowns: c.shootdowns,
      'crossCpu.messages': c.crossCpu,
      'lock.waitCycles': c.lockWait,
      'lock.contended': c.lockContended,
      steals: c.steals,
      signals: c.signals,
      chunks: this.handlers.reduce((a, h) => a + h.handler.chunks, 0),
      ...(this.nic ? startedNicMetrics(m, this.nic) : {}),
      ...pagingMetrics(this.swap),
    };
    const sizes = new Map<number, number>();
    for (const s of components) {
      for (const [size, n] of s.pd.pageTable.countBySize()) sizes.set(size, (sizes.get(size) ?? 0) + n);
    }
    for (const [size, n] of [...sizes].sort((a, b) => a[0] - b[0]))
      if (n > 0) out[`mappings.${sizeName(size)}`] = n;
    return out;
  }

  /** The log of a finished run: per thread, per handler, then the totals. */
  summary(v: MetricValues): { text: string; lines: string[] } {
    const us = (v.cycles! * 1e6) / NOMINAL_CLOCK_HZ;
    const text = `${v.records} record(s) in ${v.cycles} cycles (${us.toFixed(1)} µs at 3 GHz)`;
    const lines: string[] = [];
    for (const [ref, { thread: t, what }] of this.players) {
      lines.push(
        `${ref} (cpu ${t.kernel.cpu}, ${what}): ${t.records} records, ${t.translations} translations, TLB ${t.tlbHits} hits / ${t.tlbMisses} misses, ${t.faults} fault(s), ${t.pages.size} page(s) touched, ${t.done ? 'done' : t.kernel.state}`,
      );
    }
    for (const h of this.handlers)
      lines.push(
        `${h.name} (cpu ${h.cpu}): ${h.handler.chunks} chunk(s) of ${sizeName(h.chunk)} attached to ${h.map}`,
      );
    lines.push(
      `faults: ${v['faults.resolved']} resolved, ${v['faults.reflected']} reflected, ${v['faults.errors']} error(s); latency p50 ${v['faults.latency.p50']}, p99 ${v['faults.latency.p99']} cycles`,
    );
    const maps = Object.keys(v).filter((k) => k.startsWith('mappings.'));
    lines.push(
      `mappings: ${maps.length ? maps.map((k) => `${v[k]} x ${k.slice(9)}`).join(', ') : 'none'}; TLB hit rate ${v['tlb.hitRate']}`,
    );
    lines.push(
      `cross-CPU messages ${v['crossCpu.messages']}, shootdowns ${v.shootdowns}, lock wait ${v['lock.waitCycles']} cycles (${v['lock.contended']} contended), steals ${v.steals}, signals ${v.signals}`,
    );
    if (this.nic) lines.push(...nicSummary(v, this.nic));
    if (this.swap)
      lines.push(
        `paging: ${v['faults.major']} major / ${v['faults.minor']} minor fault(s), ${v['swap.ins']} swap-in(s), ${v['swap.outs']} swap-out(s), ${v['swap.evictions']} eviction(s), ${v['swap.diskWaitCycles']} cycles waiting for disk`,
      );
    lines.push(`core events: ${[...this.events].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    for (const e of this.machine.errors.slice(0, 5)) lines.push(`error: ${e}`);
    if (this.machine.errors.length > 5) lines.push(`… ${this.machine.errors.length - 5} more error(s)`);
    return { text, lines };
  }
}
