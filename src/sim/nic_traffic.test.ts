import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InterruptController } from '../hw/irq_controller.js';
import { unwrap } from '../util/result.js';
import { createWorkload } from '../workload/synthetic.js';
import { TASK } from './cpu.js';
import { designOptions } from './designs.js';
import type { DriverTask } from './driver_task.js';
import type { IrqPath } from './irq_path.js';
import { irqResult } from './irq_run.js';
import type { Machine } from './machine.js';
import { SAMPLE_CYCLES } from './machine_timeline.js';
import { addNicTraffic, type NicTraffic, ringBytes } from './nic_traffic.js';
import { buildTracedSystem, type TracedSystem } from './replay.js';
import { CPU_PID, Timeline, type TraceEvent } from './timeline.js';
import { checkTimeline } from './timeline_check.js';

const MS = 3_000_000;

/** A mixed run: one faulting program thread per CPU and a NIC whose driver has memory. */
interface MixedSpec {
  readonly cpus: number;
  readonly pagers: 'single' | 'per-cpu';
  readonly irqDelivery: 'direct' | 'core-thread';
  readonly allocator: 'global' | 'partitioned';
  readonly records: number;
  readonly seed: number;
  readonly nic: NicTraffic;
}

function build(s: MixedSpec, timeline?: Timeline): { sys: TracedSystem; irq: IrqPath } {
  const sources = Array.from({ length: s.cpus }, (_, i) =>
    unwrap(
      createWorkload({
        pattern: 'uniform',
        records: s.records,
        footprint: 2 ** 21,
        seed: s.seed + i,
        base: 2 ** 30 * (i + 1),
        instrPerAccess: 4,
      }),
    ),
  );
  const design = unwrap(
    designOptions('genode', { pagers: s.pagers, irqDelivery: s.irqDelivery, allocator: s.allocator }),
  );
  const sys = buildTracedSystem(sources, { cpus: s.cpus, design, chunk: 65536, timeline });
  const driver = unwrap(sys.machine.core.createPd('init -> nic driver', { ram: 2 ** 30, caps: 10_000 }));
  return { sys, irq: unwrap(addNicTraffic(sys.machine, driver, s.nic)) };
}

/**
 * Invariant 10 against a naive reference kept beside the controller: per vector, "delivered and
 * not unmasked since". A delivery of a vector in service, or to a CPU it is not routed to, is a
 * violation. Installed around every controller built while a test runs.
 */
const reference = { inService: new Map<InterruptController, Set<number>>(), violations: [] as string[] };
const proto = InterruptController.prototype;
const originals = { listen: proto.setDeliveryListener, unmask: proto.unmask };

beforeEach(() => {
  reference.inService.clear();
  reference.violations.length = 0;
  proto.setDeliveryListener = function (this: InterruptController, listener) {
    const served = new Set<number>();
    reference.inService.set(this, served);
    originals.listen.call(
      this,
      listener &&
        ((cpu, irq) => {
          if (served.has(irq)) reference.violations.push(`IRQ ${irq} delivered while in service`);
          const routed = unwrap(this.state(irq)).cpu;
          if (cpu !== routed)
            reference.violations.push(`IRQ ${irq} delivered to ${cpu}, routed to ${routed}`);
          served.add(irq);
          listener(cpu, irq);
        }),
    );
  };
  proto.unmask = function (this: InterruptController, irq) {
    reference.inService.get(this)?.delete(irq);
    return originals.unmask.call(this, irq);
  };
});

afterEach(() => {
  proto.setDeliveryListener = originals.listen;
  proto.unmask = originals.unmask;
});

