/**
 * The fault path as a sequence diagram: lanes for the thread, the kernel, the pager entrypoint,
 * each region map walked and the fault handler; one message or note per frame. Frames up to the
 * current one are drawn, the current one animated, the rest as a faint outline of what is to come.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { hex, sizeName } from '../../../src/util/hex.js';
import type { Episode, Frame } from '../model/episodes.js';
import type { StepInfo } from '../model/session.js';
import { Icon } from './Icon.js';
import { TONE_COLOUR } from './palette.js';
import { frameLaidOut, markFrameStart } from './perf.js';

const HEAD = 62;
const ROW = 40;

export interface FaultPathProps {
  readonly episodes: readonly Episode[];
  readonly episode: Episode | undefined;
  readonly frame: number;
  readonly steps: readonly StepInfo[];
  readonly width: number;
  onFrame(i: number): void;
  onEpisode(id: number): void;
}

/** One line naming an episode in the selector. */
export function episodeTitle(e: Episode, steps: readonly StepInfo[]): string {
  const label = steps[e.firstStep]?.label ?? String(e.firstStep + 1);
  const last = e.attempts.at(-1)?.decision;
  const end =
    e.outcome === 'mapped' && last?.kind === 'mapped'
      ? `mapped ${sizeLabel(last.mapping.sizeLog2)}`
      : e.outcome === 'explained'
        ? 'explained'
        : e.outcome === 'waiting'
          ? 'parked'
          : 'error';
  const reflected =
    e.frames.some((f) => f.tone === 'signal') && e.outcome !== 'explained' ? 'reflected, ' : '';
  return `step ${label}: ${e.thread.name} ${e.access.toUpperCase()} ${hex(e.address)} → ${reflected}${end}`;
}

function sizeLabel(log2: number): string {
  return sizeName(2 ** log2);
}

export function FaultPath({ episodes, episode, frame, steps, width, onFrame, onEpisode }: FaultPathProps) {
  const [playing, setPlaying] = useState(false);
  const last = episode ? episode.frames.length - 1 : 0;
  const go = (i: number) => {
    markFrameStart();
    onFrame(Math.max(0, Math.min(last, i)));
  };
  const frameRef = useRef(frame);
  frameRef.current = frame;
  const root = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    frameLaidOut(root.current);
    root.current?.querySelector('.frame.current')?.scrollIntoView({ block: 'nearest' });
  }, [frame, episode]);
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      if (frameRef.current >= last) setPlaying(false);
      else go(frameRef.current + 1);
    }, 900);
    return () => clearInterval(t);
  }, [playing, last]);
  if (!episode) {
    return (
      <div class="empty" data-testid="fault-path-empty">
        No page fault in this run yet. Faults appear when a thread touches memory it has no mapping for (read,
        write and exec steps, or a simulation).
      </div>
    );
  }
  const f = episode.frames[frame];
  return (
    <div class="fault-path" ref={root}>
      <div class="toolbar">
        <EpisodeSelect
          episodes={episodes}
          episode={episode}
          steps={steps}
          onEpisode={onEpisode}
          testId="episode-select"
        />
        <span class="controls">
          <button type="button" title="first frame" onClick={() => go(0)} disabled={frame === 0}>
            <Icon name="first" />
          </button>
          <button
            type="button"
            data-testid="frame-prev"
            title="previous frame (←)"
            onClick={() => go(frame - 1)}
            disabled={frame === 0}
          >
            <Icon name="prev" />
          </button>
          <button type="button" data-testid="frame-play" title="play" onClick={() => setPlaying(!playing)}>
            {playing ? <Icon name="pause" /> : <Icon name="play" />} {playing ? 'pause' : 'play'}
          </button>
          <button
            type="button"
            data-testid="frame-next"
            title="next frame (→)"
            onClick={() => go(frame + 1)}
            disabled={frame >= last}
          >
            <Icon name="next" />
          </button>
          <button type="button" title="last frame" onClick={() => go(last)} disabled={frame >= last}>
            <Icon name="last" />
          </button>
          <span class="counter" data-testid="frame-counter">
            frame {frame + 1} / {last + 1}
          </span>
        </span>
      </div>
      {f && (
        <div class={`caption tone-${f.tone}`} data-testid="frame-caption">
          <span class="step-tag">step {steps[f.step]?.label ?? f.step + 1}</span>
          {f.detail}
        </div>
      )}
      <Diagram episode={episode} frame={frame} width={width} onFrame={go} />
    </div>
  );
}

