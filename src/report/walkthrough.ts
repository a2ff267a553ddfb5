/**
 * The guided tour of the fault path on a built-in system: a component attaches a managed
 * dataspace, a thread touches it, core walks the nested maps, reflects the fault to the
 * dataspace manager's handler, the handler attaches RAM, the faulter wakes and its retry is
 * resolved with a mapping whose size is explained. Pure: returns lines, the CLI prints them.
 */
import { Core } from '../core/core.js';
import { describeEvent } from '../core/events.js';
import { formatExplanation } from '../core/resolve.js';
import { hex, sizeName } from '../util/hex.js';
import { unwrap } from '../util/result.js';

/** Options of the walk-through. */
export interface WalkthroughOptions {
  /** Architecture profile name (default x86_64). */
  readonly arch?: 'x86_64' | 'armv7' | 'armv8' | 'riscv-sv39' | 'x86_32' | 'x86_32-pae' | 'microblaze';
}

/** Runs the walk-through and returns its narration, one line per entry. */
export function walkthrough(opts: WalkthroughOptions = {}): string[] {
  const out: string[] = [];
  const say = (s = '') => out.push(s);
  const core = new Core({ arch: opts.arch ?? 'x86_64' });
  // Core's events are printed after the narration of the step that caused them.
  const events: string[] = [];
  core.onEvent((e) => events.push(`    core> ${describeEvent(e)}`));
  const flush = () => {
    for (const e of events.splice(0)) say(e);
  };

  const MANAGED = 8 * 2 ** 20;
  const AT = 0x10000000;
  const OFFSET = 0x201234;
  const chunk = 2 ** core.arch.pageSizesLog2[Math.min(1, core.arch.pageSizesLog2.length - 1)]!;

  say(
    `1. The system: core on ${core.arch.name} (page sizes ${core.arch.pageSizesLog2.map((s) => sizeName(2 ** s)).join(', ')}).`,
  );
  const app = unwrap(core.createPd('init -> app'));
  const main = unwrap(core.createThread(app, 'main'));
  main.ip = 0x1000;
  const mgr = unwrap(core.createPd('init -> manager'));
  say(`   ${app}`);
  say(`   ${mgr}: a dataspace manager that pages a managed dataspace on demand.`);

  say();
  say(
    `2. The manager creates a region map of ${sizeName(MANAGED)} and registers a fault handler (a signal context).`,
  );
  const managed = unwrap(core.createRegionMap(mgr, MANAGED));
  const sig = unwrap(core.createSignalContext(mgr, 'manager fault handler'));
  unwrap(core.setFaultHandler(managed, sig));
  say(`   ${managed}`);

  say();
  say(`3. The app attaches the managed dataspace at ${hex(AT)} of its address space.`);
  unwrap(app.addressSpace.attach(managed.dataspace, { at: AT, writeable: true }));
  flush();

  const va = AT + OFFSET;
  say();
  say(
    `4. Thread 'main' reads ${hex(va)}. Its page table is empty, so the kernel sends the fault to core's pager.`,
  );
  const first = unwrap(core.access(main, va, 'read', true));
  if (first.kind !== 'reflected')
    throw new Error(`walk-through expected a reflected fault, got ${first.kind}`);
  for (const step of first.resolution.walk ?? []) {
    const found = step.region ? `found ${step.region}` : 'nothing attached there';
    say(`   walk: region map #${step.map.id} at ${hex(step.address)}: ${found}`);
  }
  say(`   Nothing is attached in region map #${first.map.id}, so core reflects the fault there, in its`);
  say(
    `   coordinates (${hex(first.address)}), parks 'main' as a faulter (${main.state}) and submits a signal.`,
  );
  say(
    '   Core does not wait for the handler: the signal is fire-and-forget (core never trusts a handler to reply).',
  );
  flush();

  say();
  say('5. The manager receives the signal and drains fault() until NONE:');
  say(`   signal delivered with count ${sig.take()}`);
  for (let st = managed.fault(); st.type !== 'NONE'; st = managed.fault()) {
    say(`   fault(): ${st.type} at ${hex(st.address)}`);
    const base = st.address - (st.address % chunk);
    const ram = unwrap(core.allocRam(mgr, chunk));
    say(`   allocates ${ram} and attaches it at ${hex(base)}`);
    unwrap(managed.attach(ram, { at: base, writeable: true }));
    flush();
  }
  say(`   'main' is now ${main.state}.`);

  say();
  say(`6. 'main' retries the read at ${hex(va)}.`);
  const retry = unwrap(core.access(main, va, 'read', true));
  flush();
  if (retry.kind !== 'mapped') throw new Error(`walk-through expected a mapping, got ${retry.kind}`);
  const res = retry.resolution;
  if (res.kind === 'mapped') {
    say(`   resolved through ${res.depth} region maps: ${retry.mapping}`);
    say('   Why this size:');
    for (const l of formatExplanation(res.explain!)) say(`   ${l}`);
  }

  say();
  const next = va + 0x1000;
  const again = unwrap(core.access(main, next, 'write'));
  say(
    `7. A write to ${hex(next)}, in the same ${sizeName(retry.mapping.size)} mapping: ${again.kind === 'hit' ? 'no fault at all (a hit)' : again.kind}.`,
  );
  say(
    `   ${sizeName(chunk)} of memory now costs ${main.pd.pageTable.size} mapping instead of ${chunk / core.pageSize} small pages.`,
  );
  return out;
}
