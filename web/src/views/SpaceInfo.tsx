/** The panel beside the icicle: the hovered (or focused) box, the legend and the threads. */
import { hex, sizeName } from '../../../src/util/hex.js';
import { approxSize } from '../model/format.js';
import type { SpaceNode } from '../model/icicle.js';
import { describe, mappingsIn } from '../model/icicle_cells.js';
import type { SystemSnapshot } from '../model/types.js';
import { KIND_STYLE, sizeColour } from './palette.js';

export function NodeInfo({ node, snapshot }: { node: SpaceNode; snapshot: SystemSnapshot }) {
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
