import type { StudyQuery } from './store.ts';

/**
 * The study's questions as SQL views, ONE text for both engines: the tables differ only by a
 * prefix (SQLite `results`, PostgreSQL `pkghunt_results`), so `pkghunt query X` means the same
 * thing on either. Plain SQL both run: no GLOB, no group_concat, no JSON functions; counts are
 * cast to INTEGER so that both drivers hand back numbers. One row per fact: callers aggregate further.
 */
export function studyViewsSql(prefix: '' | 'pkghunt_'): string {
  const results = `${prefix}results`;
  const connections = `${prefix}result_connections`;
  const dns = `${prefix}result_dns`;
  const commands = `${prefix}result_commands`;
  return `
-- Packages that connected out while being installed, and where to: one row per destination.
CREATE VIEW connected_during_install AS
  SELECT r.project, r.version, c.host, c.ip, c.port, c.protocol
  FROM ${results} r JOIN ${connections} c ON c.result_id = r.id
  WHERE c.phase = 'install';

-- Destinations (host, else address) and how many packages connected to each, in any phase.
CREATE VIEW hosts_contacted AS
  SELECT COALESCE(c.host, c.ip) AS host, c.port, c.protocol,
         CAST(COUNT(DISTINCT r.project) AS INTEGER) AS packages
  FROM ${results} r JOIN ${connections} c ON c.result_id = r.id
  GROUP BY COALESCE(c.host, c.ip), c.port, c.protocol;

-- DNS names looked up and by how many packages.
CREATE VIEW dns_names AS
  SELECT d.name, CAST(COUNT(DISTINCT r.project) AS INTEGER) AS packages
  FROM ${results} r JOIN ${dns} d ON d.result_id = r.id
  GROUP BY d.name;

-- Packages that executed commands beyond the build's own, and which.
CREATE VIEW commands_executed AS
  SELECT r.project, r.version, m.phase, m.command
  FROM ${results} r JOIN ${commands} m ON m.result_id = r.id;

-- How the analyses ended.
CREATE VIEW outcomes AS
  SELECT install_status, import_status, CAST(COUNT(*) AS INTEGER) AS packages
  FROM ${results}
  GROUP BY install_status, import_status;

-- Packages the detection rules judged suspicious or malicious (records without a verdict are not here).
CREATE VIEW suspicious AS
  SELECT project, version, verdict_level, verdict_score, run_id
  FROM ${results}
  WHERE verdict_level IN ('suspicious', 'malicious');
`;
}

/** Every view studyViewsSql creates, for migrations that replace them. */
export const STUDY_VIEW_NAMES = [
  'connected_during_install',
  'hosts_contacted',
  'dns_names',
  'commands_executed',
  'outcomes',
  'suspicious',
] as const;

/** What `pkghunt query NAME` runs: the view, in an order both engines agree on (NULLs last). */
export const STUDY_QUERY_SQL: Record<StudyQuery, string> = {
  connected: 'SELECT * FROM connected_during_install ORDER BY project, version, host, ip, port, protocol',
  hosts: 'SELECT * FROM hosts_contacted ORDER BY packages DESC, host, port, protocol',
  dns: 'SELECT * FROM dns_names ORDER BY packages DESC, name',
  commands: 'SELECT * FROM commands_executed ORDER BY project, version, phase, command',
  outcomes: 'SELECT * FROM outcomes ORDER BY packages DESC, install_status, import_status',
  suspicious: 'SELECT * FROM suspicious ORDER BY verdict_score DESC NULLS LAST, project, version',
};