/** Everything invariant 10 and conservation demand of a drained mixed run. */
function expectNothingLost(machine: Machine, irq: IrqPath, s: MixedSpec): void {
  expect(reference.violations).toEqual([]);
  const r = irqResult(machine, irq, { design: s.irqDelivery, cpus: s.cpus, ratePps: 1, durationCycles: 1 });
  expect(r.violations).toEqual({ deliveredWhileMasked: 0, misrouted: 0 });
  expect(r.packets.handled + r.packets.dropped).toBe(r.packets.arrived);
  expect(r.packets.queued).toBe(0);
  for (const i of r.interrupts) expect(i.delivered + i.coalesced).toBe(i.raised);
  expect(irq.drivers.map((d) => d.died)).toEqual(irq.drivers.map(() => null));
  // The program ran to its end next to the NIC, its faults served like the drivers'.
  expect(machine.errors).toEqual([]);
  for (const t of machine.threads) expect([t.done, t.records]).toEqual([true, s.records]);
}

/**
 * Runs the machine event by event up to `until`, checking after each event that no thread runs on
 * two CPUs at once and that each CPU runs only threads pinned to it (a migration must not leave the
 * step in progress running where the thread no longer is).
 */
function runChecked(m: Machine, until = Number.POSITIVE_INFINITY): void {
  const cpus = m.cpus;
  while (m.engine.nextTime <= until && m.engine.step()) {
    for (let i = 0; i < cpus.length; i++) {
      const c = cpus[i]!;
      if (c.mode !== TASK) continue;
      const t = c.runTask!;
      if (t.kernel.cpu !== c.id) throw new Error(`${c} runs ${t}, a thread of cpu ${t.kernel.cpu}`);
      for (let j = 0; j < i; j++)
        if (cpus[j]!.mode === TASK && cpus[j]!.runTask === t) throw new Error(`${t} runs on two CPUs`);
    }
  }
}

const isRunning = (m: Machine, d: DriverTask) => {
  const c = m.cpus[d.kernel.cpu]!;
  return c.mode === TASK && c.runTask === d;
};

