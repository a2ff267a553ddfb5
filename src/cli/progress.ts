/**
 * The progress bar of a long command: on stderr, only when stderr is a terminal and the output is
 * not JSON. cli-progress loads only then, so neither `--help` nor a piped run pays for it.
 */

/** A bar that starts at its first update (when the total is known) and stops only if it started. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar in `format` (cli-progress's placeholders), or null where none is shown. */
export async function progressBar(format: string, show: boolean): Promise<Progress | null> {
  if (!show || !process.stderr.isTTY) return null;
  // The CommonJS module as its default export: a bundle's dynamic import gives nothing else.
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        if (total <= 0) return;
        bar.start(total, 0);
        started = true;
      }
      bar.update(Math.min(done, total));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
