import { normalizeName } from '../pypi/normalize-name.ts';

/** The public download-statistics data set: one row per file downloaded, partitioned by day on `timestamp`. */
export const DOWNLOADS_TABLE = 'bigquery-public-data.pypi.file_downloads';

export interface DownloadsQuery {
  sql: string;
  /** Named parameters; the project name is never part of the SQL text. */
  params: { project: string; days: number };
  types: { project: 'STRING'; days: 'INT64' };
}

/**
 * The count of downloads of one project over the last `days` days. The filter on `timestamp`
 * lets BigQuery prune the daily partitions (and the table is clustered on file.project), so the
 * scan stays small; the project name goes in as the parameter `@project`.
 */
export function buildDownloadsQuery(name: string, options: { days: number }): DownloadsQuery {
  const sql = [
    'SELECT',
    '  COUNT(*) AS downloads,',
    '  CAST(MIN(DATE(timestamp)) AS STRING) AS first_day,',
    '  CAST(MAX(DATE(timestamp)) AS STRING) AS last_day',
    `FROM \`${DOWNLOADS_TABLE}\``,
    'WHERE file.project = @project',
    '  AND timestamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL @days DAY)',
  ].join('\n');
  return {
    sql,
    params: { project: normalizeName(name), days: options.days },
    types: { project: 'STRING', days: 'INT64' },
  };
}

/** The query as a person reads it: the SQL, then each parameter with its type and value. */
export function renderDownloadsQuery(query: DownloadsQuery): string {
  return [
    query.sql,
    `-- @project STRING = ${JSON.stringify(query.params.project)}`,
    `-- @days INT64 = ${query.params.days}`,
  ].join('\n');
}
