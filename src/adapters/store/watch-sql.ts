/**
 * The tables of `pkghunt watch` (SQLite migration 3, PostgreSQL migration 2):
 * - watch_positions: where the watcher stands in each feed (JSON of core/feed FeedPosition),
 *   so that a restart neither loses nor repeats a release;
 * - watch_releases: every (project, version) the watcher found, once, with when it was published
 *   (for the lag) and whether its result was already turned into alerts;
 * - alert_outbox: one row per (alert key, destination), UNIQUE: an alert is never queued twice;
 *   delivery marks it sent after a 2xx, failures wait with back-off. Destinations are stored as
 *   `kind:sha256(url)` ids: webhook URLs (secrets) never enter the database.
 */
export const WATCH_SQLITE_SQL = `
CREATE TABLE watch_positions (
  source TEXT PRIMARY KEY,
  position TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE watch_releases (
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  source TEXT NOT NULL,
  published TEXT,
  seen_at TEXT NOT NULL,
  alerts_scanned_at TEXT,
  PRIMARY KEY (project, version)
);
CREATE INDEX watch_releases_unscanned ON watch_releases (alerts_scanned_at);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY,
  alert_key TEXT NOT NULL,
  destination TEXT NOT NULL,
  project TEXT NOT NULL,
  version TEXT NOT NULL,
  level TEXT NOT NULL,
  alert TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_until TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT,
  UNIQUE (alert_key, destination)
);
CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);
`;

export const WATCH_POSTGRES_SQL = `
CREATE TABLE pkghunt_watch_positions (
  source text PRIMARY KEY,
  position jsonb NOT NULL,
  updated_at text NOT NULL
);
CREATE TABLE pkghunt_watch_releases (
  project text NOT NULL,
  version text NOT NULL,
  source text NOT NULL,
  published text,
  seen_at text NOT NULL,
  alerts_scanned_at text,
  PRIMARY KEY (project, version)
);
CREATE INDEX pkghunt_watch_releases_unscanned ON pkghunt_watch_releases (alerts_scanned_at);
CREATE TABLE pkghunt_alert_outbox (
  id bigserial PRIMARY KEY,
  alert_key text NOT NULL,
  destination text NOT NULL,
  project text NOT NULL,
  version text NOT NULL,
  level text NOT NULL,
  alert jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'sent')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at text NOT NULL,
  lease_until text,
  last_error text,
  created_at text NOT NULL,
  sent_at text,
  UNIQUE (alert_key, destination)
);
CREATE INDEX pkghunt_alert_outbox_due ON pkghunt_alert_outbox (state, next_attempt_at);
`;
