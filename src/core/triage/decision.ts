import { z } from 'zod';

/** What an analyst decided about a suspicious or malicious release (or one finding of it). */
export const TRIAGE_LABELS = ['confirmed_malicious', 'false_positive', 'needs_review'] as const;
export const TriageLabel = z.enum(TRIAGE_LABELS);
export type TriageLabel = z.infer<typeof TriageLabel>;

/** A decision as the analyst sends it (POST /api/triage). Text is kept as typed: it is shown escaped. */
export const DecisionInput = z.object({
  project: z.string().min(1).max(200),
  version: z.string().min(1).max(200),
  /** A finding's rule id; absent or null: the whole release. */
  rule: z.string().min(1).max(200).nullable().default(null),
  label: TriageLabel,
  comment: z.string().max(4000).default(''),
  analyst: z.string().max(200).nullable().default(null),
});
export type DecisionInput = z.infer<typeof DecisionInput>;

export const Decision = z.object({
  id: z.number().int(),
  project: z.string(),
  version: z.string(),
  resultId: z.number().int().nullable(),
  rule: z.string().nullable(),
  label: TriageLabel,
  comment: z.string(),
  analyst: z.string().nullable(),
  decidedAt: z.string(),
});
export type Decision = z.infer<typeof Decision>;

export const LABEL_TEXT: Record<TriageLabel, string> = {
  confirmed_malicious: 'confirmed malicious',
  false_positive: 'false positive',
  needs_review: 'needs review',
};

/**
 * The decisions in force: the latest per (project, version, rule), from any order of history.
 * Decisions are append-only, so a later one replaces an earlier one for the same target.
 */
export function decisionsInForce(history: readonly Decision[]): Decision[] {
  const latest = new Map<string, Decision>();
  for (const d of history) {
    const key = JSON.stringify([d.project, d.version, d.rule]);
    const seen = latest.get(key);
    if (seen === undefined || seen.id < d.id) latest.set(key, d);
  }
  return [...latest.values()].sort((a, b) => a.id - b.id);
}

/**
 * The labels the detection can learn from: a release-level decision that is confirmed malicious
 * or a false positive (needs_review is no label). Keyed by `project==version`.
 */
export function triageLabels(inForce: readonly Decision[]): Map<string, 'malicious' | 'benign'> {
  const labels = new Map<string, 'malicious' | 'benign'>();
  for (const d of inForce) {
    if (d.rule !== null) continue;
    if (d.label === 'confirmed_malicious') labels.set(`${d.project}==${d.version}`, 'malicious');
    else if (d.label === 'false_positive') labels.set(`${d.project}==${d.version}`, 'benign');
  }
  return labels;
}
