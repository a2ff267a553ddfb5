/**
 * `npm run bench`: prints every figure the issues ask for; `npm run bench -- --json` prints
 * {"benchmarks":[{name,value,unit}]}. `--only PREFIX` runs the groups whose name starts so.
 */
import { type Figure, Recorder } from './harness.js';

type Group = (r: Recorder) => Promise<void>;

// Each group is loaded when it runs: `--only core` does not load playwright.
const groups: Array<[string, () => Promise<Group>]> = [
  ['core', async () => (await import('./core.js')).coreBenchmarks],
  ['sim', async () => (await import('./sim.js')).simBenchmarks],
  ['replay', async () => (await import('./replay.js')).replayBenchmarks],
  ['startup', async () => (await import('./startup.js')).startupBenchmarks],
  ['irq', async () => (await import('./irq.js')).irqBenchmarks],
  ['mdb', async () => (await import('./mdb.js')).mdbBenchmarks],
  ['swap', async () => (await import('./swap.js')).swapBenchmarks],
  ['rival', async () => (await import('./rival.js')).rivalBenchmarks],
  ['view', async () => (await import('./view.js')).viewBenchmarks],
];

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const only = process.argv[process.argv.indexOf('--only') + 1];
  const r = new Recorder();
  for (const [name, load] of groups) {
    if (process.argv.includes('--only') && !name.startsWith(only ?? '')) continue;
    if (!json) process.stderr.write(`${name}\n`);
    await (await load())(r);
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
