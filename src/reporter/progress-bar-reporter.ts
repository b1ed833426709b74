import cliProgress from 'cli-progress';
import type { HuntCounts, Reporter, ReporterEvent } from './reporter.ts';

/**
 * The hunt's terminal view on stderr: one bar with rate, ETA and counts by outcome, and a line
 * above it for each package that ends badly. Without a TTY it prints plain lines instead.
 */
export function createProgressBarReporter(options: { stream?: NodeJS.WriteStream } = {}): Reporter {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        '{bar} {value}/{total} | {rate}/min | ETA {eta_formatted} | done {done} failed {failed} retrying {retrying} running {running}',
      etaBuffer: 20,
      fps: 5,
      hideCursor: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let startedAt = Date.now();
  let baseline = 0;
  let retrying = 0;
  function payload(counts: HuntCounts): Record<string, string | number> {
    const finished = counts.done + counts.failed - baseline;
    const minutes = (Date.now() - startedAt) / 60_000;
    return {
      rate: minutes > 0 ? (finished / minutes).toFixed(1) : '0.0',
      done: counts.done,
      failed: counts.failed,
      retrying,
      running: counts.running,
    };
  }
  function update(counts: HuntCounts): void {
    const total = counts.pending + counts.running + counts.done + counts.failed;
    const value = counts.done + counts.failed;
    if (!tty) return;
    if (!started) {
      bar.start(total, value, payload(counts));
      started = true;
    } else {
      bar.setTotal(total);
      bar.update(value, payload(counts));
    }
  }
  function log(line: string): void {
    // Clears the bar's line first; the bar draws itself again on its next update.
    stream.write(started && tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
  return {
    report(event: ReporterEvent) {
      switch (event.type) {
        case 'sync-end':
          log(
            `pkghunt: ${event.projects} projects listed (${event.added} new) in ${(event.durationMs / 1000).toFixed(1)} s`,
          );
          break;
        case 'hunt-start':
          startedAt = Date.now();
          baseline = event.counts.done + event.counts.failed;
          log(`pkghunt: hunting ${event.selected} projects with ${event.workers} workers`);
          update(event.counts);
          break;
        case 'project-unscheduled':
          log(`  ${event.project}: cannot read its releases [${event.code}] ${event.reason}`);
          break;
        case 'job-end':
          if (event.outcome === 'retry') retrying++;
          if (event.outcome === 'failed' || event.outcome === 'retry') {
            log(`  ${event.project}==${event.version}: ${event.outcome} [${event.code}] ${event.reason}`);
          } else if (!tty) {
            log(
              `  ${event.project}==${event.version}: ${event.outcome} in ${(event.durationMs / 1000).toFixed(1)} s`,
            );
          }
          break;
        case 'hunt-progress':
          update(event.counts);
          break;
        case 'hunt-end':
          update(event.counts);
          if (started) bar.stop();
          log(
            `pkghunt: ${event.interrupted ? 'interrupted' : 'finished'} after ${(event.durationMs / 1000).toFixed(1)} s: ` +
              `${event.counts.done} done, ${event.counts.failed} failed, ${event.counts.pending + event.counts.running} left`,
          );
          break;
        case 'warning':
          log(`warning: ${event.message}`);
          break;
        default:
          break;
      }
    },
  };
}
