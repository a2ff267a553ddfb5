// Runs the partner replay thread from TypeScript sources (tests): Node 20 workers cannot load .ts
// files, so this shim registers tsx in the worker first. Built code uses sim_worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./sim_worker.ts');
