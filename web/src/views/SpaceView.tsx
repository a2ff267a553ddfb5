/**
 * Address spaces and nested region maps as a zoomable icicle: one column per nesting level,
 * addresses growing downwards. Click a node to zoom into it, the breadcrumb to zoom out.
 * Installed mappings are drawn as a strip at the right edge of every node they cover, coloured by
 * size; queued faulters as red markers where they wait; reserved holes hatched.
 */
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ancestors, Icicle, type SpaceNode } from '../model/icicle.js';
import { bundleCounts, bundleExtent, type Cell, describe, visibleCells } from '../model/icicle_cells.js';
import type { FaulterView, SystemSnapshot } from '../model/types.js';
import { mark } from './perf.js';
import { CellView } from './SpaceCell.js';
import { NodeInfo } from './SpaceInfo.js';

/** Height of the breadcrumb bar above the icicle. */
const HEADER = 34;
/** Width of the info panel beside the icicle. */
const INFO_W = 248;
/** Width of the address-space column (the boxes are labels more than content). */
const SPACE_COL = 128;

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
