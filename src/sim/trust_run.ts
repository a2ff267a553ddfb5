/**
 * The communication rights a design needs, read off a run (`faultline designs --trust`): a small
 * default workload runs under the design and its trust log says who called, signalled, mapped
 * into or sent page faults to whom. Nothing is typed in: a right appears only if the run used it.
 *
 * The workload: `app` (CPU 0) touches pages of its memory, a managed dataspace paged on demand by
 * `manager` (CPU 1), and pages of plain RAM of its own.
 */
import { OnDemandHandler } from '../components/on_demand_handler.js';
import { compute, type Program, touch } from '../components/program.js';
import { invariant, unwrap } from '../util/result.js';
import type { DesignOptions } from './designs.js';
import { Machine, PRIORITY } from './machine.js';
import type { TrustEdge } from './trust.js';

const MANAGED = 0x1000_0000;
const RAM = 0x2000_0000;
const PAGES = 8;
const CHUNK = 64 * 1024;

function* app(): Program {
  for (let i = 0; i < PAGES; i++) {
    yield* compute(10_000);
    yield* touch(MANAGED + i * CHUNK, 'write');
    yield* touch(RAM + i * 4096, 'write');
  }
}

/** The rights a run of the default workload under `design` used, first use first. */
export function trustOfDesign(design: DesignOptions): TrustEdge[] {
  const m = new Machine({ cpus: 2, design });
  const core = m.core;
  const client = unwrap(core.createPd('app', { ram: 2 ** 30, caps: 10_000 }));
  const manager = unwrap(core.createPd('manager', { ram: 2 ** 30, caps: 10_000 }));
  const map = unwrap(core.createRegionMap(manager, PAGES * CHUNK));
  unwrap(client.addressSpace.attach(map.dataspace, { at: MANAGED, writeable: true }));
  const ram = unwrap(core.allocRam(client, PAGES * 4096));
  unwrap(client.addressSpace.attach(ram, { at: RAM, writeable: true }));
  const ctx = unwrap(core.createSignalContext(manager, 'faults'));
  unwrap(core.setFaultHandler(map, ctx));
  m.addHandler(manager, 'manager', 1, new OnDemandHandler(core, manager, map, { chunk: CHUNK, cpu: 1 }), ctx);
  const t = m.programs.addProgram(client, 'main', 0, app(), PRIORITY.user);
  m.run();
  invariant(t.finished, () => `the trust workload did not finish: ${m.errors.join('; ')}`);
  return m.programs.trust.list();
}
