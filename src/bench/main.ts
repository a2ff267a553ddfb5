/**
 * `npm run bench`: prints every figure the issues ask for; `npm run bench -- --json` prints
 * {"benchmarks":[{name,value,unit}]}. `--only PREFIX` runs the groups whose name starts so.
 */
import { coreBenchmarks } from './core.js';
import { type Figure, Recorder } from './harness.js';
import { irqBenchmarks } from './irq.js';
import { mdbBenchmarks } from './mdb.js';
import { replayBenchmarks } from './replay.js';
import { rivalBenchmarks } from './rival.js';
import { simBenchmarks } from './sim.js';
import { swapBenchmarks } from './swap.js';
import { viewBenchmarks } from './view.js';

const groups: Array<[string, (r: Recorder) => Promise<void>]> = [
  ['core', coreBenchmarks],
  ['sim', simBenchmarks],
  ['replay', replayBenchmarks],
  ['irq', irqBenchmarks],
  ['mdb', mdbBenchmarks],
  ['swap', swapBenchmarks],
  ['rival', rivalBenchmarks],
  ['view', viewBenchmarks],
];

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const only = process.argv[process.argv.indexOf('--only') + 1];
  const r = new Recorder();
  for (const [name, fn] of groups) {
    if (process.argv.includes('--only') && !name.startsWith(only ?? '')) continue;
    if (!json) process.stderr.write(`${name}\n`);
    await fn(r);
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ benchmarks: r.figures.map(({ name, value, unit }) => ({ name, value, unit })) })}\n`,
    );
  } else {
    process.stdout.write(table(r.figures));
  }
}

function table(figs: Figure[]): string {
  const w = Math.max(...figs.map((f) => f.name.length));
  const lines = figs.map(
    (f) => `${f.name.padEnd(w)}  ${String(f.value).padStart(12)} ${f.unit}${f.note ? `   ${f.note}` : ''}`,
  );
  return `\n${'benchmark'.padEnd(w)}  ${'value'.padStart(12)}\n${lines.join('\n')}\n`;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
