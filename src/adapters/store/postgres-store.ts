import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { BehaviourRecord } from '../../core/record/schema.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import { previousVersion } from './previous-version.ts';
import {
  Job,
  type JobCounts,
  type ProjectInput,
  type QueryRow,
  ReleaseInput,
  type ResultInput,
  type ResultStore,
} from './store.ts';
import { studyQuerySql } from './study-views.ts';

/**
 * The store on PostgreSQL, for hunts spread over many machines. Projects, releases, results and
 * the study's views are the `ResultStore` contract, with the same semantics and the same SQL views
 * as SQLite (postgres-schema.ts). The job queue is pg-boss: jobs are leased (`expireInSeconds`) and
 * a job whose worker died goes back to the queue when its lease runs out, with retries and
 * back-off. Storing a result and completing its job happen in one transaction, and results are
 * unique per job key, so a job run twice (a lease that ran out under a slow but living worker)
 * still leaves exactly one result.
 */

export const QUEUE_NAME = 'pkghunt-analyze';

export const HuntTarget = z.object({
  name: z.string().min(1),
  version: z.string().min(1).nullable(),
  /** Absent: pypi (jobs queued before npm could be hunted have none). */
  ecosystem: Ecosystem.optional(),
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

export interface PostgresStore extends ResultStore {
  readonly url: string;
  enqueue(targets: readonly HuntTarget[]): Promise<{ queued: number; skipped: number }>;
  counts(): Promise<QueueCounts>;
  /** Runs `handler` for jobs as they come, `concurrency` at a time, until `stop()`. */
  work(concurrency: number, handler: (job: QueueJob) => Promise<void>): Promise<void>;
  hasResult(key: string): Promise<boolean>;
  /**
   * Stores the result and completes the job in one transaction; a key that already has a result
   * keeps it. `null` completes a job whose result another run already stored.
   */
  complete(job: QueueJob, result: ResultInput | null): Promise<{ stored: boolean }>;
  /**
   * Stores a result analysed outside the queue (e.g. by `diff`), under the same key a job of
   * that target would have; a key that already has a result keeps it.
   */
  storeResult(target: HuntTarget, result: ResultInput): Promise<{ stored: boolean }>;
  /** Records a failed attempt; a final one also ends the job as failed (no retry). */
  recordFailure(job: QueueJob, failure: StoredFailure, options: { final: boolean }): Promise<void>;
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

/** The stored project name: PyPI's normalised, npm's as the registry spells it. */
function projectName(name: string, ecosystem: Ecosystem | undefined): string {
  return ecosystem === 'npm' ? name : normalizeName(name);
}

/**
 * NAME==VERSION with the normalised name, or NAME alone for "the latest release"; npm targets
 * are prefixed `npm:` (a PyPI name never holds a colon), so the two never share a key.
 */
export function jobKey(target: HuntTarget): string {
  const name = projectName(target.name, target.ecosystem);
  const key = target.version === null ? name : `${name}==${target.version}`;
  return target.ecosystem === 'npm' ? `npm:${key}` : key;
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

/** A shell glob as a PostgreSQL regular expression: the meaning of SQLite's GLOB for --match. */
function globToRegex(glob: string): string {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      const set = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&');
      source += `[${negated ? '^' : ''}${set}]`;
      i = end;
    } else source += c.replace(/[.+*?^${}()|[\]\\/]/g, '\\$&');
  }
  return `^${source}$`;
}

const RecordRow = z.object({ record: z.unknown() });
const ReleaseRow = z.object({
  ecosystem: Ecosystem,
  project: z.string(),
  version: z.string(),
  upload_time: z.string().nullable(),
  files: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
const FailedRow = z.object({
  id: z.coerce.number().int(),
  job_key: z.string(),
  attempt: z.number().int(),
  reason: z.string(),
  failed_at: z.union([z.date(), z.string()]),
});

function parseRecord(row: unknown): BehaviourRecord {
  const parsed = BehaviourRecord.safeParse(RecordRow.parse(row).record);
  if (!parsed.success) {
    throw new PkghuntError('RECORD_INVALID', `Cannot read a stored record: ${parsed.error.message}`);
  }
  return parsed.data;
}

/** A job key back into its parts (a key without a version means "the latest"). */
function splitKey(key: string): { ecosystem: Ecosystem; project: string; version: string } {
  const ecosystem: Ecosystem = key.startsWith('npm:') ? 'npm' : 'pypi';
  const rest = ecosystem === 'npm' ? key.slice('npm:'.length) : key;
  const at = rest.indexOf('==');
  return at < 0
    ? { ecosystem, project: rest, version: '' }
    : { ecosystem, project: rest.slice(0, at), version: rest.slice(at + 2) };
}

type PageRow = { stored_at: string; id: string; record: unknown };

/** Rows of a page at a time, in (stored_at, id) order: memory stays bounded whatever the store's size. */
const PAGE = 200;

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

  async function migrate(): Promise<void> {
    await inTransaction(async (client) => {
      // One migrating process at a time: workers often start together on an empty database.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('pkghunt-schema'))");
      await client.query(
        'CREATE TABLE IF NOT EXISTS pkghunt_schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)',
      );
      const applied = await client.query<{ version: number }>(
        'SELECT version FROM pkghunt_schema_migrations',
      );
      const done = new Set(applied.rows.map((r) => r.version));
      for (const migration of POSTGRES_MIGRATIONS) {
        if (done.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query('INSERT INTO pkghunt_schema_migrations (version, applied_at) VALUES ($1, $2)', [
          migration.version,
          new Date().toISOString(),
        ]);
      }
    });
  }

  try {
    await migrate();
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

  /** Runs a read or write of the result store, turning driver errors into STORE_UNAVAILABLE. */
  async function guarded<T>(action: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof PkghuntError) throw error;
      throw storeError(action, url, error);
    }
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

  /** Inserts a result and its facts' side tables; a key that already has a result keeps it. */
  async function insertResult(
    client: pg.PoolClient,
    job: { id: string | null; key: string; target: HuntTarget },
    result: ResultInput,
  ): Promise<boolean> {
    const { record, facts } = result;
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO pkghunt_results
         (job_key, project, version, requested, job_id, worker, run_id, finished_at, stored_at,
          install_status, import_status, connected_out, ran_commands, canary_hits, verdict_level,
          verdict_score, record, traces, ecosystem)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (job_key) DO NOTHING RETURNING id`,
      [
        job.key,
        projectName(job.target.name, job.target.ecosystem),
        record.package.version ?? job.target.version,
        record.package.requested,
        job.id,
        worker,
        record.run_id,
        record.finished_at,
        new Date().toISOString(),
        facts.installStatus,
        facts.importStatus,
        facts.connectedOut ? 1 : 0,
        facts.ranCommands ? 1 : 0,
        facts.canaryHits,
        facts.verdictLevel,
        facts.verdictScore,
        JSON.stringify(record),
        JSON.stringify(result.traces),
        job.target.ecosystem ?? 'pypi',
      ],
    );
    const id = inserted.rows[0]?.id;
    if (id !== undefined) {
      // Side tables of the facts, one statement each (unnest), for the study's views.
      const c = facts.connections;
      await client.query(
        `INSERT INTO pkghunt_result_connections (result_id, phase, protocol, ip, port, host)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[])`,
        [
          id,
          c.map((x) => x.phase),
          c.map((x) => x.protocol),
          c.map((x) => x.ip),
          c.map((x) => x.port),
          c.map((x) => x.host),
        ],
      );
      await client.query(
        `INSERT INTO pkghunt_result_dns (result_id, phase, name) SELECT $1, * FROM unnest($2::text[], $3::text[])`,
        [id, facts.dns.map((x) => x.phase), facts.dns.map((x) => x.name)],
      );
      const m = facts.commands;
      await client.query(
        `INSERT INTO pkghunt_result_commands (result_id, phase, command, exe)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])`,
        [id, m.map((x) => x.phase), m.map((x) => x.command), m.map((x) => x.exe)],
      );
    }
    return id !== undefined;
  }

  async function complete(job: QueueJob, result: ResultInput | null): Promise<{ stored: boolean }> {
    return inTransaction(async (client) => {
      const stored = result === null ? false : await insertResult(client, job, result);
      await boss.complete(QUEUE_NAME, job.id, {}, { db: asDb(client) });
      return { stored };
    });
  }

  async function storeResult(target: HuntTarget, result: ResultInput): Promise<{ stored: boolean }> {
    return inTransaction(async (client) => ({
      stored: await insertResult(client, { id: null, key: jobKey(target), target }, result),
    }));
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

  async function stop(stopOptions: { drainMs?: number } = {}): Promise<void> {
    try {
      await boss.stop({ graceful: true, wait: true, timeout: stopOptions.drainMs ?? 30_000 });
    } finally {
      await pool.end();
    }
  }

  async function getRecord(
    name: string,
    version?: string,
    options: { ecosystem?: Ecosystem } = {},
  ): Promise<BehaviourRecord | null> {
    return guarded('read a record', async () => {
      const r = await pool.query(
        `SELECT record FROM pkghunt_results
         WHERE ecosystem = $3 AND project = $1 AND ($2::text IS NULL OR version = $2)
         ORDER BY finished_at DESC, id DESC LIMIT 1`,
        [projectName(name, options.ecosystem), version ?? null, options.ecosystem ?? 'pypi'],
      );
      return r.rows[0] === undefined ? null : parseRecord(r.rows[0]);
    });
  }

  async function* iterateRecords(
    iterate: { since?: string; latestOnly?: boolean; ecosystem?: Ecosystem } = {},
  ): AsyncIterable<BehaviourRecord> {
    let after: { storedAt: string; id: string } | null = null;
    for (;;) {
      const cursor: { storedAt: string; id: string } | null = after;
      const page: pg.QueryResult<PageRow> = await guarded('read the records', () =>
        pool.query<PageRow>(
          `SELECT stored_at, id, record FROM pkghunt_results
           WHERE ($1::text IS NULL OR stored_at >= $1)
             AND ($2::text IS NULL OR (stored_at, id) > ($2, $3::bigint))
             AND ($4::text IS NULL OR ecosystem = $4)
             ${iterate.latestOnly ? 'AND id IN (SELECT max(id) FROM pkghunt_results GROUP BY ecosystem, project, version)' : ''}
           ORDER BY stored_at, id LIMIT ${PAGE}`,
          [iterate.since ?? null, cursor?.storedAt ?? null, cursor?.id ?? null, iterate.ecosystem ?? null],
        ),
      );
      for (const row of page.rows) yield parseRecord(row);
      const last = page.rows.at(-1);
      if (last === undefined || page.rows.length < PAGE) return;
      after = { storedAt: last.stored_at, id: last.id };
    }
  }

  const store: PostgresStore = {
    url,
    enqueue,
    counts,
    work,
    hasResult,
    complete,
    storeResult,
    recordFailure,
    stop,
    migrate,
    // The store's connections belong to the queue too: closing is stopping (no jobs taken here).
    close: () => stop({ drainMs: 1000 }),
    async upsertProjects(batch: readonly ProjectInput[]) {
      if (batch.length === 0) return 0;
      return guarded('store projects', async () => {
        const r = await pool.query<{ inserted: boolean }>(
          `INSERT INTO pkghunt_projects (ecosystem, normalized, name, last_serial, synced_at)
           SELECT e, n, m, s, $4 FROM unnest($5::text[], $1::text[], $2::text[], $3::bigint[]) AS t(e, n, m, s)
           ON CONFLICT (ecosystem, normalized) DO UPDATE SET name = excluded.name,
             last_serial = COALESCE(excluded.last_serial, pkghunt_projects.last_serial),
             synced_at = excluded.synced_at
           RETURNING (xmax = 0) AS inserted`,
          [
            batch.map((p) => p.normalized),
            batch.map((p) => p.name),
            batch.map((p) => p.lastSerial),
            new Date().toISOString(),
            batch.map((p) => p.ecosystem ?? 'pypi'),
          ],
        );
        return r.rows.filter((row) => row.inserted).length;
      });
    },
    async countProjects(countOptions = {}) {
      const r = await guarded('count projects', () =>
        pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pkghunt_projects WHERE ecosystem = $1', [
          countOptions.ecosystem ?? 'pypi',
        ]),
      );
      return r.rows[0]?.n ?? 0;
    },
    async selectProjects(selection) {
      const ecosystem = selection.ecosystem ?? 'pypi';
      // PyPI names are stored lower case; npm names as the registry spells them.
      const match = ecosystem === 'pypi' ? selection.match?.toLowerCase() : selection.match;
      const r = await guarded('select projects', () =>
        pool.query<{ normalized: string }>(
          `SELECT normalized FROM pkghunt_projects
           WHERE ecosystem = $4 AND ($1::text[] IS NULL OR normalized = ANY($1))
             AND ($2::text IS NULL OR normalized ~ $2)
           ORDER BY normalized COLLATE "C" LIMIT $3`,
          [
            selection.names ?? null,
            match !== undefined ? globToRegex(match) : null,
            selection.limit !== undefined ? Math.trunc(selection.limit) : null,
            ecosystem,
          ],
        ),
      );
      return r.rows.map((row) => row.normalized);
    },
    async upsertRelease(release) {
      const r = ReleaseInput.parse(release);
      const ecosystem = r.ecosystem ?? 'pypi';
      const t = new Date().toISOString();
      await guarded('store a release', () =>
        inTransaction(async (client) => {
          await client.query(
            `INSERT INTO pkghunt_projects (ecosystem, normalized, name, synced_at) VALUES ($3, $1, $1, $2)
             ON CONFLICT (ecosystem, normalized) DO NOTHING`,
            [r.project, t, ecosystem],
          );
          await client.query(
            `INSERT INTO pkghunt_releases (ecosystem, project, version, upload_time, files, metadata)
             VALUES ($6, $1, $2, $3, $4, $5)
             ON CONFLICT (ecosystem, project, version) DO UPDATE SET upload_time = excluded.upload_time,
               files = excluded.files, metadata = COALESCE(excluded.metadata, pkghunt_releases.metadata)`,
            [
              r.project,
              r.version,
              r.uploadTime,
              JSON.stringify(r.files),
              r.metadata === null ? null : JSON.stringify(r.metadata),
              ecosystem,
            ],
          );
          await client.query(
            `UPDATE pkghunt_projects SET releases_checked_at = $1, no_release_reason = NULL
             WHERE ecosystem = $3 AND normalized = $2`,
            [t, r.project, ecosystem],
          );
        }),
      );
    },
    async markNoRelease(project, reason, markOptions = {}) {
      const ecosystem = markOptions.ecosystem ?? 'pypi';
      const t = new Date().toISOString();
      await guarded('store a project', () =>
        inTransaction(async (client) => {
          await client.query(
            `INSERT INTO pkghunt_projects (ecosystem, normalized, name, synced_at) VALUES ($3, $1, $1, $2)
             ON CONFLICT (ecosystem, normalized) DO NOTHING`,
            [project, t, ecosystem],
          );
          await client.query(
            `UPDATE pkghunt_projects SET releases_checked_at = $1, no_release_reason = $2
             WHERE ecosystem = $4 AND normalized = $3`,
            [t, reason, project, ecosystem],
          );
        }),
      );
    },
    async releasesCheckedAt(project, checkedOptions = {}) {
      const r = await guarded('read a project', () =>
        pool.query<{ t: string | null }>(
          'SELECT releases_checked_at AS t FROM pkghunt_projects WHERE ecosystem = $2 AND normalized = $1',
          [project, checkedOptions.ecosystem ?? 'pypi'],
        ),
      );
      return r.rows[0]?.t ?? null;
    },
    async listReleases(project, listOptions = {}) {
      const r = await guarded('read releases', () =>
        pool.query(
          `SELECT ecosystem, project, version, upload_time, files, metadata FROM pkghunt_releases
           WHERE ecosystem = $3 AND project = $1 AND ($2::text IS NULL OR upload_time >= $2)
           ORDER BY upload_time DESC NULLS LAST, version COLLATE "C" DESC`,
          [project, listOptions.since ?? null, listOptions.ecosystem ?? 'pypi'],
        ),
      );
      return r.rows.map((raw) => {
        const row = ReleaseRow.parse(raw);
        return ReleaseInput.parse({
          ecosystem: row.ecosystem,
          project: row.project,
          version: row.version,
          uploadTime: row.upload_time,
          files: row.files,
          metadata: row.metadata,
        });
      });
    },
    async jobCounts(): Promise<JobCounts> {
      const c = await guarded('count jobs', counts);
      return { pending: c.queued, running: c.running, done: c.done, failed: c.failed };
    },
    async failedJobs() {
      const r = await guarded('read failed jobs', () =>
        pool.query(
          `SELECT DISTINCT ON (job_key) id, job_key, attempt, code || ': ' || reason AS reason, failed_at
           FROM pkghunt_failures f WHERE final
             AND NOT EXISTS (SELECT 1 FROM pkghunt_results r WHERE r.job_key = f.job_key)
           ORDER BY job_key, id DESC`,
        ),
      );
      return r.rows.map((raw) => {
        const row = FailedRow.parse(raw);
        const { ecosystem, project, version } = splitKey(row.job_key);
        const at = row.failed_at instanceof Date ? row.failed_at.toISOString() : row.failed_at;
        return Job.parse({
          id: row.id,
          ecosystem,
          project,
          version,
          state: 'failed',
          attempts: row.attempt,
          maxAttempts: row.attempt,
          leaseOwner: null,
          leaseExpiresAt: null,
          runAfter: at,
          lastError: row.reason,
        });
      });
    },
    getRecord,
    exportRecords: (exportOptions = {}) =>
      iterateRecords({
        ...(exportOptions.since !== undefined ? { since: exportOptions.since } : {}),
        ...(exportOptions.ecosystem !== undefined ? { ecosystem: exportOptions.ecosystem } : {}),
      }),
    iterateRecords,
    async previousRecord(name, version, previousOptions = {}) {
      const ecosystem = previousOptions.ecosystem ?? 'pypi';
      const project = projectName(name, ecosystem);
      const analysed = await guarded('read releases', () =>
        pool.query<{ version: string; uploadTime: string | null }>(
          `SELECT DISTINCT r.version AS version, rl.upload_time AS "uploadTime" FROM pkghunt_results r
           LEFT JOIN pkghunt_releases rl
             ON rl.ecosystem = r.ecosystem AND rl.project = r.project AND rl.version = r.version
           WHERE r.ecosystem = $2 AND r.project = $1 AND r.version IS NOT NULL`,
          [project, ecosystem],
        ),
      );
      const self = await pool.query<{ t: string | null }>(
        'SELECT upload_time AS t FROM pkghunt_releases WHERE ecosystem = $3 AND project = $1 AND version = $2',
        [project, version, ecosystem],
      );
      const previous = previousVersion(analysed.rows, { version, uploadTime: self.rows[0]?.t ?? null });
      return previous === null ? null : getRecord(project, previous, { ecosystem });
    },
    async query(name, queryOptions = {}) {
      const r = await guarded(`answer the ${name} query`, () =>
        pool.query(studyQuerySql(name, queryOptions.ecosystem ?? null)),
      );
      return r.rows.map(
        (row) => z.record(z.string(), z.union([z.string(), z.number(), z.null()])).parse(row) as QueryRow,
      );
    },
  };
  return store;
}
