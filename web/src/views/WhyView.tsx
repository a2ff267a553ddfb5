/**
 * "Why this size" for the selected fault: every constraint on the mapping size as a bar up to the
 * largest size it alone allows (log scale), the supported page sizes as ticks, the chosen size as
 * a line; then the counterfactual, with a button that moves the attach and re-runs the scenario.
 */
import { scaleLinear } from 'd3-scale';
import { hex, sizeName } from '../../../src/util/hex.js';
import { type Episode, mappedAttempt } from '../model/episodes.js';
import type { StepInfo } from '../model/session.js';
import type { ExplainView, ViewEvent } from '../model/types.js';
import { counterfactual } from '../model/why.js';
import { setScalar } from '../model/yaml_edit.js';
import { EpisodeSelect, episodeTitle } from './FaultPath.js';
import { sizeColour } from './palette.js';

export interface WhyViewProps {
  readonly episodes: readonly Episode[];
  readonly episode: Episode | undefined;
  readonly events: readonly ViewEvent[];
  readonly steps: readonly StepInfo[];
  readonly text: string;
  readonly width: number;
  /** What the same fault got before the last apply, to show the change. */
  readonly before: string | null;
  onApply(text: string, note: string): void;
  onEpisode(id: number): void;
}

const ROW = 46;
const LEFT = 150;

export function WhyView({
  episodes,
  episode,
  events,
  steps,
  text,
  width,
  before,
  onApply,
  onEpisode,
}: WhyViewProps) {
  if (!episode) {
    return (
      <div class="empty">
        Select a fault (Fault path tab, or step to one): its mapping size is explained here.
      </div>
    );
  }
  const f = mappedAttempt(episode);
  const last = episode.attempts.at(-1)!;
  if (f?.decision.kind !== 'mapped') {
    const d = last.decision;
    const why =
      d.kind === 'too-deep'
        ? 'core gave up: the nesting is deeper than five levels'
        : d.kind === 'unresolved'
          ? `${d.reason === 'NO_REGION' ? 'nothing attached' : d.reason === 'RESERVED' ? 'a reserved hole' : `${d.reason.split('_')[0]} violation`} at ${hex(d.address)} of ${d.map.name}${d.handler ? `, reflected to '${d.handler}'` : ''}`
          : '';
    const mapped = episodes.filter(
      (e) => e.outcome === 'mapped' || (e.outcome === 'explained' && mappedAttempt(e)),
    );
    return (
      <div class="why" data-testid="why">
        <EpisodeSelect
          episodes={episodes}
          episode={episode}
          steps={steps}
          onEpisode={onEpisode}
          testId="why-select"
        />
        <h2>
          {episode.thread.name} {episode.access.toUpperCase()} {hex(episode.address)}: no mapping{' '}
          {episode.outcome === 'waiting' ? 'yet' : ''}
        </h2>
        <p>The walk ended without a leaf dataspace: {why}. There is no size to explain.</p>
        {mapped.length > 0 && (
          <p>
            Faults of this run that got a mapping:{' '}
            {mapped.slice(-8).map((e) => (
              <button type="button" class="link fault-link" key={e.id} onClick={() => onEpisode(e.id)}>
                {episodeTitle(e, steps)}
              </button>
            ))}
          </p>
        )}
      </div>
    );
  }
  const d = f.decision;
  const e = d.explain;
  const cf = counterfactual(f, events, steps, f.step);
  const chosen = sizeName(2 ** e.chosenLog2);
  const now = `${chosen}`;
  return (
    <div class="why" data-testid="why">
      <EpisodeSelect
        episodes={episodes}
        episode={episode}
        steps={steps}
        onEpisode={onEpisode}
        testId="why-select"
      />
      <h2>
        Why{' '}
        <span class="size-badge" data-testid="chosen-size" style={{ background: sizeColour(e.chosenLog2) }}>
          {chosen}
        </span>
        ?{' '}
        <span class="muted">
          {episode.thread.name} {f.access.toUpperCase()} at {hex(f.address)} → {hex(d.mapping.va)} maps{' '}
          {hex(d.mapping.pa)} ({d.ds.name})
        </span>
      </h2>
      {before && before !== now && (
        <div class="applied" data-testid="applied">
          After the change the same fault gets <b>{now}</b> (it got {before}).
        </div>
      )}
      {before && before === now && (
        <div class="applied warn" data-testid="applied">
          After the change the same fault still gets {now}: another constraint binds (see the bars).
        </div>
      )}
      <p class="lead">
        The pager takes the largest supported page size that no constraint forbids: each bar reaches up to the
        largest size its constraint alone allows.
        {tightestLog2(e) > e.chosenLog2 &&
          ` The tightest constraint allows ${sizeName(2 ** tightestLog2(e))}, which is not a size the kernel maps; the largest one below it is ${chosen}.`}
      </p>
      <Chart e={e} width={width} />
      <div class="counterfactual" data-testid="counterfactual">
        <h3>What if the attach were aligned?</h3>
        {cf ? (
          <Counter cf={cf} e={e} text={text} onApply={onApply} chosen={chosen} />
        ) : e.ifAlignedLog2 > e.chosenLog2 ? (
          <p>
            With matching virtual/physical alignment the same fault would get {sizeName(2 ** e.ifAlignedLog2)}
            , but no shift of the outermost attach keeps the fault inside the region and gets there.
          </p>
        ) : (
          <p>
            Alignment is not what limits this fault: no shift of the attach gets it more than {chosen}. The
            window, the dataspace or the page sizes bind.
          </p>
        )}
      </div>
    </div>
  );
}

