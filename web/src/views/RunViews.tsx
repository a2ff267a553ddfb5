/**
 * The replay panel (one run: its figures and, with --tlb-samples, every CPU's TLB contents over
 * time: entries by page size per level and the hit rate) and the compare panel (designs side by
 * side: a table of figures with the best marked, bars, and the TLBs of each design over time).
 */
import { useState } from 'preact/hooks';
import type { TlbSample } from '../../../src/sim/tlb_samples.js';
import { entriesBySize, intervals, type RunResultView } from '../model/runfile.js';
import { Bars, fmt, LineChart, StackChart } from './charts.js';
import { sizeColour } from './palette.js';

const SIZE_LOG2: Readonly<Record<string, number>> = {
  '1K': 10,
  '4K': 12,
  '16K': 14,
  '64K': 16,
  '256K': 18,
  '1M': 20,
  '2M': 21,
  '4M': 22,
  '16M': 24,
  '256M': 28,
  '1G': 30,
  '512G': 39,
};

function colourOfSize(name: string): string {
  return sizeColour(SIZE_LOG2[name] ?? 12);
}

const DESIGN_COLOURS = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#db2777', '#0891b2', '#ca8a04'];

function Card({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
      {note && <div class="card-note">{note}</div>}
    </div>
  );
}

function Mappings({ m }: { m: Readonly<Record<string, number>> }) {
  const entries = Object.entries(m).filter(([, n]) => n > 0);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <>
      {entries.map(([s, n]) => (
        <span key={s} class="chip" style={{ background: colourOfSize(s) }}>
          {n} × {s}
        </span>
      ))}
    </>
  );
}

/** One replayed run. */
export function ReplayView({ r, trace, width }: { r: RunResultView; trace: string; width: number }) {
  return (
    <div class="run-view" data-testid="replay-view">
      <h2>
        Replay of <span class="mono">{trace || 'a trace'}</span> under <b>{r.design}</b>{' '}
        <span class="muted">
          ({r.arch}, {r.cpus} CPU{r.cpus > 1 ? 's' : ''})
        </span>
      </h2>
      <div class="cards">
        <Card label="records" value={fmt(r.records)} />
        <Card
          label="TLB hit rate"
          value={`${(r.tlb.hitRate * 100).toFixed(3)} %`}
          note={`${fmt(r.tlb.misses)} misses`}
        />
        <Card label="page walks" value={fmt(r.walks)} />
        <Card
          label="faults"
          value={fmt(r.faults.resolved)}
          note={`${r.faults.reflected} reflected, ${r.faults.errors} errors`}
        />
        <Card
          label="fault latency p50 / p99"
          value={`${fmt(r.faults.latency.p50)} / ${fmt(r.faults.latency.p99)}`}
          note="cycles"
        />
        <Card
          label="modelled time"
          value={`${fmt(r.cycles)} cycles`}
          note={`${(r.cycles / 3000).toFixed(0)} µs at 3 GHz`}
        />
      </div>
      <p>
        Mappings at the end: <Mappings m={r.mappings} />
      </p>
      {r.tlbSamples && r.tlbSamples.length > 0 ? (
        <TlbOverTime samples={r.tlbSamples} width={width} />
      ) : (
        <p class="hint-box" data-testid="no-samples">
          This file has no TLB samples. Run{' '}
          <span class="mono">faultline replay TRACE --json --tlb-samples</span> to see each CPU's TLB contents
          over time.
        </p>
      )}
    </div>
  );
}

