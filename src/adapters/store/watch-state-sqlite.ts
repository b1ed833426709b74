import Database from 'better-sqlite3';
import { z } from 'zod';
import { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError } from '../../core/errors.ts';
import { FeedPosition } from '../../core/feed/feed-position.ts';
import { BehaviourRecord } from '../../core/record/schema.ts';
import { median, OutboxRow, type WatchState } from './watch-state.ts';

export interface SqliteWatchStateOptions {
  now?: () => number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new PkghuntError('STORE_UNAVAILABLE', `Cannot read a stored ${what}: ${parsed.error.message}`);
  }
  return parsed.data;
}

/**
 * The watcher's state in the SQLite file of the results, on a connection of its own (WAL: the
 * hunt workers' connection and this one never block each other for long). The file must have
 * been opened (and so migrated) by openSqliteStore first: the tables are SQLite migration 3.
 */
export function openSqliteWatchState(path: string, options: SqliteWatchStateOptions = {}): WatchState {
  const now = options.now ?? Date.now;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_outbox'`).get();
  if (has === undefined) {
    db.close();
    throw new PkghuntError(
      'STORE_UNAVAILABLE',
      `Cannot use ${path} for watch: its schema is older than watch`,
      {
        hint: 'Open it with a pkghunt command first (it migrates), e.g. pkghunt query outcomes --db FILE.',
      },
    );
  }

  return {
    async getPosition(source) {
      const text = db.prepare('SELECT position FROM watch_positions WHERE source = ?').pluck().get(source);
      return typeof text === 'string' ? parseJson(FeedPosition, text, 'feed position') : null;
    },
    async savePosition(source, position) {
      db.prepare(
        `INSERT INTO watch_positions (source, position, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      ).run(source, JSON.stringify(FeedPosition.parse(position)), iso(now()));
    },
    async recordSeen(releases) {
      const insert = db.prepare(
        `INSERT INTO watch_releases (ecosystem, project, version, source, published, seen_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (ecosystem, project, version) DO NOTHING`,
      );
      return db.transaction(() =>
        releases.filter(
          (r) =>
            insert.run(r.ecosystem ?? 'pypi', r.name, r.version, r.source, r.published, iso(now())).changes >
            0,
        ),
      )();
    },
    async unscanned(limit) {
      const rows = db
        .prepare(
          `SELECT w.ecosystem AS ecosystem, w.project AS project, w.version AS version, r.record AS record
           FROM watch_releases w
           JOIN results r ON r.id = (SELECT MAX(id) FROM results
             WHERE ecosystem = w.ecosystem AND project = w.project AND version = w.version)
           WHERE w.alerts_scanned_at IS NULL ORDER BY r.id LIMIT ?`,
        )
        .all(limit);
      return rows.map((row) => {
        const r = z
          .object({ ecosystem: Ecosystem, project: z.string(), version: z.string(), record: z.string() })
          .parse(row);
        return {
          ecosystem: r.ecosystem,
          project: r.project,
          version: r.version,
          record: parseJson(BehaviourRecord, r.record, 'record'),
        };
      });
    },
    async addAlerts(release, rows) {
      const t = iso(now());
      const insert = db.prepare(
        `INSERT INTO alert_outbox (alert_key, destination, ecosystem, project, version, level, alert, state,
           next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (alert_key, destination) DO NOTHING`,
      );
      return db
        .transaction(() => {
          let added = 0;
          for (const { alert, destination } of rows) {
            added += insert.run(
              alert.key,
              destination,
              alert.ecosystem ?? 'pypi',
              alert.project,
              alert.version,
              alert.level,
              JSON.stringify(alert),
              t,
              t,
            ).changes;
          }
          db.prepare(
            'UPDATE watch_releases SET alerts_scanned_at = ? WHERE ecosystem = ? AND project = ? AND version = ?',
          ).run(t, release.ecosystem ?? 'pypi', release.project, release.version);
          return added;
        })
        .immediate();
    },
    async claimDue(destinations, claim) {
      if (destinations.length === 0) return [];
      const t = iso(now());
      return db
        .transaction(() => {
          const rows = db
            .prepare(
              `SELECT id, destination, attempts, alert FROM alert_outbox
               WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
                 AND destination IN (SELECT value FROM json_each(?))
               ORDER BY next_attempt_at, id LIMIT ?`,
            )
            .all(t, t, JSON.stringify(destinations), claim.limit);
          const lease = db.prepare('UPDATE alert_outbox SET lease_until = ? WHERE id = ?');
          return rows.map((row) => {
            const r = z
              .object({ id: z.number(), destination: z.string(), attempts: z.number(), alert: z.string() })
              .parse(row);
            lease.run(iso(now() + claim.leaseMs), r.id);
            return OutboxRow.parse({ ...r, alert: JSON.parse(r.alert) });
          });
        })
        .immediate();
    },
    async markSent(id) {
      db.prepare(
        `UPDATE alert_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, lease_until = NULL,
           last_error = NULL WHERE id = ?`,
      ).run(iso(now()), id);
    },
    async markFailed(id, failure) {
      db.prepare(
        `UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = NULL
         WHERE id = ? AND state = 'pending'`,
      ).run(failure.error.slice(0, 500), iso(now() + failure.retryAfterMs), id);
    },
    async counts() {
      const count = (sql: string): number => z.number().parse(db.prepare(sql).pluck().get());
      const lags = db
        .prepare(
          `SELECT w.published AS published, r.finished_at AS finished FROM watch_releases w
           JOIN results r ON r.ecosystem = w.ecosystem AND r.project = w.project AND r.version = w.version
           WHERE w.published IS NOT NULL ORDER BY r.id DESC LIMIT 1000`,
        )
        .all()
        .map((row) => z.object({ published: z.string(), finished: z.string() }).parse(row))
        .map((r) => Date.parse(r.finished) - Date.parse(r.published))
        .filter((ms) => Number.isFinite(ms));
      return {
        seen: count('SELECT COUNT(*) FROM watch_releases'),
        analysed: count(
          `SELECT COUNT(*) FROM watch_releases w WHERE EXISTS
             (SELECT 1 FROM results r WHERE r.ecosystem = w.ecosystem AND r.project = w.project
                AND r.version = w.version)`,
        ),
        alertsPending: count(`SELECT COUNT(*) FROM alert_outbox WHERE state = 'pending'`),
        alertsSent: count(`SELECT COUNT(*) FROM alert_outbox WHERE state = 'sent'`),
        medianLagMs: median(lags),
      };
    },
    async close() {
      db.close();
    },
  };
}
