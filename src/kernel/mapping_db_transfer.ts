/**
 * Applying a map item to the mapping database: what the kernel does when an IPC reply carries a
 * map item into a receive window (issue 15, `local-rm`: a dataspace manager answering the region
 * mapper, or a pager answering a fault).
 *
 * As in Fiasco, the reconciled range (flexpage.ts) is walked over the sender's mappings: each is
 * passed on in the largest page size that fits it, the range and both sides' alignment, so a 2M
 * mapping sent into a 4K window becomes one 4K mapping and 4K mappings sent as one 2M flexpage
 * stay 4K pieces; parts the sender has not mapped are skipped. A grant moves a mapping only when
 * the piece is the whole mapping, and is demoted to a map otherwise. Unlike Fiasco, which stops at
 * the first piece that fails and keeps the earlier ones, the whole item is checked first (rights,
 * overmapping an ancestor, kernel memory for every new node), so a failed transfer changes nothing.
 */
import { hex, sizeName } from '../util/hex.js';
import { err, invariant, ok, type Result } from '../util/result.js';
import { type Flexpage, type MapItem, MemRights, reconcile } from './flexpage.js';
import type { MappingDb, MdbErrorCode } from './mapping_db.js';
import { MdbChanges, type MdbMapping, type SpaceId } from './mapping_db_node.js';

/** Why a map item could not be applied (nothing changed). */
export type TransferErrorCode = MdbErrorCode | 'OVERLAPPING_TRANSFER';

/** One mapping a transfer will make. */
export interface TransferPiece {
  /** The sender's mapping it comes from. */
  readonly source: MdbMapping;
  readonly fromVa: number;
  readonly toVa: number;
  readonly sizeLog2: number;
  /** Moves `source` instead of deriving from it. */
  readonly grant: boolean;
}

/**
 * The pieces a map item becomes when sent from `from` into `to`'s receive window, in sender
 * address order; empty when the sender maps nothing there.
 */
export function planTransfer(
  mdb: MappingDb,
  from: SpaceId,
  item: MapItem,
  window: Flexpage,
): Result<TransferPiece[], 'SIZE_UNSUPPORTED'> {
  const t = reconcile(item, window);
  const n = 2 ** t.sizeLog2;
  const sizes = mdb.pageSizesLog2;
  const pieces: TransferPiece[] = [];
  for (const s of mdb.overlapping(from, t.sendBase, n)) {
    const hi = Math.min(s.va + 2 ** s.sizeLog2, t.sendBase + n);
    for (let a = Math.max(s.va, t.sendBase); a < hi; ) {
      const r = t.receiveBase + (a - t.sendBase);
      let k = -1;
      for (const z of sizes) {
        const size = 2 ** z;
        if (z <= s.sizeLog2 && a % size === 0 && r % size === 0 && a + size <= hi) k = z;
      }
      if (k < 0)
        return err(
          'SIZE_UNSUPPORTED',
          `${item} cannot be sent in pages of 2^{${sizes.join(', ')}} bytes: ${hex(a)} -> ${hex(r)} fits none`,
        );
      pieces.push({ source: s, fromVa: a, toVa: r, sizeLog2: k, grant: t.grant && k === s.sizeLog2 });
      a += 2 ** k;
    }
  }
  return ok(pieces);
}

/**
 * Applies a map item sent by `from` to the receive window `window` of `to`: checks every piece,
 * then maps or grants each. Returns every change, for page tables and TLBs.
 */
export function transferMapItem(
  mdb: MappingDb,
  from: SpaceId,
  item: MapItem,
  to: SpaceId,
  window: Flexpage,
): Result<MdbChanges, TransferErrorCode> {
  const t = reconcile(item, window);
  const n = 2 ** t.sizeLog2;
  if (from === to && t.sendBase < t.receiveBase + n && t.receiveBase < t.sendBase + n)
    return err(
      'OVERLAPPING_TRANSFER',
      `${item} would send ${hex(t.sendBase)}+${sizeName(n)} onto ${hex(t.receiveBase)} in the same space`,
    );
  const plan = planTransfer(mdb, from, item, window);
  if (!plan.ok) return plan;
  const over = mdb.overlapping(to, t.receiveBase, n);
  let nodes = 0;
  let checked: MdbMapping | null = null;
  for (const p of plan.value) {
    const s = p.source;
    if (s !== checked) {
      if ((t.rights & s.rights & MemRights.R) === 0)
        return err('NO_RIGHTS', `${item} with rights ${t.rights} leaves no read right on ${s}`);
      const anc = over.find((o) => mdb.isDerivedFrom(s, o));
      if (anc)
        return err('ONTO_ANCESTOR', `${item} into space ${to} would overmap ${anc}, which ${s} derives from`);
      checked = s;
    }
    if (p.grant ? from !== to : !isUpgrade(mdb, p, to)) nodes++;
  }
  const pay = mdb.canPay(to, nodes);
  if (!pay.ok) return pay;
  const changes = new MdbChanges();
  for (const p of plan.value) {
    const r = p.grant
      ? mdb.grant(from, p.fromVa, to, p.toVa, p.sizeLog2, t.rights)
      : mdb.map(from, p.fromVa, to, p.toVa, p.sizeLog2, t.rights);
    invariant(
      r.ok,
      () => `${item}: piece ${hex(p.fromVa)} -> ${hex(p.toVa)} failed after its checks: ${r.ok || r.message}`,
    );
    changes.append(r.value);
  }
  return ok(changes);
}

/** True when `to` already holds exactly this piece from the same parent (a map then only adds rights). */
function isUpgrade(mdb: MappingDb, p: TransferPiece, to: SpaceId): boolean {
  const e = mdb.lookup(to, p.toVa);
  return (
    e !== undefined &&
    e.va === p.toVa &&
    e.sizeLog2 === p.sizeLog2 &&
    mdb.parentOf(e) === p.source &&
    e.pa === p.source.pa + (p.fromVa - p.source.va)
  );
}
