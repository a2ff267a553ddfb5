/**
 * The registry of faultline's commands: for each, the names it registers and how to load the
 * module that registers it. main.ts loads only the module of the command that runs, so a command
 * starts without loading the others' dependencies (docs/BENCHMARKS.md, start-up).
 */
import type { Command } from 'commander';

/** Registers one or more commands on the program. */
export type Register = (program: Command) => void;

/**
 * Every command, in the order of `faultline --help`: the names it registers and how to load the
 * module that registers it. Add a command with one line here.
 */
export const COMMANDS: ReadonlyArray<readonly [names: readonly string[], load: () => Promise<Register>]> = [
  [['walkthrough'], async () => registerWalkthrough],
  [['replay', 'compare', 'designs'], async () => (await import('./replay_cmd.js')).registerReplayCommands],
  [['irq'], async () => (await import('./irq_cmd.js')).registerIrqCommand],
  [['scale'], async () => (await import('./scale_cmd.js')).registerScaleCommand],
  [['run', 'validate', 'schema'], async () => (await import('./scenario_cmd.js')).registerScenarioCommands],
  [['explain'], async () => (await import('./explain_cmd.js')).registerExplainCommand],
  [['trace', 'capture'], async () => (await import('./trace_cmd.js')).registerTraceCommands],
  [['pte'], async () => (await import('./pte_cmd.js')).registerPteCommand],
  [['swap-sweep'], async () => (await import('./swap_sweep_cmd.js')).registerSwapSweepCommand],
  [['view'], async () => (await import('./view_cmd.js')).registerViewCommand],
  [['contain'], async () => (await import('./contain_cmd.js')).registerContainCommand],
  [['timeouts'], async () => (await import('./timeouts_cmd.js')).registerTimeoutsCommand],
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
