import { createLimiter } from '../adapters/registry/limiter.ts';
import { readInstallTarget } from '../adapters/sandbox/install-target.ts';
import type { ProjectSelection, ResultStore } from '../adapters/store/store.ts';
import { toPkghuntError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import { scheduleProject } from './schedule-project.ts';
import { syncIndex } from './sync-index.ts';

export interface ScheduleSelectionOptions {
  indexUrl: string;
  selection: ProjectSelection;
  allVersions?: boolean;
  since?: string;
  reporter?: Reporter;
  signal?: AbortSignal;
  /** Concurrent requests to the index. */
  indexConcurrency?: number;
}

/**
 * hunt's selection, for a store whose queue is elsewhere (PostgreSQL): syncs the project list if
 * the store has none, picks the selected projects, reads their releases from the index (stored
 * like SQLite's hunt does) and returns the (project, version) pairs to analyse, in name order.
 * The same steps and options as the SQLite hunt, so both engines analyse the same releases.
 */
export async function scheduleSelection(
  store: ResultStore,
  options: ScheduleSelectionOptions,
): Promise<{ project: string; version: string }[]> {
  const reporter = options.reporter ?? silentReporter;
  if ((await store.countProjects()) === 0) await syncIndex(store, options.indexUrl, { reporter });
  const names = await store.selectProjects(options.selection);
  const target = await readInstallTarget();
  const limit = createLimiter(options.indexConcurrency ?? 4);
  const versions = await Promise.all(
    names.map((project) =>
      limit(async () => {
        if (options.signal?.aborted) return [];
        try {
          const result = await scheduleProject(store, project, {
            indexUrl: options.indexUrl,
            ...(options.allVersions ? { allVersions: true } : {}),
            ...(options.since !== undefined ? { since: options.since } : {}),
            target,
          });
          reporter.report({
            type: 'project-scheduled',
            project,
            versions: result.versions,
            noRelease: 'noRelease' in result ? result.noRelease : null,
          });
          return result.versions.map((version) => ({ project, version }));
        } catch (error) {
          const e = toPkghuntError(error);
          reporter.report({ type: 'project-unscheduled', project, code: e.code, reason: e.message });
          return [];
        }
      }),
    ),
  );
  return versions.flat();
}
