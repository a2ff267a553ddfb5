#!/usr/bin/env node
/**
 * The faultline command line. The only layer that performs I/O: it parses arguments with
 * commander, runs the model and writes results. User mistakes end with one line on stderr and a
 * non-zero exit status; only a broken invariant (a bug) prints a stack trace.
 *
 * Start-up: each command's module is loaded only when that command runs (COMMANDS below), and the
 * modules load the simulator, reports and plotting inside their actions, so a command that does
 * not need them starts at once (docs/BENCHMARKS.md, start-up).
 */
import { Command, CommanderError } from 'commander';
import { UserError } from './io.js';
import { faultlineVersion } from './version.js';

/** Registers one or more commands on the program. */
type Register = (program: Command) => void;

/**
 * Every command, in the order of `faultline --help`: the names it registers and how to load the
 * module that registers it. Add a command with one line here.
 */
const COMMANDS: ReadonlyArray<readonly [names: readonly string[], load: () => Promise<Register>]> = [
  [['walkthrough'], async () => registerWalkthrough],
  [['replay', 'compare', 'designs'], async () => (await import('./replay_cmd.js')).registerReplayCommands],
  [['irq'], async () => (await import('./irq_cmd.js')).registerIrqCommand],
  [['scale'], async () => (await import('./scale_cmd.js')).registerScaleCommand],
  [['run', 'validate', 'schema'], async () => (await import('./scenario_cmd.js')).registerScenarioCommands],
  [['explain'], async () => (await import('./explain_cmd.js')).registerExplainCommand],
  [['trace'], async () => (await import('./trace_cmd.js')).registerTraceCommands],
  [['pte'], async () => (await import('./pte_cmd.js')).registerPteCommand],
  [['view'], async () => (await import('./view_cmd.js')).registerViewCommand],
  [['demo'], async () => registerDemo],
];

function registerWalkthrough(program: Command): void {
  program
    .command('walkthrough')
    .description('the nested fault path on a small system, step by step')
    .option('--arch <name>', 'architecture profile', 'x86_64')
    .action(async (opts: { arch: string }) => {
      const [{ walkthrough }, { parseArch }] = await Promise.all([
        import('../report/walkthrough.js'),
        import('./run_options.js'),
      ]);
      process.stdout.write(`${walkthrough({ arch: parseArch(opts.arch) }).join('\n')}\n`);
    });
}

function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the built-in tour (what `npm start` runs): the fault path, then a real trace under two designs',
    )
    .option('--out <dir>', 'where to write the timeline and the report', 'faultline-out')
    .action(async (opts: { out: string }) => {
      const { demo } = await import('./demo.js');
      process.stdout.write(`${await demo(opts.out)}\n`);
    });
}

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
