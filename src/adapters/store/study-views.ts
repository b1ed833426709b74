import { Ecosystem } from '../../core/ecosystem.ts';
import type { StudyQuery } from './store.ts';

/**
 * The views as the first migrations created them (no ecosystem column). Frozen: applied
 * migrations run this text on a new database, before the ecosystem column exists.
 *
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

/**
 * The study's views with the ecosystem dimension (SQLite migration 5, PostgreSQL migration 4):
 * every view has an `ecosystem` column, and the counting views count per ecosystem (a PyPI and an
 * npm project of the same name are two packages). `studyQuerySql` sums them over ecosystems.
 */
export function studyViewsWithEcosystemSql(prefix: '' | 'pkghunt_'): string {
  const results = `${prefix}results`;
  const connections = `${prefix}result_connections`;
  const dns = `${prefix}result_dns`;
  const commands = `${prefix}result_commands`;
  return `
-- Packages that connected out while being installed, and where to: one row per destination.
CREATE VIEW connected_during_install AS
  SELECT r.ecosystem, r.project, r.version, c.host, c.ip, c.port, c.protocol
  FROM ${results} r JOIN ${connections} c ON c.result_id = r.id
  WHERE c.phase = 'install';

-- Destinations (host, else address) and how many packages of each ecosystem connected to each, in any phase.
CREATE VIEW hosts_contacted AS
  SELECT r.ecosystem, COALESCE(c.host, c.ip) AS host, c.port, c.protocol,
         CAST(COUNT(DISTINCT r.project) AS INTEGER) AS packages
  FROM ${results} r JOIN ${connections} c ON c.result_id = r.id
  GROUP BY r.ecosystem, COALESCE(c.host, c.ip), c.port, c.protocol;

-- DNS names looked up and by how many packages of each ecosystem.
CREATE VIEW dns_names AS
  SELECT r.ecosystem, d.name, CAST(COUNT(DISTINCT r.project) AS INTEGER) AS packages
  FROM ${results} r JOIN ${dns} d ON d.result_id = r.id
  GROUP BY r.ecosystem, d.name;

-- Packages that executed commands beyond the build's own, and which.
CREATE VIEW commands_executed AS
  SELECT r.ecosystem, r.project, r.version, m.phase, m.command
  FROM ${results} r JOIN ${commands} m ON m.result_id = r.id;

-- How the analyses ended, per ecosystem.
CREATE VIEW outcomes AS
  SELECT ecosystem, install_status, import_status, CAST(COUNT(*) AS INTEGER) AS packages
  FROM ${results}
  GROUP BY ecosystem, install_status, import_status;

-- Packages the detection rules judged suspicious or malicious (records without a verdict are not here).
CREATE VIEW suspicious AS
  SELECT ecosystem, project, version, verdict_level, verdict_score, run_id
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

/**
 * What `pkghunt query NAME` runs, in an order both engines agree on (NULLs last): over every
 * ecosystem (the counting views summed: a package belongs to one ecosystem, so sums count each
 * once), or one ecosystem's rows. The ecosystem is a literal of a closed enum (parsed here), not
 * user text, so it is written into the SQL rather than bound (the two drivers' placeholders differ).
 */
export function studyQuerySql(name: StudyQuery, ecosystem: Ecosystem | null): string {
  const where = ecosystem === null ? '' : ` WHERE ecosystem = '${Ecosystem.parse(ecosystem)}'`;
  switch (name) {
    case 'connected':
      return `SELECT * FROM connected_during_install${where} ORDER BY ecosystem, project, version, host, ip, port, protocol`;
    case 'commands':
      return `SELECT * FROM commands_executed${where} ORDER BY ecosystem, project, version, phase, command`;
    case 'suspicious':
      return `SELECT * FROM suspicious${where} ORDER BY verdict_score DESC NULLS LAST, project, version, ecosystem`;
    case 'hosts':
      return `SELECT host, port, protocol, CAST(SUM(packages) AS INTEGER) AS packages FROM hosts_contacted${where}
        GROUP BY host, port, protocol ORDER BY packages DESC, host, port, protocol`;
    case 'dns':
      return `SELECT name, CAST(SUM(packages) AS INTEGER) AS packages FROM dns_names${where}
        GROUP BY name ORDER BY packages DESC, name`;
    case 'outcomes':
      return `SELECT install_status, import_status, CAST(SUM(packages) AS INTEGER) AS packages FROM outcomes${where}
        GROUP BY install_status, import_status ORDER BY packages DESC, install_status, import_status`;
  }
}
