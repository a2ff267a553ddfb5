/**
 * Misbehaving parties (seed 001: core "can't be sure that the call will ever return"): how a fault
 * handler or dataspace manager may fail the components that depend on it. Injected per manager,
 * from scenario files and the command line, so that each design's blast radius can be measured.
 */
import { err, ok, type Result } from '../util/result.js';

/** How a manager misbehaves. */
export type Misbehaviour =
  /** It takes requests (or signals) and never answers them. */
  | { readonly kind: 'never-replies' }
  /** It answers each after `cycles` of doing nothing. */
  | { readonly kind: 'replies-late'; readonly cycles: number }
  /** It dies in the middle of its first fault. */
  | { readonly kind: 'dies' }
  /** Its own access faults in the map it manages (it needs itself to resolve it). */
  | { readonly kind: 'faults-itself' }
  /** It answers with the wrong memory: a chunk attached at the wrong place, or a wrong map item. */
  | { readonly kind: 'wrong-mapping' };

/** The names, as `--misbehave` and scenario files spell them. */
export const MISBEHAVIOURS = [
  'never-replies',
  'replies-late:N',
  'dies',
  'faults-itself',
  'wrong-mapping',
] as const;

/** Parses `never-replies`, `replies-late:30000` (cycles), `dies`, `faults-itself`, `wrong-mapping`. */
export function parseMisbehaviour(text: string): Result<Misbehaviour, 'INVALID_MISBEHAVIOUR'> {
  const t = text.trim();
  if (t === 'never-replies' || t === 'dies' || t === 'faults-itself' || t === 'wrong-mapping')
    return ok({ kind: t });
  const m = /^replies-late:(\d+)$/.exec(t);
  if (m) {
    const cycles = Number(m[1]);
    if (Number.isSafeInteger(cycles) && cycles > 0) return ok({ kind: 'replies-late', cycles });
  }
  return err(
    'INVALID_MISBEHAVIOUR',
    `'${text}' is not a misbehaviour; expected one of ${MISBEHAVIOURS.join(', ')} (N: cycles > 0)`,
  );
}

/** The spelling of a misbehaviour. */
export function misbehaviourName(m: Misbehaviour): string {
  return m.kind === 'replies-late' ? `replies-late:${m.cycles}` : m.kind;
}
