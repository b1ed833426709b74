import { ECOSYSTEM_SQLITE_SQL } from './ecosystem-sql.ts';
import { STUDY_VIEW_NAMES, studyViewsSql } from './study-views.ts';
import { TRIAGE_SQLITE_SQL } from './triage-sql.ts';
import { WATCH_SQLITE_SQL } from './watch-sql.ts';

/**
 * The SQLite schema, versioned: each entry runs once, in order, inside a transaction, and its
 * number is written to schema_migrations. Never edit an applied entry; append a new one.
 *
 * The views are the study's questions, in plain SQL that PostgreSQL runs too (no GLOB, no
 * group_concat, no JSON functions): one row per fact, the caller aggregates further if it wants.
 */
export const MIGRATIONS: readonly {
  version: number;
  sql: string;
  /** Rebuilds tables that others reference: run with foreign keys off, checked before the commit. */
  foreignKeysOff?: true;
}[] = [
  {
    version: 1,
    sql: `
CREATE TABLE projects (
  normalized TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  last_serial INTEGER,
  synced_at TEXT NOT NULL,
  releases_checked_at TEXT,
  -- Why nothing can be installed (no files, all yanked, only pre-releases), when so.
  no_release_reason TEXT
);

CREATE TABLE releases (
  project TEXT NOT NULL REFERENCES projects(normalized),
  version TEXT NOT NULL,
  upload_time TEXT,
  files TEXT NOT NULL,
  metadata TEXT,
  PRIMARY KEY (project, version)
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at TEXT,
  run_after TEXT NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (project, version)
);
CREATE INDEX jobs_claim ON jobs (state, run_after);

-- One row per finished job (job_id UNIQUE): a retried or late worker cannot add a second one.
CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  job_id INTEGER UNIQUE REFERENCES jobs(id),
  project TEXT NOT NULL,
  version TEXT,
  run_id TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  install_status TEXT,
  import_status TEXT,
  connected_out INTEGER NOT NULL,
  ran_commands INTEGER NOT NULL,
  canary_hits INTEGER NOT NULL,
  record TEXT NOT NULL,
  -- JSON array of {phase, kind, sha256, bytes, storedBytes}: the compressed raw traces on disk.
  traces TEXT NOT NULL
);
CREATE INDEX results_project ON results (project, finished_at);
CREATE INDEX results_stored ON results (stored_at);

CREATE TABLE result_connections (
  result_id INTEGER NOT NULL REFERENCES results(id),
  phase TEXT NOT NULL,
  protocol TEXT NOT NULL,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  host TEXT
);
CREATE INDEX result_connections_result ON result_connections (result_id);

CREATE TABLE result_dns (
  result_id INTEGER NOT NULL REFERENCES results(id),
  phase TEXT NOT NULL,
  name TEXT NOT NULL
);
CREATE INDEX result_dns_result ON result_dns (result_id);

-- Commands beyond the build's own (src/core/behaviour/build-own-commands.ts), argv joined by spaces.
CREATE TABLE result_commands (
  result_id INTEGER NOT NULL REFERENCES results(id),
  phase TEXT NOT NULL,
  command TEXT NOT NULL,
  exe TEXT NOT NULL
);
CREATE INDEX result_commands_result ON result_commands (result_id);

-- Packages that connected out while being installed, and where to: one row per destination.
CREATE VIEW connected_during_install AS
  SELECT r.project, r.version, c.host, c.ip, c.port, c.protocol
  FROM results r JOIN result_connections c ON c.result_id = r.id
  WHERE c.phase = 'install';

-- Destinations (host, else address) and how many packages connected to each, in any phase.
CREATE VIEW hosts_contacted AS
  SELECT COALESCE(c.host, c.ip) AS host, c.port, c.protocol,
         COUNT(DISTINCT r.project) AS packages
  FROM results r JOIN result_connections c ON c.result_id = r.id
  GROUP BY COALESCE(c.host, c.ip), c.port, c.protocol;

-- DNS names looked up and by how many packages.
CREATE VIEW dns_names AS
  SELECT d.name, COUNT(DISTINCT r.project) AS packages
  FROM results r JOIN result_dns d ON d.result_id = r.id
  GROUP BY d.name;

-- Packages that executed commands beyond the build's own, and which.
CREATE VIEW commands_executed AS
  SELECT r.project, r.version, m.phase, m.command
  FROM results r JOIN result_commands m ON m.result_id = r.id;

-- How the analyses ended.
CREATE VIEW outcomes AS
  SELECT install_status, import_status, COUNT(*) AS packages
  FROM results
  GROUP BY install_status, import_status;
`,
  },
  {
    // The verdict of the detection rules, for the `suspicious` view; the views are replaced by the
    // text shared with PostgreSQL (study-views.ts).
    version: 2,
    sql: `
ALTER TABLE results ADD COLUMN verdict_level TEXT;
ALTER TABLE results ADD COLUMN verdict_score REAL;
UPDATE results SET verdict_level = json_extract(record, '$.verdict.level'),
  verdict_score = json_extract(record, '$.verdict.score')
  WHERE json_type(record, '$.verdict.level') = 'text';
CREATE INDEX results_verdict ON results (verdict_level, verdict_score);
CREATE INDEX results_project_version ON results (project, version);
${STUDY_VIEW_NAMES.map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n')}
${studyViewsSql('')}
`,
  },
  // pkghunt watch: feed positions, releases seen, the alert outbox (src/adapters/store/watch-sql.ts).
  { version: 3, sql: WATCH_SQLITE_SQL },
  // The dashboard's triage decisions (src/adapters/store/triage-sql.ts).
  { version: 4, sql: TRIAGE_SQLITE_SQL },
  // The ecosystem dimension: npm beside PyPI (src/adapters/store/ecosystem-sql.ts).
  { version: 5, sql: ECOSYSTEM_SQLITE_SQL, foreignKeysOff: true },
];
