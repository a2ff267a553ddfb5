/**
 * A pager entrypoint (Genode's `Pager_entrypoint`): a core thread that receives page-fault
 * messages and serves them one at a time, in arrival order. Serving a fault is core's lookup
 * through every region map walked and, when it resolves, the mapping's installation and the reply;
 * when it does not, the fault is reflected to the innermost map's handler (a signal; core never
 * waits) or reported.
 *
 * In the `sync-core-rpc` design (the strawman of seed 001) core instead calls the map's manager
 * (`resolve_fault`) and waits for the answer before it serves anything else: every fault queued
 * behind it waits too, and a manager that never answers stalls the entrypoint for good (or, with
 * an IPC timeout, the fault is lost).
 */
import type { CallOutcome, Port } from '../components/program.js';
import type { FaultingTask } from './machine_faults.js';
import type { MachineProgram } from './program_task.js';

/** What serving a fault led to. */
export type ServeOutcome =
  | { readonly kind: 'mapped' | 'reflected' | 'error' }
  /** sync-core-rpc: the map's manager must resolve it first; `address` in the map's coordinates. */
  | { readonly kind: 'manager'; readonly port: Port; readonly address: number };

/** What a pager entrypoint needs from the fault path. */
export interface PagerHost {
  /** Core's work to serve t's fault (a dry run of the lookup decides it). */
  serveCost(t: FaultingTask): number;
  /** Serves t's fault now (inside a core operation). */
  serve(t: FaultingTask): ServeOutcome;
  /** t's fault is given up: its message to the manager was lost or went unanswered. */
  lost(t: FaultingTask, why: string): void;
  /** The timeout of core's calls to managers (undefined: never). */
  readonly ipcTimeout: number | undefined;
}

/** The program of a pager entrypoint thread. */
export function* pagerEntrypoint(host: PagerHost): MachineProgram {
  for (;;) {
    const t = (yield { op: 'next-fault' }) as FaultingTask;
    let out = (yield { op: 'perform', run: () => host.serve(t), cycles: host.serveCost(t) }) as ServeOutcome;
    // sync-core-rpc: core depends on each manager answering, and serves nothing else meanwhile.
    // Nested managed dataspaces may need several managers in turn, one call each (their waits add
    // up); a manager that answers without resolving its level loses the fault.
    const asked = new Set<Port>();
    while (out.kind === 'manager') {
      if (asked.has(out.port)) {
        host.lost(t, `'${out.port.label}' answered without resolving the fault`);
        break;
      }
      asked.add(out.port);
      const r = (yield {
        op: 'call',
        port: out.port,
        msg: { address: out.address },
        timeout: host.ipcTimeout,
      }) as CallOutcome;
      if (!r.ok) {
        host.lost(t, r.message);
        break;
      }
      out = (yield { op: 'perform', run: () => host.serve(t), cycles: host.serveCost(t) }) as ServeOutcome;
    }
  }
}
