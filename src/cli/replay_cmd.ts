/**
 * `faultline replay`, `faultline compare` and `faultline designs`. The simulator, the reports and
 * the progress bar are loaded when a replay runs, so that `designs` and `--help` start at once.
 */
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { MISBEHAVIOURS } from '../components/misbehaviour.js';
import { type ArchName, arch } from '../hw/arch.js';
import { TLB_SPEC_HELP } from '../hw/tlb_spec.js';
import { formatNumber } from '../report/table.js';
import { DESIGNS, optionChoices } from '../sim/designs.js';
import { stopText } from '../sim/replay_stop.js';
import { machineLine, type WindowConfig } from '../sim/run_config.js';
import { designsMetadata, designsTrust } from './designs_studies.js';
import {
  checkOutputs,
  collect,
  EXIT_THREAD_STOPPED,
  type Interrupt,
  interruptible,
  type Output,
  outDir,
  parseChoice,
  UserError,
  writeFileAtomic,
} from './io.js';
import { addPagingFlags } from './paging_options.js';
import { progressBar } from './progress.js';
import type { ReplayOutcome } from './replay_run.js';
import { type RunFlags, type RunOptions, runOptions } from './run_options.js';
import type { ReaderMode } from './trace_thread.js';

const READER_MODES: readonly ReaderMode[] = ['auto', 'thread', 'inline'];

const MISBEHAVE_HELP = `the program's memory manager misbehaves: ${MISBEHAVIOURS.join(', ')} (N in cycles)`;

/** Flags common to replay and compare. */
export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('--arch <name>', 'architecture profile', 'x86_64')
    .option('--cpus <n>', 'simulated CPUs', '1')
    .option('--tlb <spec>', 'TLB geometry per CPU (see below; default: the architecture’s)')
    .option('--chunk <size>', 'RAM the on-demand handler attaches per touched chunk', '2M')
    .option('--set <option=value>', 'override one design option (repeatable)', collect)
    .option(
      '--cost <name=cycles>',
      'override one cost: a whole number of cycles, 0 to 10^9 (repeatable; see docs/COST_MODEL.md)',
      collect,
    )
    .option('--seed <n>', 'seed for anything random', '1');
}

/** Adds `--reader`: where a trace file is parsed (replay and compare). */
function addReaderFlag(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--reader <mode>',
      'parse the trace on a reader thread, overlapped with the simulation (thread), in the simulating thread (inline), or thread for traces of about 4 million records or more while a core is idle (auto); with thread, compare also replays half of its designs on a second thread, and the two threads decode the trace between them (plain lackey text, or a binary trace as trace convert writes it; gzip input is read on a reader thread)',
    )
      .argParser((v) => parseChoice(v, '--reader', READER_MODES))
      .default('auto'),
  );
}

/** Flags of the region of interest and the top lists (replay and compare). */
export interface WindowFlags {
  skip?: string;
  warmup?: string;
  limit?: string;
  interval?: string;
  top?: string;
}

/** Adds `--skip`, `--warmup`, `--limit`, `--interval` and `--top` (docs/OUTPUT.md). */
function addWindowFlags(cmd: Command): Command {
  return cmd
    .option('--skip <n>', 'records at the start of the trace not simulated at all', '0')
    .option('--warmup <n>', 'records simulated after the skipped ones before every statistic is reset', '0')
    .option('--limit <n>', 'measure at most n records after the warm-up, then stop')
    .option('--interval <n>', 'figures every n measured records (JSON intervals, timeline counters)')
    .option('--top <n>', 'pages and instructions listed by TLB misses and by faults (0: none)', '10');
}

/** A count flag: an integer from `min` up (to 2^53 - 1). */
function parseCount(text: string, flag: string, min: 0 | 1): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UserError(
      `${flag}: '${text}' is not an integer of at least ${min} (records${flag === '--top' ? ' listed' : ''})`,
    );
  }
  return n;
}

/** The window and top-list length the flags ask for; a bad value is a user error. */
export function windowOptions(f: WindowFlags): { window: WindowConfig; top: number } {
  return {
    window: {
      skip: parseCount(f.skip ?? '0', '--skip', 0),
      warmup: parseCount(f.warmup ?? '0', '--warmup', 0),
      limit: f.limit === undefined ? null : parseCount(f.limit, '--limit', 1),
      interval: f.interval === undefined ? null : parseCount(f.interval, '--interval', 1),
    },
    top: parseCount(f.top ?? '10', '--top', 0),
  };
}

