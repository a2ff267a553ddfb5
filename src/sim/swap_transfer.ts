/**
 * One page transfer of a paged system (`swap_system.ts`): a read or write request to the swap
 * provider that holds the page or to the file server, ended by the reply (in a kernel job on the
 * requester's CPU), the server's death or the timeout, whichever comes first, with the counters,
 * disk wait and timeline arrow it updates. Kept apart from `swap_system.ts`, which builds the
 * servers, installs the hooks and keeps the figures.
 */
import type { ServerCompletion } from '../components/block_server.js';
import type { PageSource, PageTarget } from '../kernel/paged_memory.js';
import type { IoCall, IoServerTask } from './io_server_task.js';
import type { SwapSystem } from './swap_system.js';

/** How a page transfer ended. */
export type TransferStatus = 'ok' | 'IO_ERROR' | 'DEAD' | 'TIMEOUT';

/** The result of a page transfer. */
export interface PageTransfer {
  readonly status: TransferStatus;
  /** A read's bytes (null: zeros). */
  readonly data: Uint8Array | null;
  readonly server: IoServerTask;
  /** When the request was sent. */
  readonly sentAt: number;
}

/**
 * Sends request `id`, one page transfer of `sys` from `cpu`, now (see `SwapSystem.transfer`);
 * returns the server it went to.
 */
export function sendPageTransfer(
  sys: SwapSystem,
  id: number,
  op: 'read' | 'write',
  cpu: number,
  where: PageSource | PageTarget,
  data: Uint8Array | null,
  flow: number,
  done: (t: PageTransfer) => void,
): IoServerTask {
  const m = sys.parts.machine;
  const server =
    where.kind === 'file'
      ? sys.fileServerTask()
      : sys.serverAt(where.kind === 'swap' ? where.slot.port : -1)!;
  const target =
    where.kind === 'file'
      ? { kind: 'file' as const, file: where.range.file, offset: where.offset }
      : { kind: 'swap' as const, block: (where as { slot: { block: number } }).slot.block };
  const sentAt = m.engine.now;
  let finished = false;
  let timer = -1;
  const fig = sys.figures.get(server)!;
  const finish = (status: TransferStatus, d: Uint8Array | null) => {
    if (finished) return;
    finished = true;
    // A timer still pending would move the clock to its deadline for nothing.
    if (timer >= 0) m.engine.cancel(timer);
    if (status === 'ok' && where.kind === 'swap') op === 'read' ? fig.ins++ : fig.outs++;
    if (status === 'ok' && where.kind === 'file')
      op === 'read' ? sys.counters.fileIns++ : sys.counters.fileOuts++;
    if (status === 'TIMEOUT') fig.timeouts++;
    sys.counters.diskWait += m.engine.now - sentAt;
    // The reply's kernel piece on the requester's CPU ends the arrow (a timeout has none).
    if (status !== 'TIMEOUT') sys.drawing?.end(flow, cpu, m.cpus[cpu]!.runStart, m.engine.now);
    done({ status, data: d, server, sentAt });
  };
  const call: IoCall = {
    req: { id, op, target, data },
    cpu,
    flow,
    replied: (c: ServerCompletion | null) => finish(c === null ? 'DEAD' : c.status, c?.data ?? null),
  };
  server.send(call, cpu);
  if (!finished && Number.isFinite(sys.timeout))
    timer = m.engine.at(sentAt + sys.timeout, () => {
      timer = -1;
      finish('TIMEOUT', null);
    });
  return server;
}
