/**
 * `faultline replay`, `faultline compare` and `faultline designs`.
 */
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { TLB_SPEC_HELP } from '../hw/tlb_spec.js';
import { comparisonChart, comparisonHtml, comparisonTable, summaryText } from '../report/run_report.js';
import { DESIGNS, optionChoices } from '../sim/designs.js';
import { collect, UserError, writeFileAtomic } from './io.js';
import { type ReplayOutcome, replay } from './replay_run.js';
import { type RunFlags, runOptions } from './run_options.js';
import type { ReaderMode } from './trace_thread.js';

/** Flags common to replay and compare. */
export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('--arch <name>', 'architecture profile', 'x86_64')
    .option('--cpus <n>', 'simulated CPUs', '1')
    .option('--tlb <spec>', 'TLB geometry per CPU (see below; default: the architecture’s)')
    .option('--chunk <size>', 'RAM the on-demand handler attaches per touched chunk', '2M')
    .option('--set <option=value>', 'override one design option (repeatable)', collect)
    .option('--cost <name=cycles>', 'override one cost (repeatable; see docs/COST_MODEL.md)', collect)
    .option('--seed <n>', 'seed for anything random', '1');
}

/** Adds `--reader`: where a trace file is parsed (replay and compare). */
function addReaderFlag(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--reader <mode>',
      'parse the trace on a reader thread, overlapped with the simulation (thread), in the simulating thread (inline), or thread for files of 4 MiB or more (auto)',
    )
      .choices(['auto', 'thread', 'inline'])
      .default('auto'),
  );
}

/** Runs a replay with a progress bar on a terminal and Ctrl-C returning partial results. */
export async function replayWithUi(
  trace: string,
  designs: readonly string[],
  flags: RunFlags & { reader?: ReaderMode },
  opts: { timeline: boolean; quiet: boolean; tlbSamples?: boolean },
): Promise<ReplayOutcome> {
  const runs = runOptions(designs, flags);
  let stop = false;
  const onInt = () => {
    stop = true;
  };
  process.once('SIGINT', onInt);
  const bar =
    process.stderr.isTTY && !opts.quiet
      ? new SingleBar({
          stream: process.stderr,
          format: 'replaying {bar} {percentage}% {value}/{total} bytes',
        })
      : null;
  let started = false;
  try {
    return await replay(trace, runs, {
      reader: flags.reader,
      timeline: opts.timeline,
      tlbSamples: opts.tlbSamples,
      shouldStop: () => stop,
      onProgress: bar
        ? (b, total) => {
            if (!started && total > 0) {
              bar.start(total, 0);
              started = true;
            }
            if (started) bar.update(Math.min(b, total));
          }
        : undefined,
    });
  } finally {
    if (started) bar?.stop();
    process.removeListener('SIGINT', onInt);
  }
}

