/**
 * Timings the benchmark reads from the page (`window.__faultline`): when a scenario began to
 * load, when its first render was laid out, and how long each fault-path frame step took from the
 * click to the laid-out frame (script, style and layout: the work a frame must fit in 16 ms).
 */
interface Perf {
  readonly marks: Record<string, number>;
  readonly frameTimes: number[];
}

const w = globalThis as unknown as { __faultline?: Perf };
export const perf: Perf = w.__faultline ?? { marks: {}, frameTimes: [] };
w.__faultline = perf;

let frameStart = -1;

/** A frame step was asked for (a click or a key). */
export function markFrameStart(): void {
  frameStart = performance.now();
}

/** The asked-for frame is committed: force layout and record the time since the click. */
export function frameLaidOut(el: Element | null): void {
  if (frameStart < 0) return;
  el?.getBoundingClientRect();
  perf.frameTimes.push(performance.now() - frameStart);
  frameStart = -1;
}

/** Records a named point in time. */
export function mark(name: string): void {
  perf.marks[name] = performance.now();
}
