import type { Reporter, ReporterEvent } from './reporter.ts';

/** Human progress on a stream (stderr by default, so stdout stays clean for --json). */
export function createTerminalReporter(
  options: { stream?: NodeJS.WritableStream; verbose?: boolean } = {},
): Reporter {
  const stream = options.stream ?? process.stderr;
  const dim = (text: string) => (process.stderr.isTTY ? `\x1b[2m${text}\x1b[0m` : text);
  function write(line: string): void {
    stream.write(`${line}\n`);
  }
  return {
    report(event: ReporterEvent) {
      switch (event.type) {
        case 'analysis-start':
          write(`pkghunt: analysing ${event.requested} (run ${event.runId})`);
          break;
        case 'step':
          write(dim(`  ${event.step}${event.detail ? `: ${event.detail}` : ''}`));
          break;
        case 'phase-start':
          write(`  phase ${event.phase}...`);
          break;
        case 'phase-output':
          if (options.verbose) stream.write(dim(event.text));
          break;
        case 'phase-end':
          write(`  phase ${event.phase}: ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s`);
          break;
        case 'analysis-end':
          break;
        case 'warning':
          write(`warning: ${event.message}${event.code ? ` [${event.code}]` : ''}`);
          break;
      }
    },
  };
}