describe('NIC traffic on the machine of a faulting program', () => {
  it('sizes the rings: descriptors page-rounded plus 2K buffers per slot, 2M-rounded in all', () => {
    expect(ringBytes(1, 256)).toBe(2 ** 21);
    expect(ringBytes(4, 256)).toBe(2 * 2 ** 21); // 4 × (4K + 512K)
    expect(ringBytes(8, 1024)).toBe(9 * 2 ** 21); // 8 × (16K + 2M)
  });

  it('rejects bad options before building anything, and a driver that cannot pay for its rings', () => {
    const sys = buildTracedSystem([], { cpus: 2 });
    const core = sys.machine.core;
    const poor = unwrap(core.createPd('init -> poor', { ram: 2 ** 20, caps: 100 }));
    const used = poor.quota.ramUsed;
    const nic = { ratePps: 1e6, durationCycles: MS };
    for (const [t, text] of [
      [{ ...nic, routing: [0, 5] }, 'routing[1] 5: expected a CPU 0..1'],
      [{ ...nic, queues: 3, routing: [0, 1] }, 'routing lists 2 CPU(s) for 3 queue(s)'],
      [{ ...nic, routing: { cpu: 2 } }, 'routing cpu 2: expected a CPU 0..1'],
      [{ ...nic, rings: 'managed', ringChunk: 3000 }, 'ring chunk 3000'],
      [{ ...nic, ringPagerCpu: 2 }, 'ring pager cpu 2'],
      [{ ...nic, ratePps: 0 }, 'ratePps 0'],
    ] as const) {
      expect(addNicTraffic(sys.machine, poor, t as NicTraffic)).toMatchObject({
        ok: false,
        code: 'INVALID_IRQ_SIM',
        message: expect.stringContaining(text),
      });
    }
    expect(poor.quota.ramUsed).toBe(used);
    expect(addNicTraffic(sys.machine, poor, { ...nic, rings: 'ram' })).toMatchObject({
      ok: false,
      code: 'OUT_OF_RAM',
    });
    const capless = unwrap(core.createPd('init -> capless', { ram: 2 ** 30, caps: 2 }));
    expect(addNicTraffic(sys.machine, capless, { ...nic, rings: 'none' })).toMatchObject({
      ok: false,
      code: 'OUT_OF_CAPS',
    });
    expect(sys.machine.irq).toBeNull();
  });

  it('invariant 10 holds on the one machine: routes change while handlers run, fault and wait (property)', () => {
    // How often the reroutes met each situation, over all runs: the property must exercise them.
    const met = { running: 0, blockedInFault: 0, inFlight: 0, coreThread: 0 };
    const scenario = fc
      .record({
        cpus: fc.integer({ min: 1, max: 4 }),
        queues: fc.integer({ min: 1, max: 6 }),
        pagers: fc.constantFrom('single' as const, 'per-cpu' as const),
        irqDelivery: fc.constantFrom('direct' as const, 'core-thread' as const),
        allocator: fc.constantFrom('global' as const, 'partitioned' as const),
        rings: fc.constantFrom('none' as const, 'ram' as const, 'managed' as const),
        ringSize: fc.integer({ min: 1, max: 64 }),
        ratePps: fc.integer({ min: 200_000, max: 8_000_000 }),
        seed: fc.integer({ min: 0, max: 1e6 }),
        cpu0: fc.boolean(),
        balance: fc.boolean(),
        reroutes: fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: MS / 2 }),
            pick: fc.nat(),
            cpu: fc.nat(),
            moveHandler: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
      })
      .map((x) => ({ ...x, reroutes: [...x.reroutes].sort((a, b) => a.at - b.at) }));
    fc.assert(
      fc.property(scenario, (x) => {
        const s: MixedSpec = {
          cpus: x.cpus,
          pagers: x.pagers,
          irqDelivery: x.irqDelivery,
          allocator: x.allocator,
          records: 3000,
          seed: x.seed,
          nic: {
            ratePps: x.ratePps,
            durationCycles: MS / 2,
            queues: x.queues,
            ringSize: x.ringSize,
            seed: x.seed,
            rings: x.rings,
            ringChunk: 4096,
            routing: x.cpu0 ? { cpu: 0 } : 'spread',
            balance: x.balance ? { intervalCycles: MS / 40 } : undefined,
          },
        };
        reference.violations.length = 0;
        const { sys, irq } = build(s);
        const m = sys.machine;
        const controller = irq.setup.controller;
        for (const r of x.reroutes) {
          runChecked(m, r.at);
          // Prefer a queue whose driver is in a fault, running, or has its IRQ in flight (in turns).
          const queues = irq.drivers.filter((d) => d.queue >= 0);
          const inService = (d: DriverTask) => unwrap(controller.state(d.handler.irq)).masked;
          const kinds = [
            queues.filter((d) => d.kernel.state === 'blocked-fault'),
            queues.filter((d) => isRunning(m, d)),
            queues.filter((d) => d.handler.started && !isRunning(m, d) && inService(d)),
          ];
          const first = r.pick % 3;
          const pool = [...kinds.slice(first), ...kinds.slice(0, first), queues].find((p) => p.length > 0)!;
          const d = pool[r.pick % pool.length]!;
          if (isRunning(m, d)) met.running++;
          else if (d.kernel.state === 'blocked-fault') met.blockedInFault++;
          else if (d.handler.started && inService(d)) {
            met.inFlight++;
            if (x.irqDelivery === 'core-thread') met.coreThread++;
          }
          unwrap(irq.reroute(d.queue, r.cpu % x.cpus, r.moveHandler));
        }
        runChecked(m);
        expectNothingLost(m, irq, s);
      }),
      { numRuns: 30 },
    );
    // The rarer situations get a test of their own below; these two come up in every sweep.
    expect(met.running).toBeGreaterThan(0);
    expect(met.inFlight).toBeGreaterThan(0);
  });

  it("a route changes while the driver waits in a fault on its managed ring, and while its IRQ waits at core's thread", () => {
    for (const irqDelivery of ['direct', 'core-thread'] as const) {
      const s: MixedSpec = {
        cpus: 3,
        pagers: 'single',
        irqDelivery,
        allocator: 'global',
        records: 3000,
        seed: 5,
        nic: {
          ratePps: 3e6,
          durationCycles: MS / 2,
          queues: 4,
          ringSize: 32,
          rings: 'managed',
          ringChunk: 4096,
        },
      };
      reference.violations.length = 0;
      const { sys, irq } = build(s);
      const m = sys.machine;
      const c = irq.setup.controller;
      const queues = irq.drivers.filter((d) => d.queue >= 0);
      let inFault = 0;
      let atCore = 0;
      // Step event by event; whenever a driver waits in a fault, or (core-thread) an IRQ was
      // delivered but its driver is not awake yet, move that queue to the next CPU.
      while (m.engine.pending > 0 && m.engine.now < MS / 2) {
        runChecked(m, m.engine.nextTime);
        const faulting = inFault < 20 ? queues.find((q) => q.kernel.state === 'blocked-fault') : undefined;
        const waiting =
          irqDelivery === 'core-thread' && atCore < 20
            ? queues.find(
                (q) =>
                  q.handler.started &&
                  q.kernel.state === 'waiting-signal' &&
                  unwrap(c.state(q.handler.irq)).masked,
              )
            : undefined;
        const d = faulting ?? waiting;
        if (d === undefined) continue;
        if (d === faulting) inFault++;
        else atCore++;
        unwrap(irq.reroute(d.queue, (d.kernel.cpu + 1) % s.cpus));
      }
      runChecked(m);
      expect(inFault).toBe(20);
      expect(atCore).toBe(irqDelivery === 'core-thread' ? 20 : 0);
      expect(irq.counters.migrations).toBe(inFault + atCore);
      expectNothingLost(m, irq, s);
    }
  });
});

