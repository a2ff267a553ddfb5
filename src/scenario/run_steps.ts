/**
 * What each scenario step does to core, and how its expectations are checked. Each executor
 * returns the step's log text; failed expectations go to `env.fail` and do not stop the run.
 * A name whose object does not exist (its creating step failed) stops the run (see `names.ts`).
 */
import type { AccessOutcome, Core } from '../core/core.js';
import type { Region } from '../core/region_map.js';
import { formatExplanation } from '../core/resolve.js';
import type { Mapping } from '../hw/page_table.js';
import { hex, sizeName } from '../util/hex.js';
import type { Result } from '../util/result.js';
import { type ErrorLines, expectErrors } from './error_lines.js';
import type { StepInstance } from './expand.js';
import type { Names } from './names.js';
import type { Position } from './problem.js';
import { createComponentStep, createThreadStep } from './run_components.js';
import type { StepArgs } from './schema.js';

/** What executors use. */
export interface StepEnv {
  readonly core: Core;
  readonly names: Names;
  /** Core's error lines so far, and which are checked. */
  readonly errors: ErrorLines;
  /** Records a failed expectation of the current step (at `at`, default the step's position). */
  fail(message: string, at?: Position): void;
  /** Counts one checked expectation. */
  expect(): void;
  /** Label of the current step (for `Names.failed`). */
  readonly label: string;
}

/** The log of one step: its line and any lines beneath it (explanations). */
export interface StepOutput {
  readonly text: string;
  readonly lines?: readonly string[];
}

/** A step the core executors run (repeat is unrolled by the runner, the simulator's steps run in run_sim.ts). */
export type LeafStep = Exclude<StepInstance, { kind: 'repeat' | 'simulate' | 'irq' | 'expect_metrics' }>;

/** Executes one step on core. */
export function execute(step: LeafStep, env: StepEnv): StepOutput {
  const { core, names } = env;
  switch (step.kind) {
    case 'create_region_map': {
      const a = step.args;
      const r = core.createRegionMap(names.component(a.owner), a.size);
      return created(env, a, `create_region_map ${a.name} (${sizeName(a.size)}) for ${a.owner}`, r, (m) => {
        names.maps.set(a.name, m);
        return `region map #${m.id}${m.size !== a.size ? ` (${sizeName(m.size)}: rounded up to pages)` : ''}`;
      });
    }
    case 'alloc_ram':
    case 'alloc_rom':
    case 'alloc_io_mem': {
      const a = step.args;
      const owner = names.component(a.owner);
      const r =
        step.kind === 'alloc_ram'
          ? core.allocRam(owner, a.size, { cpu: step.args.cpu })
          : step.kind === 'alloc_rom'
            ? core.allocRom(owner, a.size)
            : core.allocIoMem(owner, step.args.base, a.size);
      return created(env, a, `${step.kind} ${a.name} (${sizeName(a.size)}) for ${a.owner}`, r, (ds) => {
        names.dataspaces.set(a.name, ds);
        return `${ds}`;
      });
    }
    case 'destroy_region_map': {
      const m = names.map(step.args.map);
      core.destroyRegionMap(m);
      return { text: `destroy_region_map ${names.mapName(m)}` };
    }
    case 'free':
    case 'seal': {
      const a = step.args;
      const ds = names.dataspace(a.dataspace);
      const by = names.component(a.by);
      const r = step.kind === 'free' ? core.free(by, ds) : core.seal(by, ds);
      const text = op(env, r, a.expect_error, (o) => (o.kind === 'done' ? 'done' : `ignored: ${o.why}`));
      if (r.ok && a.expect) {
        env.expect();
        if (r.value.kind !== a.expect.outcome) env.fail(`expected outcome ${a.expect.outcome}, got ${text}`);
      }
      return { text: `${step.kind} ${a.dataspace} by ${a.by} -> ${text}` };
    }
    case 'create_component': {
      const a = step.args;
      const r = createComponentStep(core, names, a);
      return created(env, a, `create_component ${a.name}`, r, (line) => line);
    }
    case 'create_thread': {
      const a = step.args;
      const ref = `${a.component}.${a.as ?? a.name}`;
      const r = createThreadStep(core, names, a);
      return created(env, { name: ref, expect_error: a.expect_error }, `create_thread ${ref}`, r, (l) => l);
    }
    case 'expect_errors':
      return expectErrors(env, step.args);
    case 'attach':
      return attach(env, step.args);
    case 'detach':
      return detach(env, step.args);
    case 'fault_handler':
      return faultHandler(env, step.args);
    case 'read':
    case 'write':
    case 'exec':
      return access(env, step.kind, step.args);
    case 'expect_fault': {
      const a = step.args;
      env.expect();
      const f = names.map(a.map).fault();
      const got = f.type === 'NONE' ? 'NONE' : `${f.type} at ${hex(f.address)}`;
      const want = a.type === 'NONE' || a.address === undefined ? a.type : `${a.type} at ${hex(a.address)}`;
      if (f.type !== a.type || (a.type !== 'NONE' && a.address !== undefined && a.address !== f.address)) {
        env.fail(`expected fault() ${want}, got ${got}`);
      }
      return { text: `expect_fault ${a.map} -> ${got}` };
    }
    case 'expect_thread': {
      env.expect();
      const t = names.thread(step.args.thread);
      if (t.state !== step.args.state)
        env.fail(`expected thread ${step.args.thread} ${step.args.state}, got ${t.state}`);
      return { text: `expect_thread ${step.args.thread} -> ${t.state}` };
    }
    case 'expect_signal': {
      env.expect();
      const n = names.signal(step.args.signal).take();
      if (n !== step.args.count)
        env.fail(`expected signal '${step.args.signal}' with count ${step.args.count}, got ${n}`);
      return { text: `expect_signal ${step.args.signal} -> delivered with count ${n}` };
    }
    case 'expect_mapping':
      return expectMapping(env, step.args);
    case 'expect_regions': {
      const a = step.args;
      env.expect();
      const bases = names
        .map(a.map)
        .regions()
        .map((r) => r.base);
      if (a.count !== undefined && bases.length !== a.count)
        env.fail(`expected ${a.count} region(s), got ${bases.length}`);
      if (a.at !== undefined && a.at.join() !== bases.join()) {
        env.fail(`expected regions at [${a.at.map(hex).join(', ')}], got [${bases.map(hex).join(', ')}]`);
      }
      return {
        text: `expect_regions ${a.map} -> ${bases.length} region(s) at [${bases.map(hex).join(', ')}]`,
      };
    }
    case 'expect_quota': {
      const a = step.args;
      env.expect();
      const q = names.component(a.component).quota;
      if (a.ram_used !== undefined && q.ramUsed !== a.ram_used) {
        env.fail(`expected RAM quota use ${a.ram_used} bytes, got ${q.ramUsed}`);
      }
      if (a.caps_used !== undefined && q.capsUsed !== a.caps_used) {
        env.fail(`expected ${a.caps_used} capabilities used, got ${q.capsUsed}`);
      }
      return { text: `expect_quota ${a.component} -> ${q}` };
    }
    case 'destroy_thread':
      core.destroyThread(names.thread(step.args.thread));
      return { text: `destroy_thread ${step.args.thread}` };
    case 'destroy_component':
      core.destroyPd(names.component(step.args.component));
      return { text: `destroy_component ${step.args.component}` };
    case 'explain':
      return explain(env, step.args);
    case 'log':
      return { text: `log: ${step.args}` };
  }
}

