/** The step bar (move the whole picture to the state after any step) and the list of steps. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Episode } from '../model/episodes.js';
import type { ScenarioSession, StepInfo } from '../model/session.js';
import { Icon } from './Icon.js';

export function StepBar({
  session,
  position,
  episodes,
  onStep,
}: {
  session: ScenarioSession;
  position: number;
  episodes: readonly Episode[];
  onStep(k: number): void;
}) {
  const n = session.steps.length;
  const s = position > 0 ? session.steps[position - 1] : undefined;
  // The next step after the current one in which a fault began.
  const nextFault = episodes.find((e) => e.firstStep >= position && e.outcome !== 'explained');
  return (
    <div class="stepbar" data-testid="stepbar">
      <button type="button" title="before the first step" onClick={() => onStep(0)} disabled={position === 0}>
        <Icon name="first" />
      </button>
      <button
        type="button"
        data-testid="step-back"
        title="one step back (←)"
        onClick={() => onStep(position - 1)}
        disabled={position === 0}
      >
        <Icon name="prev" />
      </button>
      <input
        type="range"
        min={0}
        max={n}
        value={position}
        aria-label="step"
        data-testid="step-slider"
        onInput={(e) => onStep(Number((e.target as HTMLInputElement).value))}
      />
      <button
        type="button"
        data-testid="step-forward"
        title="one step forward (→)"
        onClick={() => onStep(position + 1)}
        disabled={position >= n}
      >
        <Icon name="next" />
      </button>
      <button type="button" title="after the last step" onClick={() => onStep(n)} disabled={position >= n}>
        <Icon name="last" />
      </button>
      <button
        type="button"
        data-testid="next-fault"
        title="to the step of the next page fault"
        disabled={!nextFault}
        onClick={() => nextFault && onStep(nextFault.firstStep + 1)}
      >
        next fault
      </button>
      <span
        class="where"
        data-testid="step-label"
        title={s ? [s.text, ...s.lines, ...s.failures.map((f) => `FAILED: ${f.message}`)].join('\n') : ''}
      >
        {s ? (
          <>
            after step <b>{s.label}</b> <span class="muted">(line {s.line})</span>:{' '}
            <span class="mono">{s.text}</span>
            {s.failures.length > 0 && <span class="fail"> ✗ {s.failures[0]!.message}</span>}
          </>
        ) : (
          <>before the first step: components created</>
        )}
        <span class="count">
          {position}/{n}
        </span>
      </span>
    </div>
  );
}

const ROW = 22;

/** Every executed step, virtualised (long repeats run thousands). */
export function StepList({
  steps,
  position,
  onPick,
}: {
  steps: readonly StepInfo[];
  position: number;
  onPick(i: number): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [h, setH] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setH(el.clientHeight);
    const target = Math.max(0, (position - 1) * ROW - el.clientHeight / 3);
    if ((position - 1) * ROW < el.scrollTop || (position - 1) * ROW > el.scrollTop + el.clientHeight - ROW)
      el.scrollTop = target;
  }, [position]);
  const first = Math.max(0, Math.floor(top / ROW) - 5);
  const last = Math.min(steps.length, Math.ceil((top + h) / ROW) + 5);
  return (
    <div
      class="steplist"
      ref={box}
      onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)}
      data-testid="steplist"
    >
      <div style={{ height: `${steps.length * ROW}px`, position: 'relative' }}>
        {steps.slice(first, last).map((s) => (
          <button
            type="button"
            key={s.index}
            class={`steprow${s.index === position - 1 ? ' on' : ''}${s.failures.length ? ' failed' : ''}`}
            style={{ top: `${s.index * ROW}px`, paddingLeft: `${8 + s.label.split('.').length * 6}px` }}
            onClick={() => onPick(s.index)}
            title={s.failures.map((f) => f.message).join('\n') || s.text}
          >
            <span class="label">{s.label}</span>
            <span class="text">{s.text}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
