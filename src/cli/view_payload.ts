/**
 * What `faultline view` hands the browser app (served as `initial.json`, written into an export):
 * nothing, a scenario file with the records of its trace players, or the JSON a replay or compare
 * printed. Types only: the app imports them too.
 */

/** Trace records as plain arrays (kind per `sim/trace_batch.ts`, address, size). */
export interface TraceRecordsPayload {
  readonly kind: readonly number[];
  readonly addr: readonly number[];
  readonly size: readonly number[];
}

/** The file the viewer opens with. */
export type ViewPayload =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'scenario';
      /** The file name as given (shown, and named in problems). */
      readonly file: string;
      readonly text: string;
      /** Records of each trace a trace_player names, by the `trace` text as written. */
      readonly traces: Readonly<Record<string, TraceRecordsPayload>>;
    }
  | { readonly kind: 'run'; readonly file: string; readonly json: unknown };
