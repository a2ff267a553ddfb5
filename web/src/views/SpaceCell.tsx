/** One cell of the address-space icicle: a node (with its mapping strip and faulters) or a bundle. */
import { hex, sizeName } from '../../../src/util/hex.js';
import type { SpaceNode } from '../model/icicle.js';
import { type Cell, describe, dsKindOf, mappingsIn } from '../model/icicle_cells.js';
import type { FaulterView, MappingView } from '../model/types.js';
import { KIND_STYLE, sizeColour } from './palette.js';

/** Width of the mapping strip at the right edge of a box. */
const STRIP = 9;

/** Fits text into `px` pixels (about 6.3 px per character at 11 px). */
export function fitText(text: string, px: number, charPx = 6.3): string {
  const n = Math.floor(px / charPx);
  if (n <= 1) return '';
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

function styleOf(n: SpaceNode) {
  if (n.kind === 'leaf') return KIND_STYLE[dsKindOf(n) ?? 'ram']!;
  return KIND_STYLE[n.kind] ?? KIND_STYLE.gap!;
}

export interface CellProps {
  readonly cell: Cell;
  readonly x: number;
  readonly w: number;
  readonly mappings: ReadonlyMap<number, readonly MappingView[]>;
  readonly faulters: ReadonlyMap<number, readonly FaulterView[]>;
  readonly focus: SpaceNode;
  readonly counts?: { regions: number; gaps: number; lo?: number; hi?: number };
  onZoom(n: SpaceNode): void;
  onBundle(c: Cell): void;
  onHover(n: SpaceNode | null): void;
}

export function CellView({
  cell,
  x,
  w,
  mappings,
  faulters,
  focus,
  counts,
  onZoom,
  onBundle,
  onHover,
}: CellProps) {
  const y = cell.y0;
  const h = Math.max(1, cell.y1 - cell.y0);
  const pad = 2;
  if (!cell.node) {
    const st = KIND_STYLE.bundle!;
    const what = counts
      ? counts.regions > 0
        ? `${counts.regions.toLocaleString('en')} region${counts.regions > 1 ? 's' : ''}${counts.gaps ? ` + ${counts.gaps.toLocaleString('en')} gaps` : ''}`
        : `${counts.gaps.toLocaleString('en')} small gaps`
      : `${cell.count!.toLocaleString('en')}`;
    return (
      // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
      <g
        class="cell bundle"
        data-testid="bundle"
        role="button"
        tabIndex={-1}
        transform={`translate(${x},${y})`}
        onClick={() => onBundle(cell)}
        onKeyDown={(e) => e.key === 'Enter' && onBundle(cell)}
      >
        <rect x={pad} width={w - 2 * pad} height={Math.max(1, h - 1)} fill="url(#dense)" stroke={st.stroke} />
        {h >= 13 && (
          <text x={8} y={Math.min(h / 2 + 4, 15)} fill={st.text} class="label">
            {fitText(
              `${what}${counts?.lo !== undefined ? ` in [${hex(counts.lo)}, ${hex(counts.hi!)})` : ''}`,
              w - 16,
            )}
          </text>
        )}
        <title>{`${what}, too small to draw at this zoom: click to zoom into them`}</title>
      </g>
    );
  }
  const n = cell.node;
  const d = n;
  const { title, sub } = describe(n);
  const st = styleOf(d);
  const innerW = w - 2 * pad;
  const showSub = h >= 30;
  const marks =
    d.va && d.pd !== null && d.kind !== 'space' && d.kind !== 'loose'
      ? mappingsIn(mappings.get(d.pd) ?? [], d.va[0], d.va[1])
      : [];
  const span = d.va ? d.va[1] - d.va[0] : 1;
  const waiting =
    d.mapId !== null && (d.kind === 'gap' || d.kind === 'reserved')
      ? (faulters.get(d.mapId) ?? []).filter((f) => f.address >= d.lo && f.address < d.hi)
      : [];
  const isFocus = n === focus;
  return (
    // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>
    <g
      class={`cell ${d.kind}${isFocus ? ' focus' : ''}`}
      data-kind={d.kind}
      data-title={title}
      transform={`translate(${x},${y})`}
      role="button"
      tabIndex={-1}
      onClick={() => onZoom(n)}
      onKeyDown={(e) => e.key === 'Enter' && onZoom(n)}
      onMouseEnter={() => onHover(n)}
      onMouseLeave={() => onHover(null)}
    >
      <rect
        x={pad}
        width={innerW}
        height={Math.max(1, h - 1)}
        rx={h > 8 ? 3 : 0}
        fill={st.fill}
        stroke={isFocus ? '#f59e0b' : st.stroke}
        stroke-width={isFocus ? 2 : 1}
        stroke-dasharray={d.kind === 'gap' ? '3 3' : undefined}
      />
      {h >= 13 && (
        <text
          x={8}
          y={Math.min(14, h / 2 + 4)}
          fill={st.text}
          class={`label${d.kind === 'space' ? ' strong' : ''}`}
        >
          {fitText(title, innerW - 14 - (marks.length ? STRIP : 0))}
        </text>
      )}
      {showSub && (
        <text x={8} y={27} fill={st.text} class="sub">
          {fitText(sub, innerW - 14 - (marks.length ? STRIP : 0), 5.8)}
        </text>
      )}
      {marks.length > 0 && (
        <g class="mappings" data-testid="mapping-strip">
          {marks.slice(0, 400).map((m) => {
            const lo = Math.max(m.va, d.va![0]);
            const hi = Math.min(m.va + 2 ** m.sizeLog2, d.va![1]);
            const my = ((lo - d.va![0]) / span) * (h - 1);
            const mh = Math.max(2, ((hi - lo) / span) * (h - 1));
            return (
              <rect
                key={m.va}
                class="mapping"
                data-size={sizeName(2 ** m.sizeLog2)}
                x={pad + innerW - STRIP}
                y={Math.min(my, h - 2)}
                width={STRIP - 2}
                height={mh}
                fill={sizeColour(m.sizeLog2)}
              >
                <title>{`${sizeName(2 ** m.sizeLog2)} mapping ${hex(m.va)} → ${hex(m.pa)}`}</title>
              </rect>
            );
          })}
        </g>
      )}
      {waiting.map((f, i) => {
        // At its address, but below the box's own labels when the box is tall enough.
        const top = h >= 56 ? 42 : 6;
        const fy =
          Math.min(h - 6, Math.max(top, ((f.address - d.lo) / Math.max(1, d.hi - d.lo)) * h)) + i * 14;
        return (
          <g key={`${f.thread}${f.address}`} class="faulter" data-testid="faulter">
            <circle cx={pad + 9} cy={fy} r={5} fill="#dc2626" />
            <text x={pad + 18} y={fy + 4} class="faulter-label">
              {fitText(`${f.thread} waits (${f.access.toUpperCase()} at ${hex(f.address)})`, innerW - 24)}
            </text>
          </g>
        );
      })}
    </g>
  );
}
