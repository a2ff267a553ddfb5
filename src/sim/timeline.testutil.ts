/**
 * Helpers the Timeline tests share for reading a recording's JSON: its events without the
 * metadata records, and one event by name. Kept apart so the unit, flow and property test files
 * (timeline.test.ts, timeline_flows.test.ts, timeline.property.test.ts) read it the same way.
 */
import type { TraceEvent, TraceJson } from './timeline.js';

export const body = (j: TraceJson): TraceEvent[] => j.traceEvents.filter((e) => e.ph !== 'M');
export const named = (j: TraceJson, name: string): TraceEvent => {
  const e = j.traceEvents.find((x) => x.name === name && x.ph !== 'M');
  if (e === undefined) throw new Error(`no event ${name}`);
  return e;
};