/** Renders an operation's result and checks `expect_error`. */
function op<T>(env: StepEnv, r: Result<T>, expected: string | undefined, show: (v: T) => string): string {
  if (expected) env.expect();
  if (r.ok) {
    if (expected) env.fail(`expected ${expected}, but the operation succeeded`);
    return show(r.value);
  }
  if (!expected) env.fail(`unexpected ${r.code}: ${r.message}`);
  else if (r.code !== expected) env.fail(`expected ${expected}, got ${r.code}: ${r.message}`);
  return `${r.code}${r.code === expected ? ' (as expected)' : ''}: ${r.message}`;
}

function created<T>(
  env: StepEnv,
  a: { name: string; expect_error?: string },
  what: string,
  r: Result<T>,
  bind: (v: T) => string,
): StepOutput {
  if (!r.ok) env.names.failed.set(a.name, env.label);
  return { text: `${what} -> ${op(env, r, a.expect_error, bind)}` };
}

function attach(env: StepEnv, a: StepArgs<'attach'>): StepOutput {
  const map = env.names.map(a.map);
  const ds = env.names.dataspace(a.dataspace);
  const r = map.attach(ds, a);
  const where = [
    a.at !== undefined ? ` at ${hex(a.at)}` : '',
    a.offset !== undefined ? ` offset ${hex(a.offset)}` : '',
    a.size !== undefined ? ` size ${hex(a.size)}` : '',
  ].join('');
  const text = op(env, r, a.expect_error, (region) => {
    if (a.name !== undefined) env.names.regions.set(a.name, region);
    if (a.var !== undefined) env.names.vars.set(a.var, region.base);
    return `${region}${a.var !== undefined ? `, ${a.var} = ${hex(region.base)}` : ''}`;
  });
  if (!r.ok && a.name !== undefined) env.names.failed.set(a.name, env.label);
  if (r.ok && a.expect) {
    env.expect();
    if (a.expect.at !== undefined && r.value.base !== a.expect.at) {
      env.fail(`expected the region at ${hex(a.expect.at)}, got ${hex(r.value.base)}`);
    }
    if (a.expect.size !== undefined && r.value.size !== a.expect.size) {
      env.fail(`expected a region of ${hex(a.expect.size)} bytes, got ${hex(r.value.size)}`);
    }
  }
  return { text: `attach ${a.dataspace} to ${a.map}${where}${a.name ? ` as ${a.name}` : ''} -> ${text}` };
}

