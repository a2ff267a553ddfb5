#!/usr/bin/env node
/**
 * The faultline command line. The only layer that performs I/O: it parses arguments with
 * commander, runs the model and writes results.
 */
import { Command } from 'commander';
import { walkthrough } from '../report/walkthrough.js';

const program = new Command();
program
  .name('faultline')
  .description('An executable model and simulator of microkernel memory management and interrupt handling.')
  .showHelpAfterError();

program
  .command('demo', { isDefault: true })
  .description('the built-in tour: the nested fault path on a small system, step by step')
  .option('--arch <name>', 'architecture profile', 'x86_64')
  .action((opts: { arch: string }) => {
    const lines = walkthrough({ arch: opts.arch as 'x86_64' });
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`faultline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
