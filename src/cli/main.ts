#!/usr/bin/env node
/**
 * The faultline command line. The only layer that performs I/O: it parses arguments with
 * commander, runs the model and writes results. User mistakes end with one line on stderr and a
 * non-zero exit status; only a broken invariant (a bug) prints a stack trace.
 *
 * Start-up: each command's module is loaded only when that command runs (COMMANDS, commands.ts), and the
 * modules load the simulator, reports and plotting inside their actions, so a command that does
 * not need them starts at once (docs/BENCHMARKS.md, start-up).
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands.js';
import { UserError } from './io.js';
import { faultlineVersion } from './version.js';

/** The first word that is not an option: the command, if any. */
function commandName(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

async function main(): Promise<void> {
  const program = new Command();
  program
    .name('faultline')
    .description('An executable model and simulator of microkernel memory management and interrupt handling.')
    .version(faultlineVersion(), '-V, --version', 'print the version of faultline')
    .showHelpAfterError()
    .exitOverride();
  // No command at all runs the tour (`npm start`); an unknown command stays an error.
  const argv = process.argv.length > 2 ? process.argv : [...process.argv, 'demo'];
  const name = commandName(argv.slice(2));
  const named = COMMANDS.filter(([names]) => name !== undefined && names.includes(name));
  // Help, `help <command>` and an unknown command need every command registered.
  for (const [, load] of named.length > 0 ? named : COMMANDS) (await load())(program);
  await program.parseAsync(argv);
}

// A reader that stops early (`faultline ... | head`) is not an error: finish quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

main().catch((e: unknown) => {
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
