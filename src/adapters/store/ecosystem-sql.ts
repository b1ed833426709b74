import { STUDY_VIEW_NAMES, studyViewsWithEcosystemSql } from './study-views.ts';

/**
 * The ecosystem dimension (SQLite migration 5, PostgreSQL migration 4): projects, releases, jobs,
 * results, the watcher's releases and the alert outbox get an `ecosystem` column (`pypi` for every
 * existing row: nothing else could be hunted before), and the keys include it, so an npm package
 * and a PyPI project of the same name never collide. The study's views are replaced by ones with
 * an `ecosystem` column (study-views.ts).
 *
 * SQLite cannot change a primary key in place: projects, releases, jobs and watch_releases are
 * rebuilt (the documented create-copy-drop-rename procedure; ids are copied, so results keep
 * their job_id). It runs with foreign keys off and checked before the commit (sqlite-store.ts).
 */
export const ECOSYSTEM_SQLITE_SQL = `
${STUDY_VIEW_NAMES.map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n')}

CREATE TABLE projects_v5 (
  ecosystem TEXT NOT NULL DEFAULT 'pypi' CHECK (ecosystem IN ('pypi', 'npm')),
  normalized TEXT NOT NULL,
  name TEXT NOT NULL,
  last_serial INTEGER,
  synced_at TEXT NOT NULL,
  releases_checked_at TEXT,
  no_release_reason TEXT,
  PRIMARY KEY (ecosystem, normalized)
);
INSERT INTO projects_v5 (ecosystem, normalized, name, last_serial, synced_at, releases_checked_at, no_release_reason)
  SELECT 'pypi', normalized, name, last_serial, synced_at, releases_checked_at, no_release_reason FROM projects;

CREATE TABLE releases_v5 (
  ecosystem TEXT NOT NULL DEFAULT 'pypi',
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  upload_time TEXT,
  files TEXT NOT NULL,
  metadata TEXT,
  PRIMARY KEY (ecosystem, project, version),
  FOREIGN KEY (ecosystem, project) REFERENCES projects (ecosystem, normalized)
);
INSERT INTO releases_v5 (ecosystem, project, version, upload_time, files, metadata)
  SELECT 'pypi', project, version, upload_time, files, metadata FROM releases;

CREATE TABLE jobs_v5 (
  id INTEGER PRIMARY KEY,
  ecosystem TEXT NOT NULL DEFAULT 'pypi',
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
  UNIQUE (ecosystem, project, version)
);
INSERT INTO jobs_v5 (id, ecosystem, project, version, state, attempts, max_attempts, lease_owner,
    lease_expires_at, run_after, last_error, created_at, updated_at)
  SELECT id, 'pypi', project, version, state, attempts, max_attempts, lease_owner, lease_expires_at,
    run_after, last_error, created_at, updated_at FROM jobs;

CREATE TABLE watch_releases_v5 (
  ecosystem TEXT NOT NULL DEFAULT 'pypi',
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  source TEXT NOT NULL,
  published TEXT,
  seen_at TEXT NOT NULL,
  alerts_scanned_at TEXT,
  PRIMARY KEY (ecosystem, project, version)
);
INSERT INTO watch_releases_v5 (ecosystem, project, version, source, published, seen_at, alerts_scanned_at)
  SELECT 'pypi', project, version, source, published, seen_at, alerts_scanned_at FROM watch_releases;

DROP TABLE releases;
DROP TABLE projects;
DROP TABLE jobs;
DROP TABLE watch_releases;
ALTER TABLE projects_v5 RENAME TO projects;
ALTER TABLE releases_v5 RENAME TO releases;
ALTER TABLE jobs_v5 RENAME TO jobs;
ALTER TABLE watch_releases_v5 RENAME TO watch_releases;
CREATE INDEX jobs_claim ON jobs (state, run_after);
CREATE INDEX watch_releases_unscanned ON watch_releases (alerts_scanned_at);

ALTER TABLE results ADD COLUMN ecosystem TEXT NOT NULL DEFAULT 'pypi';
CREATE INDEX results_release ON results (ecosystem, project, version);
ALTER TABLE alert_outbox ADD COLUMN ecosystem TEXT NOT NULL DEFAULT 'pypi';

${studyViewsWithEcosystemSql('')}
`;

/** The same on PostgreSQL, which can swap keys in place (default constraint names of migrations 1 and 2). */
export const ECOSYSTEM_POSTGRES_SQL = `
${STUDY_VIEW_NAMES.map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n')}

ALTER TABLE pkghunt_projects ADD COLUMN ecosystem text NOT NULL DEFAULT 'pypi'
  CHECK (ecosystem IN ('pypi', 'npm'));
ALTER TABLE pkghunt_releases ADD COLUMN ecosystem text NOT NULL DEFAULT 'pypi';
ALTER TABLE pkghunt_releases DROP CONSTRAINT pkghunt_releases_project_fkey;
ALTER TABLE pkghunt_releases DROP CONSTRAINT pkghunt_releases_pkey;
ALTER TABLE pkghunt_projects DROP CONSTRAINT pkghunt_projects_pkey;
ALTER TABLE pkghunt_projects ADD PRIMARY KEY (ecosystem, normalized);
ALTER TABLE pkghunt_releases ADD PRIMARY KEY (ecosystem, project, version);
ALTER TABLE pkghunt_releases ADD FOREIGN KEY (ecosystem, project)
  REFERENCES pkghunt_projects (ecosystem, normalized);

-- Results stay unique per job key; npm keys are \`npm:NAME==VERSION\` (postgres-store.ts jobKey).
ALTER TABLE pkghunt_results ADD COLUMN ecosystem text NOT NULL DEFAULT 'pypi';
CREATE INDEX pkghunt_results_release ON pkghunt_results (ecosystem, project, version, finished_at);

ALTER TABLE pkghunt_watch_releases ADD COLUMN ecosystem text NOT NULL DEFAULT 'pypi';
ALTER TABLE pkghunt_watch_releases DROP CONSTRAINT pkghunt_watch_releases_pkey;
ALTER TABLE pkghunt_watch_releases ADD PRIMARY KEY (ecosystem, project, version);
ALTER TABLE pkghunt_alert_outbox ADD COLUMN ecosystem text NOT NULL DEFAULT 'pypi';

${studyViewsWithEcosystemSql('pkghunt_')}
`;
