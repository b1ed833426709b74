import type { BehaviourRecord, Finding, Verdict } from '../record/schema.ts';
import { classifyObservability, type Observability, observedBehaviour } from './classify-observability.ts';

export type Level = Verdict['level'];
/** What a finding is about, for "recall by behaviour". */
export type Category = 'network' | 'dns' | 'commands' | 'canary' | 'static' | 'other';
export const CATEGORIES: readonly Category[] = ['network', 'dns', 'commands', 'canary', 'static', 'other'];
export type DetectionPhase = 'install' | 'import' | 'static';

export function categoryOf(rule: string): Category {
  if (rule.startsWith('net.')) return 'network';
  if (rule.startsWith('dns.')) return 'dns';
  if (rule.startsWith('exec.') || rule === 'recon.command') return 'commands';
  if (rule.startsWith('canary.')) return 'canary';
  if (rule.startsWith('static.')) return 'static';
  return 'other';
}

/** `suspicious` or worse when the threshold is suspicious; only `malicious` otherwise. */
export function reaches(level: Level, threshold: Exclude<Level, 'clean'>): boolean {
  return threshold === 'suspicious' ? level !== 'clean' : level === 'malicious';
}

export interface FiredRule {
  rule: string;
  severity: Finding['severity'];
  points: number;
  phase: Finding['phase'];
  /** The first evidence: a JSON pointer into the record, or FILE:LINE for a static finding. */
  where: string;
  evidence: string;
}

/** One scored package: what the current rules say about its stored record. */
export interface ScoredOutcome {
  name: string;
  version: string | null;
  level: Level;
  score: number;
  fired: FiredRule[];
  categories: Category[];
  phases: DetectionPhase[];
}

/** A malware sample: scored, or without a record (never analysed). */
export interface SampleOutcome extends ScoredOutcome {
  analysed: boolean;
  observability: Observability | 'no_record';
  observed: ReturnType<typeof observedBehaviour>;
}

function _fired(verdict: Verdict): FiredRule[] {
  return verdict.findings
    .filter((f) => f.points > 0)
    .map((f) => ({
      rule: f.rule,
      severity: f.severity,
      points: f.points,
      phase: f.phase,
      where: f.evidence[0]?.pointer ?? '',
      evidence: f.evidence[0]?.text ?? '',
    }));
}

/** The scored view of a record and the verdict the current rules gave it. */
export function scoreOutcome(record: BehaviourRecord, verdict: Verdict): ScoredOutcome {
  const fired = _fired(verdict);
  const phases = new Set<DetectionPhase>();
  for (const f of fired) phases.add(f.phase === 'static' ? 'static' : f.phase);
  return {
    name: record.package.name,
    version: record.package.version,
    level: verdict.level,
    score: verdict.score,
    fired,
    categories: CATEGORIES.filter((c) => fired.some((f) => categoryOf(f.rule) === c)),
    phases: (['install', 'import', 'static'] as const).filter((p) => phases.has(p)),
  };
}

export function sampleOutcome(record: BehaviourRecord, verdict: Verdict): SampleOutcome {
  return {
    ...scoreOutcome(record, verdict),
    analysed: true,
    observability: classifyObservability(record),
    observed: observedBehaviour(record),
  };
}

/** A labelled sample with no record: a miss, counted in every denominator. */
export function unanalysedSample(name: string, version: string): SampleOutcome {
  return {
    name,
    version,
    level: 'clean',
    score: 0,
    fired: [],
    categories: [],
    phases: [],
    analysed: false,
    observability: 'no_record',
    observed: { network: false, dns: false, commands: false, canary: false },
  };
}
