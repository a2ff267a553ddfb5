/**
 * IRQ figures (seed 000): simulated interrupts per second through the whole path on the one
 * machine (NIC raise, controller, kernel job, driver thread steps under the scheduler, ack and
 * unmask), measured in the main thread's CPU time (see `cpuRate`), and the model's own packets/s
 * and p99 latency at 16 CPUs for both delivery designs, to follow them over time.
 */
import { type IrqDelivery, type IrqSimOptions, runIrqSim } from '../sim/irq_run.js';
import { unwrap } from '../util/result.js';
import { cpuRate, type Recorder } from './harness.js';

/** A light load over many queues: nearly every packet is one interrupt (no batching). */
function options(design: IrqDelivery): IrqSimOptions {
  return { design, cpus: 16, ratePps: 2_000_000, durationCycles: 150_000_000, seed: 7 };
}

function interruptsOf(o: IrqSimOptions): number {
  return unwrap(runIrqSim(o)).interrupts.reduce((n, i) => n + i.delivered, 0);
}

export async function irqBenchmarks(r: Recorder): Promise<void> {
  for (const design of ['direct', 'core-thread'] as const) {
    const o = options(design);
    const irqs = interruptsOf(o); // deterministic: every run delivers the same number
    const rate = cpuRate(irqs, () => {
      unwrap(runIrqSim(o));
    });
    const how = `${irqs} per run, ${rate.runs} runs, per second of main-thread CPU (wall: ${(rate.perWallSecond / 1e6).toFixed(2)} M/s)`;
    r.record(
      `irq.sim.${design}`,
      rate.perCpuSecond,
      'interrupts/s',
      design === 'direct' ? `target >= 1,500,000; ${how}` : how,
    );
  }
  for (const design of ['direct', 'core-thread'] as const) {
    const m = unwrap(runIrqSim({ design, cpus: 16, ratePps: 20_000_000, durationCycles: 15_000_000 }));
    r.record(`irq.model.${design}.16cpu.pps`, m.packetsPerSecond, 'packets/s', '20 Mpps offered');
    r.record(`irq.model.${design}.16cpu.p99`, m.irqLatency.p99, 'µs');
  }
}
