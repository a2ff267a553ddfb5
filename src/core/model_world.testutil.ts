/**
 * The worlds of the region-map model test (model.property.test.ts): the real Core and the naive
 * reference (reference.testutil.ts) side by side (`World`), and `apply`, which runs one random
 * operation on both and checks that they agree on its outcome (a failed operation changes
 * nothing). Kept apart from the test, which checks the invariants after every step.
 */
import { expect } from 'vitest';
import type { Thread } from '../kernel/thread.js';
import { unwrap } from '../util/result.js';
import { Core } from './core.js';
import type { Dataspace } from './dataspace.js';
import { type Op, PAGE } from './model_ops.testutil.js';
import type { PdSession } from './pd_session.js';
import { COSTS } from './quota.js';
import {
  attachWriteable,
  bruteForceSizeLog2,
  contains,
  detachAt,
  ownerOnlyOutcome,
  type RefDs,
  type RefMap,
  type RefRegion,
  roundedMapSize,
  walk,
} from './reference.testutil.js';
import type { RegionMap } from './region_map.js';
import type { SignalContext } from './signal.js';

/** Real and reference worlds side by side. */
export class World {
  readonly core = new Core({ arch: 'microblaze', ram: [{ base: 0x100000, size: 0x400000 }] });

  constructor(eager = false) {
    this.core.eagerMapping = eager;
    this.pds = [unwrap(this.core.createPd('init -> app')), unwrap(this.core.createPd('init -> handler'))];
    this.threads = [0, 1, 2].map((i) => unwrap(this.core.createThread(this.pds[0]!, `t${i}`)));
    this.addMap(this.pds[0]!.addressSpace, 0, true);
    this.addMap(this.pds[1]!.addressSpace, 1, true);
  }

  readonly pds: PdSession[];
  readonly threads: Thread[];
  readonly maps: RegionMap[] = [];
  readonly refMaps: RefMap[] = [];
  readonly dss: Dataspace[] = [];
  readonly refDss: RefDs[] = [];
  readonly sigs = new Map<RegionMap, SignalContext>();
  /** Reference thread state: queued at a map, dead, destroyed or ready. */
  readonly refThread: Array<'ready' | 'queued' | 'dead' | 'destroyed'> = ['ready', 'ready', 'ready'];

  addMap(m: RegionMap, owner: number, isAs = false, size = m.size): void {
    const ref: RefMap = {
      id: m.id,
      size,
      first: m.firstAddress,
      owner,
      regions: [],
      handler: false,
      faulters: [],
      destroyed: false,
      ds: null as unknown as RefDs,
      isAddressSpace: isAs,
    };
    ref.ds = {
      id: m.dataspace.id,
      kind: 'managed',
      bytes: size,
      phys: 0,
      owner,
      destroyed: false,
      sealed: false,
      map: ref,
      regions: new Set(),
    };
    this.maps.push(m);
    this.refMaps.push(ref);
    if (!isAs) {
      this.dss.push(m.dataspace);
      this.refDss.push(ref.ds);
    }
  }

  /** The quota each session should be charged, from the reference's live objects. */
  expectedQuota(owner: number): { ram: number; caps: number } {
    let ram = 0;
    let caps =
      COSTS.thread.caps * this.refThread.filter((s, i) => owner === 0 && s !== 'destroyed' && i < 3).length;
    for (const m of this.refMaps) {
      if (m.owner !== owner || m.destroyed) continue;
      ram += COSTS.regionMap.ram + m.regions.length * COSTS.region.ram;
      caps += COSTS.regionMap.caps;
    }
    for (const d of this.refDss) {
      if (d.owner !== owner || d.destroyed || d.kind !== 'ram') continue;
      ram += d.bytes;
      caps += COSTS.dataspace.caps;
    }
    // Signal contexts live on after their region map is destroyed: they are objects of their own.
    for (const s of this.sigs.values()) {
      if (!s.destroyed && s.owner === this.pds[owner]) {
        ram += COSTS.signalContext.ram;
        caps += COSTS.signalContext.caps;
      }
    }
    return { ram, caps };
  }

  /** A fingerprint of everything observable, to check that failed operations change nothing. */
  fingerprint(): string {
    const parts = [this.layoutFingerprint()];
    for (const d of this.dss) parts.push(`${d}`);
    parts.push(`${this.core.phys.available()}`, this.threads.map((t) => t.state).join(','));
    return parts.join('\n');
  }

