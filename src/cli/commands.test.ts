/**
 * The command registry main.ts loads from: each entry's module registers exactly the commands
 * the entry names (else `faultline NAME` would load the wrong module, or every module), and no
 * name appears twice.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';

describe('the command registry', () => {
  it('names exactly the commands each module registers, each once', async () => {
    const seen: string[] = [];
    for (const [names, load] of COMMANDS) {
      const program = new Command('faultline');
      (await load())(program);
      expect(program.commands.map((c) => c.name())).toEqual(names);
      seen.push(...names);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain('capture');
  });
});
