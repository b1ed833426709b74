import { isLinuxObservable } from './classify-observability.ts';
import { CATEGORIES, type Category, reaches, type SampleOutcome } from './outcome.ts';

export type Threshold = 'malicious' | 'suspicious';
export const THRESHOLDS: readonly Threshold[] = ['malicious', 'suspicious'];

export interface Rate {
  hits: number;
  total: number;
  /** hits / total, null when total is 0. */
  rate: number | null;
}

/** Why a sample was missed: the first four are the classes; the others say more. */
export type MissReason =
  | 'windows_only'
  | 'crashes_early'
  | 'missing_dependency'
  | 'not_detected'
  | 'install_failed'
  | 'no_record';

export interface Miss {
  name: string;
  version: string | null;
  level: SampleOutcome['level'];
  score: number;
  reason: MissReason;
  rules: string[];
}

export interface RecallAt {
  overall: Rate;
  linuxObservable: Rate;
  /** Detected samples whose findings include this phase; `staticOnly`: only static findings. */
  byPhase: { install: number; import: number; staticOnly: number };
  /** Detected samples with a finding of this kind. */
  byCategory: Record<Category, number>;
  misses: Miss[];
}

export interface RecallReport {
  samples: number;
  analysed: number;
  linuxObservable: number;
  /** What the records show, whatever the rules say. */
  observed: { network: number; dns: number; commands: number; canary: number; none: number };
  observability: Record<string, number>;
  at: Record<Threshold, RecallAt>;
}

export function rate(hits: number, total: number): Rate {
  return { hits, total, rate: total === 0 ? null : hits / total };
}

/** The reason of a miss, from what the record shows (see classifyObservability). */
export function missReason(o: SampleOutcome): MissReason {
  switch (o.observability) {
    case 'windows_only':
    case 'crashes_early':
    case 'missing_dependency':
    case 'install_failed':
    case 'no_record':
      return o.observability;
    default:
      return 'not_detected';
  }
}

function _recallAt(outcomes: readonly SampleOutcome[], threshold: Threshold): RecallAt {
  const detected = outcomes.filter((o) => reaches(o.level, threshold));
  const observable = outcomes.filter(
    (o) => o.observability !== 'no_record' && isLinuxObservable(o.observability),
  );
  const byCategory = Object.fromEntries(
    CATEGORIES.map((c) => [c, detected.filter((o) => o.categories.includes(c)).length]),
  ) as Record<Category, number>;
  return {
    overall: rate(detected.length, outcomes.length),
    linuxObservable: rate(observable.filter((o) => reaches(o.level, threshold)).length, observable.length),
    byPhase: {
      install: detected.filter((o) => o.phases.includes('install')).length,
      import: detected.filter((o) => o.phases.includes('import')).length,
      staticOnly: detected.filter((o) => o.phases.length > 0 && o.phases.every((p) => p === 'static')).length,
    },
    byCategory,
    misses: outcomes
      .filter((o) => !reaches(o.level, threshold))
      .map((o) => ({
        name: o.name,
        version: o.version,
        level: o.level,
        score: o.score,
        reason: missReason(o),
        rules: o.fired.map((f) => f.rule),
      })),
  };
}

/** Recall over a set where every sample is malicious, at both thresholds. */
export function recallReport(outcomes: readonly SampleOutcome[]): RecallReport {
  const observability: Record<string, number> = {};
  for (const o of outcomes) observability[o.observability] = (observability[o.observability] ?? 0) + 1;
  const analysed = outcomes.filter((o) => o.analysed);
  return {
    samples: outcomes.length,
    analysed: analysed.length,
    linuxObservable: outcomes.filter(
      (o) => o.observability !== 'no_record' && isLinuxObservable(o.observability),
    ).length,
    observed: {
      network: analysed.filter((o) => o.observed.network).length,
      dns: analysed.filter((o) => o.observed.dns).length,
      commands: analysed.filter((o) => o.observed.commands).length,
      canary: analysed.filter((o) => o.observed.canary).length,
      none: analysed.filter((o) => !Object.values(o.observed).some(Boolean)).length,
    },
    observability,
    at: { malicious: _recallAt(outcomes, 'malicious'), suspicious: _recallAt(outcomes, 'suspicious') },
  };
}