/** A detach that found nothing did nothing (Genode's `detach` is no error either). */
const detached = (x: Region | null): string => (x ? `${x}` : 'nothing there, nothing detached');

function detach(env: StepEnv, a: StepArgs<'detach'>): StepOutput {
  if (a.region !== undefined) {
    const region = env.names.region(a.region);
    // A named region detached earlier is gone: detaching it again does nothing, whatever lies there now.
    const attached = region.map.lookup(region.base) === region;
    const r: Result<Region | null> = attached ? region.map.detach(region.base) : { ok: true, value: null };
    return { text: `detach ${a.region} -> ${op(env, r, a.expect_error, detached)}` };
  }
  const r = env.names.map(a.map!).detach(a.at!);
  return { text: `detach ${a.map} at ${hex(a.at!)} -> ${op(env, r, a.expect_error, detached)}` };
}

function faultHandler(env: StepEnv, a: StepArgs<'fault_handler'>): StepOutput {
  const { core, names } = env;
  const map = names.map(a.map);
  if (a.remove) {
    const r = core.setFaultHandler(map, null);
    return { text: `fault_handler ${a.map} removed -> ${op(env, r, a.expect_error, () => 'done')}` };
  }
  const name = a.signal!;
  let sig = names.signals.get(name);
  if (!sig) {
    const c = core.createSignalContext(map.owner, name);
    if (!c.ok) {
      names.failed.set(name, env.label);
      return { text: `fault_handler ${a.map} -> ${op(env, c, a.expect_error, () => '')}` };
    }
    sig = c.value;
    names.signals.set(name, sig);
  }
  const r = core.setFaultHandler(map, sig);
  return {
    text: `fault_handler ${a.map} -> ${op(env, r, a.expect_error, () => `signal context '${name}'`)}`,
  };
}

type AccessKind = 'read' | 'write' | 'exec';

function access(env: StepEnv, kind: AccessKind, a: StepArgs<'read'> & { value?: number }): StepOutput {
  const { core, names } = env;
  const t = names.thread(a.thread);
  let outcome: AccessOutcome | undefined;
  let value: number | undefined;
  let r: Result<unknown>;
  if (kind === 'read') {
    const x = core.read(t, a.address);
    r = x;
    if (x.ok) {
      outcome = x.value.outcome;
      if (!Number.isNaN(x.value.value)) value = x.value.value;
    }
  } else {
    const x = kind === 'write' ? core.write(t, a.address, a.value ?? 0) : core.access(t, a.address, 'exec');
    r = x;
    if (x.ok) outcome = x.value;
  }
  const got = outcome?.kind ?? (!r.ok && r.code === 'THREAD_BLOCKED' ? 'blocked' : 'failed');
  let text: string;
  if (!outcome) text = r.ok ? got : `${got}: ${r.message}`;
  else if (outcome.kind === 'hit') text = `hit ${outcome.mapping}`;
  else if (outcome.kind === 'mapped')
    text = `mapped ${outcome.mapping} (${outcome.resolution.depth} level(s))`;
  else if (outcome.kind === 'reflected')
    text = `reflected to ${names.mapName(outcome.map)} at ${hex(outcome.address)}`;
  else text = `error: ${outcome.text}`;
  if (value !== undefined) text += `, value ${hex(value)}`;
  const shown =
    kind === 'write'
      ? `write ${hex(a.value ?? 0)} by ${a.thread} at ${hex(a.address)}`
      : `${kind} ${a.thread} at ${hex(a.address)}`;
  if (got === 'failed' && !r.ok) env.fail(`unexpected ${r.code}: ${r.message}`);
  const e = a.expect;
  if (e) {
    env.expect();
    const mapping = outcome?.kind === 'hit' || outcome?.kind === 'mapped' ? outcome.mapping : undefined;
    const none = ` (outcome ${got})`;
    if (e.outcome !== undefined && e.outcome !== got)
      env.fail(`expected outcome ${e.outcome}, got ${got}: ${text}`);
    if (e.mapping_size !== undefined) {
      if (!mapping) env.fail(`expected a ${sizeName(e.mapping_size)} mapping, got none${none}`);
      else if (mapping.size !== e.mapping_size) {
        env.fail(`expected a ${sizeName(e.mapping_size)} mapping, got ${sizeName(mapping.size)}`);
      }
    }
    if (e.value !== undefined && value !== e.value) {
      env.fail(`expected value ${hex(e.value)}, got ${value === undefined ? `no value${none}` : hex(value)}`);
    }
    if (e.error !== undefined) {
      const msg = outcome?.kind === 'error' ? outcome.text : undefined;
      const want = typeof e.error === 'string' ? `'${e.error}'` : `matching /${e.error.match}/`;
      const good =
        msg !== undefined &&
        (typeof e.error === 'string' ? msg === e.error : new RegExp(e.error.match).test(msg));
      if (!good)
        env.fail(`expected error ${want}, got ${msg === undefined ? `no error${none}` : `'${msg}'`}`);
      else env.errors.checkText(msg);
    }
    const reflected = outcome?.kind === 'reflected' ? outcome : undefined;
    if (e.map !== undefined) {
      const want = names.map(e.map);
      if (reflected?.map !== want) {
        env.fail(
          `expected the fault reflected to ${names.mapName(want)}, got ${reflected ? names.mapName(reflected.map) : got}`,
        );
      }
    }
    if (e.address !== undefined && reflected?.address !== e.address) {
      env.fail(
        `expected the fault reflected at ${hex(e.address)}, got ${reflected ? hex(reflected.address) : got}`,
      );
    }
    if (e.depth !== undefined) {
      const depth = outcome?.kind === 'mapped' ? outcome.resolution.depth : undefined;
      if (depth !== e.depth)
        env.fail(`expected a fault resolved through ${e.depth} level(s), got ${depth ?? got}`);
    }
    if (e.backed_by) backedBy(env, mapping, a.address, e.backed_by);
  }
  return { text: `${shown} -> ${text}` };
}

