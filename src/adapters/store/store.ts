/**
 * The store contracts, in two parts:
 * - `ResultStore`: projects, releases, results, records and the study's views. BOTH engines
 *   implement it with the same semantics and the same SQL views (SQLite: sqlite-store.ts,
 *   PostgreSQL: postgres-store.ts), so `show`, `query`, `export`, `report` and hunt's selection
 *   (--limit/--from/--match/--since/--all-versions) run unchanged on either.
 * - the job queue: SQLite has its own table with leases (`Store` = ResultStore + JobQueue, used by
 *   `hunt` on a file); PostgreSQL uses pg-boss (`worker` processes on any number of machines, see
 *   postgres-store.ts). Change a contract only together with both implementations.
 *
 * Semantics every implementation keeps:
 * - Projects are keyed by their normalised name (PEP 503); upserts are idempotent.
 * - Jobs are keyed by (project, version): enqueueing twice is a no-op (a `done` or `failed` job
 *   stays as it is, unless `requeueFailed`).
 * - `claim` is atomic: one job goes to one worker, with a lease until `leaseMs` from now. A job
 *   whose lease ran out (dead worker) is claimable again; a claim counts one attempt.
 * - `complete` stores the result AND marks the job done in ONE transaction, only if the caller
 *   still holds the job (state running, same worker): a SIGKILL at any point loses nothing and a
 *   late worker never adds a second result.
 * - `fail` records the reason; with attempts left the job waits (exponential back-off) in
 *   `pending`, otherwise it ends `failed` with its reason.
 * - `release` hands a job back untouched (Ctrl-C): state pending, the attempt not counted.
 * - Times are ISO-8601 strings in UTC.
 */
import { z } from 'zod';
import type { RecordFacts } from '../../core/behaviour/record-facts.ts';
import type { BehaviourRecord } from '../../core/record/schema.ts';

export const JobState = z.enum(['pending', 'running', 'done', 'failed']);
export type JobState = z.infer<typeof JobState>;

export const ProjectInput = z.object({
  name: z.string().min(1),
  normalized: z.string().min(1),
  /** The index's change serial for the project (PEP 691 `_last-serial`), when it gives one. */
  lastSerial: z.number().int().nullable(),
});
export type ProjectInput = z.infer<typeof ProjectInput>;

export const ReleaseFile = z.object({
  filename: z.string(),
  url: z.string(),
  sha256: z.string().nullable(),
  uploadTime: z.string().nullable(),
  yanked: z.boolean(),
});
export type ReleaseFile = z.infer<typeof ReleaseFile>;

