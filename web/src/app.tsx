/**
 * The visualizer: a scenario editor on the left, the run's views on the right (address spaces,
 * fault path, why this size; replay and compare for result files), and a step bar that moves the
 * whole picture to the state after any step.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ViewPayload } from '../../src/cli/view_payload.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { Problem } from '../../src/scenario/problem.js';
import { sizeName } from '../../src/util/hex.js';
import { buildEpisodes, type Episode, episodeAt, mappedAttempt } from './model/episodes.js';
import { parseRunFile, type RunFile } from './model/runfile.js';
import { ScenarioSession, type TraceInputs } from './model/session.js';
import { recordBatches, SHIPPED, shippedTraces } from './model/shipped.js';
import { caretToLine, Editor, type LineNote } from './views/Editor.js';
import { FaultPath } from './views/FaultPath.js';
import { Header, useSize } from './views/Header.js';
import { mark } from './views/perf.js';
import { CompareView, ReplayView } from './views/RunViews.js';
import { SpaceView } from './views/SpaceView.js';
import { StepBar, StepList } from './views/Steps.js';
import { WhyView } from './views/WhyView.js';

type Tab = 'space' | 'path' | 'why' | 'replay' | 'compare';

const DEFAULT_SCENARIO = 'rm_fault';

export function App() {
  const [text, setText] = useState('');
  const [file, setFile] = useState('');
  const [traces, setTraces] = useState<TraceInputs>(new Map());
  const [problems, setProblems] = useState<readonly Problem[]>([]);
  const [session, setSession] = useState<ScenarioSession | null>(null);
  const [ranText, setRanText] = useState('');
  const [position, setPosition] = useState(0);
  const [tab, setTab] = useState<Tab>('space');
  const [episodeId, setEpisodeId] = useState<number | null>(null);
  const [frame, setFrame] = useState<number | null>(null);
  const [runFile, setRunFile] = useState<RunFile | null>(null);
  const [banner, setBanner] = useState<string | null>(null);
  const [before, setBefore] = useState<string | null>(null);
  const [left, setLeft] = useState<'yaml' | 'steps'>('yaml');
  const [reveal, setReveal] = useState<{ line: number; seq: number } | null>(null);
  const main = useRef<HTMLDivElement>(null);
  const size = useSize(main);

  /** Loads and runs text; returns the session (or null with problems shown). */
  const run = (
    t: string,
    f: string,
    tr: TraceInputs,
    keep?: { label: string; thread: string; address: number },
    fresh = false,
  ) => {
    mark('load-start');
    const s = ScenarioSession.load(t, f, tr);
    mark('model-done');
    setRanText(t);
    if (!('steps' in s)) {
      setProblems(s.problems);
      setBanner(
        `${s.problems.length} problem(s), marked at their lines: not run${session && !fresh ? '; the views still show the last run' : ''}`,
      );
      return null;
    }
    setProblems([]);
    setBanner(s.setupFailures.length ? `setup failed: ${s.setupFailures.join('; ')}` : null);
    setSession(s);
    setPosition(s.steps.length);
    setEpisodeId(null);
    setFrame(null);
    if (keep) {
      const eps = buildEpisodes(s.events, s.steps);
      const same = eps.find(
        (e) =>
          s.steps[e.firstStep]?.label === keep.label &&
          e.thread.name === keep.thread &&
          e.address === keep.address,
      );
      if (same) {
        setEpisodeId(same.id);
        setPosition(same.lastStep + 1);
      }
    }
    return s;
  };

  const openScenario = (t: string, f: string, tr: TraceInputs) => {
    setText(t);
    setFile(f);
    setTraces(tr);
    setBefore(null);
    setSession(null);
    run(t, f, tr, undefined, true);
    if (tab === 'replay' || tab === 'compare') setTab('space');
  };

  const openShipped = (name: string) => {
    const s = SHIPPED.find((x) => x.name === name);
    if (s) openScenario(s.text, `scenarios/${s.name}.yaml`, shippedTraces());
  };

  useEffect(() => {
    let done = false;
    fetch('./initial.json')
      .then((r) => (r.ok ? (r.json() as Promise<ViewPayload>) : ({ kind: 'none' } as const)))
      .catch(() => ({ kind: 'none' }) as const)
      .then((p: ViewPayload) => {
        if (done) return;
        if (p.kind === 'scenario') {
          const tr = new Map(shippedTraces());
          for (const [k, v] of Object.entries(p.traces)) tr.set(k, recordBatches(v));
          openScenario(p.text, p.file, tr);
        } else {
          openShipped(DEFAULT_SCENARIO);
          if (p.kind === 'run') openRun(p.json, p.file);
        }
      });
    return () => {
      done = true;
    };
  }, []);

  const openRun = (json: unknown, name: string) => {
    const r = parseRunFile(json, name);
    if ('error' in r) {
      setBanner(r.error);
      return;
    }
    setRunFile(r);
    setTab(r.kind);
  };

  // Validate while typing: problems show at their line before the run.
  useEffect(() => {
    if (!text || text === ranText) return;
    const t = setTimeout(() => {
      const r = loadScenario(text, file || 'scenario.yaml');
      setProblems(r.ok ? [] : r.problems);
    }, 250);
    return () => clearTimeout(t);
  }, [text]);

  const episodes = useMemo(() => (session ? buildEpisodes(session.events, session.steps) : []), [session]);
  const followed = episodeAt(episodes, position - 1);
  const episode: Episode | undefined = episodeId !== null ? episodes[episodeId] : followed;
  const frameIndex = episode
    ? frame !== null && episodeId !== null
      ? Math.min(frame, episode.frames.length - 1)
      : lastFrameAt(episode, position - 1)
    : 0;
  const snapshot = useMemo(() => (session ? session.stateAt(position) : null), [session, position]);
  const currentStep = session && position > 0 ? session.steps[position - 1] : undefined;

  const stepTo = (k: number) => {
    if (!session) return;
    setPosition(Math.max(0, Math.min(session.steps.length, k)));
    setEpisodeId(null);
    setFrame(null);
    const s = session.steps[k - 1];
    if (s) setReveal({ line: s.line, seq: Date.now() });
  };

  const toFrame = (ep: Episode, i: number) => {
    setEpisodeId(ep.id);
    setFrame(i);
    const f = ep.frames[i];
    if (f) {
      setPosition(f.step + 1);
      const s = session?.steps[f.step];
      if (s) setReveal({ line: s.line, seq: Date.now() });
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.tagName === 'SELECT') return;
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const d = e.key === 'ArrowRight' ? 1 : -1;
      if (tab === 'path' && episode) {
        e.preventDefault();
        toFrame(episode, Math.max(0, Math.min(episode.frames.length - 1, frameIndex + d)));
      } else if (session) {
        e.preventDefault();
        stepTo(position + d);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const notes: LineNote[] = problems.length
    ? problems.map((p) => ({
        line: p.line,
        column: p.column,
        message: `${p.path ? `${p.path}: ` : ''}${p.message}`,
        severity: 'error',
      }))
    : session && text === ranText
      ? session.steps
          .flatMap((s) => s.failures.map((f) => ({ ...f, severity: 'failure' as const })))
          .slice(0, 500)
      : [];

  const apply = (t: string, oldSize: string) => {
    if (!episode) return;
    const keep = {
      label: session!.steps[episode.firstStep]!.label,
      thread: episode.thread.name,
      address: episode.address,
    };
    setText(t);
    setBefore(oldSize);
    const s = run(t, file, traces, keep);
    if (s) setTab('why');
  };

  const onFile = async (f: File) => {
    const content = await f.text();
    if (/\.json$/i.test(f.name)) {
      try {
        openRun(JSON.parse(content), f.name);
      } catch {
        setBanner(`${f.name}: not valid JSON`);
      }
    } else openScenario(content, f.name, shippedTraces());
  };

  const chosen = episode ? mappedAttempt(episode) : undefined;
  const tabs: [Tab, string, boolean][] = [
    ['space', 'Address spaces', !!snapshot],
    ['path', 'Fault path', !!session],
    ['why', 'Why this size', !!session],
    ['replay', 'Replay', runFile?.kind === 'replay'],
    ['compare', 'Compare', runFile?.kind === 'compare'],
  ];
  return (
    <div class="app">
      <Header
        file={file}
        session={session}
        onShipped={openShipped}
        onFile={(f) => void onFile(f)}
        onRun={() => run(text, file, traces)}
      />
      {banner && (
        <div class="banner" data-testid="banner">
          {banner}
        </div>
      )}
      <div class="body">
        <section class="left">
          <div class="left-tabs">
            <button type="button" class={left === 'yaml' ? 'on' : ''} onClick={() => setLeft('yaml')}>
              YAML {file && <span class="mono muted">{file.replace(/^.*\//, '')}</span>}
            </button>
            <button
              type="button"
              class={left === 'steps' ? 'on' : ''}
              onClick={() => setLeft('steps')}
              data-testid="steps-tab"
            >
              Steps {session ? `(${session.steps.length})` : ''}
            </button>
          </div>
          {left === 'yaml' ? (
            <>
              <Editor
                text={text}
                notes={notes}
                activeLine={currentStep?.line ?? null}
                reveal={reveal}
                onChange={setText}
                onRun={() => run(text, file, traces)}
              />
              {problems.length > 0 && (
                <ul class="problems" data-testid="problems">
                  {problems.slice(0, 50).map((p) => (
                    <li key={`${p.line}:${p.column}:${p.message}`}>
                      <button type="button" class="link" onClick={() => caretToLine(p.line)}>
                        line {p.line}:{p.column}
                      </button>{' '}
                      {p.path && <span class="mono">{p.path}: </span>}
                      {p.message}
                    </li>
                  ))}
                </ul>
              )}
            </>
          ) : (
            session && <StepList steps={session.steps} position={position} onPick={(i) => stepTo(i + 1)} />
          )}
        </section>
        <section class="main">
          {session && <StepBar session={session} position={position} episodes={episodes} onStep={stepTo} />}
          <nav class="tabs">
            {tabs.map(([id, label, on]) => (
              <button
                type="button"
                key={id}
                data-testid={`tab-${id}`}
                class={tab === id ? 'on' : ''}
                disabled={!on}
                onClick={() => setTab(id)}
              >
                {label}
                {id === 'why' && chosen?.decision.kind === 'mapped' ? (
                  <span class="tab-badge">{sizeName(2 ** chosen.decision.mapping.sizeLog2)}</span>
                ) : null}
              </button>
            ))}
          </nav>
          <div class="view" ref={main} data-testid={`view-${tab}`}>
            {tab === 'space' && snapshot && (
              <SpaceView
                snapshot={snapshot}
                width={size.width}
                height={size.height}
                metrics={session!.metrics}
              />
            )}
            {tab === 'path' && session && (
              <FaultPath
                episodes={episodes}
                episode={episode}
                frame={frameIndex}
                steps={session.steps}
                width={size.width}
                onFrame={(i) => episode && toFrame(episode, i)}
                onEpisode={(id) => {
                  const ep = episodes[id];
                  if (ep) toFrame(ep, 0);
                }}
              />
            )}
            {tab === 'why' && session && (
              <WhyView
                episodes={episodes}
                episode={episode}
                events={session.events}
                steps={session.steps}
                text={text}
                width={size.width}
                before={before}
                onApply={apply}
                onEpisode={(id) => {
                  const ep = episodes[id];
                  if (ep) toFrame(ep, ep.frames.length - 1);
                }}
              />
            )}
            {tab === 'replay' && runFile?.kind === 'replay' && (
              <ReplayView r={runFile.result} trace={runFile.trace} width={size.width} />
            )}
            {tab === 'compare' && runFile?.kind === 'compare' && (
              <CompareView results={runFile.results} trace={runFile.trace} width={size.width} />
            )}
          </div>
        </section>
      </div>
    </div>
  );
}

/** The last frame of an episode that happened at or before step k (its first frame if none). */
function lastFrameAt(ep: Episode, k: number): number {
  let i = 0;
  for (let j = 0; j < ep.frames.length; j++) if (ep.frames[j]!.step <= k) i = j;
  return i;
}
