/**
 * `faultline demo` (what `npm start` runs): the guided fault path, then the bundled real trace
 * replayed under two designs side by side, with a timeline and a report written to disk.
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparisonChart, comparisonHtml, comparisonTable } from '../report/run_report.js';
import { walkthrough } from '../report/walkthrough.js';
import { outDir as checkedOutDir, checkOutputs, UserError, writeFileAtomic } from './io.js';
import { replay } from './replay_run.js';
import { runOptions } from './run_options.js';

/** The bundled trace: valgrind lackey's record of `/usr/bin/sort /etc/services`. */
export const BUNDLED_TRACE = fileURLToPath(new URL('../../traces/sort.lackey.gz', import.meta.url));

/** The scenario the demo's last line suggests opening in the visualizer. */
const NEXT_SCENARIO = fileURLToPath(new URL('../../scenarios/rm_fault.yaml', import.meta.url));

/** Runs the demo, writing its files under `outDir`; returns the text to print. */
export async function demo(outDir: string): Promise<string> {
  const dir = checkedOutDir(outDir);
  const timelinePath = join(dir, 'demo-timeline.json');
  const reportPath = join(dir, 'demo-report.html');
  const svgPath = join(dir, 'demo-compare.svg');
  await checkOutputs(
    [timelinePath, svgPath, reportPath].map((path) => ({ flag: '--out', path })),
    [BUNDLED_TRACE],
  );
  const lines: string[] = [];
  lines.push('PART 1: one page fault, step by step', '');
  lines.push(...walkthrough());
  lines.push('', 'PART 2: a real program under two designs', '');
  lines.push('The bundled trace is valgrind lackey’s record of `/usr/bin/sort /etc/services`.');
  lines.push('Its memory is one managed dataspace, paged on demand in 2 MiB chunks by a user-level handler');
  lines.push(
    'on CPU 1 while the program runs on CPU 0. `genode` maps the best size; `4k-only` maps 4 KiB pages.',
  );
  lines.push('');
  const designs = ['genode', '4k-only'];
  const out = await replay(BUNDLED_TRACE, runOptions(designs, { cpus: '2' }), { timeline: true });
  lines.push(comparisonTable(out.results));
  const [a, b] = out.results as [(typeof out.results)[0], (typeof out.results)[0]];
  lines.push('');
  lines.push(
    `Best-size mappings cut TLB misses from ${b.tlb.misses} to ${a.tlb.misses} and faults resolved by core from ` +
      `${b.faults.resolved} to ${a.faults.resolved}; modelled time ${((b.cycles / a.cycles - 1) * 100).toFixed(1)}% longer with 4 KiB pages.`,
  );
  const svg = await comparisonChart(out.results, 'genode vs 4k-only on sort');
  if (!svg.ok) throw new UserError(svg.message);
  const html = comparisonHtml(out.results, svg.value, [
    ['trace', 'traces/sort.lackey.gz (valgrind lackey, /usr/bin/sort /etc/services)'],
    ['records', String(out.trace.records)],
    ['machine', 'x86_64, 2 CPUs, default TLBs, 2 MiB handler chunks'],
  ]);
  if (!html.ok) throw new UserError(html.message);
  await writeFileAtomic(timelinePath, JSON.stringify(out.timelines[0]!.toJSON()));
  await writeFileAtomic(svgPath, svg.value);
  await writeFileAtomic(reportPath, html.value);
  lines.push('');
  lines.push(
    `Wrote ${timelinePath} (the genode run: CPUs, pager entrypoints, handler; flows fault -> pager -> handler)`,
  );
  lines.push(`  and ${reportPath}.`);
  lines.push(`Open ${timelinePath} in https://ui.perfetto.dev and ${reportPath} in a browser.`);
  lines.push('');
  lines.push('NEXT: see it. The visualizer shows the address spaces, the nested region maps, every fault');
  lines.push('step by step (walk, reflection, wake-up, retry) and why each mapping has its size:');
  lines.push('');
  // Relative to where the user is: scenarios/… in a checkout, node_modules/faultline/… where installed.
  lines.push(`  npx faultline view ${relative(process.cwd(), NEXT_SCENARIO)} --open`);
  return lines.join('\n');
}
