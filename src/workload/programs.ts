/**
 * Programs for studies: access streams with a known shape, built from the synthetic generators.
 */
import type { ProgramOf } from '../sim/interference.js';
import { createWorkload } from './synthetic.js';

/**
 * A program that faults steadily: it walks its private memory 64 bytes per data access (a new
 * page every 64 accesses) with `computePerAccess` instruction fetches in between, so it computes
 * between faults and keeps faulting for as long as its memory lasts.
 */
export const steadyFaulter: ProgramOf = (_t, p) =>
  createWorkload({
    pattern: 'strided',
    stride: 64,
    footprint: p.bytes,
    base: p.base,
    records: p.records,
    seed: p.seed,
    instrPerAccess: p.computePerAccess,
    codeBase: p.codeBase,
  });
