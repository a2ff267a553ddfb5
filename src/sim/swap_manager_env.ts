/**
 * What a swapping Genode dataspace manager (`components/swap_manager.ts`) gets from the machine:
 * page transfers to the providers with their costs, TLB flushes for cleared accessed bits, thread
 * termination, and the classification of the faults it served (their latency is recorded when
 * core's reply reaches the thread).
 */
import type { PageWait, SwapManagerEnv } from '../components/swap_manager.js';
import type { Thread } from '../kernel/thread.js';
import { failureText } from './swap_figures.js';
import type { SwapSystem } from './swap_system.js';

/** Genode's design: the environment of a swapping dataspace manager whose thread runs on `cpu`. */
export function managerEnv(sys: SwapSystem, cpu: number): SwapManagerEnv {
  const m = sys.parts.machine;
  const taskOf = (th: Thread) => m.threads.find((t) => t.kernel === th);
  m.faults.onReplied = (t, latency) => {
    const s = sys.served.get(t);
    if (!s) return;
    sys.served.delete(t);
    sys.faultDone(t, latency, s.major, s.server);
  };
  return {
    mem: sys.mem,
    sendCost: (op) => sys.sendCost(op),
    send: (op, where, data) => {
      const flow = sys.drawing?.start(cpu, m.cpus[cpu]!.runStart, m.engine.now) ?? 0;
      const wait: PageWait = {
        done: false,
        waiter: null,
        failure: null,
        data: null,
        receiveCycles: 0,
        server: '',
      };
      const server = sys.transfer(op, cpu, where, data, flow, (t) => {
        wait.failure = t.status === 'ok' ? null : failureText(t, sys.timeout);
        wait.data = t.data;
        wait.receiveCycles = t.status === 'ok' ? sys.receiveCost(op, t.server, cpu) : 0;
        wait.done = true;
        wait.waiter?.();
      });
      (wait as { server: string }).server = server.server.name;
      return wait;
    },
    flushCleared: (units) => {
      let cost = 0;
      for (const u of units) cost += sys.flushTlb(cpu, u * sys.mem.unitBytes, sys.mem.unitBytes);
      return cost;
    },
    terminate: (th, text) => {
      const t = taskOf(th);
      if (!t) return;
      sys.parts.memory.removeFaulter(th);
      sys.terminate(t, cpu, `thread '${th.name}' terminated: ${text}`);
    },
    served: (threads, major, name) => {
      const server = name === null ? null : (sys.servers.find((x) => x.server.name === name) ?? null);
      for (const th of threads) {
        const t = taskOf(th);
        if (t) sys.served.set(t, { major, server });
      }
    },
  };
}
