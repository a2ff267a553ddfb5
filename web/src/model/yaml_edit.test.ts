/** In-place YAML edits: the value changes, everything else stays byte for byte. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { setScalar } from './yaml_edit.js';

const TEXT = `# a comment that must stay
steps:
  - attach: { map: app, dataspace: big, at: 0x20100000 }   # trailing
  - attach: { map: app, dataspace: big }
  - attach:
      map: app
      dataspace: big
      at: 0x30000000
  - attach:
      map: app
      dataspace: big
  - attach: { map: app, dataspace: 'ds\${i}', at: '\${0x1000 + i * 4K}' }
`;

function atOf(text: string, i: number): unknown {
  return (parse(text) as { steps: { attach: { at?: unknown } }[] }).steps[i]!.attach.at;
}

describe('setScalar', () => {
  it('replaces a value in a flow map and keeps the rest', () => {
    const r = setScalar(TEXT, ['steps', 0, 'attach', 'at'], '0x20000000');
    if (!r.ok) throw new Error(r.message);
    expect(r.text).toBe(TEXT.replace('0x20100000', '0x20000000'));
  });

  it('adds a missing key to a flow map', () => {
    const r = setScalar(TEXT, ['steps', 1, 'attach', 'at'], '0x400000');
    if (!r.ok) throw new Error(r.message);
    expect(r.text).toBe(TEXT.replace('dataspace: big }\n', 'dataspace: big, at: 0x400000 }\n'));
    expect(atOf(r.text, 1)).toBe(0x400000);
  });

  it('replaces a value in a block map, and adds one with the block’s indentation', () => {
    const a = setScalar(TEXT, ['steps', 2, 'attach', 'at'], '0x31000000');
    if (!a.ok) throw new Error(a.message);
    expect(a.text).toBe(TEXT.replace('at: 0x30000000', 'at: 0x31000000'));
    const b = setScalar(TEXT, ['steps', 3, 'attach', 'at'], '0x9000');
    if (!b.ok) throw new Error(b.message);
    expect(atOf(b.text, 3)).toBe(0x9000);
    expect(b.text.split('\n').filter((l) => l === '      at: 0x9000')).toHaveLength(1);
    expect(b.text.replace('\n      at: 0x9000', '')).toBe(TEXT);
  });

  it('refuses a computed value', () => {
    const r = setScalar(TEXT, ['steps', 4, 'attach', 'at'], '0x2000');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/computed/);
  });
});
