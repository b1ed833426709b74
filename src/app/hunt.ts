import { hostname } from 'node:os';
import { createLimiter } from '../adapters/registry/limiter.ts';
import type {
  Job,
  JobCounts,
  KeepTraces,
  ProjectSelection,
  Store,
  TraceBlob,
} from '../adapters/store/store.ts';
import { storeTraceBlob } from '../adapters/store/trace-blobs.ts';
import type { TracerChoice } from '../adapters/tracer/tracer.ts';
import type { Config } from '../config.ts';
import { recordFacts } from '../core/behaviour/record-facts.ts';
import { type ErrorCode, PkghuntError, toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord, PhaseName } from '../core/record/schema.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import type { AnalyzeOptions } from './analyze.ts';
import { analyze as realAnalyze } from './analyze.ts';
import { NOISE_AREAS, SENSITIVE_PATHS } from './assemble-phase.ts';
import { enrichRecord } from './enrich-record.ts';
import { createPopulationCache } from './population-from-store.ts';
import { scheduleProject } from './schedule-project.ts';
import { syncIndex } from './sync-index.ts';

export interface HuntOptions {
  config: Config;
  indexUrl: string;
  selection: ProjectSelection;
  allVersions?: boolean;
  since?: string;
  workers: number;
  maxAttempts: number;
  /** Per-phase timeout in seconds. */
  timeoutS?: number;
  /** How long a claimed job stays ours without a heartbeat; a dead hunt's jobs return after it. */
  leaseMs?: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number;
  /** Where compressed traces go (content-addressed). */
  traceDir: string;
  /** How much of each raw trace to keep (default reduced: the noise areas' accesses dropped). */
  keepTraces?: KeepTraces;
  tracer?: TracerChoice;
  /** Phases of each analysis (default: install and import). */
  phases?: PhaseName[];
  reporter?: Reporter;
  signal?: AbortSignal;
  /** Concurrent requests to the index while scheduling. */
  indexConcurrency?: number;
  /** For tests: replaces app/analyze's `analyze`. */
  analyze?: (requested: string, options: AnalyzeOptions) => Promise<BehaviourRecord>;
}

export interface HuntSummary {
  counts: JobCounts;
  interrupted: boolean;
  durationMs: number;
}

/** The package itself is the problem: retrying cannot help. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PACKAGE_SPEC',
  'PACKAGE_NOT_FOUND',
  'ARCHIVE_UNREADABLE',
  'ARCHIVE_PATH_TRAVERSAL',
  'ARCHIVE_TOO_LARGE',
]);

/** This machine cannot analyse anything: stop instead of failing every job. */
const FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CAPABILITY_MISSING',
  'NOT_ROOT',
  'CONFIG_INVALID',
]);