describe('a mixed run (faulting program and NIC) on a timeline', () => {
  const spec = (irqDelivery: 'direct' | 'core-thread', seed = 7): MixedSpec => ({
    cpus: 2,
    pagers: 'single',
    irqDelivery,
    allocator: 'global',
    records: 20_000,
    seed,
    nic: { ratePps: 1e6, durationCycles: MS, queues: 2, seed, rings: 'ram' },
  });

  /** Runs and returns the run's figures and its timeline, both as JSON text. */
  function record(s: MixedSpec): { result: string; timeline: string; irq: IrqPath; m: Machine } {
    const tl = new Timeline(3000, { maxEvents: 200_000 });
    const { sys, irq } = build(s, tl);
    sys.machine.run();
    const m = sys.machine;
    const r = irqResult(m, irq, { design: s.irqDelivery, cpus: s.cpus, ratePps: 1e6, durationCycles: MS });
    const result = JSON.stringify({
      irq: r,
      faults: m.faultLatency.summary(),
      counters: m.counters,
      cpus: m.cpus.map((c) => [c.userCycles, c.kernelCycles, c.pagerCycles, c.handlerCycles, c.driverCycles]),
      threads: m.threads.map((t) => [t.records, t.faults, t.tlbMisses, t.finishedAt]),
    });
    return { result, timeline: JSON.stringify(tl.toJSON()), irq, m };
  }

  it('is deterministic: the same inputs give byte-identical figures and timeline; another seed does not', () => {
    for (const design of ['direct', 'core-thread'] as const) {
      const a = record(spec(design));
      const b = record(spec(design));
      expect(b.result).toBe(a.result);
      expect(b.timeline).toBe(a.timeline);
      const c = record(spec(design, 8));
      expect(c.result).not.toBe(a.result);
      expect(c.timeline).not.toBe(a.timeline);
    }
  });

  it('validates and shows the IRQ work: entries on CPU tracks, driver tracks, arrows raise → kernel → driver for a sample', () => {
    for (const design of ['direct', 'core-thread'] as const) {
      const { timeline, irq, m } = record(spec(design));
      const json = JSON.parse(timeline) as { traceEvents: TraceEvent[] };
      expect(checkTimeline(json)).toEqual([]);
      const ev = json.traceEvents;
      const name = (pid: number, tid?: number) =>
        (
          ev.find(
            (e) =>
              e.ph === 'M' &&
              e.pid === pid &&
              (tid === undefined ? e.name === 'process_name' : e.name === 'thread_name' && e.tid === tid),
          )?.args as { name: string } | undefined
        )?.name;
      const slices = ev.filter((e) => e.ph === 'X');
      // Interrupt entries on the CPU tracks; with core-thread also the IPIs to core and its IRQ thread.
      const onCpus = new Set(slices.filter((e) => e.pid === CPU_PID).map((e) => e.name));
      expect(onCpus).toContain('IRQ');
      if (design === 'core-thread') {
        expect(onCpus).toContain('IPI: IRQ to core');
        expect(onCpus).toContain('irq thread');
      }
      // Every driver thread has a track in the driver's PD with its runs.
      const driverPid = ev.find(
        (e) =>
          e.ph === 'M' &&
          e.name === 'process_name' &&
          (e.args as { name: string }).name.includes('nic driver'),
      )!.pid;
      const driverTracks = new Set(
        slices.filter((e) => e.pid === driverPid && e.name === 'running').map((e) => e.tid),
      );
      expect([...driverTracks].map((tid) => name(driverPid, tid)).sort()).toEqual(['rx0', 'rx1']);
      // Device tracks: one slice per sampled IRQ, from its raise to its driver's start.
      const devicePid = ev.find(
        (e) => e.ph === 'M' && e.name === 'process_name' && (e.args as { name: string }).name === 'devices',
      )!.pid;
      const sampled = slices.filter((e) => e.pid === devicePid);
      const delivered = irq.latency.count;
      expect(sampled.length).toBeGreaterThan(0);
      // A sample: at most one per IRQ per 100 µs of the run (plus the first).
      expect(sampled.length).toBeLessThanOrEqual(2 * (Math.ceil(m.engine.now / SAMPLE_CYCLES) + 1));
      expect(sampled.length).toBeLessThan(delivered / 4);
      // The arrows of the sample: each ends in a driver's run and passes an interrupt entry; some
      // start at the device (the entry came later than the raise).
      const flows = new Map<number, TraceEvent[]>();
      for (const e of slices) {
        const id = (e as { bind_id?: number }).bind_id;
        if (id !== undefined) flows.set(id, [...(flows.get(id) ?? []), e]);
      }
      // (Arrows of the drivers' page faults start at a page-fault entry.)
      const irqFlows = [...flows.values()]
        .map((f) => f.sort((a, b) => a.ts - b.ts))
        .filter((f) => f[0]!.pid === devicePid || f[0]!.name === 'IRQ');
      expect(irqFlows.length).toBeGreaterThan(sampled.length / 2);
      expect(irqFlows.length).toBeLessThanOrEqual(sampled.length);
      for (const f of irqFlows) {
        expect([f.at(-1)!.pid, f.at(-1)!.name]).toEqual([driverPid, 'running']);
        expect(f.some((e) => e.pid === CPU_PID && e.name === 'IRQ')).toBe(true);
        expect(f.every((e) => e.pid === CPU_PID || e.pid === devicePid || e === f.at(-1))).toBe(true);
      }
      const fromDevice = irqFlows.filter((f) => f[0]!.pid === devicePid);
      expect(fromDevice.length).toBeGreaterThan(0);
      for (const f of fromDevice) expect(f[1]!.name).toBe('IRQ');
      if (design === 'core-thread')
        expect(irqFlows.some((f) => f.some((e) => e.name === 'irq thread'))).toBe(true);
    }
  });
});
