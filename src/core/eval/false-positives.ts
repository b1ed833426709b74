import type { FiredRule, ScoredOutcome } from './outcome.ts';
import { reaches } from './outcome.ts';
import { type Rate, rate, type Threshold } from './recall.ts';

/** A popular project as the eval sees it: analysed (scored), failed for good, or not yet analysed. */
export type PopularOutcome =
  | (ScoredOutcome & {
      state: 'analysed';
      installStatus: string | null;
      importStatus: string | null;
      /** Limits the install hit (disk, memory, timeout...). */
      installLimits?: string[];
      /** Why the install did not complete, in words (the phase's `reason`), when known. */
      installReason?: string | null;
    })
  | { state: 'failed'; name: string; version: string | null; reason: string }
  | { state: 'not_analysed'; name: string; reason: string };

export interface FalsePositive {
  name: string;
  version: string | null;
  level: 'suspicious' | 'malicious';
  score: number;
  installStatus: string | null;
  fired: FiredRule[];
}

export interface FalsePositiveReport {
  listed: number;
  analysed: number;
  /** Analysed and installed: the denominator of the rates (a failed install is no true negative). */
  installed: number;
  installFailed: {
    name: string;
    version: string | null;
    status: string | null;
    level: string;
    reason?: string;
  }[];
  failed: { name: string; version: string | null; reason: string }[];
  notAnalysed: { name: string; reason: string }[];
  at: Record<Threshold, Rate>;
  /** Every flagged package (installed or not), highest score first. */
  falsePositives: FalsePositive[];
  /** How often each rule fired on a flagged popular package. */
  rules: { rule: string; packages: number }[];
}

/** False positives over popular (assumed benign) projects, at both thresholds. */
export function falsePositiveReport(outcomes: readonly PopularOutcome[]): FalsePositiveReport {
  const analysed = outcomes.filter((o) => o.state === 'analysed');
  const installed = analysed.filter((o) => o.installStatus === 'completed');
  const flagged = analysed.filter((o) => o.level !== 'clean');
  const ruleCounts = new Map<string, number>();
  for (const o of flagged)
    for (const r of new Set(o.fired.map((f) => f.rule))) ruleCounts.set(r, (ruleCounts.get(r) ?? 0) + 1);
  return {
    listed: outcomes.length,
    analysed: analysed.length,
    installed: installed.length,
    installFailed: analysed
      .filter((o) => o.installStatus !== 'completed')
      .map((o) => ({
        name: o.name,
        version: o.version,
        status:
          o.installLimits !== undefined && o.installLimits.length > 0
            ? `${o.installStatus ?? 'none'}, limit: ${o.installLimits.join('+')}`
            : o.installStatus,
        level: o.level,
        ...(o.installReason ? { reason: o.installReason } : {}),
      })),
    failed: outcomes.flatMap((o) =>
      o.state === 'failed' ? [{ name: o.name, version: o.version, reason: o.reason }] : [],
    ),
    notAnalysed: outcomes.flatMap((o) =>
      o.state === 'not_analysed' ? [{ name: o.name, reason: o.reason }] : [],
    ),
    at: {
      malicious: rate(installed.filter((o) => reaches(o.level, 'malicious')).length, installed.length),
      suspicious: rate(installed.filter((o) => reaches(o.level, 'suspicious')).length, installed.length),
    },
    falsePositives: flagged
      .map((o) => ({
        name: o.name,
        version: o.version,
        level: o.level as 'suspicious' | 'malicious',
        score: o.score,
        installStatus: o.installStatus,
        fired: o.fired,
      }))
      .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)),
    rules: [...ruleCounts.entries()]
      .map(([rule, packages]) => ({ rule, packages }))
      .sort((a, b) => b.packages - a.packages || a.rule.localeCompare(b.rule)),
  };
}
