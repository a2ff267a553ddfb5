/**
 * Core's error lines during a scenario run (the segmentation-fault texts and the like), and
 * which of them a step has checked. Genode's run scripts fail on an unexpected `Error:` line;
 * `expect_errors` states the same: exactly N lines (matching a pattern) since they were last
 * checked, and with `count: 0` and no pattern, no other errors. An access whose `expect.error`
 * names its line checks that line too.
 */
import type { StepOutput } from './run_steps.js';
import type { StepArgs } from './schema.js';

interface Line {
  readonly text: string;
  /** Label of the step that produced it (`setup` for the components). */
  readonly step: string;
  checked: boolean;
}

/** The error lines of a run, in order. */
export class ErrorLines {
  private readonly lines: Line[] = [];
  /** Index of the first line that may still be unchecked. */
  private firstOpen = 0;

  /** Records a line core reported during `step`. */
  add(text: string, step: string): void {
    this.lines.push({ text, step, checked: false });
  }

  /** Marks the oldest unchecked line with exactly this text as checked (an access expected it). */
  checkText(text: string): void {
    for (let i = this.firstOpen; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (!l.checked && l.text === text) {
        l.checked = true;
        break;
      }
    }
    this.advance();
  }

  /** Marks every unchecked line that `re` matches (all of them without `re`) checked and returns them. */
  take(re: RegExp | undefined): { readonly text: string; readonly step: string }[] {
    const out: Line[] = [];
    for (let i = this.firstOpen; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (l.checked || (re && !re.test(l.text))) continue;
      l.checked = true;
      out.push(l);
    }
    this.advance();
    return out;
  }

  private advance(): void {
    while (this.firstOpen < this.lines.length && this.lines[this.firstOpen]!.checked) this.firstOpen++;
  }
}

/** What `expect_errors` needs from its environment. */
export interface ErrorCheckEnv {
  readonly errors: ErrorLines;
  fail(message: string): void;
  expect(): void;
}

/** Lines shown in a failure message before the rest is summarised. */
const SHOWN = 3;

/** The `expect_errors` step: exactly `count` unchecked lines (that match), which become checked. */
export function expectErrors(env: ErrorCheckEnv, a: StepArgs<'expect_errors'>): StepOutput {
  env.expect();
  const got = env.errors.take(a.match === undefined ? undefined : new RegExp(a.match));
  const what = a.match === undefined ? 'error line(s)' : `error line(s) matching /${a.match}/`;
  if (got.length !== a.count) {
    const shown = got.slice(0, SHOWN).map((l) => `'${l.text}' (step ${l.step})`);
    const more = got.length > SHOWN ? `, and ${got.length - SHOWN} more` : '';
    env.fail(
      `expected ${a.count} ${what}, got ${got.length}${shown.length ? `: ${shown.join(', ')}${more}` : ''}`,
    );
  }
  return { text: `expect_errors${a.match === undefined ? '' : ` /${a.match}/`} -> ${got.length} ${what}` };
}
