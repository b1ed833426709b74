import { normalizeName } from '../pypi/normalize-name.ts';
import type { BehaviourRecord, Finding, Severity, Verdict } from '../record/schema.ts';
import { maxSeverity, type StaticFinding } from '../static/scan-static-signals.ts';
import type { Allowlist } from './allowlist.ts';
import type { PopulationView } from './population-view.ts';
import { buildRecordView } from './record-view.ts';
import type { PopulationKey, Rule, RuleHit } from './rule.ts';
import { DYNAMIC_RULES } from './rules/all-rules.ts';

/** Points per severity; a rule counts once (its heaviest finding), the sum is capped at 100. */
export const SEVERITY_POINTS: Readonly<Record<Severity, number>> = {
  info: 0,
  low: 5,
  medium: 15,
  high: 40,
  critical: 100,
};
export const THRESHOLDS = { suspicious: 20, malicious: 70 } as const;
/** Below this many packages the population says too little to weigh anything. */
export const MIN_POPULATION = 20;

/** Static signals that mean "the code hides what it does". */
const HIDING_RULES = new Set([
  'static.exec-decoded',
  'static.exec-downloaded',
  'static.obfuscated-call',
  'static.whitespace-hidden',
  'static.powershell-encoded',
]);
/** Evidence items kept per finding; a finding at the cap may hide more behind it. */
export const MAX_EVIDENCE = 8;

/**
 * Why a finding is dismissed (it then adds no points and feeds no combination), or null. Built
 * from triage decisions (src/core/triage/triage-baseline.ts); the record is the one scored.
 */
export type FindingDismissal = (finding: Finding, record: BehaviourRecord) => string | null;

export interface EvaluateOptions {
  allowlist: Allowlist;
  /** Findings of scanStaticSignals; when absent, the static findings already in record.verdict are kept. */
  staticFindings?: readonly StaticFinding[];
  /** How many artifact files the static scan read (null: none could be read). */
  staticFiles?: number | null;
  population?: PopulationView;
  /** Defaults to every dynamic rule. */
  rules?: readonly Rule[];
  /** Findings an analyst dismissed as false positives (triage decisions of the store). */
  dismiss?: FindingDismissal;
}

function adjustment(
  severity: Severity,
  key: PopulationKey | undefined,
  population: PopulationView | undefined,
): { factor: number; note: string } | null {
  if (!population || !key || severity === 'critical' || population.packages < MIN_POPULATION) return null;
  const share = population.share(key.kind, key.key);
  if (share.popularPackages >= 3 && share.packages / population.packages >= 0.02) {
    return {
      factor: 0.5,
      note: `common: ${key.kind} seen in ${share.packages} of ${population.packages} packages (${share.popularPackages} popular)`,
    };
  }
  if (share.packages <= 1) {
    return {
      factor: 1.5,
      note: `rare: ${key.kind} seen in ${share.packages} of ${population.packages} packages`,
    };
  }
  return null;
}

/** Hits of a rule merge into one finding unless phase, culprit, severity or population weighing differ. */
function groupKey(hit: RuleHit, severity: Severity, note: string | undefined): string {
  const culprit = hit.culprit === null ? '-' : `${hit.culprit.kind}:${hit.culprit.distribution ?? ''}`;
  return [hit.phase, culprit, severity, note ?? '-'].join('\0');
}

function dynamicFindings(
  rule: Rule,
  hits: readonly RuleHit[],
  population: PopulationView | undefined,
): Finding[] {
  const groups = new Map<string, Finding>();
  for (const hit of hits) {
    const severity = hit.severity ?? rule.severity;
    const adjusted = adjustment(severity, hit.population, population);
    const key = groupKey(hit, severity, adjusted?.note);
    const existing = groups.get(key);
    if (existing) {
      for (const e of hit.evidence) if (existing.evidence.length < MAX_EVIDENCE) existing.evidence.push(e);
      continue;
    }
    groups.set(key, {
      rule: rule.id,
      severity,
      title: rule.title,
      attack: rule.attack ?? null,
      phase: hit.phase,
      culprit: hit.culprit,
      evidence: hit.evidence.slice(0, MAX_EVIDENCE),
      points: Math.round(SEVERITY_POINTS[severity] * (adjusted?.factor ?? 1)),
      ...(adjusted ? { population: adjusted.note } : {}),
    });
  }
  return [...groups.values()];
}

/** The static findings a record's verdict already carries (to score again, e.g. with a population). */
export function staticFindingsOf(record: BehaviourRecord): StaticFinding[] {
  return (record.verdict?.findings ?? [])
    .filter((f) => f.phase === 'static')
    .map(({ points: _points, population: _population, dismissed: _dismissed, ...rest }) => rest);
}

