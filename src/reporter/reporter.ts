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
  /** Wall time of one stage of an analysis (set-up, a phase's run, parsing, teardown...): for profiling. */
  | { type: 'stage'; runId: string; stage: string; durationMs: number }
  | { type: 'warning'; message: string; code?: string }
  | HuntEvent;

/** Job counts by state, as the store reports them. */
export interface HuntCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
}

/** What `index sync` and `hunt` report; the progress bar and NDJSON are reporters of these. */
export type HuntEvent =
  | { type: 'sync-progress'; projects: number }
  | { type: 'sync-end'; projects: number; added: number; format: string; durationMs: number }
  | { type: 'hunt-start'; selected: number; workers: number; counts: HuntCounts }
  | { type: 'project-scheduled'; project: string; versions: string[]; noRelease: string | null }
  | { type: 'project-unscheduled'; project: string; code: string; reason: string }
  | { type: 'job-start'; project: string; version: string; attempt: number; worker: string }
  | {
      type: 'job-end';
      project: string;
      version: string;
      attempt: number;
      /** done: result stored; retry: failed, will be retried; failed: final; lost: another worker took it over; interrupted: handed back. */
      outcome: 'done' | 'retry' | 'failed' | 'lost' | 'interrupted';
      durationMs: number;
      code: string | null;
      reason: string | null;
    }
  | { type: 'hunt-progress'; counts: HuntCounts }
  | { type: 'hunt-end'; counts: HuntCounts; interrupted: boolean; durationMs: number };

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
