/** Small SVG charts for the replay and compare panels (d3-scale and d3-shape, drawn by Preact). */
import { scaleLinear } from 'd3-scale';
import { area, line, stack } from 'd3-shape';

const M = { top: 14, right: 14, bottom: 26, left: 48 };

function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n * 100) / 100);
}

/** A stacked area chart: one layer per key, over x. */
export function StackChart({
  xs,
  layers,
  colours,
  width,
  height,
  xLabel,
  cursor,
  testId,
}: {
  xs: readonly number[];
  layers: readonly { key: string; values: readonly number[] }[];
  colours: (key: string) => string;
  width: number;
  height: number;
  xLabel: string;
  cursor?: number;
  testId?: string;
}) {
  const rows = xs.map((_, i) => Object.fromEntries(layers.map((l) => [l.key, l.values[i] ?? 0])));
  const series = stack<Record<string, number>>().keys(layers.map((l) => l.key))(rows);
  const top = Math.max(1, ...series.flatMap((s) => s.map((p) => p[1])));
  const x = scaleLinear()
    .domain([Math.min(...xs, 0), Math.max(...xs, 1)])
    .range([M.left, width - M.right]);
  const y = scaleLinear()
    .domain([0, top])
    .nice()
    .range([height - M.bottom, M.top]);
  const a = area<[number, number]>()
    .x((_, i) => x(xs[i]!))
    .y0((p) => y(p[0]))
    .y1((p) => y(p[1]));
  return (
    <svg width={width} height={height} class="chart" data-testid={testId} role="img" aria-label={xLabel}>
      <Grid x={x} y={y} width={width} height={height} xLabel={xLabel} />
      {series.map((s) => (
        <path
          key={s.key}
          d={a(s as unknown as [number, number][]) ?? ''}
          fill={colours(s.key)}
          fill-opacity={0.85}
        />
      ))}
      {cursor !== undefined && (
        <line x1={x(cursor)} x2={x(cursor)} y1={M.top} y2={height - M.bottom} class="cursor" />
      )}
    </svg>
  );
}

/** Lines over x, one per series. */
export function LineChart({
  series,
  width,
  height,
  xLabel,
  yMin,
  yMax,
  testId,
}: {
  series: readonly { key: string; colour: string; points: readonly { x: number; y: number }[] }[];
  width: number;
  height: number;
  xLabel: string;
  yMin?: number;
  yMax?: number;
  testId?: string;
}) {
  const all = series.flatMap((s) => s.points);
  const x = scaleLinear()
    .domain([Math.min(0, ...all.map((p) => p.x)), Math.max(1, ...all.map((p) => p.x))])
    .range([M.left, width - M.right]);
  const y = scaleLinear()
    .domain([yMin ?? 0, yMax ?? Math.max(1e-9, ...all.map((p) => p.y))])
    .nice()
    .range([height - M.bottom, M.top]);
  const l = line<{ x: number; y: number }>()
    .x((p) => x(p.x))
    .y((p) => y(p.y));
  return (
    <svg width={width} height={height} class="chart" data-testid={testId} role="img" aria-label={xLabel}>
      <Grid x={x} y={y} width={width} height={height} xLabel={xLabel} />
      {series.map((s) => (
        <g key={s.key}>
          <path
            d={l(s.points as { x: number; y: number }[]) ?? ''}
            fill="none"
            stroke={s.colour}
            stroke-width={2}
          />
          {s.points.map((p) => (
            <circle key={p.x} cx={x(p.x)} cy={y(p.y)} r={2.5} fill={s.colour} />
          ))}
        </g>
      ))}
    </svg>
  );
}

type Scale = ReturnType<typeof scaleLinear<number, number>>;

function Grid({
  x,
  y,
  width,
  height,
  xLabel,
}: {
  x: Scale;
  y: Scale;
  width: number;
  height: number;
  xLabel: string;
}) {
  return (
    <g class="grid">
      {y.ticks(4).map((t) => (
        <g key={`y${t}`}>
          <line x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} />
          <text x={M.left - 6} y={y(t) + 4} text-anchor="end">
            {fmt(t)}
          </text>
        </g>
      ))}
      {x.ticks(6).map((t) => (
        <text key={`x${t}`} x={x(t)} y={height - M.bottom + 14} text-anchor="middle">
          {fmt(t)}
        </text>
      ))}
      <text x={width - M.right} y={height - 2} text-anchor="end" class="axis-label">
        {xLabel}
      </text>
    </g>
  );
}

/** Horizontal bars, one per item, scaled to the largest. */
export function Bars({
  items,
  width,
  format,
  testId,
}: {
  items: readonly { label: string; value: number; colour: string }[];
  width: number;
  format?: (v: number) => string;
  testId?: string;
}) {
  const max = Math.max(1e-12, ...items.map((i) => i.value));
  const labelW = 110;
  const x = scaleLinear()
    .domain([0, max])
    .range([0, width - labelW - 90]);
  const rowH = 22;
  return (
    <svg
      width={width}
      height={items.length * rowH + 4}
      class="bars"
      data-testid={testId}
      role="img"
      aria-label="bars"
    >
      {items.map((it, i) => (
        <g key={it.label} transform={`translate(0,${i * rowH + 2})`}>
          <text x={labelW - 8} y={14} text-anchor="end" class="bar-label">
            {it.label}
          </text>
          <rect x={labelW} y={2} width={Math.max(1, x(it.value))} height={rowH - 6} rx={2} fill={it.colour} />
          <text x={labelW + Math.max(1, x(it.value)) + 6} y={14} class="bar-value">
            {format ? format(it.value) : fmt(it.value)}
          </text>
        </g>
      ))}
    </svg>
  );
}

export { fmt };
