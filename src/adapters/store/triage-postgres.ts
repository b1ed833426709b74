import pg from 'pg';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { type DashboardStore, ResultSummary, type SearchKind } from './dashboard-store.ts';
import { decisionFromRow, likePattern, queueEntries } from './triage-sql.ts';

const LATEST = 'r.id IN (SELECT max(id) FROM pkghunt_results GROUP BY project, version)';
const SUMMARY_COLUMNS = `r.id::int AS id, r.project, r.version, r.stored_at AS "storedAt", r.verdict_level AS "verdictLevel",
  r.verdict_score AS "verdictScore", r.install_status AS "installStatus", r.import_status AS "importStatus"`;

function _files(phase: 'install' | 'import'): string {
  return `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(r.record->'phases'->'${phase}'->'files', '[]'::jsonb)) f
            WHERE f->>'path' ILIKE $1)`;
}

const SEARCH_SQL: Record<SearchKind, string> = {
  package: 'r.project ILIKE $1',
  host: `EXISTS (SELECT 1 FROM pkghunt_result_connections c WHERE c.result_id = r.id
           AND (c.host ILIKE $1 OR c.ip ILIKE $1))`,
  dns: 'EXISTS (SELECT 1 FROM pkghunt_result_dns d WHERE d.result_id = r.id AND d.name ILIKE $1)',
  command: 'EXISTS (SELECT 1 FROM pkghunt_result_commands m WHERE m.result_id = r.id AND m.command ILIKE $1)',
  path: `(${_files('install')} OR ${_files('import')})`,
};

/**
 * The dashboard's reads and the triage decisions on PostgreSQL, over its own small pool. The
 * schema must be migrated (openPostgresStore does it). ILIKE's default escape character is `\`,
 * which likePattern uses.
 */
export async function openPostgresDashboardStore(url: string): Promise<DashboardStore> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {
    // A dropped idle connection is replaced on the next query, which reports any failure.
  });
  async function query(text: string, values: unknown[] = []): Promise<unknown[]> {
    try {
      return (await pool.query(text, values)).rows;
    } catch (cause) {
      throw new PkghuntError(
        'STORE_UNAVAILABLE',
        `Cannot read the dashboard's data from PostgreSQL: ${String(cause)}`,
        {
          cause,
        },
      );
    }
  }
  const summaries = (rows: unknown[]) => rows.map((row) => ResultSummary.parse(row));

  return {
    async latestResultId() {
      const [row] = await query('SELECT COALESCE(max(id), 0)::int AS n FROM pkghunt_results');
      return z.object({ n: z.number().int() }).parse(row).n;
    },
    async resultsAfter(afterId, limit) {
      return summaries(
        await query(
          `SELECT ${SUMMARY_COLUMNS} FROM pkghunt_results r WHERE r.id > $1 ORDER BY r.id LIMIT $2`,
          [afterId, limit],
        ),
      );
    },
    async recentResults(limit) {
      return summaries(
        await query(`SELECT ${SUMMARY_COLUMNS} FROM pkghunt_results r ORDER BY r.id DESC LIMIT $1`, [limit]),
      );
    },
    async analysedPerDay() {
      const rows = await query(
        'SELECT substr(stored_at, 1, 10) AS day, count(*)::int AS packages FROM pkghunt_results GROUP BY 1 ORDER BY 1',
      );
      return rows.map((row) => z.object({ day: z.string(), packages: z.number().int() }).parse(row));
    },
    async verdictCounts() {
      const rows = await query(
        `SELECT COALESCE(r.verdict_level, 'none') AS level, count(*)::int AS packages FROM pkghunt_results r
         WHERE ${LATEST} GROUP BY 1 ORDER BY 2 DESC, COALESCE(r.verdict_level, 'none') COLLATE "C"`,
      );
      return rows.map((row) => z.object({ level: z.string(), packages: z.number().int() }).parse(row));
    },
    async triageQueue(filter) {
      const where = [LATEST, `r.verdict_level IN ('suspicious', 'malicious')`];
      const params: unknown[] = [];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (filter.level !== undefined) where.push(`r.verdict_level = ${param(filter.level)}`);
      if (filter.rule !== undefined) {
        where.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(r.record->'verdict'->'findings', '[]'::jsonb)) f
                    WHERE f->>'rule' = ${param(filter.rule)})`);
      }
      if (filter.since !== undefined) where.push(`r.stored_at >= ${param(filter.since)}`);
      if (filter.before !== undefined) where.push(`r.stored_at < ${param(filter.before)}`);
      if (filter.host !== undefined) {
        const h = param(filter.host);
        where.push(`(EXISTS (SELECT 1 FROM pkghunt_result_connections c WHERE c.result_id = r.id AND (c.host = ${h} OR c.ip = ${h}))
                     OR EXISTS (SELECT 1 FROM pkghunt_result_dns d WHERE d.result_id = r.id AND d.name = ${h}))`);
      }
      const rows = await query(
        `SELECT ${SUMMARY_COLUMNS},
           COALESCE((SELECT array_agg(DISTINCT f->>'rule' ORDER BY f->>'rule')
              FROM jsonb_array_elements(COALESCE(r.record->'verdict'->'findings', '[]'::jsonb)) f), '{}') AS rules,
           (SELECT row_to_json(d) FROM pkghunt_triage_decisions d WHERE d.project = r.project AND d.version = r.version
              AND d.rule IS NULL ORDER BY d.id DESC LIMIT 1) AS decision
         FROM pkghunt_results r WHERE ${where.join(' AND ')}
         ORDER BY r.verdict_score DESC NULLS LAST, r.id DESC`,
        params,
      );
      return queueEntries(rows, {
        filter,
        extra: (row) => {
          const extra = z.object({ rules: z.array(z.string()), decision: z.unknown() }).parse(row);
          return {
            rules: extra.rules,
            decision: extra.decision === null ? null : decisionFromRow(extra.decision),
          };
        },
      });
    },
    async search(kind, text, limit) {
      return summaries(
        await query(
          `SELECT ${SUMMARY_COLUMNS} FROM pkghunt_results r WHERE ${LATEST} AND ${SEARCH_SQL[kind]}
           ORDER BY r.verdict_score DESC NULLS LAST, r.project COLLATE "C", r.version COLLATE "C" LIMIT $2`,
          [likePattern(text), limit],
        ),
      );
    },
    async addDecision(input, decidedAt) {
      const rows = await query(
        `INSERT INTO pkghunt_triage_decisions (project, version, result_id, rule, label, comment, analyst, decided_at)
         VALUES ($1, $2, (SELECT max(id) FROM pkghunt_results WHERE project = $1 AND version = $2), $3, $4, $5, $6, $7)
         RETURNING *`,
        [input.project, input.version, input.rule, input.label, input.comment, input.analyst, decidedAt],
      );
      return decisionFromRow(rows[0]);
    },
    async decisions(project, version) {
      const rows = await query(
        'SELECT * FROM pkghunt_triage_decisions WHERE project = $1 AND version = $2 ORDER BY id DESC',
        [project, version],
      );
      return rows.map(decisionFromRow);
    },
    async allDecisions() {
      return (await query('SELECT * FROM pkghunt_triage_decisions ORDER BY id')).map(decisionFromRow);
    },
    async close() {
      await pool.end();
    },
  };
}
