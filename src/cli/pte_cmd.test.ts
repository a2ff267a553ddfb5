import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PTE_FORMATS } from '../hw/pte.js';
import { UserError } from './io.js';
import { type PteRow, pteRows, pteTable, registerPteCommand } from './pte_cmd.js';

async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPteCommand(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    await program.parseAsync(['node', 'faultline', 'pte', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('faultline pte', () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints the x86_32 row with Brendan's figures and cites every manual", () => {
    const text = pteTable(pteRows(PTE_FORMATS, 4096));
    const x86 = text.split('\n').find((l) => l.startsWith('x86_32 '));
    expect(x86).toMatch(
      /P \(bit 0\) = 0\s+31 \(31:1\)\s+bit 1\s+30 \(31:2\)\s+1,073,741,823\s+4 TiB = 4,096 GiB$/,
    );
    const arm = text.split('\n').find((l) => l.startsWith('armv7 '));
    expect(arm).toMatch(/30 \(31:2\)\s+bit 2\s+29 \(31:3\)\s+536,870,911\s+2 TiB = 2,048 GiB$/);
    expect(text).toMatch(/Intel SDM Vol\. 3A §4\.3, Figure 4-4/);
    expect(text).toMatch(/ARM DDI 0406C §B3\.5\.1/);
    expect(text).toMatch(/RISC-V Privileged ISA §4\.3\.1/);
  });

  it('prints JSON rows with exact bigints as strings, for one arch and another block size', async () => {
    const out = await run('--json', '--arch', 'x86_64', '--block-size', '8K');
    const rows = (JSON.parse(out) as { rows: PteRow[] }).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      arch: 'x86_64',
      freeBits: 63,
      blockBits: 62,
      maxBlock: '4611686018427387903',
      blockSize: 8192,
      maxSwapBytes: '37778931862957161709568',
    });
  });

  it('refuses an unknown or page-table-less architecture as a user mistake', async () => {
    await expect(run('--arch', 'pdp11')).rejects.toThrow(UserError);
    await expect(run('--arch', 'microblaze')).rejects.toThrow(/software/);
    await expect(run('--block-size', 'lots')).rejects.toThrow(/--block-size/);
  });
});