/** Picks one of the run's faults (up to 1500 around the selected one: long runs have thousands). */
export function EpisodeSelect({
  episodes,
  episode,
  steps,
  onEpisode,
  testId,
}: {
  episodes: readonly Episode[];
  episode: Episode;
  steps: readonly StepInfo[];
  onEpisode(id: number): void;
  testId: string;
}) {
  const shown = episodes.length > 1500 ? nearby(episodes, episode.id) : episodes;
  return (
    <label class="episode-select">
      fault{' '}
      <select
        data-testid={testId}
        value={episode.id}
        onChange={(e) => onEpisode(Number((e.target as HTMLSelectElement).value))}
      >
        {shown.map((e) => (
          <option key={e.id} value={e.id}>
            {episodeTitle(e, steps)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Up to 1500 episodes around the selected one (long runs have thousands). */
export function nearby(episodes: readonly Episode[], id: number): readonly Episode[] {
  const from = Math.max(0, Math.min(id - 750, episodes.length - 1500));
  return episodes.slice(from, from + 1500);
}

function Diagram({
  episode,
  frame,
  width,
  onFrame,
}: {
  episode: Episode;
  frame: number;
  width: number;
  onFrame(i: number): void;
}) {
  const lanes = episode.lanes;
  const laneW = Math.max(140, Math.floor((width - 30) / lanes.length));
  const svgW = Math.max(width - 10, laneW * lanes.length + 20);
  const x = new Map(lanes.map((l, i) => [l.id, 10 + laneW * i + laneW / 2]));
  const h = 24 + episode.frames.length * ROW;
  return (
    <div class="diagram-scroll">
      <div class="lane-heads" style={{ width: `${svgW}px` }}>
        <svg width={svgW} height={HEAD} role="img" aria-label="lanes">
          {lanes.map((l) => {
            const cx = x.get(l.id)!;
            return (
              <g key={l.id} class="lane" data-lane={l.id}>
                <line x1={cx} x2={cx} y1={HEAD - 8} y2={HEAD} class="lifeline" />
                <rect
                  x={cx - laneW / 2 + 8}
                  y={6}
                  width={laneW - 16}
                  height={HEAD - 14}
                  rx={6}
                  class={`lane-head lane-${l.id.split(':')[0]}`}
                />
                <text x={cx} y={27} class="lane-title" text-anchor="middle">
                  {clip(l.title, laneW - 24, 7)}
                </text>
                <text x={cx} y={43} class="lane-sub" text-anchor="middle">
                  {clip(l.sub, laneW - 24, 5.9)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <svg width={svgW} height={h} data-testid="sequence" role="img" aria-label="fault path sequence diagram">
        <defs>
          {Object.entries(TONE_COLOUR).map(([tone, c]) => (
            <marker
              key={tone}
              id={`arrow-${tone}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="11"
              markerHeight="11"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" fill={c} />
            </marker>
          ))}
        </defs>
        {lanes.map((l) => (
          <line key={l.id} x1={x.get(l.id)!} x2={x.get(l.id)!} y1={0} y2={h - 6} class="lifeline" />
        ))}
        {episode.frames.map((fr, i) => (
          <FrameView
            key={i === frame ? `current-${i}` : `f${i}`}
            fr={fr}
            i={i}
            state={i < frame ? 'past' : i === frame ? 'current' : 'future'}
            x1={x.get(fr.from) ?? 0}
            x2={x.get(fr.to) ?? 0}
            laneW={laneW}
            svgW={svgW}
            onClick={() => onFrame(i)}
          />
        ))}
      </svg>
    </div>
  );
}

function clip(s: string, px: number, charPx: number): string {
  const n = Math.floor(px / charPx);
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}

function FrameView({
  fr,
  i,
  state,
  x1,
  x2,
  laneW,
  svgW,
  onClick,
}: {
  fr: Frame;
  i: number;
  state: 'past' | 'current' | 'future';
  x1: number;
  x2: number;
  laneW: number;
  svgW: number;
  onClick(): void;
}) {
  const y = 26 + i * ROW;
  const c = TONE_COLOUR[fr.tone] ?? '#334155';
  const cls = `frame ${state} tone-${fr.tone}`;
  if (x1 === x2) {
    const w = Math.min(laneW * 1.9, Math.max(90, fr.label.length * 7.1 + 20));
    // Keep notes of the outer lanes inside the drawing.
    const cx = Math.max(w / 2 + 2, Math.min(svgW - w / 2 - 2, x1));
    return (
      // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
      <g
        class={cls}
        data-testid="frame"
        role="button"
        tabIndex={-1}
        onClick={onClick}
        onKeyDown={(e) => e.key === 'Enter' && onClick()}
      >
        <rect x={cx - w / 2} y={y - 15} width={w} height={24} rx={5} fill="#fff" stroke={c} class="note" />
        <text x={cx} y={y + 1} text-anchor="middle" class="note-text" fill={c}>
          {clip(fr.label, w - 12, 7.1)}
        </text>
      </g>
    );
  }
  const dir = x2 > x1 ? 1 : -1;
  const len = Math.abs(x2 - x1);
  return (
    // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
    <g
      class={cls}
      data-testid="frame"
      role="button"
      tabIndex={-1}
      onClick={onClick}
      onKeyDown={(e) => e.key === 'Enter' && onClick()}
    >
      <line
        x1={x1 + dir * 3}
        y1={y}
        x2={x2 - dir * 5}
        y2={y}
        stroke={c}
        stroke-width={state === 'current' ? 2.6 : 1.6}
        stroke-dasharray={fr.tone === 'signal' || fr.tone === 'wake' ? '6 4' : undefined}
        marker-end={`url(#arrow-${fr.tone})`}
        class="msg"
        style={{ '--len': `${len}` }}
      />
      <text x={(x1 + x2) / 2} y={y - 7} text-anchor="middle" class="msg-label" fill={c}>
        {clip(fr.label, Math.max(len + laneW * 0.7, 170), 7.1)}
      </text>
    </g>
  );
}
