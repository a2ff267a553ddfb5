/**
 * A scenario in the browser: loaded from YAML text, run once to the end to record every step and
 * every core event (with each fault's walk), and replayed to any step on demand for the state
 * views. Going back re-runs from the start to that step: runs are deterministic, so the state is
 * the one the first run passed through.
 */
import type { Thread } from '../../../src/kernel/thread.js';
import { type LoadedScenario, loadScenario } from '../../../src/scenario/load.js';
import type { MetricValues } from '../../../src/scenario/metrics.js';
import type { Path, Problem } from '../../../src/scenario/problem.js';
import { isSimulated, traceRefs } from '../../../src/scenario/sim_spec.js';
import { ScenarioStepper, type SteppedStep } from '../../../src/scenario/stepper.js';
import type { TraceBatch } from '../../../src/sim/trace_batch.js';
import { EventCapture, faultView, Labels } from './capture.js';
import { snapshot } from './snapshot.js';
import type { SystemSnapshot, ViewEvent } from './types.js';

/** One executed step, as the step list shows it. */
export interface StepInfo {
  readonly index: number;
  readonly label: string;
  /** Path of the step in the file (`['steps', 3]`). */
  readonly path: Path;
  readonly line: number;
  readonly kind: string;
  readonly text: string;
  readonly lines: readonly string[];
  /** Failed expectations: `line:col message`. */
  readonly failures: readonly { readonly line: number; readonly column: number; readonly message: string }[];
  readonly stopped: boolean;
}

/** Trace records by the `trace` text a trace_player names. */
export type TraceInputs = ReadonlyMap<string, readonly TraceBatch[]>;

/** Loading failed: problems with their positions (YAML, schema, names, machine, inputs). */
export interface LoadFailure {
  readonly ok: false;
  readonly problems: readonly Problem[];
}

/** Steps a run records at most (the scenario layer caps runs at 100,000 anyway). */
const MAX_RECORDED_STEPS = 200_000;

/** A loaded scenario, run to the end, that can show its state after any step. */
export class ScenarioSession {
  readonly steps: StepInfo[] = [];
  readonly events: ViewEvent[];
  /** Core events not kept (beyond the capture's limit). */
  readonly droppedEvents: number;
  readonly metrics: MetricValues;
  readonly simulated: boolean;
  /** Components or threads that could not be created: the run has no steps then. */
  readonly setupFailures: readonly string[];
  private cursor: { stepper: ScenarioStepper; labels: Labels } | null = null;
  private readonly cache = new Map<number, SystemSnapshot>();

  private constructor(
    readonly loaded: LoadedScenario,
    private readonly traces: TraceInputs,
    first: ScenarioStepper,
    capture: EventCapture,
  ) {
    this.simulated = isSimulated(loaded.data);
    this.setupFailures = first.failures.map((f) => `line ${f.line}: ${f.message}`);
    for (let s = first.next(); s; s = first.next()) {
      this.steps.push(stepInfo(s));
      if (s.step?.kind === 'explain') {
        const a = s.step.args;
        const t = first.names.threads.get(a.thread);
        if (t && t.state !== 'destroyed') {
          capture.events.push({
            type: 'explain',
            step: s.index,
            ...faultView(first.core, capture.labels, t, a.address, a.access, pagerCpu(first, t)),
          });
        }
      }
      capture.step = s.index + 1;
      if (this.steps.length >= MAX_RECORDED_STEPS) break;
    }
    this.events = capture.events;
    this.droppedEvents = capture.dropped;
    this.metrics = first.metrics();
    this.cache.set(this.steps.length, snapshot(first.core, capture.labels, this.steps.length));
    this.cursor = { stepper: first, labels: capture.labels };
  }

  /** Loads YAML text and runs it to the end. `traces` holds the records of its trace players. */
  static load(text: string, file: string, traces: TraceInputs = new Map()): ScenarioSession | LoadFailure {
    const s = loadScenario(text, file);
    if (!s.ok) return { ok: false, problems: s.problems };
    const missing = traceRefs(s.value).filter((r) => !traces.has(r.trace));
    if (missing.length > 0) {
      return {
        ok: false,
        problems: missing.map((r) =>
          s.value.source.problem(
            r.path,
            `trace '${r.trace}' is not available here: the viewer has the shipped traces and those of the file given to faultline view`,
          ),
        ),
      };
    }
    let capture: EventCapture | undefined;
    const st = ScenarioStepper.create(s.value, { traces }, (stepper) => {
      capture = new EventCapture(stepper.core, new Labels(stepper.names), (t) => pagerCpu(stepper, t));
      return capture.listener;
    });
    if (!st.ok) return { ok: false, problems: st.problems };
    return new ScenarioSession(s.value, traces, st.value, capture!);
  }

  /** The scenario's name. */
  get name(): string {
    return this.loaded.data.name;
  }

  /** The state after the first `k` steps (0: after the setup). */
  stateAt(k: number): SystemSnapshot {
    const at = Math.max(0, Math.min(k, this.steps.length));
    const hit = this.cache.get(at);
    if (hit) return hit;
    if (!this.cursor || this.cursor.stepper.position > at) {
      const st = ScenarioStepper.create(this.loaded, { traces: this.traces });
      // The first run created the same stepper: it cannot fail now.
      if (!st.ok) throw new Error(`internal: the scenario no longer loads: ${st.message}`);
      this.cursor = { stepper: st.value, labels: new Labels(st.value.names) };
    }
    const { stepper, labels } = this.cursor;
    while (stepper.position < at && stepper.next()) {
      // stepping
    }
    const snap = snapshot(stepper.core, labels, at);
    if (this.cache.size > 64) this.cache.clear();
    this.cache.set(at, snap);
    return snap;
  }
}

/** The CPU of the pager entrypoint that handles a thread's faults under the scenario's design. */
function pagerCpu(st: ScenarioStepper, t: Thread): number {
  return st.sim?.options.pagers === 'single' ? 0 : t.cpu;
}

function stepInfo(s: SteppedStep): StepInfo {
  return {
    index: s.index,
    label: s.label,
    path: s.path,
    line: s.line,
    kind: s.kind,
    text: s.text,
    lines: s.lines,
    failures: s.failures.map((f) => ({ line: f.line, column: f.column, message: f.message })),
    stopped: s.stopped,
  };
}
