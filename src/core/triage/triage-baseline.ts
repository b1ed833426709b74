import { type FindingDismissal, MAX_EVIDENCE } from '../detect/evaluate-record.ts';
import { pathPattern } from '../population/path-pattern.ts';
import { dnsKey } from '../population/record-behaviours.ts';
import { normalizeName } from '../pypi/normalize-name.ts';
import type { BehaviourRecord, Finding, FindingEvidence } from '../record/schema.ts';
import { type Decision, decisionsInForce, triageLabels } from './decision.ts';

/**
 * What the detection learns from the analysts' decisions in force (the latest per release and
 * finding), without a manual step:
 * - `dismiss`: a finding of a project is dismissed (0 points, noted) when an analyst marked the
 *   same rule of the same project a false positive, and every piece of its evidence is behaviour
 *   the analyst saw in that dismissed finding: the same command line, file, destination host and
 *   port, DNS name or static source line (the version and temp names aside), in the same
 *   ecosystem as the release it was decided on. Anything beyond it (a
 *   new host, another command) keeps the finding's full weight, and so does any project with a
 *   release confirmed malicious: a dismissal never outlives a compromise.
 * - `malicious`: releases confirmed malicious (`project==version`), which the population leaves
 *   out so that a campaign's behaviour never becomes "common".
 * Canary hits are never dismissed (a canary read or sent is theft whoever judged it), nor is a
 * finding at the evidence cap (more may hide behind what it shows).
 */
export interface TriageBaseline {
  dismiss: FindingDismissal;
  malicious: ReadonlySet<string>;
  /** Rule-and-project dismissals in force (for logs and tests). */
  dismissals: number;
}

interface Dismissal {
  keys: Set<string>;
  decisions: Decision[];
}

const POINTER = /^\/phases\/(install|import)\/(commands|files|connections|dns|canaries|survivors)\/(\d+)$/;
const STATIC = /^(.*):(\d+)$/;

/**
 * The behaviour one evidence item names, as a key that stays the same across versions of the
 * project (its version and random temp names replaced), or null when it cannot be dismissed.
 */
export function evidenceKey(record: BehaviourRecord, evidence: FindingEvidence): string | null {
  const pkg = { name: record.package.name, version: record.package.version };
  const match = POINTER.exec(evidence.pointer);
  if (match === null) {
    const where = STATIC.exec(evidence.pointer);
    if (where === null || evidence.pointer.startsWith('/')) return null;
    return `static\0${pathPattern(where[1] ?? '', pkg)}\0${evidence.text}`;
  }
  const [, phaseName = '', kind = '', index = ''] = match;
  const phase = record.phases[phaseName as 'install' | 'import'];
  const i = Number(index);
  const argvKey = (argv: readonly string[] | undefined) =>
    argv === undefined ? null : argv.map((arg) => pathPattern(arg, pkg)).join('\0');
  let value: string | null = null;
  switch (kind) {
    case 'commands':
      value = argvKey(phase?.commands[i]?.argv);
      break;
    case 'survivors':
      value = argvKey(phase?.survivors[i]?.argv);
      break;
    case 'files': {
      const path = phase?.files[i]?.path;
      value = path === undefined ? null : pathPattern(path, pkg);
      break;
    }
    case 'connections': {
      const c = phase?.connections[i];
      value = c === undefined ? null : `${(c.hostname ?? c.ip).toLowerCase()}:${c.port}`;
      break;
    }
    case 'dns': {
      const name = phase?.dns[i]?.name;
      value = name === undefined ? null : dnsKey(name);
      break;
    }
    default:
      return null;
  }
  return value === null ? null : `${phaseName}\0${kind}\0${value}`;
}

function _keysOf(record: BehaviourRecord, finding: Finding): string[] | null {
  if (finding.evidence.length === 0 || finding.evidence.length >= MAX_EVIDENCE) return null;
  const keys: string[] = [];
  for (const evidence of finding.evidence) {
    const key = evidenceKey(record, evidence);
    if (key === null) return null;
    keys.push(key);
  }
  return keys;
}

function _note(decisions: readonly Decision[]): string {
  const cited = decisions
    .slice(-3)
    .map((d) => `#${d.id} on ${d.version}${d.analyst ? ` by ${d.analyst}` : ''}`)
    .join(', ');
  return `same behaviour marked a false positive in triage (${cited})`;
}

/**
 * The baseline of the decisions `history` (any order, every decision ever made), with the
 * record each false positive in force was about (`records.get('project==version')`; a release
 * without a record dismisses nothing).
 */
export function buildTriageBaseline(
  history: readonly Decision[],
  records: ReadonlyMap<string, BehaviourRecord>,
): TriageBaseline {
  const inForce = decisionsInForce(history);
  const labels = triageLabels(inForce);
  const malicious = new Set([...labels].filter(([, label]) => label === 'malicious').map(([key]) => key));
  const compromised = new Set([...malicious].map((key) => key.slice(0, key.lastIndexOf('=='))));
  const dismissals = new Map<string, Dismissal>();
  for (const decision of inForce) {
    if (decision.label !== 'false_positive' || compromised.has(decision.project)) continue;
    const record = records.get(`${decision.project}==${decision.version}`);
    for (const finding of record?.verdict?.findings ?? []) {
      if (decision.rule !== null && finding.rule !== decision.rule) continue;
      const keys = record === undefined ? null : _keysOf(record, finding);
      if (keys === null) continue;
      const id = `${record?.package.ecosystem}\0${decision.project}\0${finding.rule}`;
      const entry = dismissals.get(id) ?? { keys: new Set<string>(), decisions: [] };
      for (const key of keys) entry.keys.add(key);
      if (!entry.decisions.includes(decision)) entry.decisions.push(decision);
      dismissals.set(id, entry);
    }
  }
  return {
    malicious,
    dismissals: dismissals.size,
    dismiss(finding, record) {
      const project = normalizeName(record.package.name);
      if (compromised.has(project)) return null;
      const entry = dismissals.get(`${record.package.ecosystem}\0${project}\0${finding.rule}`);
      if (entry === undefined) return null;
      const keys = _keysOf(record, finding);
      if (keys === null || !keys.every((key) => entry.keys.has(key))) return null;
      return _note(entry.decisions);
    },
  };
}

/** A baseline that dismisses nothing (no store, or no decisions). */
export const EMPTY_TRIAGE_BASELINE: TriageBaseline = buildTriageBaseline([], new Map());
