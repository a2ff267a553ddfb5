/** Colours shared by the views: mapping sizes, region kinds and fault-path tones. */

const SIZE_COLOURS: Readonly<Record<number, string>> = {
  10: '#38bdf8',
  12: '#2563eb',
  14: '#0891b2',
  16: '#0d9488',
  18: '#65a30d',
  20: '#ca8a04',
  21: '#ea580c',
  22: '#dc2626',
  24: '#db2777',
  28: '#9333ea',
  30: '#7c3aed',
  39: '#4c1d95',
};

/** The colour of a mapping (or TLB entry) of 2^log2 bytes. */
export function sizeColour(log2: number): string {
  return SIZE_COLOURS[log2] ?? `hsl(${(log2 * 47) % 360} 65% 45%)`;
}

/** Fill, stroke and text colour of an icicle node by kind. */
export const KIND_STYLE: Readonly<Record<string, { fill: string; stroke: string; text: string }>> = {
  space: { fill: '#1e293b', stroke: '#0f172a', text: '#f8fafc' },
  loose: { fill: '#475569', stroke: '#334155', text: '#f8fafc' },
  managed: { fill: '#ede9fe', stroke: '#7c3aed', text: '#4c1d95' },
  ram: { fill: '#dcfce7', stroke: '#16a34a', text: '#14532d' },
  rom: { fill: '#e0f2fe', stroke: '#0284c7', text: '#0c4a6e' },
  io_mem: { fill: '#fef3c7', stroke: '#d97706', text: '#78350f' },
  reserved: { fill: 'url(#hatch)', stroke: '#dc2626', text: '#7f1d1d' },
  gap: { fill: '#f8fafc', stroke: '#cbd5e1', text: '#94a3b8' },
  phys: { fill: '#f5f5f4', stroke: '#a8a29e', text: '#44403c' },
  bundle: { fill: '#e2e8f0', stroke: '#94a3b8', text: '#334155' },
};

/** Colour of a fault-path frame by tone. */
export const TONE_COLOUR: Readonly<Record<string, string>> = {
  trap: '#0f172a',
  call: '#334155',
  walk: '#7c3aed',
  found: '#16a34a',
  map: '#2563eb',
  signal: '#d97706',
  park: '#dc2626',
  wake: '#0891b2',
  error: '#dc2626',
};