function backedBy(
  env: StepEnv,
  m: Mapping | undefined,
  va: number,
  b: { dataspace: string; offset: number },
): void {
  const ds = env.names.dataspace(b.dataspace);
  const want = ds.phys + b.offset;
  if (ds.managed) env.fail(`backed_by needs a RAM, ROM or I/O dataspace, '${b.dataspace}' is managed`);
  else if (!m)
    env.fail(`expected ${hex(va)} to translate to ${b.dataspace}+${hex(b.offset)}, got no mapping`);
  else if (m.pa + (va - m.va) !== want) {
    env.fail(
      `expected ${hex(va)} to translate to ${b.dataspace}+${hex(b.offset)} (${hex(want)}), got ${hex(m.pa + (va - m.va))}`,
    );
  }
}

function expectMapping(env: StepEnv, a: StepArgs<'expect_mapping'>): StepOutput {
  env.expect();
  const m = env.names.thread(a.thread).pd.pageTable.lookup(a.address);
  const text = `expect_mapping ${a.thread} at ${hex(a.address)} -> ${m ?? 'none'}`;
  if (a.none) {
    if (m) env.fail(`expected no mapping at ${hex(a.address)}, got ${m}`);
    return { text };
  }
  if (!m) {
    env.fail(`expected a mapping at ${hex(a.address)}, got none`);
    return { text };
  }
  if (a.size !== undefined && m.size !== a.size)
    env.fail(`expected a ${sizeName(a.size)} mapping, got ${sizeName(m.size)}`);
  if (a.writeable !== undefined && m.writeable !== a.writeable)
    env.fail(`expected writeable ${a.writeable}, got ${m.writeable}`);
  if (a.executable !== undefined && m.executable !== a.executable) {
    env.fail(`expected executable ${a.executable}, got ${m.executable}`);
  }
  if (a.backed_by) backedBy(env, m, a.address, a.backed_by);
  return { text };
}

function explain(env: StepEnv, a: StepArgs<'explain'>): StepOutput {
  const t = env.names.thread(a.thread);
  const head = `explain ${a.access} by ${a.thread} at ${hex(a.address)}`;
  if (t.state === 'destroyed') {
    env.fail(`cannot explain: thread ${a.thread} was destroyed`);
    return { text: `${head} -> thread destroyed` };
  }
  const r = env.core.resolve(t, a.address, a.access, true);
  const lines = (r.walk ?? []).map(
    (w) => `  level: ${env.names.mapName(w.map)} at ${hex(w.address)}: ${w.region ?? 'nothing attached'}`,
  );
  if (r.kind === 'mapped') {
    lines.push(...formatExplanation(r.explain!));
    return { text: `${head} -> ${sizeName(2 ** r.sizeLog2)} mapping of ${hex(r.va)} -> ${hex(r.pa)}`, lines };
  }
  const why = r.kind === 'too-deep' ? 'too deep' : `unresolved (${r.reason})`;
  return { text: `${head} -> ${why} at ${env.names.mapName(r.map)} ${hex(r.address)}`, lines };
}
