import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError } from '../../core/errors.ts';
import { BehaviourRecord } from '../../core/record/schema.ts';
import { previousVersion } from './previous-version.ts';
import { MIGRATIONS } from './sqlite-migrations.ts';
import {
  type FailOptions,
  type IterateOptions,
  Job,
  type JobCounts,
  JobState,
  type ProjectInput,
  type ProjectSelection,
  type QueryRow,
  ReleaseInput,
  type ResultInput,
  type Store,
} from './store.ts';
import { studyQuerySql } from './study-views.ts';

/** The latest result of each (ecosystem, project, version): the highest id wins (ids grow with time). */
const LATEST_ONLY = 'id IN (SELECT MAX(id) FROM results GROUP BY ecosystem, project, version)';

const JobRow = z.object({
  id: z.number().int(),
  ecosystem: Ecosystem,
  project: z.string(),
  version: z.string(),
  state: JobState,
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  lease_owner: z.string().nullable(),
  lease_expires_at: z.string().nullable(),
  run_after: z.string(),
  last_error: z.string().nullable(),
});

const ReleaseRow = z.object({
  ecosystem: Ecosystem,
  project: z.string(),
  version: z.string(),
  upload_time: z.string().nullable(),
  files: z.string(),
  metadata: z.string().nullable(),
});

const RecordRow = z.object({ record: z.string() });

function toJob(row: unknown): Job {
  const r = JobRow.parse(row);
  return Job.parse({
    id: r.id,
    ecosystem: r.ecosystem,
    project: r.project,
    version: r.version,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    runAfter: r.run_after,
    lastError: r.last_error,
  });
}

function parseRecord(row: unknown): BehaviourRecord {
  const { record } = RecordRow.parse(row);
  const parsed = BehaviourRecord.safeParse(JSON.parse(record));
  if (!parsed.success) {
    throw new PkghuntError('RECORD_INVALID', `Cannot read a stored record: ${parsed.error.message}`);
  }
  return parsed.data;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function storeError(action: string, path: string, cause: unknown): PkghuntError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new PkghuntError('STORE_UNAVAILABLE', `Cannot ${action} the SQLite store ${path}: ${message}`, {
    hint: 'Check the --db path (or PKGHUNT_DB), its directory and free disk space.',
    cause,
  });
}

export interface SqliteStoreOptions {
  /** Clock, for tests of leases and back-off. */
  now?: () => number;
}

