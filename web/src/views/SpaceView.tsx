/**
 * Address spaces and nested region maps as a zoomable icicle: one column per nesting level,
 * addresses growing downwards. Click a node to zoom into it, the breadcrumb to zoom out.
 * Installed mappings are drawn as a strip at the right edge of every node they cover, coloured by
 * size; queued faulters as red markers where they wait; reserved holes hatched.
 */
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { hex, sizeName } from '../../../src/util/hex.js';
import { approxSize } from '../model/format.js';
import {
  ancestors,
  bundleCounts,
  bundleExtent,
  type Cell,
  describe,
  dsKindOf,
  Icicle,
  mappingsIn,
  type SpaceNode,
  visibleCells,
} from '../model/icicle.js';
import type { FaulterView, MappingView, SystemSnapshot } from '../model/types.js';
import { KIND_STYLE, sizeColour } from './palette.js';
import { mark } from './perf.js';

/** Height of the breadcrumb bar above the icicle. */
const HEADER = 34;
const STRIP = 9;
/** Width of the info panel beside the icicle. */
const INFO_W = 248;
/** Width of the address-space column (the boxes are labels more than content). */
const SPACE_COL = 128;

/** Fits text into `px` pixels (about 6.3 px per character at 11 px). */
function fitText(text: string, px: number, charPx = 6.3): string {
  const n = Math.floor(px / charPx);
  if (n <= 1) return '';
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

function styleOf(n: SpaceNode) {
  if (n.kind === 'leaf') return KIND_STYLE[dsKindOf(n) ?? 'ram']!;
  return KIND_STYLE[n.kind] ?? KIND_STYLE.gap!;
}

export interface SpaceViewProps {
  readonly snapshot: SystemSnapshot;
  readonly width: number;
  readonly height: number;
  /** What the run measured (shown when there is no address space to draw). */
  readonly metrics: Readonly<Record<string, number>>;
}

export function SpaceView({ snapshot, width, height, metrics }: SpaceViewProps) {
  const ic = useMemo(() => new Icicle(snapshot), [snapshot]);
  const [focusKey, setFocusKeyRaw] = useState('system');
  /** The part of the focus shown, as fractions of its extent (wheel zoom, bundles). */
  const [part, setPart] = useState<readonly [number, number]>([0, 1]);
  const [hover, setHover] = useState<SpaceNode | null>(null);
  const focus = useMemo(() => ic.find(focusKey), [ic, focusKey]);
  const setFocusKey = (k: string, p: readonly [number, number] = [0, 1]) => {
    setFocusKeyRaw(k);
    setPart(p);
  };
  const span = focus.x1 - focus.x0;
  const win: [number, number] = [focus.x0 + part[0] * span, focus.x0 + part[1] * span];
  const mappingsByPd = useMemo(() => new Map(snapshot.pds.map((p) => [p.id, p.mappings])), [snapshot]);
  const faulters = useMemo(() => {
    const m = new Map<number, readonly FaulterView[]>();
    for (const [id, v] of snapshot.maps) if (v.faulters.length) m.set(id, v.faulters);
    return m;
  }, [snapshot]);
  const viewH = Math.max(200, height - HEADER);
  const cells = useMemo(() => visibleCells(ic, focus, viewH, 2.5, win), [ic, focus, viewH, win[0], win[1]]);
  // Columns from the focus (the system root has none of its own); address spaces get a narrow one.
  const first = focus.depth === 0 ? 1 : focus.depth;
  const deepest = cells.reduce((d, c) => Math.max(d, c.depth), ic.maxDepth);
  const cols = Math.max(1, deepest + 1 - first);
  const plotW = Math.max(300, width - INFO_W);
  const firstW = first === 1 ? SPACE_COL : 0;
  const rest = Math.max(1, cols - (first === 1 ? 1 : 0));
  const colW = Math.max(150, Math.min(320, Math.floor((plotW - firstW) / rest)));
  const colX = (depth: number) =>
    first === 1 ? (depth === 1 ? 0 : SPACE_COL + (depth - 2) * colW) : (depth - first) * colW;
  const colWidth = (depth: number) => (first === 1 && depth === 1 ? SPACE_COL : colW);
  const svgW = Math.max(plotW, firstW + rest * colW);
  const zoom = (n: SpaceNode) => {
    if (dragged.current) return;
    if (n === focus && (part[0] > 0 || part[1] < 1)) setPart([0, 1]);
    else if (n === focus && n.parent) setFocusKey(n.parent.key);
    else if (ic.children(n)) setFocusKey(n.key);
  };
  const zoomBundle = (c: Cell) => {
    if (dragged.current) return;
    // Zoom into the bundle's range of its parent, with a little context around it.
    const [a, b] = bundleExtent(ic, c);
    const p = c.parent!;
    const ps = p.x1 - p.x0;
    const pad = (b - a) * 0.05;
    setFocusKey(p.key, [Math.max(0, (a - pad - p.x0) / ps), Math.min(1, (b + pad - p.x0) / ps)]);
  };
  // Wheel: zoom around the pointer; drag: move along the addresses.
  const dragged = useRef(false);
  const drag = useRef<{ y: number; part: readonly [number, number] } | null>(null);
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const rect = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
    const at = part[0] + ((e.clientY - rect.top) / viewH) * (part[1] - part[0]);
    const f = Math.exp(e.deltaY * 0.0015);
    const len = Math.min(1, Math.max(1e-9, (part[1] - part[0]) * f));
    if (len >= 1 && f > 1 && focus.parent && part[1] - part[0] >= 1) return setFocusKey(focus.parent.key);
    let a = at - (at - part[0]) * (len / (part[1] - part[0]));
    a = Math.max(0, Math.min(1 - len, a));
    setPart([a, a + len]);
  };
  const onPointerDown = (e: PointerEvent) => {
    dragged.current = false;
    drag.current = { y: e.clientY, part };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d || (e.buttons & 1) === 0) return;
    const dy = e.clientY - d.y;
    if (Math.abs(dy) > 3) dragged.current = true;
    if (!dragged.current) return;
    const len = d.part[1] - d.part[0];
    const a = Math.max(0, Math.min(1 - len, d.part[0] - (dy / viewH) * len));
    setPart([a, a + len]);
  };
  const onPointerUp = () => {
    drag.current = null;
    // The click that ends a drag must not zoom: cleared after the click event.
    setTimeout(() => {
      dragged.current = false;
    }, 0);
  };
  const crumbs = ancestors(focus);
  const info = hover ?? focus;
  const svg = useRef<SVGSVGElement>(null);
  useLayoutEffect(() => {
    // For the benchmark: this snapshot is drawn and laid out.
    svg.current?.getBoundingClientRect();
    mark('space-rendered');
  }, [snapshot]);
  if (snapshot.pds.length === 0 && snapshot.loose.length === 0) {
    const m = Object.entries(metrics);
    return (
      <div class="empty" data-testid="no-spaces">
        <p>This scenario creates no protection domain or region map, so there is no address space to draw.</p>
        {m.length > 0 && (
          <table class="levels">
            <tbody>
              {m.map(([k, v]) => (
                <tr key={k}>
                  <td class="mono">{k}</td>
                  <td>{v.toLocaleString('en')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    );
  }
  return (
    <div class="space">
      <div class="crumbs" data-testid="crumbs">
        {crumbs.map((c, i) => (
          <span key={c.key}>
            {i > 0 && <span class="sep">›</span>}
            <button type="button" class="crumb" onClick={() => setFocusKey(c.key)}>
              {c.kind === 'system' ? 'all address spaces' : describe(c).title}
            </button>
          </span>
        ))}
        {(part[0] > 0 || part[1] < 1) && (
          <span class="range">
            <span class="sep">›</span>{' '}
            {part[1] - part[0] < 0.001
              ? (part[1] - part[0]).toExponential(1)
              : ((part[1] - part[0]) * 100).toFixed(1)}
            {part[1] - part[0] < 0.001 ? '' : ' %'} of it
          </span>
        )}
        <span class="hint">
          click a box to zoom in, the focused box to zoom out; wheel to zoom, drag to move
        </span>
      </div>
      <div class="space-body">
        <div class="space-scroll" style={{ width: `${plotW}px`, height: `${viewH}px` }}>
          <svg
            ref={svg}
            width={svgW}
            height={viewH}
            data-testid="icicle"
            role="img"
            aria-label="address spaces and region maps"
            onWheel={onWheel}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
          >
            <defs>
              <pattern id="dense" width="4" height="4" patternUnits="userSpaceOnUse">
                <rect width="4" height="4" fill="#e2e8f0" />
                <rect width="4" height="1.2" fill="#94a3b8" />
              </pattern>
              <pattern
                id="hatch"
                width="6"
                height="6"
                patternUnits="userSpaceOnUse"
                patternTransform="rotate(45)"
              >
                <rect width="6" height="6" fill="#fee2e2" />
                <line x1="0" y1="0" x2="0" y2="6" stroke="#ef4444" stroke-width="2" />
              </pattern>
            </defs>
            {cells.map((c) =>
              c.node && c.node.depth === 0 ? null : (
                <CellView
                  key={c.node ? c.node.key : `${c.parent!.key}/b${c.first}`}
                  cell={c}
                  x={colX(c.depth)}
                  w={colWidth(c.depth)}
                  mappings={mappingsByPd}
                  faulters={faulters}
                  focus={focus}
                  counts={c.node ? undefined : bundleCounts(ic, c)}
                  onZoom={zoom}
                  onBundle={zoomBundle}
                  onHover={setHover}
                />
              ),
            )}
          </svg>
        </div>
        <NodeInfo node={info} snapshot={snapshot} />
      </div>
    </div>
  );
}

interface CellProps {
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

function CellView({ cell, x, w, mappings, faulters, focus, counts, onZoom, onBundle, onHover }: CellProps) {
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

function NodeInfo({ node, snapshot }: { node: SpaceNode; snapshot: SystemSnapshot }) {
  const d = node;
  const { title, sub } = describe(node);
  const r = d.region;
  const pd = d.pd !== null ? snapshot.pds.find((p) => p.id === d.pd) : undefined;
  const marks = d.va && pd ? mappingsIn(pd.mappings, d.va[0], d.va[1]) : [];
  const bySize = new Map<number, number>();
  for (const m of marks) bySize.set(m.sizeLog2, (bySize.get(m.sizeLog2) ?? 0) + 1);
  const map = d.mapId !== null ? snapshot.maps.get(d.mapId) : undefined;
  return (
    <aside class="info" data-testid="node-info">
      <h3>{d.kind === 'system' ? 'System' : title}</h3>
      {d.kind !== 'system' && <p class="mono">{sub}</p>}
      <dl>
        {d.kind === 'system' && (
          <>
            <dt>architecture</dt>
            <dd>{snapshot.arch}</dd>
            <dt>mapping sizes</dt>
            <dd>{snapshot.mapSizesLog2.map((s) => sizeName(2 ** s)).join(', ')}</dd>
            <dt>address spaces</dt>
            <dd>{snapshot.pds.length}</dd>
            <dt>region maps</dt>
            <dd>{snapshot.maps.size}</dd>
          </>
        )}
        {r?.ds && (
          <>
            <dt>dataspace</dt>
            <dd>
              {r.ds.name} ({r.ds.kind === 'io_mem' ? 'I/O' : r.ds.kind}, {sizeName(r.ds.size)}
              {r.ds.kind !== 'managed' ? `, phys ${hex(r.ds.phys)}` : ''})
            </dd>
            {r.offset > 0 && (
              <>
                <dt>offset</dt>
                <dd>{hex(r.offset)}</dd>
              </>
            )}
          </>
        )}
        {pd && d.kind === 'space' && (
          <>
            <dt>PD</dt>
            <dd>{pd.label}</dd>
            <dt>RAM quota</dt>
            <dd>
              {approxSize(pd.quota.ramUsed)} of {approxSize(pd.quota.ramLimit)} used
            </dd>
            <dt>capabilities</dt>
            <dd>
              {pd.quota.capsUsed} of {pd.quota.capLimit} used
            </dd>
            <dt>mappings</dt>
            <dd>{pd.mappings.length.toLocaleString('en')}</dd>
          </>
        )}
        {map && (d.kind === 'space' || d.kind === 'loose') && (
          <>
            <dt>owner</dt>
            <dd>{map.owner}</dd>
            <dt>regions</dt>
            <dd>{map.regions.length.toLocaleString('en')}</dd>
            <dt>fault handler</dt>
            <dd>{map.handler ? `signal '${map.handler}'` : 'none'}</dd>
          </>
        )}
        {d.kind === 'managed' && r?.ds?.managedMapId != null && (
          <>
            <dt>nested map</dt>
            <dd>
              #{r.ds.managedMapId}
              {snapshot.maps.get(r.ds.managedMapId)?.handler
                ? `, handler '${snapshot.maps.get(r.ds.managedMapId)!.handler}'`
                : ', no handler'}
            </dd>
          </>
        )}
        {marks.length > 0 && (
          <>
            <dt>mappings here</dt>
            <dd>
              {[...bySize]
                .sort((a, b) => a[0] - b[0])
                .map(([s, n]) => (
                  <span key={s} class="chip" style={{ background: sizeColour(s) }}>
                    {n} × {sizeName(2 ** s)}
                  </span>
                ))}
            </dd>
          </>
        )}
      </dl>
      <Legend sizes={snapshot.mapSizesLog2} />
      <Threads snapshot={snapshot} />
    </aside>
  );
}

function Legend({ sizes }: { sizes: readonly number[] }) {
  const kinds: [string, string][] = [
    ['space', 'address space'],
    ['managed', 'managed dataspace'],
    ['ram', 'RAM dataspace'],
    ['rom', 'ROM dataspace'],
    ['io_mem', 'I/O memory'],
    ['reserved', 'reserved hole'],
    ['gap', 'free'],
    ['phys', 'physical frames'],
  ];
  return (
    <div class="legend" data-testid="legend">
      <h4>Mappings by size</h4>
      <div>
        {sizes.map((s) => (
          <span key={s} class="chip" style={{ background: sizeColour(s) }}>
            {sizeName(2 ** s)}
          </span>
        ))}
      </div>
      <h4>Boxes</h4>
      <ul>
        {kinds.map(([k, label]) => (
          <li key={k}>
            <svg width="14" height="12" aria-hidden="true">
              <rect
                x="0.5"
                y="0.5"
                width="13"
                height="11"
                fill={k === 'reserved' ? '#fecaca' : KIND_STYLE[k]!.fill}
                stroke={KIND_STYLE[k]!.stroke}
              />
            </svg>
            {label}
          </li>
        ))}
        <li>
          <svg width="14" height="12" aria-hidden="true">
            <circle cx="7" cy="6" r="5" fill="#dc2626" />
          </svg>
          queued faulter
        </li>
      </ul>
    </div>
  );
}

function Threads({ snapshot }: { snapshot: SystemSnapshot }) {
  const threads = snapshot.pds.flatMap((p) => p.threads);
  if (threads.length === 0) return null;
  return (
    <div class="threads">
      <h4>Threads</h4>
      <ul>
        {threads.slice(0, 40).map((t) => (
          <li key={t.id} class={`state-${t.state}`}>
            <span class="mono">{t.name}</span> <span class="state">{t.state}</span>
            {t.waitingAt !== null && (
              <span class="waits"> at {snapshot.maps.get(t.waitingAt)?.ref.name}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
