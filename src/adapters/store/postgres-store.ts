import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { BehaviourRecord } from '../../core/record/schema.ts';
import { POSTGRES_SCHEMA_SQL } from './postgres-schema.ts';

/**
 * Results and the job queue on PostgreSQL, for hunts spread over many machines. The queue is
 * pg-boss: jobs are leased (`expireInSeconds`) and a job whose worker died goes back to the queue
 * when its lease runs out, with retries and back-off. Storing a result and completing its job
 * happen in one transaction, and results are unique per job key, so a job run twice (a lease
 * that ran out under a slow but living worker) still leaves exactly one result.
 */

export const QUEUE_NAME = 'pkghunt-analyze';

export const HuntTarget = z.object({
  name: z.string().min(1),
  version: z.string().min(1).nullable(),
});
export type HuntTarget = z.infer<typeof HuntTarget>;

export interface QueueJob {
  id: string;
  key: string;
  target: HuntTarget;
  /** 1 for the first run; grows with every retry, including after a lease ran out. */
  attempt: number;
  /** Whether a failure of this attempt is the last one (no retries left). */
  lastAttempt: boolean;
}

export interface PostgresQueueOptions {
  /** How long a worker holds a job before it goes back to the queue (seconds). */
  leaseSeconds?: number;
  /** Retries after the first attempt. */
  retryLimit?: number;
  /** First retry delay (seconds); doubles with each retry. */
  retryDelaySeconds?: number;
  /** How often the expiry of leases is checked (seconds). */
  maintenanceIntervalSeconds?: number;
  /** How often an idle worker asks for a job (seconds, at least 0.5). */
  pollingIntervalSeconds?: number;
}

export interface QueueCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
}

export interface StoredFailure {
  code: string;
  reason: string;
}

export interface PostgresStore {
  readonly url: string;
  enqueue(targets: readonly HuntTarget[]): Promise<{ queued: number; skipped: number }>;
  counts(): Promise<QueueCounts>;
  /** Runs `handler` for jobs as they come, `concurrency` at a time, until `stop()`. */
  work(concurrency: number, handler: (job: QueueJob) => Promise<void>): Promise<void>;
  hasResult(key: string): Promise<boolean>;
  /**
   * Stores the record and completes the job in one transaction; a key that already has a result
   * keeps it. `null` completes a job whose result another run already stored.
   */
  complete(job: QueueJob, record: BehaviourRecord | null): Promise<{ stored: boolean }>;
  /** Records a failed attempt; a final one also ends the job as failed (no retry). */
  recordFailure(job: QueueJob, failure: StoredFailure, options: { final: boolean }): Promise<void>;
  getRecord(name: string, version?: string | null): Promise<BehaviourRecord | null>;
  /** Stops taking jobs, waits up to `drainMs` for running handlers, then returns the rest to the queue. */
  stop(options?: { drainMs?: number }): Promise<void>;
}

const DEFAULTS = {
  leaseSeconds: 1800,
  retryLimit: 2,
  retryDelaySeconds: 30,
  maintenanceIntervalSeconds: 30,
  pollingIntervalSeconds: 2,
};

const JobData = z.object({ key: z.string(), target: HuntTarget });

const CountRow = z.object({ state: z.string(), failed: z.boolean().nullable(), n: z.coerce.number() });

/** NAME==VERSION with the normalised name, or NAME alone for "the latest release". */
export function jobKey(target: HuntTarget): string {
  const name = normalizeName(target.name);
  return target.version === null ? name : `${name}==${target.version}`;
}

