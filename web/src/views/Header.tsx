/** The page's header (scenario picker, open, run, the run's summary) and a size hook. */
import { useEffect, useState } from 'preact/hooks';
import type { ScenarioSession } from '../model/session.js';
import { SHIPPED } from '../model/shipped.js';

/** The element's size, kept up to date. */
export function useSize(ref: { current: HTMLElement | null }): { width: number; height: number } {
  const [size, setSize] = useState({ width: 900, height: 600 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    setSize({ width: el.clientWidth, height: el.clientHeight });
    return () => ro.disconnect();
  }, []);
  return size;
}

export function Header({
  file,
  session,
  onShipped,
  onFile,
  onRun,
}: {
  file: string;
  session: ScenarioSession | null;
  onShipped(name: string): void;
  onFile(f: File): void;
  onRun(): void;
}) {
  return (
    <header>
      <div class="brand">
        faultline <span>view</span>
      </div>
      <label class="picker">
        scenario{' '}
        <select
          data-testid="scenario-select"
          value={SHIPPED.some((s) => `scenarios/${s.name}.yaml` === file) ? file : ''}
          onChange={(e) =>
            onShipped((e.target as HTMLSelectElement).value.replace(/^scenarios\/|\.yaml$/g, ''))
          }
        >
          <option value="" disabled>
            {file && !file.startsWith('scenarios/') ? file : 'choose a shipped scenario'}
          </option>
          {SHIPPED.map((s) => (
            <option key={s.name} value={`scenarios/${s.name}.yaml`} title={s.description}>
              {s.name}: {s.description}
            </option>
          ))}
        </select>
      </label>
      <label class="open button">
        Open file…
        <input
          type="file"
          accept=".yaml,.yml,.json"
          data-testid="open-file"
          onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) onFile(f);
          }}
        />
      </label>
      <button type="button" class="primary" data-testid="run" onClick={onRun} title="Ctrl+Enter">
        Run ▶
      </button>
      {session && (
        <span class="summary" data-testid="summary">
          {session.name}: {session.steps.length} step(s),{' '}
          {session.steps.reduce((n, s) => n + s.failures.length, 0) === 0
            ? 'all expectations hold'
            : `${session.steps.reduce((n, s) => n + s.failures.length, 0)} failed`}
          {session.simulated ? ', simulated' : ''}
        </span>
      )}
    </header>
  );
}