  /** Regions, faulters, quotas and page tables: what a seal must leave alone. */
  layoutFingerprint(): string {
    const parts: string[] = [];
    for (const m of this.maps) {
      parts.push(`${m.id}:${m.destroyed}:${m.regions().map(String).join(';')}:${m.faulters().length}`);
    }
    for (const p of this.pds) parts.push(`${p.quota}`, p.pd.pageTable.mappings().map(String).join(';'));
    return parts.join('\n');
  }
}

export function apply(w: World, op: Op): void {
  const before = w.fingerprint();
  let failed = false;
  switch (op.t) {
    case 'map': {
      const bytes = op.pages * PAGE - op.short;
      const r = w.core.createRegionMap(w.pds[op.owner]!, bytes);
      // Quotas are far from exhausted here: any size is accepted and rounded up.
      expect(r.ok ? 'OK' : r.code).toBe('OK');
      if (!r.ok) break;
      const size = roundedMapSize(bytes, PAGE);
      expect([r.value.size, r.value.dataspace.size]).toEqual([size, size]);
      w.addMap(r.value, op.owner, false, size);
      break;
    }
    case 'ram': {
      const r = w.core.allocRam(w.pds[op.owner]!, op.pages * PAGE);
      if (!r.ok) {
        failed = true;
        break;
      }
      w.dss.push(r.value);
      w.refDss.push({
        id: r.value.id,
        kind: 'ram',
        bytes: r.value.size,
        phys: r.value.phys,
        owner: op.owner,
        destroyed: false,
        sealed: false,
        map: null,
        regions: new Set(),
      });
      break;
    }
    case 'attach': {
      const m = w.maps[op.map % w.maps.length]!;
      const rm = w.refMaps[op.map % w.maps.length]!;
      if (w.dss.length === 0) return;
      const ds = w.dss[op.ds % w.dss.length]!;
      const rd = w.refDss[op.ds % w.dss.length]!;
      const at = op.at === null ? undefined : op.at * PAGE;
      const r = m.attach(ds, {
        at,
        offset: op.off * PAGE,
        size: op.pages * PAGE,
        writeable: op.w,
        executable: op.x,
      });
      const expected = refAttachCode(rm, rd, at, op.off * PAGE, op.pages * PAGE);
      expect(r.ok ? 'OK' : r.code).toBe(
        expected === 'OK' || expected === 'PLACE' ? (r.ok ? 'OK' : 'REGION_CONFLICT') : expected,
      );
      if (!r.ok) {
        failed = true;
        break;
      }
      if (expected === 'PLACE') expect(lookupFree(rm, r.value.base, r.value.size)).toBe(true);
      const reg: RefRegion = {
        map: rm,
        base: r.value.base,
        size: r.value.size,
        ds: rd,
        offset: op.off * PAGE,
        w: attachWriteable(rd, op.w),
        x: op.x,
      };
      expect(r.value.writeable).toBe(reg.w);
      rm.regions.push(reg);
      rd.regions.add(reg);
      // Wake faulters covered by the new region.
      rm.faulters = rm.faulters.filter((f) => {
        const covered = f.address >= reg.base && f.address < reg.base + reg.size;
        if (covered) w.refThread[f.thread] = 'ready';
        return !covered;
      });
      break;
    }
    case 'detach': {
      const m = w.maps[op.map % w.maps.length]!;
      const rm = w.refMaps[op.map % w.maps.length]!;
      const addr = (op.page * PAGE) % m.size;
      const r = m.detach(addr);
      // A destroyed map refuses; elsewhere, where nothing is attached, detach does nothing and succeeds.
      expect(r.ok).toBe(!rm.destroyed);
      const reg = rm.destroyed ? null : detachAt(rm, addr);
      if (r.ok) expect(r.value?.base).toBe(reg?.base);
      if (!reg) failed = true;
      break;
    }
    case 'free':
    case 'seal': {
      if (w.dss.length === 0) return;
      const ds = w.dss[op.ds % w.dss.length]!;
      const rd = w.refDss[op.ds % w.dss.length]!;
      const actor = w.pds[op.actor]!;
      const expected = ownerOnlyOutcome(rd, op.actor, op.t);
      const layout = w.layoutFingerprint();
      const r = op.t === 'free' ? w.core.free(actor, ds) : w.core.seal(actor, ds);
      expect(r.ok ? r.value.kind : r.code).toBe(expected);
      if (expected !== 'done') failed = true;
      else if (op.t === 'free') refDestroy(w, rd);
      else {
        // Sealing changes only what later attaches may do: regions, mappings and quotas stay.
        rd.sealed = true;
        expect(ds.sealed).toBe(true);
        expect(w.layoutFingerprint()).toBe(layout);
      }
      break;
    }
    case 'handler': {
      const i = op.map % w.maps.length;
      const m = w.maps[i]!;
      if (m.destroyed) return;
      let s = w.sigs.get(m);
      if (!s) {
        s = unwrap(w.core.createSignalContext(w.pds[w.refMaps[i]!.owner]!, `h${m.id}`));
        w.sigs.set(m, s);
      }
      unwrap(w.core.setFaultHandler(m, op.on ? s : null));
      w.refMaps[i]!.handler = op.on;
      break;
    }
    case 'access': {
      // A thread killed by a segmentation fault is replaced, so accesses keep exercising the model.
      if (w.refThread[op.thread] === 'dead' || w.refThread[op.thread] === 'destroyed') respawn(w, op.thread);
      const t = w.threads[op.thread]!;
      // Half of the accesses aim inside an attached region of the address space.
      const regions = w.refMaps[0]!.regions;
      const target = op.inRegion && regions.length > 0 ? regions[op.page % regions.length]! : null;
      const va = target ? target.base + ((op.page * PAGE) % target.size) + op.byte : op.page * PAGE + op.byte;
      const r = w.core.access(t, va, op.type);
      const state = w.refThread[op.thread]!;
      expect(r.ok).toBe(state === 'ready');
      if (!r.ok) {
        failed = true;
        break;
      }
      const ref = walk(w.refMaps[0]!, va, op.type);
      const out = r.value;
      if (ref.kind === 'mapped') {
        expect(out.kind === 'hit' || out.kind === 'mapped').toBe(true);
        if (out.kind !== 'hit' && out.kind !== 'mapped') break;
        const m = out.mapping;
        expect(m.pa + (va - m.va)).toBe(ref.pa);
        expect([m.writeable, m.executable]).toEqual([ref.w && true, ref.x]);
        // Invariant 4: the size is the brute-force maximum of the rule.
        expect(m.sizeLog2).toBe(
          bruteForceSizeLog2(w.refMaps[0]!, va, ref.pa, w.core.policy.mapSizesLog2, PAGE),
        );
      } else if (ref.kind === 'too-deep') {
        expect(out.kind).toBe('error');
        w.refThread[op.thread] = 'dead';
      } else if (ref.map.handler) {
        expect(out.kind === 'reflected' && [out.map.id, out.address]).toEqual([ref.map.id, ref.address]);
        ref.map.faulters.push({
          thread: op.thread,
          type: op.type === 'read' ? 'READ' : op.type === 'write' ? 'WRITE' : 'EXEC',
          address: ref.address,
        });
        w.refThread[op.thread] = 'queued';
      } else {
        expect(out.kind).toBe('error');
        w.refThread[op.thread] = 'dead';
      }
      break;
    }
    case 'kill': {
      const t = w.threads[op.thread]!;
      w.core.destroyThread(t);
      for (const m of w.refMaps) m.faulters = m.faulters.filter((f) => f.thread !== op.thread);
      w.refThread[op.thread] = 'destroyed';
      break;
    }
  }
  if (failed) expect(w.fingerprint()).toBe(before);
}