/** How storeTraceBlob keeps a phase's trace: the noise areas are the record's own. */
export function traceOptions(
  phase: PhaseName,
  keep: 'full' | 'reduced',
): Parameters<typeof storeTraceBlob>[2] {
  return { phase, content: keep, reduce: { noiseAreas: NOISE_AREAS, sensitivePaths: SENSITIVE_PATHS } };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Hunts a selection of the index: syncs the project list if the store has none, schedules the
 * selected projects (their releases, read politely from the index) into the job queue, and runs
 * `workers` analyses at once until the queue is empty or the signal aborts. Each analysis is its
 * own sandbox, so in-process concurrency is enough: the work is in the sandboxed processes, and
 * one process shares the store connection, the index limiter and Ctrl-C handling.
 * Resuming is the same call: done jobs are skipped, pending and expired ones are run.
 */
export async function hunt(store: Store, options: HuntOptions): Promise<HuntSummary> {
  const reporter = options.reporter ?? silentReporter;
  const analyze = options.analyze ?? realAnalyze;
  const population = createPopulationCache(store);
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const retryBaseMs = options.retryBaseMs ?? 30_000;
  const keepTraces = options.keepTraces ?? 'reduced';
  const started = Date.now();
  const stop = new AbortController();
  const outer = options.signal;
  const onAbort = (): void => stop.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  let fatal: PkghuntError | null = null;

  try {
    if ((await store.countProjects()) === 0) await syncIndex(store, options.indexUrl, { reporter });
    const names = await store.selectProjects(options.selection);
    reporter.report({
      type: 'hunt-start',
      selected: names.length,
      workers: options.workers,
      counts: await store.jobCounts(),
    });

    let scheduling = true;
    const limit = createLimiter(options.indexConcurrency ?? 4);
    const producer = Promise.all(
      names.map((project) =>
        limit(async () => {
          if (signal.aborted) return;
          try {
            const result = await scheduleProject(store, project, {
              indexUrl: options.indexUrl,
              ...(options.allVersions ? { allVersions: true } : {}),
              ...(options.since !== undefined ? { since: options.since } : {}),
            });
            await store.enqueue(
              result.versions.map((version) => ({ project, version })),
              { maxAttempts: options.maxAttempts },
            );
            reporter.report({
              type: 'project-scheduled',
              project,
              versions: result.versions,
              noRelease: 'noRelease' in result ? result.noRelease : null,
            });
          } catch (error) {
            const e = toPkghuntError(error);
            reporter.report({ type: 'project-unscheduled', project, code: e.code, reason: e.message });
          }
        }),
      ),
    ).finally(() => {
      scheduling = false;
    });

    async function runJob(job: Job, worker: string): Promise<void> {
      const requested = `${job.project}==${job.version}`;
      const t0 = Date.now();
      reporter.report({
        type: 'job-start',
        project: job.project,
        version: job.version,
        attempt: job.attempts,
        worker,
      });
      const end = (
        outcome: 'done' | 'retry' | 'failed' | 'lost' | 'interrupted',
        code: string | null,
        reason: string | null,
      ): void =>
        reporter.report({
          type: 'job-end',
          project: job.project,
          version: job.version,
          attempt: job.attempts,
          outcome,
          durationMs: Date.now() - t0,
          code,
          reason,
        });
      const beat = setInterval(
        () => {
          store.heartbeat(job.id, worker, { leaseMs }).catch(() => undefined);
        },
        Math.max(1000, leaseMs / 3),
      );
      const traces: TraceBlob[] = [];
      try {
        const record = await analyze(requested, {
          config: options.config,
          indexUrl: options.indexUrl,
          signal,
          ...(options.timeoutS !== undefined ? { timeoutS: options.timeoutS } : {}),
          ...(options.tracer !== undefined ? { tracer: options.tracer } : {}),
          ...(options.phases !== undefined ? { phases: options.phases } : {}),
          ...(keepTraces === 'none'
            ? {}
            : {
                onTraceFile: async (phase: PhaseName, path: string) => {
                  traces.push(await storeTraceBlob(options.traceDir, path, traceOptions(phase, keepTraces)));
                },
              }),
        });
        const broken = Object.values(record.phases).find((p) => p?.status === 'sandbox_error');
        if (broken && job.attempts < job.maxAttempts) {
          throw new PkghuntError('SANDBOX_SETUP_FAILED', broken.reason ?? 'the sandbox failed');
        }
        const enriched = await enrichRecord(record, { store, population: await population() });
        const stored = await store.complete(job.id, worker, {
          record: enriched,
          facts: recordFacts(enriched),
          traces,
        });
        end(stored ? 'done' : 'lost', null, null);
      } catch (error) {
        const e = toPkghuntError(error);
        if (signal.aborted) {
          await store.release(job.id, worker);
          end('interrupted', e.code, e.message);
          return;
        }
        if (FATAL.has(e.code)) {
          fatal ??= e;
          await store.release(job.id, worker);
          end('interrupted', e.code, e.message);
          stop.abort();
          return;
        }
        const final = PERMANENT.has(e.code);
        const state = await store.fail(job.id, worker, {
          reason: `${e.code}: ${e.message}`,
          retryAfterMs: Math.min(retryBaseMs * 2 ** (job.attempts - 1), 60 * 60_000),
          ...(final ? { final: true } : {}),
        });
        end(state === 'failed' ? 'failed' : state === null ? 'lost' : 'retry', e.code, e.message);
      } finally {
        clearInterval(beat);
      }
    }

    async function workerLoop(index: number): Promise<void> {
      const worker = `${hostname()}-${process.pid}-${index}`;
      while (!signal.aborted) {
        const job = await store.claim(worker, { leaseMs });
        if (job !== null) {
          await runJob(job, worker);
          reporter.report({ type: 'hunt-progress', counts: await store.jobCounts() });
          continue;
        }
        const counts = await store.jobCounts();
        // Running jobs may be another (dead) hunt's: wait for their lease to run out and take them.
        if (!scheduling && counts.pending === 0 && counts.running === 0) return;
        await sleep(500, signal);
      }
    }

    const ticker = setInterval(() => {
      store.jobCounts().then(
        (counts) => reporter.report({ type: 'hunt-progress', counts }),
        () => undefined,
      );
    }, 1000);
    try {
      await Promise.all(Array.from({ length: options.workers }, (_, i) => workerLoop(i)));
      await producer;
    } finally {
      clearInterval(ticker);
    }
    if (fatal) throw fatal;
    const counts = await store.jobCounts();
    const summary = { counts, interrupted: outer?.aborted === true, durationMs: Date.now() - started };
    reporter.report({ type: 'hunt-end', ...summary });
    return summary;
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
}
