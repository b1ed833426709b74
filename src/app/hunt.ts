import { createLimiter } from '../adapters/registry/limiter.ts';
import { readInstallTarget } from '../adapters/sandbox/install-target.ts';
import type { JobCounts, KeepTraces, ProjectSelection, Store } from '../adapters/store/store.ts';
import type { TracerChoice } from '../adapters/tracer/tracer.ts';
import type { Config } from '../config.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { type PkghuntError, toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord, PhaseName } from '../core/record/schema.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import type { AnalyzeOptions } from './analyze.ts';
import { runJobPool } from './job-pool.ts';
import { scheduleEcosystemProject } from './schedule-ecosystem-project.ts';
import { selectHuntProjects } from './select-hunt-projects.ts';

export interface HuntOptions {
  config: Config;
  /** The ecosystem's index: PyPI's simple index, or (ecosystem npm) the registry URL or directory. */
  indexUrl: string;
  /** Default pypi. The selection's ecosystem is this one. */
  ecosystem?: Ecosystem;
  /** npm over http(s): the search text that lists the packages when the store has none. */
  search?: string;
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

export { traceStoring } from './job-pool.ts';

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
    const names = await selectHuntProjects(store, options, reporter);
    const ecosystem = options.ecosystem ?? 'pypi';
    // The sandbox's Python and platform decide PyPI's release; npm's is the `latest` dist-tag.
    const target = ecosystem === 'pypi' ? await readInstallTarget() : undefined;
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
            const result = await scheduleEcosystemProject(store, project, {
              ecosystem,
              indexUrl: options.indexUrl,
              ...(options.allVersions ? { allVersions: true } : {}),
              ...(options.since !== undefined ? { since: options.since } : {}),
              ...(target !== undefined ? { target } : {}),
            });
            await store.enqueue(
              result.versions.map((version) => ({ ecosystem, project, version })),
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

    const ticker = setInterval(() => {
      store.jobCounts().then(
        (counts) => reporter.report({ type: 'hunt-progress', counts }),
        () => undefined,
      );
    }, 1000);
    try {
      await runJobPool(store, {
        config: options.config,
        indexUrl: options.indexUrl,
        ...(ecosystem === 'npm' ? { registry: options.indexUrl } : {}),
        workers: options.workers,
        ...(options.timeoutS !== undefined ? { timeoutS: options.timeoutS } : {}),
        ...(options.phases !== undefined ? { phases: options.phases } : {}),
        leaseMs,
        retryBaseMs,
        traceDir: options.traceDir,
        keepTraces,
        ...(options.tracer !== undefined ? { tracer: options.tracer } : {}),
        reporter,
        signal,
        doneWhenIdle: () => !scheduling,
        onFatal: (e) => {
          fatal ??= e;
          stop.abort();
        },
        ...(options.analyze !== undefined ? { analyze: options.analyze } : {}),
      });
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