function respawn(w: World, i: number): void {
  w.core.destroyThread(w.threads[i]!);
  w.threads[i] = unwrap(w.core.createThread(w.pds[0]!, `t${i}`));
  w.refThread[i] = 'ready';
}

/** The reference's verdict on an attach: an error code, OK for a fixed address, PLACE for auto placement. */
function refAttachCode(m: RefMap, d: RefDs, at: number | undefined, offset: number, size: number): string {
  if (m.destroyed) return 'INVALID_ARGUMENT';
  if (d.destroyed) return 'INVALID_DATASPACE';
  if (offset >= d.bytes) return 'REGION_CONFLICT';
  const bytes = size === 0 ? d.bytes - offset : size;
  if (bytes + offset > d.bytes) return 'REGION_CONFLICT';
  if (d.kind === 'managed' && contains(d.map!, m)) return 'INVALID_DATASPACE';
  if (at === undefined) return 'PLACE';
  if (at < m.first || at + bytes > m.size) return 'REGION_CONFLICT';
  return lookupFree(m, at, bytes) ? 'OK' : 'REGION_CONFLICT';
}

function lookupFree(m: RefMap, at: number, bytes: number): boolean {
  return m.regions.every((r) => at + bytes <= r.base || at >= r.base + r.size);
}

function refDestroy(w: World, d: RefDs): void {
  d.destroyed = true;
  for (const r of d.regions) r.ds = null; // reserved holes
  d.regions.clear();
  if (d.kind === 'managed') {
    const m = d.map!;
    for (const r of m.regions) r.ds?.regions.delete(r);
    m.regions = [];
    m.destroyed = true;
    for (const f of m.faulters) w.refThread[f.thread] = 'dead';
    m.faulters = [];
  }
}
