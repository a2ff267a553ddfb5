/**
 * Designs: named bundles of options that users pick and override one by one, so that rival
 * designs run on the same workload and compare (DESIGN.md §2 "Rival designs").
 */
import { err, ok, type Result } from '../util/result.js';
import { microsToCycles } from './cost.js';

/** Every option a design sets. */
export interface DesignOptions {
  /** Pager entrypoints: one per CPU, or a single one on CPU 0. */
  readonly pagers: 'per-cpu' | 'single';
  /** Physical memory: one global allocator behind one lock, or one partition per CPU. */
  readonly allocator: 'global' | 'partitioned';
  /** Mapping size policy: the best size the rule allows, or the smallest page only. */
  readonly mapping: 'best' | 'smallest';
  /** Kernel mapped in every address space, or in its own one behind a trampoline page. */
  readonly kernelEntry: 'shared' | 'trampoline';
  /** Address-space identifiers (ASID/PCID) tag TLB entries: switches do not flush. */
  readonly asidTags: boolean;
  /** On an attach, core maps the whole region eagerly instead of on demand. */
  readonly eagerMapping: boolean;
  /** IRQs go to the handler on the routed CPU, or serialized through one core thread on CPU 0. */
  readonly irqDelivery: 'direct' | 'core-thread';
  /**
   * Who pages the traced program's memory (issue 16, seed 003): a user-level dataspace manager
   * that evicts by detaching and pages in through the reflected fault (Genode), or the kernel,
   * which sends to the swap provider itself and keeps the block number in the not-present PTE
   * (Brendan). Without `--ram` the manager is the on-demand handler and the kernel never evicts.
   */
  readonly swap: 'manager' | 'kernel';
  /** How a page travels to and from a swap provider: copied in a 4100-byte message, or its frame mapped to the provider and back. */
  readonly swapData: 'copy' | 'map';
  /**
   * Who resolves a fault in a managed dataspace: `async` — core reflects it to the manager by a
   * signal and never waits (Genode); `sync-core-rpc` — core calls the manager and waits for its
   * answer; `local-rm` — each task's own region mapper asks the managers for map items by IPC and
   * the kernel records the mappings in its mapping database (L4Re).
   */
  readonly faultHandling: 'async' | 'sync-core-rpc' | 'local-rm';
  /** Timeout of the synchronous designs' calls, in cycles, or `never` (the default, as in Fiasco). */
  readonly ipcTimeout: 'never' | number;
}

/** A named design. */
export interface Design {
  readonly name: string;
  readonly description: string;
  readonly options: DesignOptions;
}

const GENODE: DesignOptions = {
  pagers: 'per-cpu',
  allocator: 'global',
  mapping: 'best',
  kernelEntry: 'shared',
  asidTags: true,
  eagerMapping: false,
  irqDelivery: 'direct',
  swap: 'manager',
  swapData: 'copy',
  faultHandling: 'async',
  ipcTimeout: 'never',
};

/** The built-in designs. */
export const DESIGNS: readonly Design[] = [
  {
    name: 'genode',
    description:
      'per-CPU pagers, one global RAM allocator, asynchronous reflection, best-size mapping, kernel in every address space',
    options: GENODE,
  },
  {
    name: 'genode-single-pager',
    description:
      "as genode, but one pager thread on CPU 0 handles every fault (as Genode's core on Fiasco.OC had it)",
    options: { ...GENODE, pagers: 'single' },
  },
  {
    name: '4k-only',
    description: 'as genode, but every mapping is clamped to the smallest page (no superpages)',
    options: { ...GENODE, mapping: 'smallest' },
  },
  {
    name: 'partitioned',
    description:
      'as genode, but each CPU allocates from its own partition of RAM (no lock contention, no cross-core IPC)',
    options: { ...GENODE, allocator: 'partitioned' },
  },
  {
    name: 'trampoline',
    description:
      'as genode, but the kernel lives in its own address space behind a trampoline, without PCID: every entry and exit switches and flushes',
    options: { ...GENODE, kernelEntry: 'trampoline', asidTags: false },
  },
  {
    name: 'sync-core-rpc',
    description:
      'as genode, but core calls the manager of a managed dataspace synchronously (resolve_fault) and waits for its answer before serving the next fault on that pager entrypoint',
    options: { ...GENODE, faultHandling: 'sync-core-rpc' },
  },
  {
    name: 'local-rm',
    description:
      "as genode, but each task's own region mapper resolves its faults by asking the dataspace managers for map items by IPC; the kernel records every mapping in its mapping database and revokes through it",
    options: { ...GENODE, faultHandling: 'local-rm' },
  },
  {
    name: 'trampoline-pcid',
    description:
      'as trampoline, with PCID/ASID tags: entries and exits switch address spaces but keep the TLB',
    options: { ...GENODE, kernelEntry: 'trampoline' },
  },
  {
    name: 'kernel-swap',
    description:
      "Brendan's kernel-driven swap: the kernel handles the program's page faults itself, sends swapped pages to and from user-level swap providers in 4100-byte messages, the faulting thread waits in waiting-disk",
    options: { ...GENODE, mapping: 'smallest', swap: 'kernel' },
  },
  {
    name: 'kernel-swap-map',
    description:
      'as kernel-swap, but a page is not copied: its frame is mapped to the swap provider for the transfer and remapped',
    options: { ...GENODE, mapping: 'smallest', swap: 'kernel', swapData: 'map' },
  },
  {
    name: 'genode-swap-map',
    description:
      "as 4k-only (a dataspace manager pages through reflected faults), but the manager lends the page's dataspace to the swap provider instead of copying it",
    options: { ...GENODE, mapping: 'smallest', swapData: 'map' },
  },
];