/** A UUID derived from the job key: enqueueing the same package twice inserts one job. */
function jobId(key: string): string {
  const h = createHash('sha256').update(`pkghunt-job:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function storeError(action: string, url: string, error: unknown): PkghuntError {
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@');
  return new PkghuntError(
    'STORE_UNAVAILABLE',
    `Cannot ${action} in ${safeUrl}: ${error instanceof Error ? error.message : String(error)}`,
    {
      hint: 'Check that PostgreSQL runs and that the URL (user, password, database) is right.',
      cause: error,
    },
  );
}

function asDb(client: pg.PoolClient): PgBoss.Db {
  return { executeSql: (text, values) => client.query(text, values) };
}

export async function openPostgresStore(
  url: string,
  options: PostgresQueueOptions = {},
): Promise<PostgresStore> {
  const settings = { ...DEFAULTS, ...options };
  const worker = `${hostname()}:${process.pid}`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {
    // A dropped idle connection is replaced on the next query; the query reports the failure.
  });
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    schedule: false,
    supervise: true,
    maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
    // Kept for a month so that a finished job is not enqueued again while its row is around.
    archiveCompletedAfterSeconds: 30 * 24 * 3600,
    archiveFailedAfterSeconds: 30 * 24 * 3600,
  });
  boss.on('error', () => {
    // Maintenance errors (e.g. a dropped connection) are retried by pg-boss on its next round;
    // without a listener an 'error' event would end the process.
  });
  try {
    await pool.query(POSTGRES_SCHEMA_SQL);
    await boss.start();
    await boss.createQueue(QUEUE_NAME, {
      name: QUEUE_NAME,
      policy: 'standard',
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: settings.leaseSeconds,
    });
  } catch (error) {
    await boss.stop({ graceful: false }).catch(() => {});
    await pool.end().catch(() => {});
    throw storeError('open the store', url, error);
  }

  async function enqueue(targets: readonly HuntTarget[]): Promise<{ queued: number; skipped: number }> {
    let queued = 0;
    let skipped = 0;
    const chunk = 1000;
    for (let i = 0; i < targets.length; i += chunk) {
      const part = targets.slice(i, i + chunk).map((t) => ({ key: jobKey(t), target: t }));
      const keys = part.map((p) => p.key);
      const finished = await pool.query<{ job_key: string }>(
        `SELECT job_key FROM pkghunt_results WHERE job_key = ANY($1)
         UNION SELECT job_key FROM pkghunt_failures WHERE final AND job_key = ANY($1)`,
        [keys],
      );
      const done = new Set(finished.rows.map((r) => r.job_key));
      const todo = part.filter((p) => !done.has(p.key));
      const ids = todo.map((p) => jobId(p.key));
      const before = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[])`,
        [QUEUE_NAME, ids],
      );
      if (todo.length > 0) {
        await boss.insert(
          todo.map((p) => ({
            id: jobId(p.key),
            name: QUEUE_NAME,
            data: { key: p.key, target: p.target },
            expireInSeconds: settings.leaseSeconds,
            retryLimit: settings.retryLimit,
            retryDelay: settings.retryDelaySeconds,
            retryBackoff: true,
          })),
        );
      }
      const fresh = todo.length - Number(before.rows[0]?.n ?? 0);
      queued += fresh;
      skipped += part.length - fresh;
    }
    return { queued, skipped };
  }

  async function counts(): Promise<QueueCounts> {
    const result = await pool.query(
      `SELECT state::text AS state, (output->>'pkghunt_failed')::boolean AS failed, count(*) AS n
       FROM (SELECT state, output FROM pgboss.job WHERE name = $1
             UNION ALL SELECT state, output FROM pgboss.archive WHERE name = $1) j
       GROUP BY 1, 2`,
      [QUEUE_NAME],
    );
    const c: QueueCounts = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const raw of result.rows) {
      const row = CountRow.parse(raw);
      if (row.state === 'created' || row.state === 'retry') c.queued += row.n;
      else if (row.state === 'active') c.running += row.n;
      else if (row.state === 'completed' && row.failed === true) c.failed += row.n;
      else if (row.state === 'completed') c.done += row.n;
      else if (row.state === 'failed') c.failed += row.n;
    }
    return c;
  }

  async function work(concurrency: number, handler: (job: QueueJob) => Promise<void>): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      await boss.work<unknown>(
        QUEUE_NAME,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: settings.pollingIntervalSeconds },
        async (jobs) => {
          for (const job of jobs) {
            const data = JobData.parse(job.data);
            await handler({
              id: job.id,
              key: data.key,
              target: data.target,
              attempt: job.retryCount + 1,
              lastAttempt: job.retryCount >= job.retryLimit,
            });
          }
        },
      );
    }
  }

  async function hasResult(key: string): Promise<boolean> {
    const r = await pool.query('SELECT 1 FROM pkghunt_results WHERE job_key = $1', [key]);
    return (r.rowCount ?? 0) > 0;
  }

  async function inTransaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const value = await body(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function complete(job: QueueJob, record: BehaviourRecord | null): Promise<{ stored: boolean }> {
    return inTransaction(async (client) => {
      if (record === null) {
        await boss.complete(QUEUE_NAME, job.id, {}, { db: asDb(client) });
        return { stored: false };
      }
      const inserted = await client.query(
        `INSERT INTO pkghunt_results
           (job_key, name, version, requested, job_id, worker, run_id, install_status, import_status, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (job_key) DO NOTHING`,
        [
          job.key,
          normalizeName(record.package.name),
          record.package.version,
          record.package.requested,
          job.id,
          worker,
          record.run_id,
          record.phases.install?.status ?? null,
          record.phases.import?.status ?? null,
          JSON.stringify(record),
        ],
      );
      await boss.complete(QUEUE_NAME, job.id, {}, { db: asDb(client) });
      return { stored: (inserted.rowCount ?? 0) > 0 };
    });
  }

  async function recordFailure(
    job: QueueJob,
    failure: StoredFailure,
    options: { final: boolean },
  ): Promise<void> {
    await inTransaction(async (client) => {
      await client.query(
        `INSERT INTO pkghunt_failures (job_key, job_id, worker, attempt, final, code, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [job.key, job.id, worker, job.attempt, options.final, failure.code, failure.reason.slice(0, 4000)],
      );
      if (options.final) {
        // Completed with a failure mark rather than failed: pg-boss would retry a failed job.
        await boss.complete(
          QUEUE_NAME,
          job.id,
          { pkghunt_failed: true, code: failure.code, reason: failure.reason.slice(0, 1000) },
          { db: asDb(client) },
        );
      }
    });
  }

  async function getRecord(name: string, version: string | null = null): Promise<BehaviourRecord | null> {
    const r = await pool.query<{ record: unknown }>(
      `SELECT record FROM pkghunt_results WHERE name = $1 AND ($2::text IS NULL OR version = $2)
       ORDER BY finished_at DESC LIMIT 1`,
      [normalizeName(name), version],
    );
    const row = r.rows[0];
    return row ? BehaviourRecord.parse(row.record) : null;
  }

  async function stop(stopOptions: { drainMs?: number } = {}): Promise<void> {
    try {
      await boss.stop({ graceful: true, wait: true, timeout: stopOptions.drainMs ?? 30_000 });
    } finally {
      await pool.end();
    }
  }

  return { url, enqueue, counts, work, hasResult, complete, recordFailure, getRecord, stop };
}
