import { ECOSYSTEM_POSTGRES_SQL } from './ecosystem-sql.ts';
import { studyViewsSql } from './study-views.ts';
import { TRIAGE_POSTGRES_SQL } from './triage-sql.ts';
import { WATCH_POSTGRES_SQL } from './watch-sql.ts';

/**
 * The PostgreSQL schema, versioned like SQLite's (sqlite-migrations.ts): each entry runs once,
 * in order, in a transaction holding an advisory lock (workers starting together migrate once),
 * and its number goes to pkghunt_schema_migrations. Never edit an applied entry; append one.
 *
 * The tables mirror SQLite's, prefixed `pkghunt_` (the database may hold other things; pg-boss has
 * its own `pgboss` schema), and the study's views are the same SQL text (study-views.ts). Times
 * are ISO-8601 text, as in SQLite, so that `--since` compares the same way on both engines.
 */
export const POSTGRES_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
-- Stores written before the schema was versioned kept one JSONB row per job: kept aside, not read.
DROP VIEW IF EXISTS connections_out;
DROP VIEW IF EXISTS dns_lookups;
DROP VIEW IF EXISTS commands_run;
ALTER TABLE IF EXISTS pkghunt_results RENAME TO pkghunt_results_unversioned;

CREATE TABLE pkghunt_projects (
  normalized text PRIMARY KEY,
  name text NOT NULL,
  last_serial bigint,
  synced_at text NOT NULL,
  releases_checked_at text,
  no_release_reason text
);

CREATE TABLE pkghunt_releases (
  project text NOT NULL REFERENCES pkghunt_projects(normalized),
  version text NOT NULL,
  upload_time text,
  files jsonb NOT NULL,
  metadata jsonb,
  PRIMARY KEY (project, version)
);

-- One row per job key (NAME==VERSION, UNIQUE): a job run twice still leaves one result.
CREATE TABLE pkghunt_results (
  id bigserial PRIMARY KEY,
  job_key text NOT NULL UNIQUE,
  project text NOT NULL,
  version text,
  requested text NOT NULL,
  job_id uuid,
  worker text NOT NULL,
  run_id text NOT NULL,
  finished_at text NOT NULL,
  stored_at text NOT NULL,
  install_status text,
  import_status text,
  connected_out integer NOT NULL,
  ran_commands integer NOT NULL,
  canary_hits integer NOT NULL,
  verdict_level text,
  verdict_score double precision,
  record jsonb NOT NULL,
  -- [{phase, kind, sha256, bytes, storedBytes, ...}]: the compressed traces in the worker's trace dir.
  traces jsonb NOT NULL
);
CREATE INDEX pkghunt_results_project ON pkghunt_results (project, version, finished_at);
CREATE INDEX pkghunt_results_stored ON pkghunt_results (stored_at, id);
CREATE INDEX pkghunt_results_verdict ON pkghunt_results (verdict_level, verdict_score);

CREATE TABLE pkghunt_result_connections (
  result_id bigint NOT NULL REFERENCES pkghunt_results(id),
  phase text NOT NULL,
  protocol text NOT NULL,
  ip text NOT NULL,
  port integer NOT NULL,
  host text
);
CREATE INDEX pkghunt_result_connections_result ON pkghunt_result_connections (result_id);

CREATE TABLE pkghunt_result_dns (
  result_id bigint NOT NULL REFERENCES pkghunt_results(id),
  phase text NOT NULL,
  name text NOT NULL
);
CREATE INDEX pkghunt_result_dns_result ON pkghunt_result_dns (result_id);

CREATE TABLE pkghunt_result_commands (
  result_id bigint NOT NULL REFERENCES pkghunt_results(id),
  phase text NOT NULL,
  command text NOT NULL,
  exe text NOT NULL
);
CREATE INDEX pkghunt_result_commands_result ON pkghunt_result_commands (result_id);

-- Every failed attempt; the final one ends the job (pg-boss completes it with a failure mark).
CREATE TABLE IF NOT EXISTS pkghunt_failures (
  id        bigserial PRIMARY KEY,
  job_key   text NOT NULL,
  job_id    uuid,
  worker    text NOT NULL,
  attempt   integer NOT NULL,
  final     boolean NOT NULL,
  code      text NOT NULL,
  reason    text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pkghunt_failures_key ON pkghunt_failures (job_key);

${studyViewsSql('pkghunt_')}
`,
  },
  // pkghunt watch: feed positions, releases seen, the alert outbox (src/adapters/store/watch-sql.ts).
  { version: 2, sql: WATCH_POSTGRES_SQL },
  // The dashboard's triage decisions (src/adapters/store/triage-sql.ts).
  { version: 3, sql: TRIAGE_POSTGRES_SQL },
  // The ecosystem dimension: npm beside PyPI (src/adapters/store/ecosystem-sql.ts).
  { version: 4, sql: ECOSYSTEM_POSTGRES_SQL },
];