const CHOICES: { readonly [K in keyof DesignOptions]: readonly (string | boolean)[] } = {
  pagers: ['per-cpu', 'single'],
  allocator: ['global', 'partitioned'],
  mapping: ['best', 'smallest'],
  kernelEntry: ['shared', 'trampoline'],
  asidTags: [true, false],
  eagerMapping: [true, false],
  irqDelivery: ['direct', 'core-thread'],
  swap: ['manager', 'kernel'],
  swapData: ['copy', 'map'],
  faultHandling: ['async', 'sync-core-rpc', 'local-rm'],
  ipcTimeout: ['never', 'a duration: 5ms, 500us or cycles'],
};

/** Parses an IPC timeout: `never`, `5ms`, `500us`, or a number of cycles (nominal 3 GHz clock). */
export function parseTimeout(raw: string | number): 'never' | number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw > 0 ? raw : undefined;
  const t = raw.trim();
  if (t === 'never') return 'never';
  const m = /^(\d+(?:\.\d+)?)\s*(ms|us|µs|cycles)?$/.exec(t);
  if (!m) return undefined;
  const v = Number(m[1]);
  const cycles =
    m[2] === 'ms' ? microsToCycles(v * 1000) : m[2] === 'us' || m[2] === 'µs' ? microsToCycles(v) : v;
  return cycles > 0 && Number.isSafeInteger(Math.round(cycles)) ? Math.round(cycles) : undefined;
}

/** The values each option accepts (for help texts and validation). */
export function optionChoices(): Readonly<Record<string, readonly (string | boolean)[]>> {
  return CHOICES;
}

/**
 * The options of a design with overrides applied. Overrides may be strings ('true'/'false' for
 * booleans, as they come from the command line) or typed values.
 */
export function designOptions(
  name: string,
  overrides: Readonly<Record<string, string | boolean | number>> = {},
): Result<DesignOptions, 'UNKNOWN_DESIGN' | 'INVALID_OPTION'> {
  const d = DESIGNS.find((x) => x.name === name);
  if (!d)
    return err(
      'UNKNOWN_DESIGN',
      `unknown design '${name}'; expected one of ${DESIGNS.map((x) => x.name).join(', ')}`,
    );
  const out: Record<string, string | boolean | number> = { ...d.options };
  for (const [key, raw] of Object.entries(overrides)) {
    if (key === 'ipcTimeout') {
      const v = parseTimeout(typeof raw === 'boolean' ? String(raw) : raw);
      if (v === undefined)
        return err(
          'INVALID_OPTION',
          `design option ipcTimeout=${String(raw)} is not valid; expected never, a duration (5ms, 500us) or cycles`,
        );
      out[key] = v;
      continue;
    }
    const choices = (CHOICES as Record<string, readonly (string | boolean)[] | undefined>)[key];
    if (!choices) {
      return err(
        'INVALID_OPTION',
        `unknown design option '${key}'; expected one of ${Object.keys(CHOICES).join(', ')}`,
      );
    }
    const value =
      typeof choices[0] === 'boolean' && typeof raw === 'string'
        ? raw === 'true'
          ? true
          : raw === 'false'
            ? false
            : raw
        : raw;
    if (!choices.includes(value as string | boolean)) {
      return err(
        'INVALID_OPTION',
        `design option ${key}=${String(raw)} is not valid; expected one of ${choices.join(', ')}`,
      );
    }
    out[key] = value as string | boolean;
  }
  return ok(out as unknown as DesignOptions);
}

/** Parses `key=value` overrides from the command line. */
export function parseOverrides(pairs: readonly string[]): Result<Record<string, string>, 'INVALID_OPTION'> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) return err('INVALID_OPTION', `design override '${p}' must look like option=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return ok(out);
}
