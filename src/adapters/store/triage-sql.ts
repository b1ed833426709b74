import { z } from 'zod';
import { Decision } from '../../core/triage/decision.ts';
import { type QueueEntry, ResultSummary, type TriageFilter } from './dashboard-store.ts';

/** The column types of each engine; the statement text is otherwise the same. */
interface Dialect {
  prefix: '' | 'pkghunt_';
  id: string;
  integer: string;
  text: string;
}

function _triageSql(d: Dialect): string {
  return `
CREATE TABLE ${d.prefix}triage_decisions (
  id ${d.id} PRIMARY KEY,
  project ${d.text} NOT NULL,
  version ${d.text} NOT NULL,
  result_id ${d.integer} REFERENCES ${d.prefix}results(id),
  rule ${d.text},
  label ${d.text} NOT NULL CHECK (label IN ('confirmed_malicious', 'false_positive', 'needs_review')),
  comment ${d.text} NOT NULL,
  analyst ${d.text},
  decided_at ${d.text} NOT NULL
);
CREATE INDEX ${d.prefix}triage_decisions_release ON ${d.prefix}triage_decisions (project, version, id);
`;
}

/**
 * The dashboard's triage decisions: SQLite migration 4 and PostgreSQL migration 3 (appended to
 * sqlite-migrations.ts / postgres-schema.ts). Append-only: every decision is a row, the latest
 * one per (project, version, rule) is the one in force, and the history stays for review.
 * `rule` NULL means a decision about the whole release; a rule id means one finding of it.
 */
export const TRIAGE_SQLITE_SQL = _triageSql({ prefix: '', id: 'INTEGER', integer: 'INTEGER', text: 'TEXT' });

export const TRIAGE_POSTGRES_SQL = _triageSql({
  prefix: 'pkghunt_',
  id: 'bigserial',
  integer: 'bigint',
  text: 'text',
});

/** A triage_decisions row as either engine returns it (PostgreSQL's bigint ids come as strings). */
const DecisionRow = z.object({
  id: z.coerce.number().int(),
  project: z.string(),
  version: z.string(),
  result_id: z.coerce.number().int().nullable(),
  rule: z.string().nullable(),
  label: z.string(),
  comment: z.string(),
  analyst: z.string().nullable(),
  decided_at: z.string(),
});

export function decisionFromRow(row: unknown): Decision {
  const r = DecisionRow.parse(row);
  return Decision.parse({
    id: r.id,
    project: r.project,
    version: r.version,
    resultId: r.result_id,
    rule: r.rule,
    label: r.label,
    comment: r.comment,
    analyst: r.analyst,
    decidedAt: r.decided_at,
  });
}

/** `text` for a LIKE pattern with `\` as the escape character. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * The triage queue from result rows (best first): each row's rule ids and release-level decision
 * come from `extra` (the engines' JSON differs), rows are kept when the decision passes the
 * filter, up to its limit.
 */
export function queueEntries(
  rows: readonly unknown[],
  options: { filter: TriageFilter; extra: (row: unknown) => { rules: string[]; decision: Decision | null } },
): QueueEntry[] {
  const { filter, extra } = options;
  const entries: QueueEntry[] = [];
  for (const row of rows) {
    const { rules, decision } = extra(row);
    const wanted =
      filter.decision === 'undecided'
        ? decision === null
        : filter.decision === undefined || decision?.label === filter.decision;
    if (!wanted) continue;
    entries.push({ ...ResultSummary.parse(row), rules: [...rules].sort(), decision });
    if (entries.length >= filter.limit) break;
  }
  return entries;
}
