/**
 * The dashboard's triage decisions: SQLite migration 4 and PostgreSQL migration 3 (appended to
 * sqlite-migrations.ts / postgres-schema.ts). Append-only: every decision is a row, the latest
 * one per (project, version, rule) is the one in force, and the history stays for review.
 * `rule` NULL means a decision about the whole release; a rule id means one finding of it.
 */
export const TRIAGE_SQLITE_SQL = `
CREATE TABLE triage_decisions (
  id INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  result_id INTEGER REFERENCES results(id),
  rule TEXT,
  label TEXT NOT NULL CHECK (label IN ('confirmed_malicious', 'false_positive', 'needs_review')),
  comment TEXT NOT NULL,
  analyst TEXT,
  decided_at TEXT NOT NULL
);
CREATE INDEX triage_decisions_release ON triage_decisions (project, version, id);
`;

export const TRIAGE_POSTGRES_SQL = `
CREATE TABLE pkghunt_triage_decisions (
  id bigserial PRIMARY KEY,
  project text NOT NULL,
  version text NOT NULL,
  result_id bigint REFERENCES pkghunt_results(id),
  rule text,
  label text NOT NULL CHECK (label IN ('confirmed_malicious', 'false_positive', 'needs_review')),
  comment text NOT NULL,
  analyst text,
  decided_at text NOT NULL
);
CREATE INDEX pkghunt_triage_decisions_release ON pkghunt_triage_decisions (project, version, id);
`;
