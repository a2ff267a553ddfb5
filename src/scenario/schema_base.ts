/**
 * Building blocks of the scenario schema shared by `schema.ts` (core steps) and `schema_sim.ts`
 * (behaviours and the simulator's steps): numbers, names and references.
 */
import { z } from 'zod';
import { parseNumber } from './expr.js';

// A scenario file is parsed once or a few times per process: compiling each object schema into a
// specialized parser (zod's JIT, with new Function) costs more than it saves, and a browser's
// content security policy forbids it anyway.
z.config({ jitless: true });

/** A number literal or, inside repeat, a string with `${…}`. */
const NUM_PATTERN = /^(?:0x[0-9a-fA-F]+|[0-9]+[KMGT]?)$|\$\{.*\}/;
const NUM_HELP = 'expected an integer, hex string (0x1000) or size (4K, 2M, 1G)';

/** A number: integer, hex string or size string; placeholders stay strings until a repeat fills them in. */
export const Num = z
  .union([z.number().int(NUM_HELP).nonnegative(NUM_HELP), z.string().regex(NUM_PATTERN, NUM_HELP)], {
    error: NUM_HELP,
  })
  .transform((v, ctx): number | string => {
    if (typeof v === 'number' || v.includes(`\${`)) return v;
    const n = parseNumber(v);
    if (n.ok) return n.value;
    ctx.issues.push({ code: 'custom', message: n.message, input: v });
    return z.NEVER;
  })
  .meta({
    id: 'number',
    description: `a number: integer, hex string (0x40000000) or size (4K, 64M, 1G); in steps also \${expr} over loop variables and attach vars`,
  });

/** A name defined by a step or referring to one (checked by the second pass). */
export const Name = z.string().min(1, 'expected a non-empty name');
/** An identifier: component and thread names. */
export const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const Ident = z
  .string()
  .regex(IDENT, 'expected a name of letters, digits, _ and -, starting with a letter or _');
export const ThreadRef = Name.describe("a thread as 'component.thread'");
export const MapRef = Name.describe(
  "a region map: a component's name (its address space) or a created region map's name",
);
export const DsRef = Name.describe(
  "a dataspace's name, or a created region map's name (its managed dataspace)",
);
export const Count = z.number().int().min(0);
export const Flag = z.boolean();