export const ReleaseInput = z.object({
  project: z.string(),
  version: z.string(),
  uploadTime: z.string().nullable(),
  files: z.array(ReleaseFile),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export type ReleaseInput = z.infer<typeof ReleaseInput>;

export const Job = z.object({
  id: z.number().int(),
  project: z.string(),
  version: z.string(),
  state: JobState,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: z.string().nullable(),
  runAfter: z.string(),
  lastError: z.string().nullable(),
});
export type Job = z.infer<typeof Job>;

/** A raw trace kept on disk, compressed, addressed by the sha256 of its uncompressed content. */
export const TraceBlob = z.object({
  phase: z.string(),
  kind: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  storedBytes: z.number().int(),
  /** `reduced`: noise lines dropped (src/core/trace/reduce-trace.ts); absent in older rows: full. */
  content: z.enum(['full', 'reduced']).optional(),
  /** Uncompressed bytes of the trace before reduction. */
  fullBytes: z.number().int().optional(),
});
export type TraceBlob = z.infer<typeof TraceBlob>;

export interface ResultInput {
  record: BehaviourRecord;
  /** Queryable facts derived in TS (src/core/behaviour/record-facts.ts), stored in side tables. */
  facts: RecordFacts;
  traces: TraceBlob[];
}

/** What to analyse: the projects matching every given criterion. */
export interface ProjectSelection {
  /** Normalised names (from --from). */
  names?: string[];
  /** Shell glob on the normalised name (--match). */
  match?: string;
  limit?: number;
}

export interface JobCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
}

export interface FailOptions {
  reason: string;
  /** Delay before the next attempt; the caller computes the back-off. */
  retryAfterMs: number;
  /** Retrying cannot help (e.g. the package is not installable): end as failed now. */
  final?: boolean;
}

/** How much of the raw trace a hunt keeps next to each record (`--keep-traces`). */
export const KEEP_TRACES = ['full', 'reduced', 'none'] as const;
export type KeepTraces = (typeof KEEP_TRACES)[number];

/** The study's questions, each a documented SQL view (study-views.ts, the same on both engines). */
export const STUDY_QUERIES = ['connected', 'hosts', 'dns', 'commands', 'outcomes', 'suspicious'] as const;
export type StudyQuery = (typeof STUDY_QUERIES)[number];
export type QueryRow = Record<string, string | number | null>;

export interface IterateOptions {
  /** Only results stored since this date (ISO). */
  since?: string;
  /** Only the latest result of each (project, version). */
  latestOnly?: boolean;
}

/** Projects, releases, results and the study's views: the same on SQLite and PostgreSQL. */
export interface ResultStore {
  /** Creates or upgrades the schema; idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Inserts or updates projects in one transaction; returns how many were new. */
  upsertProjects(batch: readonly ProjectInput[]): Promise<number>;
  countProjects(): Promise<number>;
  /** Normalised names, sorted, matching the selection. */
  selectProjects(selection: ProjectSelection): Promise<string[]>;

  upsertRelease(release: ReleaseInput): Promise<void>;
  /** The project has nothing pkghunt can install (no files, all yanked, only pre-releases...). */
  markNoRelease(project: string, reason: string): Promise<void>;
  /** When the project's releases were last read from the index, or null. */
  releasesCheckedAt(project: string): Promise<string | null>;
  /** Stored releases of a project, newest upload first; `since` filters on upload time. */
  listReleases(project: string, options?: { since?: string }): Promise<ReleaseInput[]>;

  jobCounts(): Promise<JobCounts>;
  /** Jobs that ended failed, with their reasons. */
  failedJobs(): Promise<Job[]>;

  /** The latest stored record of a project (a version when given), or null. */
  getRecord(name: string, version?: string): Promise<BehaviourRecord | null>;
  /** All records stored since a date (ISO), oldest first, streamed. */
  exportRecords(options?: { since?: string }): AsyncIterable<BehaviourRecord>;
  /** Records streamed oldest stored first; `latestOnly`: the latest result per (project, version). */
  iterateRecords(options?: IterateOptions): AsyncIterable<BehaviourRecord>;
  /**
   * The record of the latest analysed release of the same project older than `version` (by the
   * release's upload time, else by when it was analysed), or null.
   */
  previousRecord(name: string, version: string): Promise<BehaviourRecord | null>;
  query(name: StudyQuery): Promise<QueryRow[]>;
}

/** The SQLite job queue: a table with leases (see the semantics above). */
export interface JobQueue {
  /** Idempotent per (project, version); returns how many jobs were new. */
  enqueue(
    jobs: readonly { project: string; version: string }[],
    options: { maxAttempts: number; requeueFailed?: boolean },
  ): Promise<number>;
  claim(worker: string, options: { leaseMs: number }): Promise<Job | null>;
  /** Extends the lease; false when the worker no longer holds the job. */
  heartbeat(jobId: number, worker: string, options: { leaseMs: number }): Promise<boolean>;
  /** Stores the result and marks the job done atomically; false when the worker lost the job. */
  complete(jobId: number, worker: string, result: ResultInput): Promise<boolean>;
  /** Returns the job's new state (pending for a retry, failed when attempts are spent). */
  fail(jobId: number, worker: string, options: FailOptions): Promise<JobState | null>;
  release(jobId: number, worker: string): Promise<void>;
}

/** The embedded store: results and its own job queue in one SQLite file. */
export interface Store extends ResultStore, JobQueue {}