function tightestLog2(e: ExplainView): number {
  return Math.min(...e.constraints.map((c) => c.maxLog2));
}

function Counter({
  cf,
  e,
  text,
  chosen,
  onApply,
}: {
  cf: NonNullable<ReturnType<typeof counterfactual>>;
  e: ExplainView;
  text: string;
  chosen: string;
  onApply(text: string, note: string): void;
}) {
  const target = sizeName(2 ** cf.sizeLog2);
  const edit = cf.step ? setScalar(text, [...cf.step.path, 'attach', 'at'], hex(cf.newAt)) : null;
  const bits = cf.sizeLog2;
  return (
    <>
      <p>
        {e.ifAlignedLog2 > e.chosenLog2 && (
          <>
            With matching virtual/physical alignment the same fault would get{' '}
            <b>{sizeName(2 ** e.ifAlignedLog2)}</b>.{' '}
          </>
        )}
        Attaching <span class="mono">{cf.dataspace}</span> to <span class="mono">{cf.map}</span> at{' '}
        <b class="mono">{hex(cf.newAt)}</b> instead of <span class="mono">{hex(cf.oldAt)}</span> puts the
        fault's {target} block inside the window with virtual and physical addresses agreeing in their low{' '}
        {bits} bits: a <b>{target}</b> mapping instead of {chosen}.
      </p>
      {edit?.ok ? (
        <button
          type="button"
          class="primary"
          data-testid="apply-counterfactual"
          onClick={() => onApply(edit.text, chosen)}
        >
          Attach at {hex(cf.newAt)} (step {cf.step!.label}, line {cf.step!.line}) and re-run
        </button>
      ) : (
        <p class="muted">
          {cf.step
            ? `Cannot apply it automatically: ${edit && !edit.ok ? edit.message : 'no attach step'}.`
            : 'The region was not attached by a step of the scenario, so there is nothing to edit.'}
        </p>
      )}
    </>
  );
}

function Chart({ e, width }: { e: ExplainView; width: number }) {
  const lo = e.archSizesLog2[0]!;
  const archMax = e.archSizesLog2.at(-1)!;
  const hi = Math.min(52, Math.max(archMax, e.ifAlignedLog2, e.chosenLog2) + 3);
  const w = Math.max(420, Math.min(width - 20, 1100));
  // Bars start a little left of the smallest size, so a constraint that allows only it still shows.
  const x = scaleLinear()
    .domain([lo, hi])
    .range([LEFT + 14, w - 70]);
  const base = LEFT;
  const rows = e.constraints;
  const tightest = tightestLog2(e);
  const h = 40 + rows.length * ROW + 30;
  const ticks: number[] = [];
  for (let s = lo; s <= hi; s++) ticks.push(s);
  return (
    <svg
      width={w}
      height={h}
      class="why-chart"
      data-testid="why-chart"
      role="img"
      aria-label="size constraints"
    >
      {ticks.map((s) => {
        const mapped = e.mapSizesLog2.includes(s);
        const arch = e.archSizesLog2.includes(s);
        return (
          <g key={s}>
            <line
              x1={x(s)}
              x2={x(s)}
              y1={24}
              y2={h - 24}
              class={mapped ? 'tick mapped' : arch ? 'tick arch' : 'tick'}
            />
            {(mapped || arch || s % 4 === 0) && (
              <text x={x(s)} y={16} text-anchor="middle" class={mapped ? 'tick-label mapped' : 'tick-label'}>
                {sizeName(2 ** s)}
              </text>
            )}
          </g>
        );
      })}
      {rows.map((c, i) => {
        const y = 36 + i * ROW;
        const end = Math.min(c.maxLog2, hi);
        const binds = c.maxLog2 === tightest;
        return (
          <g key={`${c.kind}${i}`} class={binds ? 'constraint binds' : 'constraint'} data-testid="constraint">
            <text x={8} y={y + 15} class="c-kind">
              {c.kind}
            </text>
            <rect x={base} y={y} width={x(end) - base} height={20} rx={3} class="c-bar" />
            <text x={x(end) + 6} y={y + 15} class="c-max">
              {c.maxLog2 >= hi ? `≥ ${sizeName(2 ** hi)}` : `≤ ${sizeName(2 ** c.maxLog2)}`}
            </text>
            <text x={base + 4} y={y + 34} class="c-detail">
              {c.detail}
            </text>
          </g>
        );
      })}
      <line x1={x(e.chosenLog2)} x2={x(e.chosenLog2)} y1={22} y2={h - 18} class="chosen-line" />
      <text x={x(e.chosenLog2)} y={h - 4} text-anchor="middle" class="chosen-label">
        chosen {sizeName(2 ** e.chosenLog2)}
      </text>
    </svg>
  );
}
