import type { Finding, Severity } from '../record/schema.ts';
import type { StaticRule } from './static-rule.ts';
import { type SourceFile, STATIC_RULES } from './static-rules.ts';

/** A static finding before scoring (evaluateRecord adds the points). */
export type StaticFinding = Omit<Finding, 'points' | 'population'>;

const ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
const MAX_EVIDENCE = 8;

export function maxSeverity(a: Severity, b: Severity): Severity {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * Static signals from the artifact's own source files, so that payloads that do nothing on
 * this OS (Windows-only, or crashing before they act) are still seen. Pure: the caller reads
 * the files (bounded) without executing anything. One finding per rule, evidence FILE:LINE.
 * `rules` defaults to the Python rules; npm passes its own.
 */
export function scanStaticSignals(
  files: readonly SourceFile[],
  rules: readonly StaticRule[] = STATIC_RULES,
): StaticFinding[] {
  const findings: StaticFinding[] = [];
  // CRLF and CR line ends read as LF, so that `.` and `$` in the rules' patterns see whole lines.
  const normalised = files.map((f) => ({ ...f, text: f.text.replace(/\r\n?/g, '\n') }));
  for (const rule of rules) {
    let severity: Severity | null = null;
    const evidence: Finding['evidence'] = [];
    for (const file of normalised) {
      const lines = file.text.split('\n');
      for (const hit of rule.scan(file, lines)) {
        const hitSeverity = hit.severity ?? rule.severity;
        severity = severity === null ? hitSeverity : maxSeverity(severity, hitSeverity);
        if (evidence.length < MAX_EVIDENCE)
          evidence.push({ pointer: `${file.path}:${hit.line}`, text: hit.text });
      }
    }
    if (severity === null) continue;
    findings.push({
      rule: rule.id,
      severity,
      title: rule.title,
      attack: rule.attack ?? null,
      phase: 'static',
      culprit: null,
      evidence,
    });
  }
  return findings;
}