/** The command line as typed, quoted for a POSIX shell where needed. */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  return ['faultline', ...argv.map(quote)].join(' ');
}

/**
 * Runs a replay with a progress bar on a terminal; once `stop` is requested (Ctrl-C), reading
 * stops after the current batch and the outcome is partial (`interrupted`).
 */
export async function replayWithUi(
  trace: string,
  runs: readonly RunOptions[],
  flags: WindowFlags & { reader?: ReaderMode },
  opts: { timeline: boolean; quiet: boolean; stop: Interrupt; tlbSamples?: boolean },
): Promise<ReplayOutcome> {
  const { window, top } = windowOptions(flags);
  const [{ replay }, bar] = await Promise.all([
    import('./replay_run.js'),
    progressBar('replaying {bar} {percentage}% {value}/{total} bytes', !opts.quiet),
  ]);
  try {
    return await replay(trace, runs, {
      reader: flags.reader,
      timeline: opts.timeline,
      window,
      top,
      shouldStop: () => opts.stop.requested,
      tlbSamples: opts.tlbSamples,
      onProgress: bar ? (b, total) => bar.update(b, total) : undefined,
    });
  } finally {
    bar?.stop();
  }
}

/** Registers replay, compare and designs. */
export function registerReplayCommands(program: Command): void {
  addWindowFlags(
    addPagingFlags(
      addRunFlags(
        addReaderFlag(program.command('replay <trace>'))
          .description(
            'replay a memory-access trace (Valgrind lackey text, gzip, or faultline binary) through a design',
          )
          .option('--design <name>', 'design to run (see `faultline designs`)', 'genode')
          .option('--misbehave <kind>', MISBEHAVE_HELP)
          .option('--json', 'print one JSON object (schema in docs/OUTPUT.md)')
          .option(
            '--tlb-samples',
            'with --json: add every CPU’s TLB contents after each 65,536 records (for faultline view)',
          )
          .option('--timeline <file>', 'write a Chrome trace-event JSON timeline (open in ui.perfetto.dev)')
          .option('--report <file>', 'write an HTML report'),
      ),
    ),
  )
    .addHelpText('after', `\nTLB specs (--tlb):\n  ${TLB_SPEC_HELP}\n`)
    .action(
      async (
        trace: string,
        flags: RunFlags &
          WindowFlags & {
            reader?: ReaderMode;
            design: string;
            json?: boolean;
            timeline?: string;
            report?: string;
            tlbSamples?: boolean;
          },
      ) => {
        const runs = runOptions([flags.design], flags);
        windowOptions(flags);
        const { comparisonChart, comparisonHtml, summaryText } = await import('../report/run_report.js');
        const outputs: Output[] = [];
        if (flags.timeline !== undefined) outputs.push({ flag: '--timeline', path: flags.timeline });
        if (flags.report !== undefined) outputs.push({ flag: '--report', path: flags.report });
        await checkOutputs(outputs, [trace]);
        const out = await interruptible((stop) =>
          replayWithUi(trace, runs, flags, {
            timeline: flags.timeline !== undefined,
            quiet: !!flags.json,
            stop,
            tlbSamples: !!flags.tlbSamples,
          }),
        );
        const r = out.results[0]!;
        if (flags.timeline !== undefined) {
          await writeFileAtomic(flags.timeline, JSON.stringify(out.timelines[0]!.toJSON()));
        }
        if (flags.report !== undefined) {
          const svg = await comparisonChart(out.results, `${r.design} on ${trace}`);
          if (!svg.ok) throw new UserError(svg.message);
          const html = comparisonHtml(out.results, svg.value, reportMeta(out), {
            title: 'faultline replay',
            subtitle: `${r.design} on ${trace}`,
          });
          if (!html.ok) throw new UserError(html.message);
          await writeFileAtomic(flags.report, html.value);
        }
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ...r, ...samplesOf(out, 0), trace: traceInfo(out), interrupted: out.interrupted })}\n`,
          );
        } else {
          if (out.interrupted) process.stdout.write('interrupted: partial result\n');
          process.stdout.write(`${summaryText(r)}\n`);
          for (const e of r.errors) process.stdout.write(`error: ${e}\n`);
          process.stdout.write(stopLines(out));
        }
        setStopExit(out);
      },
    );

  addWindowFlags(
    addPagingFlags(
      addRunFlags(
        addReaderFlag(program.command('compare <trace>'))
          .description(
            'run several designs on the same trace, side by side, with an SVG plot and an HTML report',
          )
          .option('--design <name>', 'a design to compare (repeat; default genode and 4k-only)', collect)
          .option('--misbehave <kind>', MISBEHAVE_HELP)
          .option('--out <dir>', 'where to write compare.svg and compare.html', 'faultline-out')
          .option('--json', 'print {"results": [...]} instead of the table')
          .option('--tlb-samples', 'with --json: add every CPU’s TLB contents after each 65,536 records'),
      ),
    ),
  ).action(
    async (
      trace: string,
      flags: RunFlags &
        WindowFlags & {
          reader?: ReaderMode;
          design?: string[];
          out: string;
          json?: boolean;
          tlbSamples?: boolean;
        },
    ) => {
      const designs = flags.design?.length ? flags.design : ['genode', '4k-only'];
      const runs = runOptions(designs, flags);
      windowOptions(flags);
      const { comparisonChart, comparisonHtml, comparisonTable } = await import('../report/run_report.js');
      const dir = outDir(flags.out);
      const svgPath = join(dir, 'compare.svg');
      const htmlPath = join(dir, 'compare.html');
      await checkOutputs(
        [
          { flag: '--out', path: svgPath },
          { flag: '--out', path: htmlPath },
        ],
        [trace],
      );
      const out = await interruptible((stop) =>
        replayWithUi(trace, runs, flags, {
          timeline: false,
          quiet: !!flags.json,
          stop,
          tlbSamples: !!flags.tlbSamples,
        }),
      );
      const svg = await comparisonChart(out.results, `designs on ${trace}`);
      if (!svg.ok) throw new UserError(svg.message);
      const html = comparisonHtml(out.results, svg.value, reportMeta(out));
      if (!html.ok) throw new UserError(html.message);
      await writeFileAtomic(svgPath, svg.value);
      await writeFileAtomic(htmlPath, html.value);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ results: out.results.map((r, i) => ({ ...r, ...samplesOf(out, i) })), trace: traceInfo(out), interrupted: out.interrupted })}\n`,
        );
      } else {
        if (out.interrupted) process.stdout.write('interrupted: partial result\n');
        process.stdout.write(`${comparisonTable(out.results)}\n\nplot: ${svgPath}\nreport: ${htmlPath}\n`);
        process.stdout.write(stopLines(out));
      }
      setStopExit(out);
    },
  );

  program
    .command('designs')
    .description('list the built-in designs and their options')
    .option('--json', 'print the designs as JSON')
    .option(
      '--trust',
      'run a small workload under each design and list the communication rights each party used',
    )
    .option(
      '--metadata [counts]',
      'bytes of core and kernel metadata per fault-handling design as managed dataspaces grow (default 1,16,256,1024)',
    )
    .action(async (flags: { json?: boolean; trust?: boolean; metadata?: string | boolean }) => {
      if (flags.trust) {
        await designsTrust(!!flags.json);
        return;
      }
      if (flags.metadata !== undefined) {
        await designsMetadata(
          flags.metadata === true ? '1,16,256,1024' : String(flags.metadata),
          !!flags.json,
        );
        return;
      }
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

/** The header lines of an HTML report: command line, machine, trace, version. */
function reportMeta(out: ReplayOutcome): Array<[string, string]> {
  const meta: Array<[string, string]> = [['command', commandLine()]];
  for (const r of out.results) if (r.config) meta.push(['machine', machineLine(r.config)]);
  const t = out.trace;
  meta.push([
    'trace',
    `${t.file} (${t.format}${t.gzip ? ', gzip' : ''}, ${formatNumber(t.records)} records read)`,
  ]);
  const v = out.results[0]?.config?.faultline;
  if (v !== undefined) meta.push(['faultline', v]);
  if (out.interrupted) meta.push(['interrupted', 'yes: every figure is partial']);
  return meta;
}

/** One `stopped:` line per run whose traced thread stopped, prefixed with the design when several ran. */
function stopLines(out: ReplayOutcome): string {
  let text = '';
  for (const r of out.results) {
    if (!r.stopped) continue;
    const line = stopText(r.stopped, out.trace.records, arch(r.arch as ArchName));
    text += `${out.results.length > 1 ? `${r.design}: ` : ''}${line}\n`;
  }
  return text;
}

/** Exit status EXIT_THREAD_STOPPED when a traced thread stopped in any run (unless the user interrupted it). */
function setStopExit(out: ReplayOutcome): void {
  if (!out.interrupted && out.results.some((r) => r.stopped)) process.exitCode = EXIT_THREAD_STOPPED;
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