/** Registers replay, compare and designs. */
export function registerReplayCommands(program: Command): void {
  addRunFlags(
    addReaderFlag(program.command('replay <trace>'))
      .description(
        'replay a memory-access trace (Valgrind lackey text, gzip, or faultline binary) through a design',
      )
      .option('--design <name>', 'design to run (see `faultline designs`)', 'genode')
      .option('--json', 'print one JSON object (schema in docs/OUTPUT.md)')
      .option(
        '--tlb-samples',
        'with --json: add every CPU’s TLB contents after each 65,536 records (for faultline view)',
      )
      .option('--timeline <file>', 'write a Chrome trace-event JSON timeline (open in ui.perfetto.dev)')
      .option('--report <file>', 'write an HTML report'),
  )
    .addHelpText('after', `\nTLB specs (--tlb):\n  ${TLB_SPEC_HELP}\n`)
    .action(
      async (
        trace: string,
        flags: RunFlags & {
          design: string;
          json?: boolean;
          timeline?: string;
          report?: string;
          tlbSamples?: boolean;
        },
      ) => {
        const out = await replayWithUi(trace, [flags.design], flags, {
          timeline: !!flags.timeline,
          quiet: !!flags.json,
          tlbSamples: !!flags.tlbSamples,
        });
        const r = out.results[0]!;
        if (flags.timeline) await writeFileAtomic(flags.timeline, JSON.stringify(out.timelines[0]!.toJSON()));
        if (flags.report) {
          const svg = await comparisonChart(out.results, `${r.design} on ${trace}`);
          if (!svg.ok) throw new UserError(svg.message);
          const html = comparisonHtml(out.results, svg.value, [
            ['trace', trace],
            ['command', 'faultline replay'],
          ]);
          if (html.ok) await writeFileAtomic(flags.report, html.value);
        }
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ...r, ...samplesOf(out, 0), trace: traceInfo(out), interrupted: out.interrupted })}\n`,
          );
        } else {
          if (out.interrupted) process.stdout.write('interrupted: partial result\n');
          process.stdout.write(`${summaryText(r)}\n`);
          for (const e of r.errors) process.stdout.write(`error: ${e}\n`);
        }
      },
    );

  addRunFlags(
    addReaderFlag(program.command('compare <trace>'))
      .description('run several designs on the same trace, side by side, with an SVG plot and an HTML report')
      .option('--design <name>', 'a design to compare (repeat; default genode and 4k-only)', collect)
      .option('--out <dir>', 'where to write compare.svg and compare.html', 'faultline-out')
      .option('--json', 'print {"results": [...]} instead of the table')
      .option('--tlb-samples', 'with --json: add each design’s TLB contents after each 65,536 records'),
  ).action(
    async (
      trace: string,
      flags: RunFlags & {
        reader?: ReaderMode;
        design?: string[];
        out: string;
        json?: boolean;
        tlbSamples?: boolean;
      },
    ) => {
      const designs = flags.design?.length ? flags.design : ['genode', '4k-only'];
      const out = await replayWithUi(trace, designs, flags, {
        timeline: false,
        quiet: !!flags.json,
        tlbSamples: !!flags.tlbSamples,
      });
      const svg = await comparisonChart(out.results, `designs on ${trace}`);
      if (!svg.ok) throw new UserError(svg.message);
      const html = comparisonHtml(out.results, svg.value, [
        ['trace', trace],
        ['records', String(out.trace.records)],
      ]);
      const svgPath = join(flags.out, 'compare.svg');
      const htmlPath = join(flags.out, 'compare.html');
      await writeFileAtomic(svgPath, svg.value);
      if (html.ok) await writeFileAtomic(htmlPath, html.value);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ results: out.results.map((r, i) => ({ ...r, ...samplesOf(out, i) })), trace: traceInfo(out), interrupted: out.interrupted })}\n`,
        );
      } else {
        process.stdout.write(`${comparisonTable(out.results)}\n\nplot: ${svgPath}\nreport: ${htmlPath}\n`);
      }
    },
  );

  program
    .command('designs')
    .description('list the built-in designs and their options')
    .option('--json', 'print the designs as JSON')
    .action((flags: { json?: boolean }) => {
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ designs: DESIGNS, choices: optionChoices() })}\n`);
        return;
      }
      const lines: string[] = [];
      for (const d of DESIGNS) {
        lines.push(`${d.name}\n  ${d.description}`);
        lines.push(
          `  ${Object.entries(d.options)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
      }
      lines.push('', 'Override any option with --set option=value. Options and values:');
      for (const [k, v] of Object.entries(optionChoices())) lines.push(`  ${k}: ${v.join(' | ')}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** `{tlbSamples: [...]}` for run i when samples were taken, else nothing (the JSON stays as it was). */
function samplesOf(out: ReplayOutcome, i: number) {
  const s = out.samples[i];
  return s && s.length > 0 ? { tlbSamples: s } : {};
}

function traceInfo(out: ReplayOutcome) {
  const t = out.trace;
  return { file: t.file, format: t.format, gzip: t.gzip, records: t.records };
}
