#!/usr/bin/env node
/**
 * The faultline command line. The only layer that performs I/O: it parses arguments with
 * commander, runs the model and writes results. User mistakes end with one line on stderr and a
 * non-zero exit status; only a broken invariant (a bug) prints a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { walkthrough } from '../report/walkthrough.js';
import { registerContainCommand } from './contain_cmd.js';
import { demo } from './demo.js';
import { registerExplainCommand } from './explain_cmd.js';
import { UserError } from './io.js';
import { registerIrqCommand } from './irq_cmd.js';
import { registerPteCommand } from './pte_cmd.js';
import { registerReplayCommands } from './replay_cmd.js';
import { parseArch } from './run_options.js';
import { registerScaleCommand } from './scale_cmd.js';
import { registerScenarioCommands } from './scenario_cmd.js';
import { registerSwapSweepCommand } from './swap_sweep_cmd.js';
import { registerTimeoutsCommand } from './timeouts_cmd.js';
import { registerTraceCommands } from './trace_cmd.js';
import { faultlineVersion } from './version.js';
import { registerViewCommand } from './view_cmd.js';

const program = new Command();
program
  .name('faultline')
  .description('An executable model and simulator of microkernel memory management and interrupt handling.')
  .version(faultlineVersion(), '-V, --version', 'print the version of faultline')
  .showHelpAfterError()
  .exitOverride();

program
  .command('walkthrough')
  .description('the nested fault path on a small system, step by step')
  .option('--arch <name>', 'architecture profile', 'x86_64')
  .action((opts: { arch: string }) => {
    process.stdout.write(`${walkthrough({ arch: parseArch(opts.arch) }).join('\n')}\n`);
  });

registerReplayCommands(program);
registerIrqCommand(program);
registerScaleCommand(program);
registerScenarioCommands(program);
registerExplainCommand(program);
registerTraceCommands(program);
registerPteCommand(program);
registerSwapSweepCommand(program);
registerViewCommand(program);
registerContainCommand(program);
registerTimeoutsCommand(program);

program
  .command('demo')
  .description(
    'the built-in tour (what `npm start` runs): the fault path, then a real trace under two designs',
  )
  .option('--out <dir>', 'where to write the timeline and the report', 'faultline-out')
  .action(async (opts: { out: string }) => {
    process.stdout.write(`${await demo(opts.out)}\n`);
  });

// No command at all runs the tour (`npm start`); an unknown command stays an error.
const argv = process.argv.length > 2 ? process.argv : [...process.argv, 'demo'];

// A reader that stops early (`faultline ... | head`) is not an error: finish quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

program.parseAsync(argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Help and version exit 0; usage mistakes exit 2 like every other bad input.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
    return;
  }
  if (e instanceof UserError) {
    process.stderr.write(`faultline: ${e.message}\n`);
    process.exitCode = e.exitCode;
    return;
  }
  process.stderr.write(
    `faultline: internal error (a bug, please report it):\n${e instanceof Error ? e.stack : String(e)}\n`,
  );
  process.exitCode = 70;
});
