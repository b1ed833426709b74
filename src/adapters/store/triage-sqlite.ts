import Database from 'better-sqlite3';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { type DashboardStore, ResultSummary, type SearchKind } from './dashboard-store.ts';
import { decisionFromRow, likePattern, queueEntries } from './triage-sql.ts';

const LATEST = 'r.id IN (SELECT MAX(id) FROM results GROUP BY project, version)';
const SUMMARY_COLUMNS = `r.id, r.project, r.version, r.stored_at AS storedAt, r.verdict_level AS verdictLevel,
  r.verdict_score AS verdictScore, r.install_status AS installStatus, r.import_status AS importStatus`;

const SEARCH_SQL: Record<SearchKind, string> = {
  package: `r.project LIKE @q ESCAPE '\\'`,
  host: `EXISTS (SELECT 1 FROM result_connections c WHERE c.result_id = r.id
           AND (c.host LIKE @q ESCAPE '\\' OR c.ip LIKE @q ESCAPE '\\'))`,
  dns: `EXISTS (SELECT 1 FROM result_dns d WHERE d.result_id = r.id AND d.name LIKE @q ESCAPE '\\')`,
  command: `EXISTS (SELECT 1 FROM result_commands m WHERE m.result_id = r.id AND m.command LIKE @q ESCAPE '\\')`,
  path: `(EXISTS (SELECT 1 FROM json_each(r.record, '$.phases.install.files') f
            WHERE json_extract(f.value, '$.path') LIKE @q ESCAPE '\\')
          OR EXISTS (SELECT 1 FROM json_each(r.record, '$.phases.import.files') f
            WHERE json_extract(f.value, '$.path') LIKE @q ESCAPE '\\'))`,
};

/**
 * The dashboard's reads and the triage decisions on the SQLite store: its own connection to the
 * file (WAL: reading never blocks a hunt writing it). The file must be migrated (openStore).
 */
export function openSqliteDashboardStore(path: string): DashboardStore {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
  } catch (cause) {
    throw new PkghuntError('STORE_UNAVAILABLE', `Cannot open the SQLite store ${path}: ${String(cause)}`, {
      cause,
    });
  }
  const summaries = (rows: unknown[]) => rows.map((row) => ResultSummary.parse(row));

  return {
    async latestResultId() {
      return z.number().int().parse(db.prepare('SELECT COALESCE(MAX(id), 0) FROM results').pluck().get());
    },
    async resultsAfter(afterId, limit) {
      return summaries(
        db
          .prepare(`SELECT ${SUMMARY_COLUMNS} FROM results r WHERE r.id > ? ORDER BY r.id LIMIT ?`)
          .all(afterId, limit),
      );
    },
    async recentResults(limit) {
      return summaries(
        db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM results r ORDER BY r.id DESC LIMIT ?`).all(limit),
      );
    },
    async analysedPerDay() {
      return db
        .prepare(
          'SELECT substr(stored_at, 1, 10) AS day, COUNT(*) AS packages FROM results GROUP BY 1 ORDER BY 1',
        )
        .all()
        .map((row) => z.object({ day: z.string(), packages: z.number().int() }).parse(row));
    },
    async verdictCounts() {
      return db
        .prepare(
          `SELECT COALESCE(r.verdict_level, 'none') AS level, COUNT(*) AS packages FROM results r
           WHERE ${LATEST} GROUP BY 1 ORDER BY 2 DESC, 1`,
        )
        .all()
        .map((row) => z.object({ level: z.string(), packages: z.number().int() }).parse(row));
    },
    async triageQueue(filter) {
      const where = [LATEST, `r.verdict_level IN ('suspicious', 'malicious')`];
      const params: unknown[] = [];
      if (filter.level !== undefined) {
        where.push('r.verdict_level = ?');
        params.push(filter.level);
      }
      if (filter.rule !== undefined) {
        where.push(`EXISTS (SELECT 1 FROM json_each(r.record, '$.verdict.findings') f
                    WHERE json_extract(f.value, '$.rule') = ?)`);
        params.push(filter.rule);
      }
      if (filter.since !== undefined) {
        where.push('r.stored_at >= ?');
        params.push(filter.since);
      }
      if (filter.before !== undefined) {
        where.push('r.stored_at < ?');
        params.push(filter.before);
      }
      if (filter.host !== undefined) {
        where.push(`(EXISTS (SELECT 1 FROM result_connections c WHERE c.result_id = r.id AND (c.host = ? OR c.ip = ?))
                     OR EXISTS (SELECT 1 FROM result_dns d WHERE d.result_id = r.id AND d.name = ?))`);
        params.push(filter.host, filter.host, filter.host);
      }
      const rows = db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS},
             (SELECT json_group_array(DISTINCT json_extract(f.value, '$.rule'))
                FROM json_each(r.record, '$.verdict.findings') f) AS rules,
             (SELECT d.id FROM triage_decisions d WHERE d.project = r.project AND d.version = r.version
                AND d.rule IS NULL ORDER BY d.id DESC LIMIT 1) AS decisionId
           FROM results r WHERE ${where.join(' AND ')}
           ORDER BY r.verdict_score DESC NULLS LAST, r.id DESC`,
        )
        .all(...params);
      const decisionById = db.prepare('SELECT * FROM triage_decisions WHERE id = ?');
      return queueEntries(rows, {
        filter,
        extra: (row) => {
          const extra = z
            .object({ rules: z.string().nullable(), decisionId: z.number().int().nullable() })
            .parse(row);
          return {
            rules: z.array(z.string()).parse(JSON.parse(extra.rules ?? '[]')),
            decision: extra.decisionId === null ? null : decisionFromRow(decisionById.get(extra.decisionId)),
          };
        },
      });
    },
    async search(kind, text, limit) {
      return summaries(
        db
          .prepare(
            `SELECT ${SUMMARY_COLUMNS} FROM results r WHERE ${LATEST} AND ${SEARCH_SQL[kind]}
             ORDER BY r.verdict_score DESC NULLS LAST, r.project, r.version LIMIT ${Math.trunc(limit)}`,
          )
          .all({ q: likePattern(text) }),
      );
    },
    async addDecision(input, decidedAt) {
      const resultId = db
        .prepare('SELECT MAX(id) FROM results WHERE project = ? AND version = ?')
        .pluck()
        .get(input.project, input.version);
      const inserted = db
        .prepare(
          `INSERT INTO triage_decisions (project, version, result_id, rule, label, comment, analyst, decided_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.project,
          input.version,
          resultId ?? null,
          input.rule,
          input.label,
          input.comment,
          input.analyst,
          decidedAt,
        );
      return decisionFromRow(
        db.prepare('SELECT * FROM triage_decisions WHERE id = ?').get(inserted.lastInsertRowid),
      );
    },
    async decisions(project, version) {
      return db
        .prepare('SELECT * FROM triage_decisions WHERE project = ? AND version = ? ORDER BY id DESC')
        .all(project, version)
        .map(decisionFromRow);
    },
    async allDecisions() {
      return db.prepare('SELECT * FROM triage_decisions ORDER BY id').all().map(decisionFromRow);
    },
    async close() {
      db.close();
    },
  };
}
