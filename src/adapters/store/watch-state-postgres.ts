import pg from 'pg';
import { z } from 'zod';
import { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError } from '../../core/errors.ts';
import { FeedPosition } from '../../core/feed/feed-position.ts';
import { BehaviourRecord } from '../../core/record/schema.ts';
import { median, OutboxRow, type WatchState } from './watch-state.ts';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function failed(action: string, error: unknown): PkghuntError {
  return new PkghuntError(
    'STORE_UNAVAILABLE',
    `Cannot ${action} in PostgreSQL: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/**
 * The watcher's state on PostgreSQL (tables of PostgreSQL migration 2, `pkghunt_` prefix), on a
 * small pool of its own. The database must have been opened by openPostgresStore first (it migrates).
 * Results come from `worker` processes; the watcher only reads them to fill the outbox.
 */
export async function openPostgresWatchState(
  url: string,
  options: { now?: () => number } = {},
): Promise<WatchState> {
  const now = options.now ?? Date.now;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {
    // A dropped idle connection is replaced on the next query, which reports any failure.
  });

  async function query<R extends pg.QueryResultRow>(action: string, text: string, values: unknown[] = []) {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw failed(action, error);
    }
  }

  async function inTransaction<T>(action: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect().catch((error: unknown) => {
      throw failed(action, error);
    });
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error instanceof PkghuntError ? error : failed(action, error);
    } finally {
      client.release();
    }
  }

  return {
    async getPosition(source) {
      const { rows } = await query(
        'read a feed position',
        'SELECT position FROM pkghunt_watch_positions WHERE source = $1',
        [source],
      );
      return rows[0] === undefined ? null : FeedPosition.parse(rows[0].position);
    },
    async savePosition(source, position) {
      await query(
        'store a feed position',
        `INSERT INTO pkghunt_watch_positions (source, position, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
        [source, JSON.stringify(FeedPosition.parse(position)), iso(now())],
      );
    },
    async recordSeen(releases) {
      return inTransaction('record releases', async (client) => {
        const fresh = [];
        for (const r of releases) {
          const res = await client.query(
            `INSERT INTO pkghunt_watch_releases (ecosystem, project, version, source, published, seen_at)
             VALUES ($6, $1, $2, $3, $4, $5) ON CONFLICT (ecosystem, project, version) DO NOTHING`,
            [r.name, r.version, r.source, r.published, iso(now()), r.ecosystem ?? 'pypi'],
          );
          if ((res.rowCount ?? 0) > 0) fresh.push(r);
        }
        return fresh;
      });
    },
    async unscanned(limit) {
      const { rows } = await query(
        'read results to alert on',
        `SELECT w.ecosystem, w.project, w.version, r.record FROM pkghunt_watch_releases w
         JOIN pkghunt_results r ON r.ecosystem = w.ecosystem AND r.project = w.project AND r.version = w.version
         WHERE w.alerts_scanned_at IS NULL ORDER BY r.id LIMIT $1`,
        [limit],
      );
      return rows.map((row) => {
        const r = z
          .object({ ecosystem: Ecosystem, project: z.string(), version: z.string(), record: z.unknown() })
          .parse(row);
        return {
          ecosystem: r.ecosystem,
          project: r.project,
          version: r.version,
          record: BehaviourRecord.parse(r.record),
        };
      });
    },
    async addAlerts(release, rows) {
      return inTransaction('queue alerts', async (client) => {
        const t = iso(now());
        let added = 0;
        for (const { alert, destination } of rows) {
          const res = await client.query(
            `INSERT INTO pkghunt_alert_outbox
               (alert_key, destination, project, version, level, alert, state, next_attempt_at, created_at, ecosystem)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, $8) ON CONFLICT (alert_key, destination) DO NOTHING`,
            [
              alert.key,
              destination,
              alert.project,
              alert.version,
              alert.level,
              JSON.stringify(alert),
              t,
              alert.ecosystem ?? 'pypi',
            ],
          );
          added += res.rowCount ?? 0;
        }
        await client.query(
          `UPDATE pkghunt_watch_releases SET alerts_scanned_at = $1
           WHERE ecosystem = $4 AND project = $2 AND version = $3`,
          [t, release.project, release.version, release.ecosystem ?? 'pypi'],
        );
        return added;
      });
    },
    async claimDue(destinations, claim) {
      if (destinations.length === 0) return [];
      const t = iso(now());
      const { rows } = await query(
        'claim alerts',
        `UPDATE pkghunt_alert_outbox SET lease_until = $1 WHERE id IN (
           SELECT id FROM pkghunt_alert_outbox
           WHERE state = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
             AND destination = ANY($3::text[])
           ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING id, destination, attempts, alert`,
        [iso(now() + claim.leaseMs), t, destinations, claim.limit],
      );
      return rows.map((row) => OutboxRow.parse({ ...row, id: Number(row.id) }));
    },
    async markSent(id) {
      await query(
        'mark an alert sent',
        `UPDATE pkghunt_alert_outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1,
           lease_until = NULL, last_error = NULL WHERE id = $2`,
        [iso(now()), id],
      );
    },
    async markFailed(id, failure) {
      await query(
        'record a failed alert',
        `UPDATE pkghunt_alert_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
           lease_until = NULL WHERE id = $3 AND state = 'pending'`,
        [failure.error.slice(0, 500), iso(now() + failure.retryAfterMs), id],
      );
    },
    async counts() {
      const { rows } = await query(
        'count watch state',
        `SELECT
           (SELECT count(*) FROM pkghunt_watch_releases) AS seen,
           (SELECT count(*) FROM pkghunt_watch_releases w WHERE EXISTS
              (SELECT 1 FROM pkghunt_results r WHERE r.ecosystem = w.ecosystem AND r.project = w.project
                 AND r.version = w.version)) AS analysed,
           (SELECT count(*) FROM pkghunt_alert_outbox WHERE state = 'pending') AS pending,
           (SELECT count(*) FROM pkghunt_alert_outbox WHERE state = 'sent') AS sent`,
      );
      const c = z
        .object({
          seen: z.coerce.number(),
          analysed: z.coerce.number(),
          pending: z.coerce.number(),
          sent: z.coerce.number(),
        })
        .parse(rows[0]);
      const lags = await query(
        'read lags',
        `SELECT w.published, r.finished_at FROM pkghunt_watch_releases w
         JOIN pkghunt_results r ON r.ecosystem = w.ecosystem AND r.project = w.project AND r.version = w.version
         WHERE w.published IS NOT NULL ORDER BY r.id DESC LIMIT 1000`,
      );
      return {
        seen: c.seen,
        analysed: c.analysed,
        alertsPending: c.pending,
        alertsSent: c.sent,
        medianLagMs: median(
          lags.rows
            .map((r) => Date.parse(String(r.finished_at)) - Date.parse(String(r.published)))
            .filter((ms) => Number.isFinite(ms)),
        ),
      };
    },
    async close() {
      await pool.end();
    },
  };
}