function TlbOverTime({ samples, width }: { samples: readonly TlbSample[]; width: number }) {
  const [at, setAt] = useState(samples.length - 1);
  const s = samples[Math.min(at, samples.length - 1)]!;
  const xs = samples.map((x) => x.records);
  const cpus = samples[0]!.cpus.map((c) => c.cpu);
  const busy = cpus.filter((c) => samples.some((x) => Object.keys(entriesBySize(x, c)).length > 0));
  const chartW = Math.max(320, Math.min(width - 40, 900));
  const iv = intervals(samples);
  return (
    <div class="tlb-time" data-testid="tlb-over-time">
      <h3>TLB contents over time</h3>
      <label class="slider">
        after{' '}
        <input
          type="range"
          min={0}
          max={samples.length - 1}
          value={at}
          onInput={(e) => setAt(Number((e.target as HTMLInputElement).value))}
        />{' '}
        <span class="mono">{fmt(s.records)} records</span>, {fmt(s.cycles)} cycles
      </label>
      {busy.map((cpu) => {
        const sizes = [...new Set(samples.flatMap((x) => Object.keys(entriesBySize(x, cpu))))].sort(
          (a, b) => (SIZE_LOG2[a] ?? 0) - (SIZE_LOG2[b] ?? 0),
        );
        const layers = sizes.map((k) => ({
          key: k,
          values: samples.map((x) => entriesBySize(x, cpu)[k] ?? 0),
        }));
        const levels = s.cpus.find((c) => c.cpu === cpu)?.levels ?? [];
        return (
          <div class="cpu" key={cpu} data-testid="tlb-cpu">
            <h4>
              CPU {cpu}: valid entries by page size{' '}
              {sizes.map((k) => (
                <span key={k} class="chip" style={{ background: colourOfSize(k) }}>
                  {k}
                </span>
              ))}
            </h4>
            <StackChart
              xs={xs}
              layers={layers}
              colours={colourOfSize}
              width={chartW}
              height={150}
              xLabel="records"
              cursor={s.records}
            />
            <table class="levels">
              <thead>
                <tr>
                  <th>level</th>
                  <th>entries now</th>
                  <th>hits</th>
                  <th>misses</th>
                </tr>
              </thead>
              <tbody>
                {levels.map((l) => (
                  <tr key={l.name}>
                    <td class="mono">{l.name}</td>
                    <td>
                      {Object.entries(l.valid).map(([k, n]) => (
                        <span key={k} class="chip" style={{ background: colourOfSize(k) }}>
                          {n} × {k}
                        </span>
                      ))}
                    </td>
                    <td>{fmt(l.hits)}</td>
                    <td>{fmt(l.misses)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
      <div class="pair">
        <div>
          <h4>Hit rate per interval, % (all threads)</h4>
          <LineChart
            series={[
              { key: 'rate', colour: '#16a34a', points: iv.map((p) => ({ x: p.records, y: p.rate * 100 })) },
            ]}
            width={Math.floor(chartW / 2) - 8}
            height={150}
            xLabel="records"
            yMin={Math.floor(Math.min(...iv.map((p) => p.rate)) * 1000) / 10}
            yMax={100}
            testId="hit-rate"
          />
        </div>
        <div>
          <h4>TLB misses per interval</h4>
          <LineChart
            series={[
              { key: 'misses', colour: '#dc2626', points: iv.map((p) => ({ x: p.records, y: p.misses })) },
            ]}
            width={Math.floor(chartW / 2) - 8}
            height={150}
            xLabel="records"
            testId="misses"
          />
        </div>
      </div>
    </div>
  );
}

interface Metric {
  readonly label: string;
  readonly get: (r: RunResultView) => number;
  /** True when smaller is better. */
  readonly lower: boolean;
  readonly format?: (v: number) => string;
}

const METRICS: readonly Metric[] = [
  { label: 'modelled cycles', get: (r) => r.cycles, lower: true },
  { label: 'TLB misses', get: (r) => r.tlb.misses, lower: true },
  {
    label: 'TLB hit rate',
    get: (r) => r.tlb.hitRate,
    lower: false,
    format: (v) => `${(v * 100).toFixed(3)} %`,
  },
  { label: 'page walks', get: (r) => r.walks, lower: true },
  { label: 'faults resolved', get: (r) => r.faults.resolved, lower: true },
  { label: 'faults reflected', get: (r) => r.faults.reflected, lower: true },
  { label: 'fault latency p99', get: (r) => r.faults.latency.p99, lower: true },
  { label: 'cross-CPU messages', get: (r) => r.crossCpu.messages, lower: true },
  { label: 'shootdowns', get: (r) => r.shootdowns, lower: true },
  { label: 'lock wait cycles', get: (r) => r.lock.waitCycles, lower: true },
  { label: 'kernel cycles', get: (r) => r.cyclesBy.kernel, lower: true },
  { label: 'pager cycles', get: (r) => r.cyclesBy.pager, lower: true },
  { label: 'handler cycles', get: (r) => r.cyclesBy.handler, lower: true },
];

/** Several designs on one trace. */
export function CompareView({
  results,
  trace,
  width,
}: {
  results: readonly RunResultView[];
  trace: string;
  width: number;
}) {
  const colour = (i: number) => DESIGN_COLOURS[i % DESIGN_COLOURS.length]!;
  const barW = Math.max(300, Math.min(520, (width - 60) / 2));
  const withSamples = results.every((r) => r.tlbSamples && r.tlbSamples.length > 0);
  return (
    <div class="run-view" data-testid="compare-view">
      <h2>
        {results.length} designs on <span class="mono">{trace || 'a trace'}</span>{' '}
        <span class="muted">
          ({fmt(results[0]!.records)} records, {results[0]!.arch}, {results[0]!.cpus} CPU
          {results[0]!.cpus > 1 ? 's' : ''})
        </span>
      </h2>
      <table class="compare" data-testid="compare-table">
        <thead>
          <tr>
            <th />
            {results.map((r, i) => (
              <th key={r.design}>
                <span class="swatch" style={{ background: colour(i) }} /> {r.design}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {METRICS.map((m) => {
            const vals = results.map(m.get);
            const best = m.lower ? Math.min(...vals) : Math.max(...vals);
            const differ = vals.some((v) => v !== vals[0]);
            return (
              <tr key={m.label}>
                <th>{m.label}</th>
                {vals.map((v, i) => (
                  <td key={results[i]!.design} class={differ && v === best ? 'best' : ''}>
                    {m.format ? m.format(v) : fmt(v)}
                    {i > 0 && vals[0]! > 0 && differ && !m.format && (
                      <span class="ratio"> ×{(v / vals[0]!).toFixed(2)}</span>
                    )}
                  </td>
                ))}
              </tr>
            );
          })}
          <tr>
            <th>mappings at the end</th>
            {results.map((r) => (
              <td key={r.design}>
                <Mappings m={r.mappings} />
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      <div class="bar-grid">
        {['modelled cycles', 'TLB misses', 'page walks', 'faults resolved'].map((label) => {
          const m = METRICS.find((x) => x.label === label)!;
          return (
            <div key={label}>
              <h4>{label}</h4>
              <Bars
                items={results.map((r, i) => ({ label: r.design, value: m.get(r), colour: colour(i) }))}
                width={barW}
              />
            </div>
          );
        })}
      </div>
      {withSamples && (
        <>
          <h3>TLB entries on CPU 0 over time</h3>
          <LineChart
            series={results.map((r, i) => ({
              key: r.design,
              colour: colour(i),
              points: r.tlbSamples!.map((s) => ({
                x: s.records,
                y: Object.values(entriesBySize(s, 0)).reduce((a, b) => a + b, 0),
              })),
            }))}
            width={Math.min(900, width - 40)}
            height={170}
            xLabel="records"
            testId="compare-entries"
          />
        </>
      )}
    </div>
  );
}
