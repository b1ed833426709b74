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
 * - Projects, releases, jobs and results are keyed by ecosystem (`pypi`, `npm`) and name: PyPI
 *   names normalised (PEP 503), npm names as the registry spells them (core/ecosystem.ts
 *   `projectKey`); upserts are idempotent. An absent `ecosystem` (input or option) means `pypi`,
 *   except in the reads over many records (`exportRecords`, `iterateRecords`, `query`), where
 *   absent means every ecosystem.
 * - Jobs are keyed by (ecosystem, project, version): enqueueing twice is a no-op (a `done` or
 *   `failed` job stays as it is, unless `requeueFailed`).
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
import { Ecosystem } from '../../core/ecosystem.ts';
import type { BehaviourRecord } from '../../core/record/schema.ts';

export const JobState = z.enum(['pending', 'running', 'done', 'failed']);
export type JobState = z.infer<typeof JobState>;

export const ProjectInput = z.object({
  /** Absent: pypi. */
  ecosystem: Ecosystem.optional(),
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
  /** Absent: pypi. */
  ecosystem: Ecosystem.optional(),
  project: z.string(),
  version: z.string(),
  uploadTime: z.string().nullable(),
  files: z.array(ReleaseFile),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export type ReleaseInput = z.infer<typeof ReleaseInput>;

export const Job = z.object({
  id: z.number().int(),
  ecosystem: Ecosystem,
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
  /** The ecosystem of the projects (default pypi). */
  ecosystem?: Ecosystem;
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

/** Which ecosystem a per-project call means; absent: pypi. */
export interface EcosystemOption {
  ecosystem?: Ecosystem;
}

export interface IterateOptions {
  /** Only results stored since this date (ISO). */
  since?: string;
  /** Only records of this ecosystem (absent: every ecosystem). */
  ecosystem?: Ecosystem;
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
  /** Projects of one ecosystem (default pypi). */
  countProjects(options?: EcosystemOption): Promise<number>;
  /** Stored names (normalised for PyPI), sorted, matching the selection (its ecosystem: default pypi). */
  selectProjects(selection: ProjectSelection): Promise<string[]>;

  upsertRelease(release: ReleaseInput): Promise<void>;
  /** The project has nothing pkghunt can install (no files, all yanked, only pre-releases...). */
  markNoRelease(project: string, reason: string, options?: EcosystemOption): Promise<void>;
  /** When the project's releases were last read from the index, or null. */
  releasesCheckedAt(project: string, options?: EcosystemOption): Promise<string | null>;
  /** Stored releases of a project, newest upload first; `since` filters on upload time. */
  listReleases(project: string, options?: { since?: string } & EcosystemOption): Promise<ReleaseInput[]>;

  jobCounts(): Promise<JobCounts>;
  /** Jobs that ended failed, with their reasons. */
  failedJobs(): Promise<Job[]>;

  /** The latest stored record of a project (a version when given), or null. */
  getRecord(name: string, version?: string, options?: EcosystemOption): Promise<BehaviourRecord | null>;
  /** All records stored since a date (ISO), oldest first, streamed; `ecosystem` absent: all. */
  exportRecords(options?: { since?: string; ecosystem?: Ecosystem }): AsyncIterable<BehaviourRecord>;
  /** Records streamed oldest stored first; `latestOnly`: the latest result per (project, version). */
  iterateRecords(options?: IterateOptions): AsyncIterable<BehaviourRecord>;
  /**
   * The record of the latest analysed release of the same project older than `version` (by the
   * release's upload time, else by when it was analysed), or null.
   */
  previousRecord(name: string, version: string, options?: EcosystemOption): Promise<BehaviourRecord | null>;
  /** A study view over every ecosystem (counts summed), or one ecosystem's rows. */
  query(name: StudyQuery, options?: { ecosystem?: Ecosystem }): Promise<QueryRow[]>;
}

/** The SQLite job queue: a table with leases (see the semantics above). */
export interface JobQueue {
  /** Idempotent per (ecosystem, project, version); returns how many jobs were new. */
  enqueue(
    jobs: readonly { project: string; version: string; ecosystem?: Ecosystem }[],
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
