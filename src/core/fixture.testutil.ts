/** Test fixture: core with one component (PD session + thread) ready to fault. */
import type { ArchName, KernelProfile } from '../hw/arch.js';
import type { Thread } from '../kernel/thread.js';
import { unwrap } from '../util/result.js';
import { Core } from './core.js';
import type { CoreEvent } from './events.js';
import type { PdSession } from './pd_session.js';

export interface Fixture {
  core: Core;
  app: PdSession;
  main: Thread;
  events: CoreEvent[];
}

export function fixture(arch: ArchName = 'x86_64', kernel?: KernelProfile): Fixture {
  const core = new Core({ arch, kernel });
  const events: CoreEvent[] = [];
  core.onEvent((e) => events.push(e));
  const app = unwrap(core.createPd('init -> app', { ram: 2 ** 32 }));
  const main = unwrap(core.createThread(app, 'main'));
  main.ip = 0x1000;
  return { core, app, main, events };
}
