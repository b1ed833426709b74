import type { Reporter } from './reporter.ts';

/** One JSON object per line, for machines; `time` is added to every event. */
export function createNdjsonReporter(stream: NodeJS.WritableStream = process.stderr): Reporter {
  return {
    report(event) {
      if (event.type === 'phase-output') return;
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    },
  };
}