/**
 * The embedded store: one SQLite file in WAL mode (readers never block the writer, and several
 * hunt processes may share the file). better-sqlite3 is synchronous, which suits SQLite (no
 * thread hop per statement); the async methods only honour the shared Store contract.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
  } catch (cause) {
    throw storeError('open', path, cause);
  }

  function migrate(): void {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(
      db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((row) => z.object({ version: z.number() }).parse(row).version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      // A table rebuild drops tables others reference: SQLite's documented procedure turns foreign
      // keys off around the transaction (the pragma is a no-op inside one) and checks them before
      // committing.
      if (migration.foreignKeysOff) db.pragma('foreign_keys = OFF');
      try {
        db.transaction(() => {
          // Another process may have applied it since we looked (the write lock is held now).
          if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) return;
          db.exec(migration.sql);
          if (migration.foreignKeysOff) {
            const broken = db.pragma('foreign_key_check') as unknown[];
            if (broken.length > 0) {
              throw new Error(
                `migration ${migration.version} leaves ${broken.length} broken foreign keys, e.g. ${JSON.stringify(broken[0])}`,
              );
            }
          }
          db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
            migration.version,
            iso(now()),
          );
        }).immediate();
      } finally {
        if (migration.foreignKeysOff) db.pragma('foreign_keys = ON');
      }
    }
  }

  // Statements below are prepared against the schema, so it must exist first.
  try {
    migrate();
  } catch (cause) {
    throw storeError('migrate', path, cause);
  }

  const upsertProject = db.prepare(
    `INSERT INTO projects (ecosystem, normalized, name, last_serial, synced_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (ecosystem, normalized) DO UPDATE SET name = excluded.name,
       last_serial = COALESCE(excluded.last_serial, projects.last_serial), synced_at = excluded.synced_at`,
  );
  const projectExists = db.prepare('SELECT 1 FROM projects WHERE ecosystem = ? AND normalized = ?').pluck();

  function ensureProject(ecosystem: Ecosystem, normalized: string): void {
    db.prepare(
      `INSERT INTO projects (ecosystem, normalized, name, synced_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ecosystem, normalized) DO NOTHING`,
    ).run(ecosystem, normalized, normalized, iso(now()));
  }

  function claimOne(worker: string, leaseMs: number): Job | null {
    const t = iso(now());
    for (;;) {
      const row = db
        .prepare(
          `SELECT * FROM jobs
           WHERE (state = 'pending' AND run_after <= ?) OR (state = 'running' AND lease_expires_at < ?)
           ORDER BY run_after, id LIMIT 1`,
        )
        .get(t, t);
      if (row === undefined) return null;
      const job = toJob(row);
      if (job.state === 'running' && job.attempts >= job.maxAttempts) {
        // Its worker died holding it on every attempt (the package may kill whatever runs it).
        db.prepare(
          `UPDATE jobs SET state = 'failed', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,
             last_error = COALESCE(last_error || '; ', '') || ? WHERE id = ?`,
        ).run(t, `the worker holding attempt ${job.attempts} stopped without finishing`, job.id);
        continue;
      }
      db.prepare(
        `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
           updated_at = ? WHERE id = ?`,
      ).run(worker, iso(now() + leaseMs), t, job.id);
      return { ...job, state: 'running', attempts: job.attempts + 1, leaseOwner: worker };
    }
  }

  function completeOne(jobId: number, worker: string, result: ResultInput): boolean {
    const t = iso(now());
    const owned = db
      .prepare(
        `UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
           updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`,
      )
      .run(t, jobId, worker);
    if (owned.changes === 0) return false;
    const job = toJob(db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId));
    const { record, facts } = result;
    const inserted = db
      .prepare(
        `INSERT INTO results (job_id, ecosystem, project, version, run_id, finished_at, stored_at, install_status,
           import_status, connected_out, ran_commands, canary_hits, verdict_level, verdict_score, record, traces)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        jobId,
        job.ecosystem,
        job.project,
        record.package.version ?? job.version,
        record.run_id,
        record.finished_at,
        t,
        facts.installStatus,
        facts.importStatus,
        facts.connectedOut ? 1 : 0,
        facts.ranCommands ? 1 : 0,
        facts.canaryHits,
        facts.verdictLevel,
        facts.verdictScore,
        JSON.stringify(record),
        JSON.stringify(result.traces),
      );
    const resultId = inserted.lastInsertRowid;
    const connection = db.prepare(
      'INSERT INTO result_connections (result_id, phase, protocol, ip, port, host) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const c of facts.connections) connection.run(resultId, c.phase, c.protocol, c.ip, c.port, c.host);
    const dns = db.prepare('INSERT INTO result_dns (result_id, phase, name) VALUES (?, ?, ?)');
    for (const d of facts.dns) dns.run(resultId, d.phase, d.name);
    const command = db.prepare(
      'INSERT INTO result_commands (result_id, phase, command, exe) VALUES (?, ?, ?, ?)',
    );
    for (const c of facts.commands) command.run(resultId, c.phase, c.command, c.exe);
    return true;
  }

  function failOne(jobId: number, worker: string, options: FailOptions): JobState | null {
    const row = db
      .prepare(`SELECT * FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?`)
      .get(jobId, worker);
    if (row === undefined) return null;
    const job = toJob(row);
    const state: JobState = options.final || job.attempts >= job.maxAttempts ? 'failed' : 'pending';
    db.prepare(
      `UPDATE jobs SET state = ?, lease_owner = NULL, lease_expires_at = NULL, run_after = ?, last_error = ?,
         updated_at = ? WHERE id = ?`,
    ).run(state, iso(now() + options.retryAfterMs), options.reason, iso(now()), jobId);
    return state;
  }

  /** The stored records, oldest first (`exportRecords` is this without `latestOnly`). */
  async function* iterateRecords(options: IterateOptions = {}): AsyncGenerator<BehaviourRecord> {
    const rows = db
      .prepare(
        `SELECT record FROM results WHERE (? IS NULL OR stored_at >= ?) AND (? IS NULL OR ecosystem = ?)
           ${options.latestOnly ? ` AND ${LATEST_ONLY}` : ''}
         ORDER BY stored_at, id`,
      )
      .iterate(
        options.since ?? null,
        options.since ?? null,
        options.ecosystem ?? null,
        options.ecosystem ?? null,
      );
    for (const row of rows) yield parseRecord(row);
  }

  const store: Store = {
    async migrate() {
      try {
        migrate();
      } catch (cause) {
        throw storeError('migrate', path, cause);
      }
    },
    async close() {
      db.close();
    },
    async upsertProjects(batch: readonly ProjectInput[]) {
      const t = iso(now());
      return db.transaction(() => {
        let added = 0;
        for (const p of batch) {
          const ecosystem = p.ecosystem ?? 'pypi';
          if (projectExists.get(ecosystem, p.normalized) === undefined) added++;
          upsertProject.run(ecosystem, p.normalized, p.name, p.lastSerial, t);
        }
        return added;
      })();
    },
    async countProjects(options = {}) {
      return z.number().parse(
        db
          .prepare('SELECT COUNT(*) FROM projects WHERE ecosystem = ?')
          .pluck()
          .get(options.ecosystem ?? 'pypi'),
      );
    },
    async selectProjects(selection: ProjectSelection) {
      const ecosystem = selection.ecosystem ?? 'pypi';
      const where: string[] = ['ecosystem = ?'];
      const params: unknown[] = [ecosystem];
      if (selection.names !== undefined) {
        where.push('normalized IN (SELECT value FROM json_each(?))');
        params.push(JSON.stringify(selection.names));
      }
      if (selection.match !== undefined) {
        where.push('normalized GLOB ?');
        // PyPI names are stored lower case; npm names as the registry spells them.
        params.push(ecosystem === 'pypi' ? selection.match.toLowerCase() : selection.match);
      }
      const limit = selection.limit !== undefined ? ` LIMIT ${Math.trunc(selection.limit)}` : '';
      const sql = `SELECT normalized FROM projects WHERE ${where.join(' AND ')} ORDER BY normalized${limit}`;
      return z.array(z.string()).parse(
        db
          .prepare(sql)
          .pluck()
          .all(...params),
      );
    },
    async upsertRelease(release) {
      const r = ReleaseInput.parse(release);
      const ecosystem = r.ecosystem ?? 'pypi';
      db.transaction(() => {
        ensureProject(ecosystem, r.project);
        db.prepare(
          `INSERT INTO releases (ecosystem, project, version, upload_time, files, metadata) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (ecosystem, project, version) DO UPDATE SET upload_time = excluded.upload_time,
             files = excluded.files, metadata = COALESCE(excluded.metadata, releases.metadata)`,
        ).run(
          ecosystem,
          r.project,
          r.version,
          r.uploadTime,
          JSON.stringify(r.files),
          r.metadata === null ? null : JSON.stringify(r.metadata),
        );
        db.prepare(
          'UPDATE projects SET releases_checked_at = ?, no_release_reason = NULL WHERE ecosystem = ? AND normalized = ?',
        ).run(iso(now()), ecosystem, r.project);
      })();
    },
    async markNoRelease(project, reason, options = {}) {
      const ecosystem = options.ecosystem ?? 'pypi';
      db.transaction(() => {
        ensureProject(ecosystem, project);
        db.prepare(
          'UPDATE projects SET releases_checked_at = ?, no_release_reason = ? WHERE ecosystem = ? AND normalized = ?',
        ).run(iso(now()), reason, ecosystem, project);
      })();
    },
    async releasesCheckedAt(project, options = {}) {
      const value = db
        .prepare('SELECT releases_checked_at FROM projects WHERE ecosystem = ? AND normalized = ?')
        .pluck()
        .get(options.ecosystem ?? 'pypi', project);
      return z.string().nullable().optional().parse(value) ?? null;
    },
    async listReleases(project, options = {}) {
      const rows = db
        .prepare(
          `SELECT * FROM releases WHERE ecosystem = ? AND project = ? AND (? IS NULL OR upload_time >= ?)
           ORDER BY upload_time DESC, version DESC`,
        )
        .all(options.ecosystem ?? 'pypi', project, options.since ?? null, options.since ?? null);
      return rows.map((row) => {
        const r = ReleaseRow.parse(row);
        return ReleaseInput.parse({
          ecosystem: r.ecosystem,
          project: r.project,
          version: r.version,
          uploadTime: r.upload_time,
          files: JSON.parse(r.files),
          metadata: r.metadata === null ? null : JSON.parse(r.metadata),
        });
      });
    },
    async enqueue(jobs, options) {
      const t = iso(now());
      const insert = db.prepare(
        `INSERT INTO jobs (ecosystem, project, version, state, max_attempts, run_after, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (ecosystem, project, version) DO NOTHING`,
      );
      const requeue = db.prepare(
        `UPDATE jobs SET state = 'pending', attempts = 0, max_attempts = ?, run_after = ?, updated_at = ?
         WHERE ecosystem = ? AND project = ? AND version = ? AND state = 'failed'`,
      );
      return db.transaction(() => {
        let added = 0;
        for (const job of jobs) {
          const ecosystem = job.ecosystem ?? 'pypi';
          added += insert.run(ecosystem, job.project, job.version, options.maxAttempts, t, t, t).changes;
          if (options.requeueFailed)
            requeue.run(options.maxAttempts, t, t, ecosystem, job.project, job.version);
        }
        return added;
      })();
    },
    async claim(worker, options) {
      return db.transaction(() => claimOne(worker, options.leaseMs)).immediate();
    },
    async heartbeat(jobId, worker, options) {
      const changed = db
        .prepare(
          `UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`,
        )
        .run(iso(now() + options.leaseMs), iso(now()), jobId, worker);
      return changed.changes > 0;
    },
    async complete(jobId, worker, result) {
      try {
        return db.transaction(() => completeOne(jobId, worker, result)).immediate();
      } catch (cause) {
        throw storeError('store a result in', path, cause);
      }
    },
    async fail(jobId, worker, options) {
      return db.transaction(() => failOne(jobId, worker, options)).immediate();
    },
    async release(jobId, worker) {
      db.prepare(
        `UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL,
           lease_expires_at = NULL, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?`,
      ).run(iso(now()), jobId, worker);
    },
    async jobCounts() {
      const counts: JobCounts = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const row of db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all()) {
        const r = z.object({ state: JobState, n: z.number() }).parse(row);
        counts[r.state] = r.n;
      }
      return counts;
    },
    async failedJobs() {
      return db
        .prepare(`SELECT * FROM jobs WHERE state = 'failed' ORDER BY ecosystem, project, version`)
        .all()
        .map(toJob);
    },
    async getRecord(name, version, options = {}) {
      const row = db
        .prepare(
          `SELECT record FROM results WHERE ecosystem = ? AND project = ? AND (? IS NULL OR version = ?)
           ORDER BY finished_at DESC, id DESC LIMIT 1`,
        )
        .get(options.ecosystem ?? 'pypi', name, version ?? null, version ?? null);
      return row === undefined ? null : parseRecord(row);
    },
    exportRecords: (options = {}) => iterateRecords(options),
    iterateRecords,
    async previousRecord(name, version, options = {}) {
      const ecosystem = options.ecosystem ?? 'pypi';
      const analysed = db
        .prepare(
          `SELECT DISTINCT r.version AS version, rl.upload_time AS uploadTime FROM results r
           LEFT JOIN releases rl ON rl.ecosystem = r.ecosystem AND rl.project = r.project AND rl.version = r.version
           WHERE r.ecosystem = ? AND r.project = ? AND r.version IS NOT NULL`,
        )
        .all(ecosystem, name)
        .map((row) => z.object({ version: z.string(), uploadTime: z.string().nullable() }).parse(row));
      const uploadTime = z
        .string()
        .nullable()
        .optional()
        .parse(
          db
            .prepare('SELECT upload_time FROM releases WHERE ecosystem = ? AND project = ? AND version = ?')
            .pluck()
            .get(ecosystem, name, version),
        );
      const previous = previousVersion(analysed, { version, uploadTime: uploadTime ?? null });
      return previous === null ? null : store.getRecord(name, previous, { ecosystem });
    },
    async query(name, options = {}) {
      return db
        .prepare(studyQuerySql(name, options.ecosystem ?? null))
        .all()
        .map(
          (row) => z.record(z.string(), z.union([z.string(), z.number(), z.null()])).parse(row) as QueryRow,
        );
    },
  };
  return store;
}
