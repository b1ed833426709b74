import type { PhaseName, PhaseStatus } from '../core/record/schema.ts';

/**
 * Everything long-running work tells the outside world goes through one event union and one
 * interface: the terminal, NDJSON logs and (later) the dashboard's live feed are reporters.
 */
export type ReporterEvent =
  | { type: 'analysis-start'; runId: string; requested: string }
  | { type: 'step'; runId: string; step: string; detail?: string }
  | { type: 'phase-start'; runId: string; phase: PhaseName }
  | { type: 'phase-output'; runId: string; phase: PhaseName; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'phase-end'; runId: string; phase: PhaseName; status: PhaseStatus; durationMs: number }
  | { type: 'analysis-end'; runId: string; name: string; version: string | null; ok: boolean }
  | { type: 'warning'; message: string; code?: string };

export interface Reporter {
  report(event: ReporterEvent): void;
}

export const silentReporter: Reporter = { report() {} };

/** Fans one event stream out to several reporters. */
export function combineReporters(...reporters: Reporter[]): Reporter {
  return {
    report(event) {
      for (const reporter of reporters) reporter.report(event);
    },
  };
}