/** The finding, or its dismissed form (0 points, the reason) when triage dismissed it. */
function _judged(
  finding: Finding,
  options: { record: BehaviourRecord; dismiss: FindingDismissal | undefined },
): Finding {
  const note = options.dismiss?.(finding, options.record) ?? null;
  return note === null ? finding : { ...finding, points: 0, dismissed: note };
}

function hidingAndActive(findings: readonly Finding[]): Finding | null {
  const hiding = findings.find((f) => f.phase === 'static' && HIDING_RULES.has(f.rule));
  const active = findings.find(
    (f) => f.phase !== 'static' && SEVERITY_POINTS[f.severity] >= SEVERITY_POINTS.medium,
  );
  if (!hiding || !active) return null;
  return {
    rule: 'combo.hidden-and-active',
    severity: 'high',
    title: 'hides its code and acts when installed or imported',
    attack: 'T1027',
    phase: active.phase,
    culprit: active.culprit,
    evidence: [...hiding.evidence.slice(0, 1), ...active.evidence.slice(0, 1)],
    points: SEVERITY_POINTS.high,
  };
}

/** Static signals that setup.py runs code of its own at install time. */
const INSTALL_HOOK_RULES = new Set(['static.install-hook', 'static.setup-code']);

/**
 * An install hook in the artifact plus the package's own connection or DNS query while it
 * installs: the hook is what reached out, and nothing in a benign install needs to.
 */
function hookAndNetwork(findings: readonly Finding[]): Finding | null {
  const hook = findings.find((f) => f.phase === 'static' && INSTALL_HOOK_RULES.has(f.rule));
  const network = findings.find(
    (f) =>
      f.phase === 'install' &&
      f.culprit?.kind === 'package' &&
      f.evidence.some((e) => /^\/phases\/install\/(connections|dns)\//.test(e.pointer)),
  );
  if (!hook || !network) return null;
  return {
    rule: 'combo.hook-and-network',
    severity: 'critical',
    title: 'an install hook that reaches the network while installing',
    attack: 'T1195.002',
    phase: 'install',
    culprit: network.culprit,
    evidence: [
      ...hook.evidence.slice(0, 1),
      ...network.evidence.filter((e) => /\/(connections|dns)\//.test(e.pointer)).slice(0, 1),
    ],
    points: SEVERITY_POINTS.critical,
  };
}

function levelOf(score: number, findings: readonly Finding[]): Verdict['level'] {
  const critical = findings.some((f) => f.severity === 'critical' && f.dismissed === undefined);
  if (critical || score >= THRESHOLDS.malicious) return 'malicious';
  return score >= THRESHOLDS.suspicious ? 'suspicious' : 'clean';
}

/**
 * Runs every rule over the record, adds the static findings, and scores: each rule counts
 * once with its heaviest finding, a critical finding is malicious on its own, the population
 * (when given) halves behaviour common among popular packages and raises rare behaviour.
 */
export function evaluateRecord(record: BehaviourRecord, options: EvaluateOptions): Verdict {
  const view = buildRecordView(record, options.allowlist);
  const found: Finding[] = [];
  for (const rule of options.rules ?? DYNAMIC_RULES) {
    found.push(...dynamicFindings(rule, rule.match(record, view), options.population));
  }
  const own = { kind: 'package' as const, distribution: normalizeName(record.package.name) };
  for (const f of options.staticFindings ?? staticFindingsOf(record)) {
    found.push({ ...f, culprit: f.culprit ?? own, points: SEVERITY_POINTS[f.severity] });
  }
  const findings = found.map((f) => _judged(f, { record, dismiss: options.dismiss }));
  // A dismissed finding takes part in no combination; a combination can be dismissed in turn.
  const standing = findings.filter((f) => f.dismissed === undefined);
  for (const combo of [hidingAndActive(standing), hookAndNetwork(standing)]) {
    if (combo) findings.push(_judged(combo, { record, dismiss: options.dismiss }));
  }

  const perRule = new Map<string, { points: number; severity: Severity }>();
  for (const f of findings) {
    const seen = perRule.get(f.rule);
    perRule.set(f.rule, {
      points: Math.max(seen?.points ?? 0, f.points),
      severity: seen ? maxSeverity(seen.severity, f.severity) : f.severity,
    });
  }
  const total = [...perRule.values()].reduce((sum, r) => sum + r.points, 0);
  const score = Math.min(100, Math.round(total));
  findings.sort((a, b) => b.points - a.points || a.rule.localeCompare(b.rule));
  return {
    level: levelOf(score, findings),
    score,
    findings,
    static_files:
      options.staticFiles !== undefined ? options.staticFiles : (record.verdict?.static_files ?? null),
    population_adjusted: options.population !== undefined && options.population.packages >= MIN_POPULATION,
  };
}
